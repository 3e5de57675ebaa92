/**
 * The one place that loads kafkajs and reaches into it.
 *
 * kafkajs's public API covers producing, transactions, a group consumer driven by `consumer.run()` and most admin
 * calls. What the port needs beyond it — fetching without a group (state restoration), ListOffsets with an
 * isolation level, OffsetFetch / OffsetCommit with the member's own generation, the watermarks and last stable
 * offset of each fetch — is done on kafkajs's internal Cluster and Broker objects, whose methods speak the wire
 * protocol. They are typed here by hand (kafkajs's typings do not describe them) and only as far as we use them.
 * kafkajs 2.2.x is the last line and is no longer developed, so these internals do not move.
 */
import type * as KafkaJS from 'kafkajs'
import type { ResolvedConnectionOptions } from '../options'

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const kafkajs = require('kafkajs') as typeof KafkaJS

export type { KafkaJS }

/** ListOffsets' special timestamps */
export const EARLIEST_TIMESTAMP = '-2'
export const LATEST_TIMESTAMP = '-1'
export const READ_UNCOMMITTED = 0
export const READ_COMMITTED = 1

/** One partition of a decoded Fetch response (v4+). Offsets are decimal strings, as kafkajs decodes int64s. */
export interface FetchedPartition {
  readonly partition: number
  readonly errorCode: number
  readonly highWatermark: string
  readonly lastStableOffset: string
  /** the log start offset (kafkajs names it so) */
  readonly lastStartOffset?: string
  readonly abortedTransactions: ReadonlyArray<{ producerId: string, firstOffset: string }>
  readonly messages: readonly InternalMessage[]
}

/** A record as kafkajs decodes it (headers are grouped by name into an object). */
export interface InternalMessage {
  readonly offset: string
  readonly timestamp: string
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly headers?: Record<string, Buffer | null | Array<Buffer | null>>
  readonly isControlRecord?: boolean
  /** the record batch it came in: first offset and last offset delta give the batch's end */
  readonly batchContext?: { readonly firstOffset: string, readonly lastOffsetDelta: number, readonly producerId: string, readonly inTransaction: boolean }
}

export interface FetchResponse {
  readonly responses: ReadonlyArray<{ topicName: string, partitions: readonly FetchedPartition[] }>
}

export interface FetchRequest {
  replicaId?: number
  isolationLevel: number
  maxWaitTime: number
  minBytes: number
  maxBytes: number
  topics: Array<{ topic: string, partitions: Array<{ partition: number, fetchOffset: string, maxBytes: number }> }>
}

/** The internal Broker methods we call (each is one request to that broker). */
export interface InternalBroker {
  readonly nodeId: number
  fetch (request: FetchRequest): Promise<FetchResponse>
  listOffsets (request: { replicaId?: number, isolationLevel: number, topics: Array<{ topic: string, partitions: Array<{ partition: number, timestamp: string }> }> }):
  Promise<{ responses: Array<{ topic: string, partitions: Array<{ partition: number, offset: string, errorCode: number }> }> }>
  offsetFetch (request: { groupId: string, topics: Array<{ topic: string, partitions: Array<{ partition: number }> }> | null }):
  Promise<{ responses: Array<{ topic: string, partitions: Array<{ partition: number, offset: string, errorCode: number }> }> }>
  offsetCommit (request: { groupId: string, groupGenerationId: number, memberId: string, topics: Array<{ topic: string, partitions: Array<{ partition: number, offset: string }> }> }): Promise<unknown>
  joinGroup (request: unknown): Promise<{ generationId: number, memberId: string }>
  heartbeat (request: { groupId: string, groupGenerationId: number, memberId: string }): Promise<unknown>
}

/** The internal Cluster methods we call. */
export interface InternalCluster {
  connect (): Promise<void>
  disconnect (): Promise<void>
  refreshMetadata (): Promise<void>
  addMultipleTargetTopics (topics: string[]): Promise<void>
  findTopicPartitionMetadata (topic: string): Array<{ partitionId: number, leader: number }>
  findBroker (request: { nodeId: number }): Promise<InternalBroker>
  findGroupCoordinator (request: { groupId: string }): Promise<InternalBroker>
  metadata (request: { topics: string[] }): Promise<{ topicMetadata: Array<{ topic: string, topicErrorCode: number, partitionMetadata: Array<{ partitionId: number, leader: number }> }> }>
}

/**
 * kafkajs logs to the console by default (joins, rebalances, retries). Every failure the port cares about reaches
 * the caller as an error, so the library stays quiet unless DEVTRIP_KAFKAJS_LOG names a level (error, warn, info,
 * debug), which then goes to stderr.
 */
function logLevel (): KafkaJS.logLevel {
  const levels: Record<string, KafkaJS.logLevel> = { error: 1, warn: 2, info: 4, debug: 5 }
  return levels[(process.env.DEVTRIP_KAFKAJS_LOG ?? '').toLowerCase()] ?? 0
}

const stderrLogCreator: KafkaJS.logCreator = () => ({ namespace, level, log }) => {
  const { message, ...extra } = log
  process.stderr.write(`[kafkajs ${namespace} ${String(level)}] ${message} ${JSON.stringify(extra)}\n`)
}

/**
 * A kafkajs client (no connection yet) for one port object. Each port object gets its own, because kafkajs keeps
 * a per-client table of "committed" offsets that its producers' sendOffsets update and its consumers read; sharing
 * one would let a producer move a consumer's start position behind the port's back.
 */
export function createClient (connection: ResolvedConnectionOptions, clientId: string): KafkaJS.Kafka {
  // kafkajs's own retries: roughly one attempt a second for operationTimeoutMs (its waits grow to maxRetryTime)
  const retries = Math.max(1, Math.ceil(connection.operationTimeoutMs / 1000))
  return new kafkajs.Kafka({
    clientId,
    brokers: [...connection.brokers],
    connectionTimeout: connection.connectTimeoutMs,
    requestTimeout: connection.requestTimeoutMs,
    retry: { retries, initialRetryTime: 100, maxRetryTime: 1000 },
    logLevel: logLevel(),
    logCreator: stderrLogCreator
  })
}

/** kafkajs's private factory for its internal Cluster, found by its symbol's description. */
const CREATE_CLUSTER = 'private:Kafka:createCluster'

/**
 * An internal Cluster of `client`: a connection pool with metadata, used for the requests kafkajs's public API does
 * not offer. Topics are never auto-created.
 */
export function createCluster (client: KafkaJS.Kafka, isolationLevel: number): InternalCluster {
  const symbol = Object.getOwnPropertySymbols(client).find((s) => s.description === CREATE_CLUSTER)
  const factory = symbol === undefined ? undefined : (client as unknown as Record<symbol, unknown>)[symbol]
  if (typeof factory !== 'function') throw new Error('kafkajs: the internal cluster factory was not found (unsupported kafkajs version)')
  return (factory as (options: object) => InternalCluster)({ allowAutoTopicCreation: false, isolationLevel, metadataMaxAge: 300_000 })
}
