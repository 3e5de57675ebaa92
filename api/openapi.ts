/**
 * The OpenAPI 3.1 document of the running server, built from the same JSON Schemas that validate events
 * (events/ catalog, draft 2020-12, which OpenAPI 3.1 uses as is) and from the server's route table, so a
 * route added by another module appears without anyone editing this file (with its `config.description`;
 * the routes below get full request and response descriptions).
 *
 * Schema adjustments for OpenAPI tools: `$id`/`$schema` dropped, the shared `$defs` hoisted once into
 * components (`Common_<name>`), and the two custom keywords renamed to extensions (`x-devtrip-id`,
 * `x-devtrip-timestamp`), since a validator must not mistake them for standard keywords.
 */
import { bundledEventSchema, DOMAIN_TOPICS, EVENT_TYPES, eventCatalog, type JsonSchema } from '../events'
import type { ApiConfig } from './config'
import { DEFAULT_TICKET_LIMIT, MAX_TICKET_LIMIT } from './queries'

/** A route as Fastify registered it. */
export interface RouteInfo {
  readonly method: string
  readonly url: string
  readonly description?: string
  readonly auth?: 'public' | 'token'
  readonly scopes?: readonly string[]
}

type Json = { [key: string]: unknown }

const KEYWORD_RENAMES: Readonly<Record<string, string>> = { devtripId: 'x-devtrip-id', devtripTimestamp: 'x-devtrip-timestamp' }

function toOpenApiSchema (node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toOpenApiSchema)
  if (node === null || typeof node !== 'object') return node
  const out: Json = {}
  for (const [key, value] of Object.entries(node)) {
    if (key === '$id' || key === '$schema' || key === '$defs') continue
    if (key === '$ref' && typeof value === 'string' && value.startsWith('#/$defs/')) {
      out.$ref = `#/components/schemas/Common_${value.slice('#/$defs/'.length)}`
      continue
    }
    out[KEYWORD_RENAMES[key] ?? key] = toOpenApiSchema(value)
  }
  return out
}

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` })

function eventSchemas (maxEvents: number): Record<string, unknown> {
  const schemas: Record<string, unknown> = {}
  const defs = (bundledEventSchema(EVENT_TYPES[0]).$defs ?? {}) as Record<string, JsonSchema>
  for (const [name, def] of Object.entries(defs)) schemas[`Common_${name}`] = toOpenApiSchema(def)
  for (const entry of eventCatalog()) {
    const schema = toOpenApiSchema(bundledEventSchema(entry.type)) as Json
    schema.description = `${String(schema.description ?? '')} Topic: ${entry.topic}. Producer: ${entry.producer}. ` +
      `eventType: "${entry.type}" (aliases: ${entry.aliases.join(', ')}).`
    schemas[entry.type] = schema
  }
  schemas.Event = {
    description: 'Any catalog event: the §5.1 envelope fields (eventId, eventType, source, timestamp, version — all optional except eventType, which may come from the eventType query parameter) beside the payload fields.',
    anyOf: EVENT_TYPES.map((t) => ref(t))
  }
  schemas.IngestBody = {
    oneOf: [ref('Event'), { type: 'array', minItems: 1, maxItems: maxEvents, items: ref('Event') }]
  }
  schemas.IngestResultItem = {
    type: 'object',
    required: ['index', 'eventId', 'eventType', 'topic', 'partition', 'offset', 'duplicate'],
    properties: {
      index: { type: 'integer', description: 'position of the event in the request' },
      eventId: { type: 'string', format: 'uuid' },
      eventType: { type: 'string', enum: [...EVENT_TYPES] },
      topic: { type: 'string', description: 'the Kafka topic written (catalog name behind the configured prefix)' },
      partition: { type: 'integer' },
      offset: { type: 'string', pattern: '^[0-9]+$', description: '64-bit offset, as a decimal string' },
      duplicate: { type: 'boolean', description: 'true: the eventId was accepted before; nothing was produced and this is the first result' }
    }
  }
  schemas.IngestResponse = {
    type: 'object',
    required: ['requestId', 'accepted', 'duplicates', 'results'],
    properties: {
      requestId: { type: 'string' },
      accepted: { type: 'integer', description: 'events produced by this request' },
      duplicates: { type: 'integer', description: 'events whose eventId had been accepted before' },
      results: { type: 'array', items: ref('IngestResultItem') }
    }
  }
  schemas.Error = {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message', 'requestId'],
        properties: {
          code: { type: 'string', description: 'a code of docs/errors.md' },
          message: { type: 'string' },
          requestId: { type: 'string' },
          details: { type: 'object', description: 'for DEVTRIP_INVALID_EVENT: errors[] of { index, pointer, message }' }
        }
      }
    }
  }
  return schemas
}

function errorResponse (description: string, retry = false): Json {
  return {
    description,
    ...(retry ? { headers: { 'Retry-After': { schema: { type: 'integer' }, description: 'seconds to wait' } } } : {}),
    content: { 'application/json': { schema: ref('Error') } }
  }
}

const AUTH_ERRORS = {
  401: errorResponse('DEVTRIP_API_UNAUTHORIZED: no or unknown bearer token'),
  403: errorResponse('DEVTRIP_API_FORBIDDEN: the token lacks the scope'),
  429: errorResponse('DEVTRIP_API_RATE_LIMITED', true)
}

function ingestOperation (summary: string, topicParam: boolean): Json {
  return {
    summary,
    parameters: [
      ...(topicParam ? [{ name: 'topic', in: 'path', required: true, schema: { type: 'string', enum: [...DOMAIN_TOPICS] } }] : []),
      { name: 'eventType', in: 'query', required: false, schema: { type: 'string' }, description: 'type (or alias) of events that do not name one' },
      { name: 'Content-Encoding', in: 'header', required: false, schema: { type: 'string', enum: ['gzip', 'identity'] } },
      { name: 'x-request-id', in: 'header', required: false, schema: { type: 'string', pattern: '^[A-Za-z0-9._:@/+=-]{1,128}$' } }
    ],
    requestBody: { required: true, content: { 'application/json': { schema: ref('IngestBody') } } },
    responses: {
      202: { description: 'every event committed to Kafka (or already accepted before)', content: { 'application/json': { schema: ref('IngestResponse') } } },
      400: errorResponse('DEVTRIP_INVALID_EVENT (per-event index, pointer, message) or DEVTRIP_API_BAD_REQUEST'),
      ...AUTH_ERRORS,
      ...(topicParam ? { 404: errorResponse('DEVTRIP_UNKNOWN_TOPIC: not a domain topic') } : {}),
      409: errorResponse('DEVTRIP_API_IDEMPOTENCY_CONFLICT: an eventId is in flight (Retry-After) or was used for other content', true),
      413: errorResponse('DEVTRIP_API_PAYLOAD_TOO_LARGE: body or event count over the limit'),
      415: errorResponse('DEVTRIP_API_UNSUPPORTED_MEDIA_TYPE'),
      503: errorResponse('DEVTRIP_API_UNAVAILABLE: broker/Redis unreachable, buffer full or produce timed out; nothing accepted', true)
    }
  }
}

function queryOperation (summary: string, param: string, extra: Json[] = []): Json {
  return {
    summary,
    parameters: [{ name: param, in: 'path', required: true, schema: { type: 'string', minLength: 1, maxLength: 200 } }, ...extra],
    responses: {
      200: { description: 'the value', content: { 'application/json': { schema: { type: 'object' } } } },
      400: errorResponse('DEVTRIP_API_BAD_REQUEST: bad id or limit'),
      ...AUTH_ERRORS,
      404: errorResponse('DEVTRIP_API_NOT_FOUND: unknown id'),
      503: errorResponse('DEVTRIP_API_UNAVAILABLE: state restoring, or no queries in this process', true)
    }
  }
}

/** Full descriptions of this module's routes, keyed "METHOD /openapi/path". */
function describedOperations (): Record<string, Json> {
  const limit = { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: MAX_TICKET_LIMIT, default: DEFAULT_TICKET_LIMIT } }
  return {
    'POST /v1/events': ingestOperation('Produce events of any type, each to its catalog topic, in one transaction', false),
    'POST /v1/topics/{topic}/events': ingestOperation('Produce events of one topic, in one transaction', true),
    'GET /v1/users/{userId}/stats': queryOperation('A user\'s statistics', 'userId'),
    'GET /v1/users/{userId}/tickets': queryOperation('A user\'s ticket balance and newest ledger entries', 'userId', [limit]),
    'GET /v1/mission-attempts/{missionAttemptId}': queryOperation('A mission attempt\'s evaluation state', 'missionAttemptId')
  }
}

function openApiPath (url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')
}

export function buildOpenApiDocument (routes: readonly RouteInfo[], config: ApiConfig): Json {
  const described = describedOperations()
  const paths: Record<string, Json> = {}
  for (const route of routes) {
    const method = route.method.toUpperCase()
    if (method === 'HEAD' || method === 'OPTIONS') continue
    const path = openApiPath(route.url)
    const operation: Json = described[`${method} ${path}`] ?? {
      summary: route.description ?? `${method} ${path}`,
      ...(path.includes('{')
        ? { parameters: [...path.matchAll(/\{([^}]+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } })) }
        : {}),
      responses: { 200: { description: 'success' }, default: errorResponse('any error') }
    }
    if (route.description !== undefined) operation.description = route.description
    if (route.auth === 'public') operation.security = []
    else if (route.scopes !== undefined && route.scopes.length > 0) operation['x-devtrip-scopes'] = [...route.scopes]
    paths[path] = { ...(paths[path] ?? {}), [method.toLowerCase()]: operation }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'DevTrip ingest API',
      version: '1',
      description: 'Produces DevTrip events to Kafka (idempotent by eventId, one transaction per request, acks=all) and answers queries from the pipeline\'s state. ' +
        `Limits: ${config.maxBodyBytes} bytes per body (after gzip), ${config.maxEventsPerRequest} events per request, ` +
        `${config.rateLimit.requestsPerSecond} requests/s per token (burst ${config.rateLimit.burst}). See docs/api.md.`
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    security: [{ bearerAuth: [] }],
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'a token from the API token config; scopes: domain topics, read, admin' } },
      schemas: eventSchemas(config.maxEventsPerRequest)
    }
  }
}
