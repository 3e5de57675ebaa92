/**
 * The commit protocol, in one place. Every task writes through this RecordCollector (sink output, changelog
 * records, dead-letter records); `commit()` makes all of it — plus the consumed offsets — durable in one step, and
 * tells the caller where each changelog partition ended, so the stores can write their batches with that
 * checkpoint AFTERWARDS (the caller does that: StreamsApp.commitAll).
 *
 * Exactly-once v2 (one transactional producer per instance, KIP-447):
 *   begin (lazily, before the first send) → sends in batches of `batchRecords` while processing, in the background
 *   → commit: 1. send what is buffered, await every send's metadata (→ changelog end per partition)
 *             2. sendOffsetsToTransaction(consumed offsets of all tasks, consumer.groupMetadata())
 *             3. commitTransaction()
 *   then the caller: task.commitStores(changelog ends) — the state writes reach RocksDB only once Kafka committed.
 * At-least-once: the same sends (idempotent producer, acks=all) → await them → consumer.commitOffsets → stores.
 *
 * Nothing here is awaited per record: `send` is synchronous and only appends to an array.
 */
import { DevtripError, isDevtripError } from '../../events/errors'
import type { ProducedRecord, RecordCollector } from '../record-collector'
import type { ConsumerGroupMetadata, KafkaProducer, RecordMetadata, TopicPartitionOffset } from '../kafka/port'
import { topicPartitionKey } from '../kafka/port'

export interface CheckpointOptions {
  readonly exactlyOnce: boolean
  /** records buffered before they are handed to the producer (in the background) */
  readonly batchRecords: number
  /** changelog topic names: their record offsets become store checkpoints */
  readonly changelogTopics: ReadonlySet<string>
}

export interface CommitTarget {
  /** consumed offsets (next offset to read) of every task being committed */
  readonly offsets: readonly TopicPartitionOffset[]
  /** exactly-once: the consumer's identity at commit time (the broker fences a stale generation) */
  groupMetadata (): ConsumerGroupMetadata
  /** at-least-once: commits the offsets through the group consumer */
  commitOffsets (offsets: readonly TopicPartitionOffset[]): Promise<void>
}

export interface CommitOutcome {
  /** "changelogTopic:partition" → offset after the last record written to it since the previous commit */
  readonly changelogEnds: ReadonlyMap<string, bigint>
  /** records written since the previous commit */
  readonly records: number
}

export class Checkpoint implements RecordCollector {
  private producer: KafkaProducer
  private readonly options: CheckpointOptions
  private buffer: ProducedRecord[] = []
  private inflight: Array<Promise<void>> = []
  /** the first failure of a background send; the commit rethrows it */
  private sendFailure: unknown = undefined
  private changelogEnds = new Map<string, bigint>()
  private transactionOpen = false
  private written = 0

  constructor (producer: KafkaProducer, options: CheckpointOptions) {
    this.producer = producer
    this.options = options
  }

  /** records written (buffered or sent) since the last commit or abort */
  get uncommittedRecords (): number {
    return this.written
  }

  get inTransaction (): boolean {
    return this.transactionOpen
  }

  send (record: ProducedRecord): void {
    this.buffer.push(record)
    this.written++
    if (this.buffer.length >= this.options.batchRecords) this.flush()
  }

  /** Hands the buffered records to the producer without waiting (the producer serializes its calls). */
  flush (): void {
    if (this.buffer.length === 0) return
    const batch = this.buffer
    this.buffer = []
    if (this.options.exactlyOnce && !this.transactionOpen) this.begin()
    const sent = this.producer.send(batch).then((metadata) => { this.noteOffsets(metadata) }, (error: unknown) => {
      this.sendFailure ??= error
    })
    this.inflight.push(sent)
  }

  /**
   * Makes everything written since the last commit durable together with `target.offsets`. Throws (leaving the
   * transaction for `abort()`) when any step fails; DEVTRIP_KAFKA_FENCED / DEVTRIP_TASK_MIGRATED come through as
   * the port reported them.
   */
  async commit (target: CommitTarget): Promise<CommitOutcome> {
    this.flush()
    await this.drain()
    if (this.options.exactlyOnce) {
      if (target.offsets.length > 0 || this.transactionOpen) {
        if (!this.transactionOpen) this.begin()
        if (target.offsets.length > 0) await this.producer.sendOffsetsToTransaction(target.offsets, target.groupMetadata())
        await this.producer.commitTransaction()
        this.transactionOpen = false
      }
    } else if (target.offsets.length > 0) {
      await target.commitOffsets(target.offsets)
    }
    const outcome = { changelogEnds: this.changelogEnds, records: this.written }
    this.changelogEnds = new Map()
    this.written = 0
    return outcome
  }

  /**
   * Drops what was not committed: buffered records, and under exactly-once the open transaction (aborted at the
   * broker, best effort — a fenced producer cannot abort, and the coordinator already did). Never throws; returns
   * the abort failure, if any, for the caller to log.
   */
  async abort (): Promise<unknown> {
    this.buffer = []
    let failure: unknown
    await this.drain().catch(() => undefined)
    if (this.options.exactlyOnce && this.transactionOpen) {
      try {
        await this.producer.abortTransaction()
      } catch (error) {
        failure = error
      }
      this.transactionOpen = false
    }
    this.changelogEnds = new Map()
    this.written = 0
    return failure
  }

  /** After a fence: the old producer is dead, continue with a fresh (already initialized) one. */
  replaceProducer (producer: KafkaProducer): void {
    this.producer = producer
    this.buffer = []
    this.inflight = []
    this.sendFailure = undefined
    this.transactionOpen = false
    this.changelogEnds = new Map()
    this.written = 0
  }

  private begin (): void {
    this.transactionOpen = true
    // not awaited: the producer runs its calls in order, so the sends queued after it run inside the transaction;
    // a failure here fails those sends too and surfaces at commit
    this.inflight.push(this.producer.beginTransaction().catch((error: unknown) => { this.sendFailure ??= error }))
  }

  private async drain (): Promise<void> {
    const pending = this.inflight
    this.inflight = []
    await Promise.all(pending)
    const failure = this.sendFailure
    this.sendFailure = undefined
    if (failure !== undefined) {
      throw isDevtripError(failure) ? failure : new DevtripError('DEVTRIP_KAFKA', `sending records failed: ${String(failure)}`, { cause: failure })
    }
  }

  private noteOffsets (metadata: readonly RecordMetadata[]): void {
    const changelogs = this.options.changelogTopics
    if (changelogs.size === 0) return
    // records of one partition come back with increasing offsets: only the last one per partition matters,
    // and no key string is built per record
    let topic = ''
    let partition = -1
    let last = -1n
    for (const m of metadata) {
      if (m.topic !== topic || m.partition !== partition) {
        if (last >= 0n) this.noteEnd(topic, partition, last + 1n)
        topic = m.topic
        partition = m.partition
        last = changelogs.has(topic) ? m.offset : -1n
      } else if (last >= 0n && m.offset > last) {
        last = m.offset
      }
    }
    if (last >= 0n) this.noteEnd(topic, partition, last + 1n)
  }

  private noteEnd (topic: string, partition: number, next: bigint): void {
    const key = topicPartitionKey({ topic, partition })
    const known = this.changelogEnds.get(key)
    if (known === undefined || next > known) this.changelogEnds.set(key, next)
  }
}
