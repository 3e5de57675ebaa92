/**
 * What every event schema shares: the envelope fields, the reusable field definitions ($defs of one
 * common schema that the 25 event schemas `$ref`), the event-definition record and the builder that turns
 * a field table into a draft 2020-12 JSON Schema.
 *
 * Policy (docs/events.md, "Schema rules"):
 *   - required = the fields of the seed's producer table (plus the few added for keying, documented);
 *   - every other field the seed shows in an example is declared optional, so its type is still checked;
 *   - any other property is accepted and passed through unchanged (`additionalProperties: true`): producers
 *     may add fields without breaking consumers (seed §10.2.1 asks for backward-compatible evolution);
 *   - `timestamp` is part of the envelope and may come from the body, the Kafka headers or the record.
 */
import type { EventType, Service } from '../event-types'
import type { EventError } from '../event-error'

export const SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema'
export const SCHEMA_BASE = 'https://devtrip.dev/schemas/'
export const COMMON_SCHEMA_ID = `${SCHEMA_BASE}common/1.json`
/** The only major version of the event schemas; `version` "1", "1.0", "1.3" … are all version 1. */
export const SCHEMA_MAJOR_VERSION = 1
export const DEFAULT_EVENT_VERSION = '1.0'

export function schemaIdFor (type: EventType): string {
  return `${SCHEMA_BASE}${type}/${SCHEMA_MAJOR_VERSION}.json`
}

/** JSON Schema documents are plain JSON objects; typed loosely on purpose (ajv checks them in strict mode). */
export type JsonSchema = { [keyword: string]: unknown }

/** Largest length accepted for identifiers and short labels: long enough for any real id, short enough to catch a pasted document. */
export const MAX_ID_LENGTH = 200

/**
 * Reason an identifier (userId, missionId, …) is unusable, or undefined when it is fine.
 * Ids are record keys, so " 123" and "123" would land on different partitions: surrounding whitespace is
 * rejected, and integers beyond 2^53-1 are rejected because JSON.parse already rounded them (a Java Long
 * id must be sent as a string).
 */
export function idProblem (value: unknown): string | undefined {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) return `must be a whole number or a string, got ${value}`
    if (value < 1) return `must be a positive integer, got ${value}`
    if (value > Number.MAX_SAFE_INTEGER) return 'is larger than 2^53-1 and has lost precision in JSON; send it as a string'
    return undefined
  }
  if (typeof value === 'string') {
    if (value.length === 0) return 'must not be empty'
    if (value.trim() !== value) return 'must not start or end with whitespace'
    if (value.length > MAX_ID_LENGTH) return `must be at most ${MAX_ID_LENGTH} characters`
    return undefined
  }
  return 'must be a positive integer or a non-empty string'
}

/** the custom ajv keywords (registered in validate.ts, where the one Ajv instance lives) */
export const ID_KEYWORD = 'devtripId'
export const TIMESTAMP_KEYWORD = 'devtripTimestamp'

const def = (name: string): JsonSchema => ({ $ref: `${COMMON_SCHEMA_ID}#/$defs/${name}` })

/** Field schemas, referenced by name so every event says `userId: F.id` and means the same thing. */
export const F = {
  /** positive integer (the seed's `userId: 123`) or non-empty string (`"mission_1"`) */
  id: def('id'),
  /** epoch milliseconds or an ISO-8601 date-time; normalised to epoch ms */
  timestamp: def('timestamp'),
  /** a non-empty, human-readable string (reasons, titles, plan names) */
  text: def('text'),
  /** any string, possibly empty (feedback, source code) */
  string: { type: 'string' } as JsonSchema,
  email: def('email'),
  ipAddress: def('ipAddress'),
  /** a score or an amount: a finite number ≥ 0 */
  nonNegative: { type: 'number', minimum: 0 } as JsonSchema,
  /** a count or an attempt number ≥ 0 */
  count: { type: 'integer', minimum: 0 } as JsonSchema,
  /** a duration in milliseconds ≥ 0 */
  durationMs: { type: 'number', minimum: 0 } as JsonSchema,
  boolean: { type: 'boolean' } as JsonSchema,
  object: { type: 'object' } as JsonSchema
} as const

export const COMMON_SCHEMA: JsonSchema = {
  $schema: SCHEMA_DIALECT,
  $id: COMMON_SCHEMA_ID,
  title: 'DevTrip shared field definitions',
  $defs: {
    id: { type: ['integer', 'string'], [ID_KEYWORD]: true },
    timestamp: { type: ['integer', 'string'], [TIMESTAMP_KEYWORD]: true },
    text: { type: 'string', minLength: 1, maxLength: 10_000 },
    email: { type: 'string', format: 'email', maxLength: 320 },
    ipAddress: { type: 'string', format: 'ip' },
    uuid: { type: 'string', format: 'uuid' },
    version: {
      type: 'string',
      // only major version 1 exists; a "2.0" event must not be read with version-1 rules
      pattern: `^${SCHEMA_MAJOR_VERSION}(\\.[0-9]+)*$`
    }
  }
}

/** §5.1's common header, allowed in the body (all optional there: they may come from Kafka headers instead). */
export const ENVELOPE_PROPERTIES: Readonly<Record<string, JsonSchema>> = Object.freeze({
  eventId: def('uuid'),
  // the type is resolved (with aliases) before the schema runs; here it only has to be a string
  eventType: { type: 'string', minLength: 1 },
  source: def('text'),
  timestamp: def('timestamp'),
  version: def('version')
})
export const ENVELOPE_FIELDS = ['eventId', 'eventType', 'source', 'timestamp', 'version'] as const

/** Optional on every event: the seed's examples carry the auth service's own user id next to userId. */
const COMMON_OPTIONAL: Readonly<Record<string, JsonSchema>> = Object.freeze({ authUserId: F.text })

/** A cross-field rule a JSON Schema cannot say (creatorId = userId, score ≤ maxScore …); runs after the schema passed. */
export type EventCheck = (body: Readonly<Record<string, unknown>>) => EventError[]

export interface EventFieldTable {
  description: string
  producer: Service
  /** the "수신 서비스" (receiving services) column of the seed's producer table */
  consumers: readonly Service[]
  /** fields the body must carry; in the seed's table unless listed in `added` */
  required: Readonly<Record<string, JsonSchema>>
  optional?: Readonly<Record<string, JsonSchema>>
  /** required fields this catalog added to the seed's table (each explained in docs/events.md) */
  added?: readonly string[]
  /** body field whose time stands in for `timestamp` when neither body nor headers carry one */
  timestampFallback?: string
  check?: EventCheck
}

/** Everything the catalog knows about one event type. */
export interface EventDefinition {
  readonly type: EventType
  readonly description: string
  readonly producer: Service
  readonly consumers: readonly Service[]
  readonly schemaId: string
  readonly schema: JsonSchema
  readonly requiredFields: readonly string[]
  readonly optionalFields: readonly string[]
  readonly addedFields: readonly string[]
  /** payload fields holding times (normalised to epoch ms like `timestamp`) */
  readonly timestampFields: readonly string[]
  readonly timestampFallback: string | undefined
  readonly check: EventCheck | undefined
}

function isTimestampSchema (schema: JsonSchema): boolean {
  return schema.$ref === F.timestamp.$ref
}

/** Builds the JSON Schema and the definition record of one event type from its field table. */
export function defineEvent (type: EventType, table: EventFieldTable): EventDefinition {
  const optional = table.optional ?? {}
  const required = Object.keys(table.required)
  for (const name of [...required, ...Object.keys(optional)]) {
    if (name in ENVELOPE_PROPERTIES) throw new Error(`${type}: ${name} is an envelope field, do not redeclare it`)
  }
  for (const name of table.added ?? []) {
    if (!required.includes(name)) throw new Error(`${type}: added field ${name} is not required`)
  }
  const properties: Record<string, JsonSchema> = { ...ENVELOPE_PROPERTIES, ...COMMON_OPTIONAL, ...optional, ...table.required }
  const schema: JsonSchema = {
    $schema: SCHEMA_DIALECT,
    $id: schemaIdFor(type),
    title: type,
    description: table.description,
    type: 'object',
    required,
    properties,
    additionalProperties: true
  }
  const timestampFields = Object.entries(properties)
    .filter(([name, s]) => name !== 'timestamp' && isTimestampSchema(s))
    .map(([name]) => name)
  return Object.freeze({
    type,
    description: table.description,
    producer: table.producer,
    consumers: Object.freeze([...table.consumers]),
    schemaId: schemaIdFor(type),
    schema: deepFreeze(schema),
    requiredFields: Object.freeze(required),
    optionalFields: Object.freeze(Object.keys({ ...COMMON_OPTIONAL, ...optional })),
    addedFields: Object.freeze([...(table.added ?? [])]),
    timestampFields: Object.freeze(timestampFields),
    timestampFallback: table.timestampFallback,
    check: table.check
  })
}

function deepFreeze<T> (value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const v of Object.values(value as object)) deepFreeze(v)
  }
  return value
}

// ---- TypeScript side: the NORMALISED form every consumer of normalizeEvent() sees ----

/** A user / entity id exactly as the producer sent it (the record key is its string form). */
export type Id = number | string

/** §5.1's common header after normalisation: all five fields present, timestamp in epoch ms. */
export interface EventEnvelope<T extends EventType = EventType> {
  eventId: string
  eventType: T
  source: string
  /** epoch milliseconds */
  timestamp: number
  version: string
}

/** Fields any event may carry. */
export interface CommonEventFields {
  authUserId?: string
}

/** Shorthand for one event's normalised type. */
export type EventShape<T extends EventType, P> = EventEnvelope<T> & CommonEventFields & P

/** Cross-field helper: `a` and `b` must name the same id (123 and "123" are the same key). */
export function sameId (a: unknown, b: unknown): boolean {
  return String(a) === String(b)
}
