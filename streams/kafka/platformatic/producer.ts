/**
 * KafkaProducer on @platformatic/kafka's Producer.
 *
 * What the library gives us: idempotent produce (producer id, epochs, sequence numbers), InitProducerId,
 * AddPartitionsToTxn and EndTxn through its `beginTransaction()` → Transaction → `commit()`/`abort()`.
 * What this adapter adds on top:
 *   - partitioning done here with the Java client's murmur2 rule (the library's default hashes differently);
 *   - per-record offsets (the library reports one base offset per partition);
 *   - all calls serialized: the library assigns sequence numbers and registers transaction partitions
 *     assuming one send at a time, and two concurrent sends could break either;
 *   - chunking, so one `send` never builds a produce request over the broker's message size limit;
 *   - `initTransactions()` as a call of its own (the library inits lazily on the first transaction; a zombie
 *     must be fenced as soon as its successor starts);
 *   - `sendOffsetsToTransaction` with raw AddOffsetsToTxn + TxnOffsetCommit carrying the consumer's generation,
 *     member id and group instance id in one request (KIP-447);
 *   - empty transactions end locally: the broker answers EndTxn for a transaction that never registered a
 *     partition with INVALID_TXN_STATE;
 *   - the transaction timeout: the library sends its `timeout` option as InitProducerId's transaction timeout
 *     (and as the produce acks timeout), so `timeout` is set to `transactionTimeoutMs`.
 */
import { DevtripError } from '../../../events/errors'
import { chunksBySize, CHUNK_BYTES, RECORD_OVERHEAD, type ChunkAdmission } from '../common/produce-chunks'
import { ProducerStateMachine } from '../common/producer-state-machine'
import { choosePartition } from '../common/record-partitioning'
import type { ResolvedConnectionOptions, ResolvedProducerOptions } from '../options'
import type { ConsumerGroupMetadata, KafkaProducer, ProducerRecord, RecordMetadata, TopicPartitionOffset } from '../port'
import { topicPartitionKey } from '../port'
import { checkGroupMetadata, checkOffsets, checkProducerRecords } from '../validation'
import { translateError } from './errors'
import { kafka, type Platformatic } from './library'
import { RawClient } from './raw-client'

/** The library's Transaction class is not exported by name; this is the type `beginTransaction()` resolves to. */
type LibraryTransaction = Awaited<ReturnType<Platformatic.Producer['beginTransaction']>>

interface PlannedRecord {
  readonly index: number
  readonly message: Platformatic.MessageToProduce
  readonly size: number
}

export class PlatformaticProducer implements KafkaProducer {
  readonly transactionalId: string | null
  private readonly lib: Platformatic.Producer
  private readonly raw: RawClient
  private readonly calls: ProducerStateMachine
  private transaction: LibraryTransaction | undefined
  /** whether the open transaction registered anything with the coordinator (partitions or a group) */
  private transactionHasWork = false
  private readonly transactionGroups = new Set<string>()
  private readonly roundRobin = new Map<string, number>()

  constructor (connection: ResolvedConnectionOptions, options: ResolvedProducerOptions) {
    const compression = kafka.compressionsAlgorithms[options.compression]
    if (!compression.available) {
      throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `invalid producer options: /compression "${options.compression}" is not available on Node ${process.version}`)
    }
    this.transactionalId = options.transactionalId
    this.calls = new ProducerStateMachine(options.transactionalId, translateError)
    const clientId = options.clientId ?? `${connection.clientId}-producer`
    this.lib = new kafka.Producer({
      clientId,
      bootstrapBrokers: [...connection.brokers],
      idempotent: true,
      acks: kafka.ProduceAcks.ALL,
      compression: options.compression,
      // "no producer id yet": the library would otherwise send 0/0 in InitProducerId, which the coordinator
      // takes as a claim to be producer 0, epoch 0 and answers with PRODUCER_FENCED for any transactional id
      // that already exists (KIP-360)
      producerId: -1n,
      producerEpoch: -1,
      ...(options.transactionalId === null ? {} : { transactionalId: options.transactionalId }),
      timeout: options.transactionTimeoutMs,
      requestTimeout: connection.requestTimeoutMs,
      connectTimeout: connection.connectTimeoutMs,
      retries: 20,
      retryDelay: (_client, _operation, attempt, _retries, error) => retryDelayMs(attempt, error),
      autocreateTopics: false
    })
    this.raw = new RawClient(this.lib, { ...connection, clientId })
  }

  async send (records: readonly ProducerRecord[]): Promise<RecordMetadata[]> {
    checkProducerRecords('send', records)
    return this.calls.serialized('send', async () => {
      this.calls.checkSend('send')
      if (records.length === 0) return []
      const planned = await this.plan(records)
      const result: RecordMetadata[] = new Array(records.length)
      for (const chunk of chunksBySize(planned, CHUNK_BYTES, newTimestampDeltaAdmission)) {
        if (this.transaction !== undefined) this.transactionHasWork = true
        const messages = chunk.map((p) => p.message)
        const produced: Platformatic.ProduceResult = this.transaction !== undefined
          ? await this.transaction.send({ messages })
          : await this.lib.send({ messages })
        // per record: two array reads and one object — this loop runs for every record the engine writes, so it
        // builds no "topic:partition" strings and no intermediate objects
        const baseOffsets = new Map<string, bigint[]>()
        for (const o of produced.offsets ?? []) {
          let byPartition = baseOffsets.get(o.topic)
          if (byPartition === undefined) baseOffsets.set(o.topic, byPartition = [])
          byPartition[o.partition] = o.offset
        }
        const written = new Map<string, number[]>()
        for (const p of chunk) {
          const topic = p.message.topic
          const partition = p.message.partition as number
          const base = baseOffsets.get(topic)?.[partition]
          if (base === undefined) throw new DevtripError('DEVTRIP_KAFKA', `send: the broker reported no offset for ${topicPartitionKey({ topic, partition })}`, { canRetry: true })
          let counts = written.get(topic)
          if (counts === undefined) written.set(topic, counts = [])
          const delta = counts[partition] ?? 0
          counts[partition] = delta + 1
          result[p.index] = { topic, partition, offset: base + BigInt(delta) }
        }
      }
      return result
    })
  }

  initTransactions (): Promise<void> {
    return this.calls.serialized('initTransactions', async () => {
      this.calls.checkInitTransactions('initTransactions')
      // beginTransaction() finds the coordinator and sends InitProducerId (bumping the epoch, which fences
      // any older producer with this id and aborts what it left open); cancel() then ends it locally.
      const transaction = await this.lib.beginTransaction()
      await transaction.cancel()
      this.calls.state = 'ready'
    })
  }

  beginTransaction (): Promise<void> {
    return this.calls.serialized('beginTransaction', async () => {
      this.calls.checkBeginTransaction('beginTransaction')
      this.transaction = await this.lib.beginTransaction()
      this.transactionHasWork = false
      this.transactionGroups.clear()
      this.calls.state = 'in-transaction'
    })
  }

  async sendOffsetsToTransaction (offsets: readonly TopicPartitionOffset[], group: ConsumerGroupMetadata): Promise<void> {
    checkOffsets('sendOffsetsToTransaction', offsets)
    checkGroupMetadata('sendOffsetsToTransaction', group)
    return this.calls.serialized('sendOffsetsToTransaction', async () => {
      this.calls.openTransaction('sendOffsetsToTransaction', this.transaction)
      if (offsets.length === 0) return
      const transactionalId = this.transactionalId!
      const producerId = this.lib.producerId
      const producerEpoch = this.lib.producerEpoch
      if (producerId === undefined || producerEpoch === undefined) {
        throw new DevtripError('DEVTRIP_KAFKA', 'sendOffsetsToTransaction: the producer has no producer id (was it fenced?)')
      }
      if (!this.transactionGroups.has(group.groupId)) {
        this.transactionHasWork = true
        await this.raw.withRetry('sendOffsetsToTransaction', async () => {
          const connection = await this.raw.coordinatorConnection('transaction', transactionalId)
          await this.raw.request<[string, bigint, number, string], unknown>('AddOffsetsToTxn', connection, transactionalId, producerId, producerEpoch, group.groupId)
        }, { coordinator: ['transaction', transactionalId] })
        this.transactionGroups.add(group.groupId)
      }
      const topics = new Map<string, Platformatic.txnOffsetCommitV4.TxnOffsetCommitRequestPartition[]>()
      for (const o of offsets) {
        const list = topics.get(o.topic) ?? []
        list.push({ partitionIndex: o.partition, committedOffset: o.offset, committedLeaderEpoch: -1, committedMetadata: null })
        topics.set(o.topic, list)
      }
      const request: Platformatic.txnOffsetCommitV4.TxnOffsetCommitRequestTopic[] = [...topics].map(([name, partitions]) => ({ name, partitions }))
      await this.raw.withRetry('sendOffsetsToTransaction', async () => {
        const connection = await this.raw.coordinatorConnection('group', group.groupId)
        await this.raw.request<[string, string, bigint, number, number, string, string | null, typeof request], unknown>(
          'TxnOffsetCommit', connection, transactionalId, group.groupId, producerId, producerEpoch,
          group.generationId, group.memberId, group.groupInstanceId, request)
      }, { coordinator: ['group', group.groupId] })
    })
  }

  commitTransaction (): Promise<void> {
    return this.endTransaction('commitTransaction', true)
  }

  abortTransaction (): Promise<void> {
    return this.endTransaction('abortTransaction', false)
  }

  async close (): Promise<void> {
    if (this.calls.state === 'closed') return
    // wait for calls already queued, whatever their outcome
    await this.calls.drained()
    if (this.calls.state === 'in-transaction' && this.transactionHasWork) {
      // best effort: if it fails the coordinator aborts the transaction at its timeout, or when the next
      // producer with this transactional id calls initTransactions()
      await this.transaction?.abort().catch(() => undefined)
    }
    this.calls.state = 'closed'
    this.transaction = undefined
    await this.raw.close().catch((error: unknown) => { throw translateError(error, 'close') })
  }

  private endTransaction (operation: string, commit: boolean): Promise<void> {
    return this.calls.serialized(operation, async () => {
      const transaction = this.calls.openTransaction(operation, this.transaction)
      if (!this.transactionHasWork) await transaction.cancel()
      else if (commit) await transaction.commit()
      else await transaction.abort()
      // on failure the transaction stays open: a retriable failure can be retried, anything else aborted
      this.transaction = undefined
      this.calls.state = 'ready'
    })
  }

  /** Assigns every record its partition (the Java default partitioner for keyed records) and library form. */
  private async plan (records: readonly ProducerRecord[]): Promise<PlannedRecord[]> {
    const topics = [...new Set(records.map((r) => r.topic))]
    const metadata = await this.raw.existingTopicsMetadata('send', topics)
    return records.map((r, index) => {
      const count = metadata.topics.get(r.topic)?.partitionsCount
      if (count === undefined) throw new DevtripError('DEVTRIP_UNKNOWN_TOPIC', `send: topic "${r.topic}" does not exist`, { details: { topic: r.topic } })
      const partition = choosePartition(r, index, count, this.roundRobin)
      let size = RECORD_OVERHEAD + (r.key?.length ?? 0) + (r.value?.length ?? 0)
      const headers = new Map<Buffer, Buffer>()
      for (const [name, value] of r.headers ?? []) {
        // distinct Buffer objects are distinct Map keys, so repeated header names survive
        const nameBytes = Buffer.from(name, 'utf8')
        headers.set(nameBytes, value as Buffer)
        size += nameBytes.length + (value?.length ?? 0) + 4
      }
      const message: Platformatic.MessageToProduce = {
        topic: r.topic,
        partition,
        key: r.key ?? undefined,
        value: r.value ?? undefined,
        headers,
        timestamp: BigInt(r.timestamp ?? Date.now())
      }
      return { index, message, size }
    })
  }
}

/**
 * The library writes each record's timestamp as a zig-zag varlong delta from the first record of its partition's
 * batch, but its zig-zag step shifts by 31 instead of 63 bits, so a delta of 2^31 ms (about 24.8 days) or more
 * either way is garbled: an older record becomes one far in the future, which the broker rejects with
 * INVALID_TIMESTAMP, and a newer one silently gets the wrong time. A record that far from its partition's first
 * record in a chunk therefore starts a new chunk (a new produce request, sent after the previous one, so the
 * partition's order is kept).
 */
const SAFE_DELTA_LIMIT = 2n ** 31n

/** Admits a record to a chunk unless its timestamp is SAFE_DELTA_LIMIT or more from its partition's first one there. */
function newTimestampDeltaAdmission (): ChunkAdmission<PlannedRecord> {
  const firstTimestamps = new Map<string, bigint>()
  return (p) => {
    const partitionKey = `${p.message.topic}:${p.message.partition ?? -1}`
    const timestamp = p.message.timestamp as bigint
    const first = firstTimestamps.get(partitionKey)
    if (first === undefined) {
      firstTimestamps.set(partitionKey, timestamp)
      return true
    }
    const delta = timestamp - first
    return delta < SAFE_DELTA_LIMIT && delta > -SAFE_DELTA_LIMIT
  }
}

/**
 * Back-off before the library retries a request. CONCURRENT_TRANSACTIONS is what the coordinator answers while it
 * is still writing the previous transaction's commit markers — it clears within milliseconds, and under
 * exactly-once it is met at nearly every commit (AddPartitionsToTxn right after EndTxn). Waiting the generic 100 ms
 * there would cap a 100 ms commit interval at half its throughput, so it is retried after 20 ms (as the Java
 * producer does); everything else backs off exponentially from 100 ms up to 1 s.
 */
export function retryDelayMs (attempt: number, error: unknown): number {
  const find = (error as { findBy?: (property: string, value: unknown) => unknown } | null | undefined)?.findBy
  if (typeof find === 'function' && find.call(error, 'apiId', 'CONCURRENT_TRANSACTIONS') != null) return 20
  return Math.min(50 * 2 ** attempt, 1000)
}
