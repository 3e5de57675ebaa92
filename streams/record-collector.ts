/**
 * The byte-level boundary between a stream task and whoever moves its records: the Kafka runtime (consumer in,
 * transactional producer out) or the TopologyTestDriver (in-memory topics).
 */
import type { Headers } from './record'

export interface TopicPartition {
  readonly topic: string
  readonly partition: number
}

/** A record as fetched from Kafka, before deserialization. */
export interface ConsumedRecord {
  readonly key: Buffer | null
  readonly value: Buffer | null
  /** milliseconds since the epoch */
  readonly timestamp: number
  readonly offset: bigint
  readonly headers: Headers
}

/** A serialized record a task wants written: sink output, changelog entries and dead-letter records alike. */
export interface ProducedRecord {
  readonly topic: string
  /** undefined only for a null key without a custom partitioner: the producer chooses */
  readonly partition: number | undefined
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly timestamp: number
  readonly headers: Headers
}

export interface RecordCollector {
  /** Queue the record for writing. Synchronous: delivery failures surface when the runtime flushes or commits. */
  send (record: ProducedRecord): void
}

/** The committed position of one input partition: the offset of the next record to consume. */
export interface TopicPartitionOffset extends TopicPartition {
  readonly offset: bigint
}
