/**
 * StreamsApp configuration: one JSON Schema, compiled once, applied with defaults, then frozen.
 * Every default is documented in docs/configuration.md (a unit test keeps the two in step).
 */
import Ajv from 'ajv'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DevtripError } from '../../events/errors'

export type ProcessingGuarantee = 'exactly-once' | 'at-least-once'
export type ExceptionHandling = 'continue' | 'fail' | 'dlq'

export interface StreamsConfigInput {
  /** also the consumer group id, the transactional id prefix and the prefix of internal topics */
  applicationId: string
  bootstrapServers: string[]
  processingGuarantee?: ProcessingGuarantee
  /** how often tasks commit; default 100 ms under exactly-once, 30 000 ms under at-least-once (as Kafka Streams) */
  commitIntervalMs?: number
  /** how long a task waits for a partition that is known to have unfetched data before processing anyway */
  maxTaskIdleMs?: number
  stateDir?: string
  transactionTimeoutMs?: number
  sessionTimeoutMs?: number
  heartbeatIntervalMs?: number
  rebalanceTimeoutMs?: number
  /** upper bound on buffered records per partition before the partition is paused */
  maxBufferedRecordsPerPartition?: number
  fetchMaxWaitMs?: number
  deserializationExceptionHandler?: ExceptionHandling
  processingExceptionHandler?: ExceptionHandling
  productionExceptionHandler?: ExceptionHandling
  /** DLQ topic = source topic + this suffix */
  dlqTopicSuffix?: string
  restoreBatchSize?: number
  /** instance address advertised to the group for interactive queries (host:port) */
  applicationServer?: string
  clientId?: string
  /** which Kafka client adapter talks to the cluster (streams/kafka): platformatic (default), kafkajs or rdkafka */
  client?: 'platformatic' | 'kafkajs' | 'rdkafka'
  rocksdb?: { blockCacheBytes?: number, writeBufferBytes?: number, readCacheBytes?: number }
  /** replication factor of the internal topics the app creates (changelog, repartition, DLQ) */
  replicationFactor?: number
  /** where an input partition without a committed offset starts */
  autoOffsetReset?: 'earliest' | 'latest'
  /** records buffered for the producer before they are sent (in the background) ahead of the commit */
  producerBatchRecords?: number
  /** most records one task processes per loop turn before the loop moves to the next task */
  processChunkRecords?: number
  /** failed commits or recoveries in a row after which the app gives up and goes to ERROR */
  maxConsecutiveFailures?: number
}

export type StreamsConfig = Readonly<Required<Omit<StreamsConfigInput, 'applicationServer' | 'rocksdb'>>> & {
  readonly applicationServer: string | undefined
  readonly rocksdb: Readonly<{ blockCacheBytes: number, writeBufferBytes: number, readCacheBytes: number }>
}

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['applicationId', 'bootstrapServers'],
  properties: {
    applicationId: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,200}$' },
    bootstrapServers: { type: 'array', minItems: 1, items: { type: 'string', pattern: '^[^\\s:]+:[0-9]{1,5}$' } },
    processingGuarantee: { enum: ['exactly-once', 'at-least-once'], default: 'exactly-once' },
    commitIntervalMs: { type: 'integer', minimum: 1 },
    maxTaskIdleMs: { type: 'integer', minimum: 0, default: 0 },
    stateDir: { type: 'string', minLength: 1 },
    transactionTimeoutMs: { type: 'integer', minimum: 1000, default: 10000 },
    sessionTimeoutMs: { type: 'integer', minimum: 1000, default: 45000 },
    heartbeatIntervalMs: { type: 'integer', minimum: 100, default: 3000 },
    rebalanceTimeoutMs: { type: 'integer', minimum: 1000, default: 60000 },
    maxBufferedRecordsPerPartition: { type: 'integer', minimum: 1, default: 1000 },
    fetchMaxWaitMs: { type: 'integer', minimum: 0, default: 100 },
    deserializationExceptionHandler: { enum: ['continue', 'fail', 'dlq'], default: 'fail' },
    processingExceptionHandler: { enum: ['continue', 'fail', 'dlq'], default: 'fail' },
    productionExceptionHandler: { enum: ['continue', 'fail', 'dlq'], default: 'fail' },
    dlqTopicSuffix: { type: 'string', minLength: 1, default: '.dlq' },
    restoreBatchSize: { type: 'integer', minimum: 1, default: 10000 },
    applicationServer: { type: 'string', pattern: '^[^\\s:]+:[0-9]{1,5}$' },
    clientId: { type: 'string', minLength: 1 },
    client: { enum: ['platformatic', 'kafkajs', 'rdkafka'], default: 'platformatic' },
    replicationFactor: { type: 'integer', minimum: 1, maximum: 32, default: 1 },
    autoOffsetReset: { enum: ['earliest', 'latest'], default: 'earliest' },
    producerBatchRecords: { type: 'integer', minimum: 1, default: 5000 },
    processChunkRecords: { type: 'integer', minimum: 1, default: 1000 },
    maxConsecutiveFailures: { type: 'integer', minimum: 1, default: 10 },
    rocksdb: {
      type: 'object',
      additionalProperties: false,
      properties: {
        blockCacheBytes: { type: 'integer', minimum: 0, default: 64 * 1024 * 1024 },
        writeBufferBytes: { type: 'integer', minimum: 1024 * 1024, default: 16 * 1024 * 1024 },
        readCacheBytes: { type: 'integer', minimum: 0, maximum: 1024 * 1024 * 1024, default: 4 * 1024 * 1024 }
      },
      default: {}
    }
  }
} as const

/** the schema itself, for docs/configuration.md's completeness test */
export const STREAMS_CONFIG_SCHEMA = schema

const validate = new Ajv({ useDefaults: true, allErrors: true }).compile(schema)

/** Validates, fills the documented defaults and freezes. Throws DEVTRIP_INVALID_OPTIONS naming each bad field by JSON pointer. */
export function resolveStreamsConfig (input: StreamsConfigInput): StreamsConfig {
  const copy: Record<string, unknown> = JSON.parse(JSON.stringify(input ?? {}))
  if (!validate(copy)) {
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath === '' ? '/' : e.instancePath} ${e.message ?? 'is invalid'}`)
    throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `invalid streams config: ${problems.join('; ')}`, { details: { problems } })
  }
  if ((copy.heartbeatIntervalMs as number) >= (copy.sessionTimeoutMs as number)) {
    const problems = ['/heartbeatIntervalMs must be below /sessionTimeoutMs']
    throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `invalid streams config: ${problems[0]} (${String(copy.sessionTimeoutMs)})`, { details: { problems } })
  }
  const exactlyOnce = copy.processingGuarantee === 'exactly-once'
  copy.commitIntervalMs ??= exactlyOnce ? 100 : 30000
  copy.stateDir ??= join(tmpdir(), 'devtrip-streams')
  copy.clientId ??= `${String(copy.applicationId)}-${process.pid}`
  copy.applicationServer ??= undefined
  Object.freeze(copy.rocksdb)
  Object.freeze(copy.bootstrapServers)
  return Object.freeze(copy) as unknown as StreamsConfig
}
