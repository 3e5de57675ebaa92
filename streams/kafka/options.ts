/**
 * Validation and defaults for the port's options. Adapter-neutral: every adapter receives the same resolved,
 * frozen objects, so a default means the same thing whichever library runs underneath.
 * Each kind of options is checked by one compiled JSON Schema; errors name each bad field by JSON pointer.
 */
import Ajv, { type ValidateFunction } from 'ajv'
import { DevtripError } from '../../events/errors'
import type { FetchOptions, GroupConsumerOptions, KafkaConnectionOptions, ProducerOptions } from './port'

export type ResolvedConnectionOptions = Readonly<Required<Omit<KafkaConnectionOptions, 'brokers'>>> & { readonly brokers: readonly string[] }
export type ResolvedProducerOptions = Readonly<Required<Omit<ProducerOptions, 'transactionalId' | 'clientId'>>> & {
  readonly transactionalId: string | null
  readonly clientId: string | null
}
export type ResolvedFetchOptions = Readonly<Required<Omit<FetchOptions, 'clientId'>>> & { readonly clientId: string | null }
export type ResolvedGroupConsumerOptions = ResolvedFetchOptions & Readonly<Required<Omit<GroupConsumerOptions, keyof FetchOptions | 'groupInstanceId' | 'userData'>>> & {
  readonly groupInstanceId: string | null
  /** a private copy of the caller's bytes, or null */
  readonly userData: Buffer | null
}

/** the most user data a member may advertise (it travels in every JoinGroup and in every describeGroups answer) */
export const MAX_MEMBER_USER_DATA_BYTES = 4096

const ajv = new Ajv({ useDefaults: true, allErrors: true })

const nameish = { type: 'string', pattern: '^[A-Za-z0-9._-]{1,249}$' }

const connectionSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['brokers'],
  properties: {
    brokers: { type: 'array', minItems: 1, items: { type: 'string', pattern: '^[^\\s:]+:[0-9]{1,5}$' } },
    clientId: { type: 'string', minLength: 1, default: 'devtrip-streams' },
    requestTimeoutMs: { type: 'integer', minimum: 100, default: 30000 },
    connectTimeoutMs: { type: 'integer', minimum: 100, default: 5000 },
    operationTimeoutMs: { type: 'integer', minimum: 100, default: 30000 }
  }
} as const

const producerSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    transactionalId: { type: 'string', minLength: 1, maxLength: 249 },
    // the broker's transaction.max.timeout.ms (15 min by default) caps this
    transactionTimeoutMs: { type: 'integer', minimum: 1000, maximum: 900000, default: 60000 },
    compression: { enum: ['none', 'gzip', 'snappy', 'lz4', 'zstd'], default: 'none' },
    clientId: { type: 'string', minLength: 1 }
  }
} as const

const fetchProperties = {
  isolationLevel: { enum: ['read_committed', 'read_uncommitted'], default: 'read_committed' },
  autoOffsetReset: { enum: ['earliest', 'latest', 'none'], default: 'earliest' },
  fetchMaxBytes: { type: 'integer', minimum: 1024, default: 50 * 1024 * 1024 },
  maxPartitionFetchBytes: { type: 'integer', minimum: 1024, default: 1024 * 1024 },
  clientId: { type: 'string', minLength: 1 }
} as const

const fetchSchema = { type: 'object', additionalProperties: false, properties: fetchProperties } as const

const groupConsumerSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['groupId'],
  properties: {
    ...fetchProperties,
    groupId: nameish,
    groupInstanceId: nameish,
    sessionTimeoutMs: { type: 'integer', minimum: 1000, default: 45000 },
    heartbeatIntervalMs: { type: 'integer', minimum: 50, default: 3000 },
    rebalanceTimeoutMs: { type: 'integer', minimum: 1000, default: 60000 }
  }
} as const

const validators = {
  connection: ajv.compile(connectionSchema),
  producer: ajv.compile(producerSchema),
  fetch: ajv.compile(fetchSchema),
  groupConsumer: ajv.compile(groupConsumerSchema)
}

function resolve (what: string, validate: ValidateFunction, input: unknown): Record<string, unknown> {
  // a JSON copy drops functions and undefined fields and keeps the caller's object untouched by ajv's defaults
  const copy: unknown = JSON.parse(JSON.stringify(input ?? {}))
  if (!validate(copy)) {
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath === '' ? '/' : e.instancePath} ${e.message ?? 'is invalid'}`)
    throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `invalid ${what} options: ${problems.join('; ')}`, { details: { problems } })
  }
  return copy as Record<string, unknown>
}

export function resolveConnectionOptions (input: KafkaConnectionOptions): ResolvedConnectionOptions {
  const copy = resolve('Kafka connection', validators.connection, input)
  Object.freeze(copy.brokers)
  return Object.freeze(copy) as unknown as ResolvedConnectionOptions
}

export function resolveProducerOptions (input: ProducerOptions = {}): ResolvedProducerOptions {
  const copy = resolve('producer', validators.producer, input)
  copy.transactionalId ??= null
  copy.clientId ??= null
  return Object.freeze(copy) as unknown as ResolvedProducerOptions
}

export function resolveFetchOptions (input: FetchOptions = {}): ResolvedFetchOptions {
  const copy = resolve('consumer', validators.fetch, input)
  copy.clientId ??= null
  return Object.freeze(copy) as unknown as ResolvedFetchOptions
}

export function resolveGroupConsumerOptions (input: GroupConsumerOptions): ResolvedGroupConsumerOptions {
  // bytes are not JSON: checked by hand, then copied (so a caller reusing its buffer cannot change what we advertise)
  const { userData, ...rest } = input ?? ({} as GroupConsumerOptions)
  if (userData !== undefined && (!Buffer.isBuffer(userData) || userData.length > MAX_MEMBER_USER_DATA_BYTES)) {
    const problem = `/userData must be a Buffer of at most ${MAX_MEMBER_USER_DATA_BYTES} bytes`
    throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `invalid group consumer options: ${problem}`, { details: { problems: [problem] } })
  }
  const copy = resolve('group consumer', validators.groupConsumer, rest)
  copy.userData = userData === undefined ? null : Buffer.from(userData)
  copy.clientId ??= null
  copy.groupInstanceId ??= null
  const session = copy.sessionTimeoutMs as number
  if ((copy.heartbeatIntervalMs as number) >= session) {
    throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `invalid group consumer options: /heartbeatIntervalMs must be below /sessionTimeoutMs (${session})`, {
      details: { problems: ['/heartbeatIntervalMs must be below /sessionTimeoutMs'] }
    })
  }
  return Object.freeze(copy) as unknown as ResolvedGroupConsumerOptions
}
