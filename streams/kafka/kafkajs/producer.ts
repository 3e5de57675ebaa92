/**
 * KafkaProducer on kafkajs's producer.
 *
 * kafkajs gives: idempotent produce (acks=all, producer id, sequence numbers), InitProducerId, AddPartitionsToTxn,
 * EndTxn and AddOffsetsToTxn + TxnOffsetCommit through `producer.transaction()`. Its TxnOffsetCommit is v0–v1: it
 * carries the group id only, no generation or member id (no KIP-447), so the runtime fences zombies with one
 * transactional id per task instead (capability 'group-id-only'; docs/kafka-port.md).
 * What this adapter adds:
 *   - partitions chosen here (streams/partitioner.ts, the Java rule) from a metadata cache shared by the producers
 *     of one factory; unknown topics fail fast (kafkajs would retry them for its whole retry budget);
 *   - per-record offsets (kafkajs reports one base offset per partition);
 *   - all calls serialized, and `initTransactions()` as a call of its own (kafkajs initializes lazily);
 *   - sends split into requests of ≤ 512 KiB (the broker's default message limit is 1 MiB per batch);
 *   - after an EndTxn that failed without fencing, kafkajs's transaction state machine is stuck (COMMITTING or
 *     ABORTING); an abort then replaces the kafkajs producer and initializes the same transactional id again,
 *     which makes the coordinator abort the open transaction — what an abort asks for.
 */
import { DevtripError } from '../../../events/errors'
import { chunksBySize, RECORD_OVERHEAD } from '../common/produce-chunks'
import { ProducerStateMachine } from '../common/producer-state-machine'
import { choosePartition } from '../common/record-partitioning'
import { groupByTopic } from '../common/topic-partitions'
import type { ResolvedConnectionOptions, ResolvedProducerOptions } from '../options'
import type { ConsumerGroupMetadata, KafkaProducer, ProducerRecord, RecordMetadata, TopicPartitionOffset } from '../port'
import { topicPartitionKey } from '../port'
import { checkGroupMetadata, checkOffsets, checkProducerRecords } from '../validation'
import { translateError } from './errors'
import { createClient, kafkajs, type KafkaJS } from './library'
import { acquireSharedMetadata, type SharedMetadata } from './shared-metadata'

const EMPTY = Buffer.alloc(0)

interface Planned {
  readonly index: number
  readonly topic: string
  readonly message: KafkaJS.Message & { partition: number }
  readonly size: number
}

export class KafkajsProducer implements KafkaProducer {
  readonly transactionalId: string | null
  private lib: KafkaJS.Producer
  private transaction: KafkaJS.Transaction | undefined
  /** an EndTxn failed without fencing: kafkajs's transaction state is stuck until the producer is replaced */
  private stuck = false
  private readonly calls: ProducerStateMachine
  private connected: Promise<void> | null = null
  private readonly metadata: SharedMetadata
  private readonly roundRobin = new Map<string, number>()
  private readonly compression: KafkaJS.CompressionTypes

  constructor (private readonly connection: ResolvedConnectionOptions, private readonly options: ResolvedProducerOptions) {
    if (options.compression !== 'none' && options.compression !== 'gzip') {
      throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `invalid producer options: /compression "${options.compression}" is not available with the kafkajs adapter (kafkajs bundles gzip only)`)
    }
    this.compression = options.compression === 'gzip' ? kafkajs.CompressionTypes.GZIP : kafkajs.CompressionTypes.None
    this.transactionalId = options.transactionalId
    this.calls = new ProducerStateMachine(options.transactionalId, translateError)
    this.lib = this.createLibraryProducer()
    this.metadata = acquireSharedMetadata(connection)
  }

  async send (records: readonly ProducerRecord[]): Promise<RecordMetadata[]> {
    checkProducerRecords('send', records)
    return this.calls.serialized('send', async () => {
      this.calls.checkSend('send')
      if (records.length === 0) return []
      const planned = await this.plan(records)
      await this.connect()
      const result: RecordMetadata[] = new Array(records.length)
      for (const chunk of chunksBySize(planned)) {
        const topicMessages = [...groupByTopic(chunk.map((p) => ({ topic: p.topic, partition: p.message.partition, p })), (x) => x.p.message)]
          .map(([topic, messages]) => ({ topic, messages }))
        const batch = { topicMessages, acks: -1, compression: this.compression }
        const produced = this.transaction !== undefined ? await this.transaction.sendBatch(batch) : await this.lib.sendBatch(batch)
        const base = new Map(produced.map((m) => [topicPartitionKey({ topic: m.topicName, partition: m.partition }), BigInt(m.baseOffset ?? '-1')]))
        const next = new Map<string, bigint>()
        for (const p of chunk) {
          const tp = { topic: p.topic, partition: p.message.partition }
          const key = topicPartitionKey(tp)
          const offset = base.get(key)
          if (offset === undefined || offset < 0n) throw new DevtripError('DEVTRIP_KAFKA', `send: the broker reported no offset for ${key}`, { canRetry: true })
          const delta = next.get(key) ?? 0n
          next.set(key, delta + 1n)
          result[p.index] = { ...tp, offset: offset + delta }
        }
      }
      return result
    })
  }

  initTransactions (): Promise<void> {
    return this.calls.serialized('initTransactions', async () => {
      this.calls.checkInitTransactions('initTransactions')
      await this.initialize()
      this.calls.state = 'ready'
    })
  }

  beginTransaction (): Promise<void> {
    return this.calls.serialized('beginTransaction', async () => {
      this.calls.checkBeginTransaction('beginTransaction')
      // the producer id exists already: this is local
      this.transaction = await this.lib.transaction()
      this.calls.state = 'in-transaction'
    })
  }

  async sendOffsetsToTransaction (offsets: readonly TopicPartitionOffset[], group: ConsumerGroupMetadata): Promise<void> {
    checkOffsets('sendOffsetsToTransaction', offsets)
    checkGroupMetadata('sendOffsetsToTransaction', group)
    return this.calls.serialized('sendOffsetsToTransaction', async () => {
      const transaction = this.calls.openTransaction('sendOffsetsToTransaction', this.transaction)
      if (offsets.length === 0) return
      // kafkajs sends the group id only: the generation and member id in `group` cannot travel (no KIP-447)
      const topics = [...groupByTopic(offsets, (o) => ({ partition: o.partition, offset: o.offset.toString() }))].map(([topic, partitions]) => ({ topic, partitions }))
      await transaction.sendOffsets({ consumerGroupId: group.groupId, topics })
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
    await this.calls.drained()
    if (this.calls.state === 'in-transaction' && !this.stuck) {
      // best effort: otherwise the coordinator aborts it at its timeout or when the next producer with this id initializes
      await this.transaction?.abort().catch(() => undefined)
    }
    this.calls.state = 'closed'
    this.transaction = undefined
    this.metadata.release()
    await this.lib.disconnect().catch((error: unknown) => { throw translateError(error, 'close') })
  }

  private createLibraryProducer (): KafkaJS.Producer {
    const client = createClient(this.connection, this.options.clientId ?? `${this.connection.clientId}-producer`)
    return client.producer({
      // a transactional producer's sends go through its transaction, which is always idempotent; `idempotent`
      // here would only make connect() fetch a second, non-transactional producer id
      idempotent: this.options.transactionalId === null,
      ...(this.options.transactionalId === null ? {} : { transactionalId: this.options.transactionalId, transactionTimeout: this.options.transactionTimeoutMs }),
      allowAutoTopicCreation: false,
      // every record gets its partition in plan(); kafkajs asks its partitioner for every record anyway
      createPartitioner: () => ({ message }) => {
        if (message.partition === undefined || message.partition === null) throw new Error('kafkajs partitioner asked for a record without a partition')
        return message.partition
      }
    })
  }

  private async connect (): Promise<void> {
    this.connected ??= this.lib.connect().catch((error: unknown) => {
      this.connected = null
      throw error
    })
    await this.connected
  }

  /** InitProducerId for the transactional id (fences older producers, aborts what they left open), then local abort. */
  private async initialize (): Promise<void> {
    await this.connect()
    const transaction = await this.lib.transaction()
    await transaction.abort()
  }

  private endTransaction (operation: string, commit: boolean): Promise<void> {
    return this.calls.serialized(operation, async () => {
      const transaction = this.calls.openTransaction(operation, this.transaction)
      if (this.stuck) {
        if (commit) throw new DevtripError('DEVTRIP_KAFKA', `${operation}: an earlier end of this transaction failed; it can only be aborted`, { canRetry: false })
        await this.replaceAndReinitialize()
      } else {
        try {
          if (commit) await transaction.commit()
          else await transaction.abort()
        } catch (error) {
          // the transaction stays open (port contract); kafkajs cannot end it again, so an abort will reinitialize
          if (translateError(error, operation).code !== 'DEVTRIP_KAFKA_FENCED') this.stuck = true
          throw error
        }
      }
      this.transaction = undefined
      this.calls.state = 'ready'
    })
  }

  private async replaceAndReinitialize (): Promise<void> {
    const old = this.lib
    await old.disconnect().catch(() => undefined)
    this.lib = this.createLibraryProducer()
    this.connected = null
    this.stuck = false
    await this.initialize()
  }

  /** Gives every record its partition (Java's murmur2 rule for keyed records, round-robin otherwise). */
  private async plan (records: readonly ProducerRecord[]): Promise<Planned[]> {
    const counts = await this.metadata.partitionCounts('send', records.map((r) => r.topic))
    return records.map((r, index) => {
      const partition = choosePartition(r, index, counts.get(r.topic)!, this.roundRobin)
      let size = RECORD_OVERHEAD + (r.key?.length ?? 0) + (r.value?.length ?? 0)
      // kafkajs takes headers as an object: a repeated name becomes an array of its values (kept in order)
      const headers: Record<string, Buffer | Array<Buffer>> = Object.create(null) as Record<string, Buffer | Array<Buffer>>
      for (const [name, value] of r.headers ?? []) {
        // kafkajs sizes every header value with Buffer.byteLength before writing it, which throws for null: a null
        // value is written as an empty one (capabilities.nullHeaderValues = 'written-empty'), so a record forwarded
        // with a null header from another producer is still delivered instead of failing the task
        const v = value ?? EMPTY
        const known = headers[name]
        headers[name] = known === undefined ? v : Array.isArray(known) ? [...known, v] : [known, v]
        size += name.length + (value?.length ?? 0) + 4
      }
      const message = { partition, key: r.key ?? null, value: r.value, headers, timestamp: String(r.timestamp ?? Date.now()) }
      return { index, topic: r.topic, message, size }
    })
  }
}
