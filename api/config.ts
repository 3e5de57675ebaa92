/**
 * The API's configuration: one JSON Schema (ajv fills the defaults and rejects unknown or mistyped fields),
 * one cross-field rule, then a deep freeze. docs/api.md has the same table for people.
 */
import { hostname } from 'node:os'
import Ajv from 'ajv'
import { DevtripError } from '../events'

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'

export interface RateLimitConfig {
  /** steady requests per second allowed per token; 0 switches rate limiting off */
  readonly requestsPerSecond: number
  /** requests a token may send at once after being idle (the bucket size) */
  readonly burst: number
}

export interface IdempotencyConfig {
  /** how long a produced eventId is remembered (a repeat within this time returns the first result) */
  readonly retentionMs: number
  /** how long an eventId stays reserved while its produce is in flight; must outlast a transaction */
  readonly pendingTtlMs: number
  /** Redis key prefix */
  readonly keyPrefix: string
}

export interface ProducerConfig {
  /** transactional producers working in parallel (each runs one transaction at a time) */
  readonly poolSize: number
  /** transactional ids are `<prefix>-<slot>` */
  readonly transactionalIdPrefix: string
  /** the coordinator aborts a transaction left open longer than this */
  readonly transactionTimeoutMs: number
  /** a request waits this long for its transaction; then it gets 503 (and its eventIds stay reserved until the outcome is known) */
  readonly produceTimeoutMs: number
  /** events waiting for a producer; beyond this, requests get 503 (the "buffer full" case) */
  readonly maxQueuedEvents: number
  /** events of several requests are committed together, up to this many per transaction */
  readonly maxEventsPerTransaction: number
  /** Retry-After sent with a 503 */
  readonly retryAfterSeconds: number
}

export interface QueriesConfig {
  /** before the topologies' application ids (their consumer groups); null: the same as topicPrefix, as `run` does */
  readonly applicationIdPrefix: string | null
  /** how long one request to a `run` instance may take */
  readonly timeoutMs: number
  /** how long the owner of a partition (a describeGroups answer) is reused */
  readonly metadataCacheMs: number
}

export interface ApiConfig {
  readonly host: string
  readonly port: number
  /** put before every catalog topic name (isolated test runs, tenants); same as `topics apply --prefix` */
  readonly topicPrefix: string
  /** largest request body in bytes, after gzip decompression */
  readonly maxBodyBytes: number
  readonly maxEventsPerRequest: number
  /** an event timestamp further ahead of the server clock is rejected (brokers refuse far-future record times) */
  readonly maxFutureSkewMs: number
  readonly rateLimit: RateLimitConfig
  readonly idempotency: IdempotencyConfig
  readonly producer: ProducerConfig
  /** the query routes, answered by the `run` instances (api/queries/) */
  readonly queries: QueriesConfig
  /** how long /readyz waits for the broker and Redis */
  readonly readinessTimeoutMs: number
  readonly logLevel: LogLevel
}

/** Everything optional: what callers pass to buildApiServer / the CLI. */
export type ApiConfigInput = {
  readonly [K in keyof ApiConfig]?: ApiConfig[K] extends object ? Partial<ApiConfig[K]> : ApiConfig[K]
}

const DAY_MS = 24 * 60 * 60 * 1000

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    host: { type: 'string', minLength: 1, default: '127.0.0.1' },
    port: { type: 'integer', minimum: 0, maximum: 65535, default: 8088 },
    topicPrefix: { type: 'string', pattern: '^[A-Za-z0-9._-]{0,100}$', default: '' },
    maxBodyBytes: { type: 'integer', minimum: 1024, maximum: 64 * 1024 * 1024, default: 1024 * 1024 },
    maxEventsPerRequest: { type: 'integer', minimum: 1, maximum: 100_000, default: 1000 },
    maxFutureSkewMs: { type: 'integer', minimum: 0, default: 5 * 60 * 1000 },
    rateLimit: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        requestsPerSecond: { type: 'number', minimum: 0, default: 100 },
        burst: { type: 'integer', minimum: 1, default: 200 }
      }
    },
    idempotency: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        retentionMs: { type: 'integer', minimum: 1000, default: 7 * DAY_MS },
        pendingTtlMs: { type: 'integer', minimum: 1000, default: 120_000 },
        keyPrefix: { type: 'string', minLength: 1, default: 'devtrip:api:event:' }
      }
    },
    producer: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        poolSize: { type: 'integer', minimum: 1, maximum: 32, default: 8 },
        transactionalIdPrefix: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,200}$' },
        transactionTimeoutMs: { type: 'integer', minimum: 1000, maximum: 900_000, default: 60_000 },
        produceTimeoutMs: { type: 'integer', minimum: 100, default: 10_000 },
        maxQueuedEvents: { type: 'integer', minimum: 1, default: 20_000 },
        maxEventsPerTransaction: { type: 'integer', minimum: 1, default: 5000 },
        retryAfterSeconds: { type: 'integer', minimum: 1, maximum: 3600, default: 2 }
      }
    },
    queries: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        applicationIdPrefix: { type: ['string', 'null'], pattern: '^[A-Za-z0-9._-]{0,100}$', default: null },
        timeoutMs: { type: 'integer', minimum: 100, maximum: 60_000, default: 3000 },
        metadataCacheMs: { type: 'integer', minimum: 0, maximum: 60_000, default: 2000 }
      }
    },
    readinessTimeoutMs: { type: 'integer', minimum: 100, default: 3000 },
    logLevel: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' }
  }
} as const

const validate = new Ajv({ allErrors: true, useDefaults: true }).compile(schema)

function deepFreeze<T> (value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner)
    Object.freeze(value)
  }
  return value
}

/** Transactional ids must differ between processes sharing a cluster, or they would fence each other. */
function defaultTransactionalIdPrefix (): string {
  const host = hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 60) || 'host'
  return `devtrip-api-${host}-${process.pid}`
}

export function resolveApiConfig (input: ApiConfigInput = {}): ApiConfig {
  // a JSON copy: ajv's defaults must not write into the caller's object
  const copy = JSON.parse(JSON.stringify(input ?? {})) as Record<string, unknown>
  if (!validate(copy)) {
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath === '' ? '/' : e.instancePath} ${e.message ?? 'is invalid'}`)
    throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `invalid API config: ${problems.join('; ')}`, {
      details: { problems, hint: 'see the config table in docs/api.md' }
    })
  }
  const producer = copy.producer as { transactionalIdPrefix?: string, transactionTimeoutMs: number }
  producer.transactionalIdPrefix ??= defaultTransactionalIdPrefix()
  const idempotency = copy.idempotency as { pendingTtlMs: number }
  // a reservation that expired while its transaction could still commit would let a retry produce the event twice
  if (idempotency.pendingTtlMs <= producer.transactionTimeoutMs) {
    throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `invalid API config: /idempotency/pendingTtlMs (${idempotency.pendingTtlMs}) must be larger than /producer/transactionTimeoutMs (${producer.transactionTimeoutMs})`, {
      details: { problems: ['/idempotency/pendingTtlMs must be larger than /producer/transactionTimeoutMs'], hint: 'a reservation must outlive any transaction that may still commit' }
    })
  }
  return deepFreeze(copy) as unknown as ApiConfig
}
