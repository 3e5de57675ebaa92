/**
 * The port's producer on librdkafka: idempotent always, transactional with a transactional id. librdkafka does
 * the protocol (sequence numbers, AddPartitionsToTxn, EndTxn, epoch bumps); this class adds what the port
 * promises on top: serialized calls, one RecordMetadata per record in input order, fast DEVTRIP_UNKNOWN_TOPIC,
 * Java's partitioning for keyed records, the transaction state errors, and "once fenced, always fenced".
 */
import { DevtripError } from '../../../events/errors'
import { partitionForKey } from '../../partitioner'
import type { ResolvedConnectionOptions, ResolvedProducerOptions } from '../options'
import type { ConsumerGroupMetadata, KafkaProducer, ProducerRecord, RecordMetadata, TopicPartitionOffset } from '../port'
import { checkGroupMetadata, checkOffsets, checkProducerRecords } from '../validation'
import { producerConfig, topicConfig } from './config'
import { call, closedError, isFenced, RD, rdCode, translateError } from './errors'
import { liveGroupConsumer } from './group-registry'
import { rdkafka, type RdDeliveryReport, type RdError, type RdHeader, type RdProducer } from './library'

type TxState = 'uninitialized' | 'ready' | 'in-transaction'

interface Delivery { resolve: (report: RdDeliveryReport) => void, reject: (error: RdError) => void }

export class RdkafkaProducer implements KafkaProducer {
  readonly transactionalId: string | null
  private readonly rd: RdProducer
  private readonly connected: Promise<void>
  private readonly partitionCounts = new Map<string, number>()
  private readonly deliveries = new Map<number, Delivery>()
  private nextDeliveryId = 0
  private chain: Promise<unknown> = Promise.resolve()
  private state: TxState = 'uninitialized'
  private fenced: DevtripError | null = null
  private closed = false

  constructor (private readonly connection: ResolvedConnectionOptions, options: ResolvedProducerOptions) {
    this.transactionalId = options.transactionalId
    const config = producerConfig(connection, options)
    this.rd = new rdkafka.Producer(config, topicConfig(config))
    this.rd.on('delivery-report', (err: RdError | null, report: RdDeliveryReport) => this.delivered(err, report))
    // errors are reported through the calls that hit them; without a listener the emitter would throw
    this.rd.on('event.error', () => undefined)
    this.connected = call<unknown>('connect', (cb) => this.rd.connect({ timeout: connection.connectTimeoutMs + connection.requestTimeoutMs }, cb))
      // delivery reports are served by polling the producer; 5 ms keeps send latency low at negligible cost
      .then(() => this.rd.setPollInterval(5))
    this.connected.catch(() => undefined)
  }

  async send (records: readonly ProducerRecord[]): Promise<RecordMetadata[]> {
    checkProducerRecords('send', records)
    return this.serialized('send', async () => {
      if (this.transactionalId !== null && this.state !== 'in-transaction') {
        throw new DevtripError('DEVTRIP_INVALID_OPTIONS', 'send: a transactional producer sends only inside a transaction (beginTransaction first)')
      }
      if (records.length === 0) return []
      const counts = await this.partitionCountsOf([...new Set(records.map((r) => r.topic))])
      records.forEach((r, i) => {
        if (r.partition !== undefined && r.partition >= counts.get(r.topic)!) {
          throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `send: /records/${i}/partition ${r.partition} is beyond topic "${r.topic}" (${counts.get(r.topic)} partitions)`)
        }
      })
      const reports = await Promise.allSettled(records.map((r) => this.produce(r, counts.get(r.topic)!)))
      const failed = reports.find((r): r is PromiseRejectedResult => r.status === 'rejected')
      if (failed !== undefined) throw this.failure(failed.reason, 'send')
      return reports.map((r) => {
        const report = (r as PromiseFulfilledResult<RdDeliveryReport>).value
        return { topic: report.topic, partition: report.partition, offset: BigInt(report.offset) }
      })
    })
  }

  async initTransactions (): Promise<void> {
    return this.serialized('initTransactions', async () => {
      this.requireTransactional('initTransactions')
      if (this.state !== 'uninitialized') throw new DevtripError('DEVTRIP_INVALID_OPTIONS', 'initTransactions: already initialized')
      await this.txCall('initTransactions', (cb) => this.rd.initTransactions(this.connection.operationTimeoutMs, cb))
      this.state = 'ready'
    })
  }

  async beginTransaction (): Promise<void> {
    return this.serialized('beginTransaction', async () => {
      this.requireState('beginTransaction', 'ready')
      await this.txCall('beginTransaction', (cb) => this.rd.beginTransaction(cb))
      this.state = 'in-transaction'
    })
  }

  async sendOffsetsToTransaction (offsets: readonly TopicPartitionOffset[], group: ConsumerGroupMetadata): Promise<void> {
    checkOffsets('sendOffsetsToTransaction', offsets)
    checkGroupMetadata('sendOffsetsToTransaction', group)
    return this.serialized('sendOffsetsToTransaction', async () => {
      this.requireState('sendOffsetsToTransaction', 'in-transaction')
      if (offsets.length === 0) return
      // librdkafka takes the consumer itself and reads its current group metadata (KIP-447)
      const consumer = liveGroupConsumer(group)
      const list = offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: Number(o.offset) }))
      await this.txCall('sendOffsetsToTransaction', (cb) => this.rd.sendOffsetsToTransaction(list, consumer, this.connection.operationTimeoutMs, cb))
    })
  }

  async commitTransaction (): Promise<void> {
    return this.serialized('commitTransaction', async () => {
      this.requireState('commitTransaction', 'in-transaction')
      await this.txCall('commitTransaction', (cb) => this.rd.commitTransaction(this.connection.operationTimeoutMs, cb))
      this.state = 'ready'
    })
  }

  async abortTransaction (): Promise<void> {
    return this.serialized('abortTransaction', async () => {
      this.requireState('abortTransaction', 'in-transaction')
      await this.txCall('abortTransaction', (cb) => this.rd.abortTransaction(this.connection.operationTimeoutMs, cb))
      this.state = 'ready'
    })
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.chain.catch(() => undefined)
    const connected = await this.connected.then(() => true, () => false)
    if (!connected) return
    if (this.state === 'in-transaction' && this.fenced === null) {
      // best effort: otherwise the coordinator aborts it at its timeout or when the next producer initializes
      await call('abortTransaction', (cb) => this.rd.abortTransaction(Math.min(5000, this.connection.operationTimeoutMs), cb)).catch(() => undefined)
    }
    this.rd.setPollInterval(0)
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 10_000)
      this.rd.disconnect(() => { clearTimeout(timer); resolve() })
    })
    for (const d of this.deliveries.values()) d.reject(Object.assign(new Error('the producer was closed'), { code: RD.DESTROY }) as RdError)
    this.deliveries.clear()
  }

  /** Runs calls one at a time, after the connection is up; a closed or fenced producer refuses them. */
  private serialized<T> (operation: string, run: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(closedError(operation, 'producer'))
    const next = this.chain.then(async () => {
      if (this.closed) throw closedError(operation, 'producer')
      if (this.fenced !== null) throw new DevtripError('DEVTRIP_KAFKA_FENCED', `${operation}: this producer was fenced earlier (${this.fenced.message}); close it and create a new one`, { cause: this.fenced })
      await this.connected.catch((error: unknown) => { throw translateError(error, operation) })
      return run()
    })
    this.chain = next.catch(() => undefined)
    return next
  }

  private requireTransactional (operation: string): void {
    if (this.transactionalId === null) throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `${operation}: this producer has no transactionalId`)
  }

  private requireState (operation: string, wanted: TxState): void {
    this.requireTransactional(operation)
    if (this.state === wanted) return
    const why = this.state === 'uninitialized' ? 'call initTransactions first' : this.state === 'ready' ? 'no transaction is open' : 'a transaction is already open'
    throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `${operation}: ${why}`)
  }

  /** A transactional call; a fencing error (or any fatal one) kills the producer for good. */
  private async txCall (operation: string, start: (cb: (err: RdError | null | undefined) => void) => void): Promise<void> {
    try {
      await call(operation, start)
    } catch (error) {
      throw this.failure((error as DevtripError).cause ?? error, operation)
    }
  }

  private failure (cause: unknown, operation: string): DevtripError {
    const error = translateError(cause, operation)
    if (error.code === 'DEVTRIP_KAFKA_FENCED' || isFenced(cause)) this.fenced ??= error
    return error
  }

  private async partitionCountsOf (topics: string[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>()
    const missing: string[] = []
    for (const topic of topics) {
      let count = this.partitionCounts.get(topic)
      if (count === undefined) {
        // one Metadata request for a topic not seen yet: librdkafka itself would wait for it until the send times out
        const metadata = await call<{ topics: Array<{ name: string, partitions: unknown[] }> }>('send', (cb) => this.rd.getMetadata({ topic, timeout: this.connection.requestTimeoutMs }, cb))
          .catch((error: DevtripError) => {
            if (error.code === 'DEVTRIP_UNKNOWN_TOPIC') return { topics: [] }
            throw error
          })
        const found = metadata.topics.find((t) => t.name === topic)
        if (found !== undefined && found.partitions.length > 0) {
          count = found.partitions.length
          this.partitionCounts.set(topic, count)
        }
      }
      if (count === undefined) missing.push(topic)
      else counts.set(topic, count)
    }
    if (missing.length > 0) {
      throw new DevtripError('DEVTRIP_UNKNOWN_TOPIC', `send: ${missing.map((t) => `topic "${t}"`).join(', ')} ${missing.length === 1 ? 'does' : 'do'} not exist`, {
        details: { topics: missing, topic: missing[0], hint: 'create it first: bin/devtrip-streams topics apply' }
      })
    }
    return counts
  }

  private produce (record: ProducerRecord, partitions: number): Promise<RdDeliveryReport> {
    const key = record.key ?? null
    // keyed records: Java's murmur2 rule computed here (streams/partitioner.ts, shared by every adapter);
    // unkeyed ones: -1 lets librdkafka's partitioner spread them
    const partition = record.partition ?? (key === null ? -1 : partitionForKey(key, partitions))
    // the binding cannot write a null header value: it is written as an empty one (docs/kafka-port.md)
    const headers: RdHeader[] = (record.headers ?? []).map(([name, value]) => ({ [name]: value ?? Buffer.alloc(0) }))
    const id = this.nextDeliveryId++
    return new Promise<RdDeliveryReport>((resolve, reject) => {
      this.deliveries.set(id, { resolve, reject })
      const attempt = (): void => {
        try {
          this.rd.produce(record.topic, partition, record.value, key, record.timestamp ?? null, id, headers)
        } catch (error) {
          if (rdCode(error) === RD.QUEUE_FULL) { setTimeout(attempt, 10); return }
          this.deliveries.delete(id)
          reject(error as RdError)
        }
      }
      attempt()
    })
  }

  private delivered (err: RdError | null, report: RdDeliveryReport): void {
    const id = report.opaque as number
    const delivery = this.deliveries.get(id)
    if (delivery === undefined) return
    this.deliveries.delete(id)
    if (err !== null && err !== undefined) delivery.reject(err)
    else delivery.resolve(report)
  }
}
