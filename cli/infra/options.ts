/**
 * The options every public infra function accepts, each checked by one compiled JSON Schema
 * (ajv fills the defaults) and then frozen, so a typo or a wrong type fails loudly up front instead
 * of half-starting a broker.
 */
import Ajv, { type ErrorObject, type JSONSchemaType } from 'ajv'
import { DevtripError } from '../../events/errors'

/** progress lines for people ("kafka: formatting storage …"); the CLI prints them on stderr */
export type ProgressFn = (line: string) => void

export interface StartKafkaOptions {
  /** the broker's own directory: server.properties, broker.json and the KRaft data live here */
  dataDir: string
  /** client port (PLAINTEXT); a free one is picked when absent (or reused from an earlier start in dataDir) */
  port?: number
  /** KRaft controller port; picked like `port` */
  controllerPort?: number
  /** JVM stdout/stderr are appended here; default `<dataDir>/kafka.log` */
  logFile?: string
  heapMax: string
  heapMin: string
  /** how long to wait for the broker to answer a metadata request */
  readyTimeoutMs: number
  /** extra / overriding server.properties entries (chaos tests shorten timeouts with these) */
  extraProperties?: Record<string, string | number | boolean>
  onProgress?: ProgressFn
}

export interface StopServiceOptions {
  /** delete the service's data directory afterwards */
  wipe: boolean
  /** SIGTERM grace period before SIGKILL */
  graceMs: number
  /** SIGKILL at once — simulates a crash */
  kill: boolean
}

export interface StartRedisOptions {
  /** Redis's working directory (nothing is persisted) */
  dataDir: string
  port?: number
  /** default `<dataDir>/redis.log` */
  logFile?: string
  readyTimeoutMs: number
  /** when redis-server is missing and we run as root: apt-get install it */
  installIfMissing: boolean
  onProgress?: ProgressFn
}

export interface StartInfraOptions {
  /** base directory; default `$DEVTRIP_LOCAL_DIR` or `<projectRoot>/.local` */
  localDir?: string
  /**
   * an existing cluster to use instead of starting one. undefined: take `$KAFKA_BROKERS` when set;
   * null: always start a local broker, whatever the environment says.
   */
  kafkaBrokers?: string | null
  /** same for Redis and `$REDIS_URL` */
  redisUrl?: string | null
  /** server.properties overrides for a broker this call starts (ignored for a running or external one) */
  kafkaProperties?: Record<string, string | number | boolean> | null
  readyTimeoutMs: number
  onProgress?: ProgressFn
}

export interface StopInfraOptions {
  localDir?: string
  graceMs: number
  onProgress?: ProgressFn
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, allowUnionTypes: true })

const port = { type: 'integer', minimum: 1, maximum: 65535, nullable: true } as const
const heap = { type: 'string', pattern: '^[1-9][0-9]*[kKmMgG]$' } as const
const readyTimeoutMs = { type: 'integer', minimum: 1000, maximum: 3_600_000 } as const
const progress = {} as const
/** a file, folder or address that may be left out (not an empty string) */
const optionalText = { type: 'string', minLength: 1, nullable: true } as const
/** server.properties entries a broker is started with (startKafka's extraProperties, startInfra's kafkaProperties) */
const serverProperties = {
  type: 'object',
  nullable: true,
  required: [],
  propertyNames: { pattern: '^[a-z0-9][a-z0-9._-]*$' },
  additionalProperties: { type: ['string', 'number', 'boolean'] }
} as const
/** SIGTERM grace period before SIGKILL */
const graceMs = { type: 'integer', minimum: 0, maximum: 600_000, default: 20_000 } as const

/**
 * An options object that refuses unknown keys (a typo fails instead of being ignored). The cast: ajv's
 * JSONSchemaType cannot express the function-valued onProgress nor the shared nullable fragments above.
 */
function closedObjectSchema<T> (required: string[], properties: Record<string, unknown>): JSONSchemaType<T> {
  return { type: 'object', additionalProperties: false, required, properties } as unknown as JSONSchemaType<T>
}

const startKafkaSchema = closedObjectSchema<StartKafkaOptions>(['dataDir'], {
  dataDir: { type: 'string', minLength: 1 },
  port,
  controllerPort: port,
  logFile: optionalText,
  heapMax: { ...heap, default: '512m' },
  heapMin: { ...heap, default: '256m' },
  readyTimeoutMs: { ...readyTimeoutMs, default: 90_000 },
  extraProperties: serverProperties,
  onProgress: progress
})

const stopServiceSchema: JSONSchemaType<StopServiceOptions> = {
  type: 'object',
  additionalProperties: false,
  required: [],
  properties: {
    wipe: { type: 'boolean', default: false },
    graceMs,
    kill: { type: 'boolean', default: false }
  }
}

const startRedisSchema = closedObjectSchema<StartRedisOptions>(['dataDir'], {
  dataDir: { type: 'string', minLength: 1 },
  port,
  logFile: optionalText,
  readyTimeoutMs: { ...readyTimeoutMs, default: 30_000 },
  installIfMissing: { type: 'boolean', default: true },
  onProgress: progress
})

const startInfraSchema = closedObjectSchema<StartInfraOptions>([], {
  localDir: optionalText,
  kafkaBrokers: optionalText,
  redisUrl: { type: 'string', pattern: '^rediss?://', nullable: true },
  kafkaProperties: serverProperties,
  readyTimeoutMs: { ...readyTimeoutMs, default: 90_000 },
  onProgress: progress
})

const stopInfraSchema = closedObjectSchema<StopInfraOptions>([], {
  localDir: optionalText,
  graceMs,
  onProgress: progress
})

function describe (errors: ErrorObject[] | null | undefined): string {
  return (errors ?? []).map((e) => `${e.instancePath === '' ? '(options)' : e.instancePath} ${e.message ?? 'is invalid'}`).join('; ')
}

/** Compiles `schema` once; the returned checker copies the input, fills defaults, validates, freezes. */
function checker<T> (what: string, schema: JSONSchemaType<T>): (input: unknown) => Readonly<T> {
  const validate = ajv.compile(schema)
  return (input) => {
    const copy: Record<string, unknown> = { ...(input as Record<string, unknown> ?? {}) }
    // undefined means "not given": drop it so defaults apply and `additionalProperties` stays quiet
    for (const key of Object.keys(copy)) if (copy[key] === undefined) delete copy[key]
    if (!validate(copy)) {
      throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `invalid ${what} options: ${describe(validate.errors)}`, { details: { errors: validate.errors } })
    }
    if (copy.onProgress !== undefined && copy.onProgress !== null && typeof copy.onProgress !== 'function') {
      throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `invalid ${what} options: /onProgress must be a function`)
    }
    if (typeof copy.extraProperties === 'object' && copy.extraProperties !== null) Object.freeze(copy.extraProperties)
    return Object.freeze(copy) as Readonly<T>
  }
}

export const checkStartKafkaOptions = checker<StartKafkaOptions>('startKafka', startKafkaSchema)
export const checkStopServiceOptions = checker<StopServiceOptions>('stop', stopServiceSchema)
export const checkStartRedisOptions = checker<StartRedisOptions>('startRedis', startRedisSchema)
export const checkStartInfraOptions = checker<StartInfraOptions>('startInfra', startInfraSchema)
export const checkStopInfraOptions = checker<StopInfraOptions>('stopInfra', stopInfraSchema)

/** Input forms: the fields with defaults become optional for callers. */
export type StartKafkaInput = Omit<StartKafkaOptions, 'heapMax' | 'heapMin' | 'readyTimeoutMs'> & Partial<Pick<StartKafkaOptions, 'heapMax' | 'heapMin' | 'readyTimeoutMs'>>
export type StopServiceInput = Partial<StopServiceOptions>
export type StartRedisInput = Omit<StartRedisOptions, 'readyTimeoutMs' | 'installIfMissing'> & Partial<Pick<StartRedisOptions, 'readyTimeoutMs' | 'installIfMissing'>>
export type StartInfraInput = Omit<StartInfraOptions, 'readyTimeoutMs'> & Partial<Pick<StartInfraOptions, 'readyTimeoutMs'>>
export type StopInfraInput = Omit<StopInfraOptions, 'graceMs'> & Partial<Pick<StopInfraOptions, 'graceMs'>>
