/**
 * The one place that loads the optional native binding @confluentinc/kafka-javascript (librdkafka 2.x behind the
 * node-rdkafka API), and the small slice of its API this adapter uses, typed here so that the project
 * type-checks and builds without the binding installed.
 *
 * The binding is not a dependency of the project: it is compiled from source by `npm run setup:rdkafka`
 * (scripts/setup-rdkafka.sh) into .local/rdkafka/, so that `npm install` never needs a compiler and a later
 * `npm install <pkg>` cannot prune it. A regular install in node_modules is used first when present.
 * When neither exists, loading throws an error with code MODULE_NOT_FOUND, which streams/kafka/index.ts turns
 * into DEVTRIP_KAFKA_ADAPTER_UNAVAILABLE with what to run.
 */
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'

export const BINDING_PACKAGE = '@confluentinc/kafka-javascript'

/** librdkafka's error as the binding reports it: `code` is a broker error code (> 0) or a local one (< 0). */
export interface RdError extends Error {
  readonly code: number
  readonly isFatal?: boolean
  readonly isRetriable?: boolean
  readonly isTxnRequiresAbort?: boolean
}

export type RdCallback<T = void> = (err: RdError | null | undefined, result: T) => void

export interface RdTopicPartition { topic: string, partition: number, offset?: number, error?: RdError }
export interface RdHeader { [name: string]: Buffer }
export interface RdMessage {
  topic: string
  partition: number
  offset: number
  timestamp?: number
  key?: Buffer | null
  value: Buffer | null
  headers?: RdHeader[]
}
export interface RdDeliveryReport { topic: string, partition: number, offset: number, opaque?: unknown }
export interface RdMetadata { topics: Array<{ name: string, partitions: Array<{ id: number }> }> }
export interface RdWatermarks { lowOffset: number, highOffset: number }
export type RdConfig = Record<string, string | number | boolean | ((...args: never[]) => void)>

interface RdClient {
  connect (options: { timeout?: number, allTopics?: boolean, topic?: string }, cb: RdCallback<unknown>): void
  disconnect (cb: RdCallback<unknown>): void
  isConnected (): boolean
  getMetadata (options: { topic?: string, allTopics?: boolean, timeout?: number }, cb: RdCallback<RdMetadata>): void
  on (event: string, listener: (...args: never[]) => void): void
}

export interface RdConsumer extends RdClient {
  subscribe (topics: string[]): void
  unsubscribe (): void
  assign (assignments: RdTopicPartition[]): void
  unassign (): void
  assignmentLost (): boolean
  consume (count: number, cb: RdCallback<RdMessage[]>): void
  setDefaultConsumeTimeout (ms: number): void
  setDefaultIsTimeoutOnlyForFirstMessage (value: boolean): void
  seek (toppar: RdTopicPartition, timeout: number, cb: (err: RdError | null | undefined) => void): void
  pause (toppars: RdTopicPartition[]): void
  resume (toppars: RdTopicPartition[]): void
  commitSync (offsets: RdTopicPartition[]): void
  committed (toppars: RdTopicPartition[], timeout: number, cb: RdCallback<RdTopicPartition[]>): void
  getWatermarkOffsets (topic: string, partition: number): RdWatermarks
}

export interface RdProducer extends RdClient {
  produce (topic: string, partition: number, value: Buffer | null, key: Buffer | null | undefined, timestamp: number | null, opaque: unknown, headers: RdHeader[]): void
  setPollInterval (ms: number): void
  flush (timeout: number, cb: (err: RdError | null | undefined) => void): void
  initTransactions (timeout: number, cb: (err: RdError | null | undefined) => void): void
  beginTransaction (cb: (err: RdError | null | undefined) => void): void
  commitTransaction (timeout: number, cb: (err: RdError | null | undefined) => void): void
  abortTransaction (timeout: number, cb: (err: RdError | null | undefined) => void): void
  sendOffsetsToTransaction (offsets: RdTopicPartition[], consumer: RdConsumer, timeout: number, cb: (err: RdError | null | undefined) => void): void
}

export interface RdGroupMember {
  memberId: string
  clientId: string
  clientHost: string
  groupInstanceId?: string | null
  assignment?: { topicPartitions: Array<{ topic: string, partition: number }> }
}
export interface RdGroupDescription {
  groupId: string
  error?: RdError
  members: RdGroupMember[]
  protocol: string
  protocolType: string
  partitionAssignor?: string
  state: number
}
export interface RdTopicDescription {
  name: string
  isInternal: boolean
  error?: RdError
  partitions: Array<{ partition: number, leader: { id: number } | null, isr: Array<{ id: number }>, replicas: Array<{ id: number }> }>
}

export interface RdAdmin {
  createTopic (topic: { topic: string, num_partitions: number, replication_factor: number, config?: Record<string, string> }, timeout: number, cb: (err: RdError | null | undefined) => void): void
  deleteTopic (topic: string, timeout: number, cb: (err: RdError | null | undefined) => void): void
  listTopics (options: { timeout: number }, cb: RdCallback<string[]>): void
  describeTopics (topics: string[], options: { timeout: number }, cb: RdCallback<RdTopicDescription[]>): void
  listGroups (options: { timeout: number }, cb: RdCallback<{ groups: Array<{ groupId: string, protocolType: string, state: number }>, errors: RdError[] }>): void
  describeGroups (groupIds: string[], options: { timeout: number }, cb: RdCallback<{ groups: RdGroupDescription[] }>): void
  listConsumerGroupOffsets (groups: Array<{ groupId: string }>, options: { timeout: number, requireStableOffsets: boolean }, cb: RdCallback<Array<{ groupId: string, error?: RdError, partitions: RdTopicPartition[] }>>): void
  deleteRecords (offsets: RdTopicPartition[], options: { timeout: number, operationTimeout: number }, cb: RdCallback<Array<{ topic: string, partition: number, lowWatermark: number, error?: RdError }>>): void
  listOffsets (partitions: Array<{ topic: string, partition: number, offset: unknown }>, options: { timeout: number, isolationLevel: number }, cb: RdCallback<Array<{ topic: string, partition: number, offset: number, error?: RdError }>>): void
  disconnect (): void
}

export interface RdOffsetSpecClass {
  new (timestamp: number): unknown
  readonly EARLIEST: unknown
  readonly LATEST: unknown
}

export interface RdBinding {
  KafkaConsumer: new (config: RdConfig, topicConfig: RdConfig) => RdConsumer
  Producer: new (config: RdConfig, topicConfig: RdConfig) => RdProducer
  AdminClient: { create (config: RdConfig): RdAdmin }
  OffsetSpec: RdOffsetSpecClass
  IsolationLevel: { READ_UNCOMMITTED: number, READ_COMMITTED: number }
  librdkafkaVersion: string
}

/** Where the binding may be: a regular install first, then the .local/rdkafka/ of the project holding this file. */
function candidates (): string[] {
  const found: string[] = [BINDING_PACKAGE]
  // this file runs from streams/kafka/rdkafka/ (sources) or dist/streams/kafka/rdkafka/ (build): walk up
  for (let dir = __dirname, i = 0; i < 6; i++, dir = dirname(dir)) {
    const local = join(dir, '.local', 'rdkafka', 'node_modules', BINDING_PACKAGE)
    if (existsSync(join(local, 'package.json'))) found.push(local)
  }
  return found
}

function load (): RdBinding {
  for (const where of candidates()) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return require(where) as RdBinding
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code !== 'MODULE_NOT_FOUND') throw error
    }
  }
  const missing = new Error(`${BINDING_PACKAGE} is not built (looked in node_modules and .local/rdkafka/)`) as NodeJS.ErrnoException
  missing.code = 'MODULE_NOT_FOUND'
  throw missing
}

/** Loaded when the adapter module is first required, so a missing binding fails the adapter's loading. */
export const rdkafka: RdBinding = load()
