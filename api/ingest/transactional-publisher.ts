/**
 * EventPublisher on the Kafka port: a small pool of transactional producers with group commit.
 *
 * Why transactions and not just the idempotent producer: a request is all-or-nothing. One `send` of
 * records for several partitions is several produce requests; with a plain idempotent producer some could
 * succeed and others fail, leaving half a request on the broker while the client is told 503. Inside a
 * transaction every record of the request becomes visible to read_committed readers (the whole pipeline
 * reads that way) together, or never. acks=all and idempotence come with the port's producer.
 *
 * Why a pool and group commit: a producer runs one transaction at a time, and a transaction costs a few
 * round trips (AddPartitionsToTxn, Produce, EndTxn) whatever its size. Requests arriving while every producer
 * is busy queue up, and the next free producer commits all of them (up to maxEventsPerTransaction) in one
 * transaction. Each request still gets all or nothing: the transaction holds every record of every
 * request in it, so a failure fails them all (each answers 503; none was accepted).
 *
 * Failure handling:
 *   - before the commit (init, begin, send): the transaction can only ever be aborted, so nothing becomes
 *     visible: 'not-written'. The producer is aborted, or thrown away if even that fails (its successor's
 *     initTransactions() aborts whatever it left open).
 *   - during the commit: retried while the error is retriable; if it still fails the outcome is 'unknown'
 *     (the coordinator may have the commit already), and the caller keeps the eventIds reserved.
 *   - after a broker-type failure, publish() fails fast for `unavailableForMs` instead of queueing requests
 *     that would only time out.
 */
import { DevtripError, isDevtripError } from '../../events'
import type { KafkaAdmin, KafkaClientFactory, KafkaProducer, ProducerRecord, RecordMetadata } from '../../streams/kafka'
import { PublishError, type EventPublisher, type PublishOptions } from './publisher'

export interface TransactionalPublisherOptions {
  readonly poolSize: number
  readonly transactionalIdPrefix: string
  readonly transactionTimeoutMs: number
  readonly maxQueuedEvents: number
  readonly maxEventsPerTransaction: number
  /** after a broker failure, new publishes are refused at once for this long */
  readonly unavailableForMs: number
  /** attempts at commitTransaction() while it fails with a retriable error */
  readonly commitAttempts?: number
  readonly clientId?: string
}

/** The little logging the publisher does (a pino/Fastify logger fits). */
export interface PublisherLog {
  warn (fields: Record<string, unknown>, message: string): void
}

interface Job {
  readonly records: readonly ProducerRecord[]
  readonly resolve: (metadata: RecordMetadata[]) => void
  readonly reject: (error: PublishError) => void
  state: 'queued' | 'running' | 'settled'
  detach: () => void
}

interface Slot {
  readonly index: number
  producer: KafkaProducer | undefined
  busy: boolean
  /** when its last transaction ended (ms); the idle slot that ended longest ago goes first */
  endedAt: number
}

/** A failure the broker being away explains (worth failing fast for a while), as opposed to a bad batch. */
function isBrokerTrouble (error: unknown): boolean {
  return isDevtripError(error) && (error.canRetry || error.code === 'DEVTRIP_TIMEOUT')
}

function describe (error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

export class TransactionalPublisher implements EventPublisher {
  private readonly queue: Job[] = []
  private queuedEvents = 0
  private readonly slots: Slot[]
  private unavailableUntil = 0
  private lastFailure: string | undefined
  private closing = false
  private admin: KafkaAdmin | undefined
  /** producers being closed in the background; awaited by close() */
  private readonly retiring = new Set<Promise<void>>()
  private drainWaiters: Array<() => void> = []

  constructor (
    private readonly kafka: KafkaClientFactory,
    private readonly options: TransactionalPublisherOptions,
    private readonly log?: PublisherLog
  ) {
    this.slots = Array.from({ length: options.poolSize }, (_, index) => ({ index, producer: undefined, busy: false, endedAt: 0 }))
  }

  publish (records: readonly ProducerRecord[], options: PublishOptions = {}): Promise<RecordMetadata[]> {
    if (this.closing) return Promise.reject(new PublishError('the API is shutting down', 'not-written', 'closed'))
    if (records.length === 0) return Promise.resolve([])
    if (Date.now() < this.unavailableUntil) {
      return Promise.reject(new PublishError(`the broker is unavailable (${this.lastFailure ?? 'recent failure'})`, 'not-written', 'broker-unavailable'))
    }
    if (this.queuedEvents + records.length > this.options.maxQueuedEvents) {
      return Promise.reject(new PublishError(`the producer buffer is full (${this.queuedEvents} events waiting, limit ${this.options.maxQueuedEvents})`, 'not-written', 'buffer-full'))
    }
    if (options.signal?.aborted === true) return Promise.reject(new PublishError('cancelled before it was queued', 'not-written', 'cancelled'))
    return new Promise<RecordMetadata[]>((resolve, reject) => {
      const job: Job = { records, resolve, reject, state: 'queued', detach: () => {} }
      const signal = options.signal
      if (signal !== undefined) {
        const onAbort = (): void => {
          // only a batch no producer has taken yet can be taken back with certainty
          if (job.state !== 'queued') return
          const at = this.queue.indexOf(job)
          if (at >= 0) this.queue.splice(at, 1)
          this.queuedEvents -= job.records.length
          this.settle(job, new PublishError('cancelled while waiting for a producer', 'not-written', 'cancelled'))
        }
        signal.addEventListener('abort', onAbort, { once: true })
        job.detach = () => signal.removeEventListener('abort', onAbort)
      }
      this.queue.push(job)
      this.queuedEvents += records.length
      this.pump()
    })
  }

  async checkReady (topics: readonly string[], timeoutMs: number): Promise<void> {
    this.admin ??= this.kafka.createAdmin()
    const admin = this.admin
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new DevtripError('DEVTRIP_TIMEOUT', `the broker did not answer within ${timeoutMs} ms`, { canRetry: true })), timeoutMs)
    })
    try {
      await Promise.race([admin.describeTopics(topics), timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  async close (): Promise<void> {
    this.closing = true
    // queued and running batches are finished (or fail) normally: a request being answered keeps its promise
    while (this.queue.length > 0 || this.slots.some((s) => s.busy)) {
      await new Promise<void>((resolve) => this.drainWaiters.push(resolve))
    }
    await Promise.all(this.slots.map(async (slot) => {
      const producer = slot.producer
      slot.producer = undefined
      await producer?.close().catch(() => undefined)
    }))
    await Promise.all([...this.retiring])
    await this.admin?.close().catch(() => undefined)
  }

  /** events waiting for a producer (for metrics and tests) */
  get pendingEvents (): number {
    return this.queuedEvents
  }

  private pump (): void {
    // the producer that finished longest ago first: right after a commit the coordinator is still writing the
    // transaction markers, and a new transaction on the same transactional id is refused (CONCURRENT_TRANSACTIONS)
    // until they are done, which the client only learns after a retry back-off
    const idle = this.slots.filter((s) => !s.busy).sort((a, b) => a.endedAt - b.endedAt)
    for (const slot of idle) {
      if (this.queue.length === 0) break
      const batch = this.takeBatch()
      slot.busy = true
      void this.run(slot, batch)
    }
    if (this.queue.length === 0 && this.slots.every((s) => !s.busy)) {
      const waiting = this.drainWaiters
      this.drainWaiters = []
      for (const wake of waiting) wake()
    }
  }

  /** Whole jobs, oldest first, up to maxEventsPerTransaction events (a bigger job goes alone). */
  private takeBatch (): Job[] {
    const batch: Job[] = []
    let events = 0
    while (this.queue.length > 0) {
      const next = this.queue[0]!
      if (batch.length > 0 && events + next.records.length > this.options.maxEventsPerTransaction) break
      this.queue.shift()
      this.queuedEvents -= next.records.length
      next.state = 'running'
      batch.push(next)
      events += next.records.length
    }
    return batch
  }

  private async run (slot: Slot, batch: Job[]): Promise<void> {
    let stage: 'prepare' | 'commit' = 'prepare'
    try {
      const producer = await this.producerFor(slot)
      await producer.beginTransaction()
      const metadata = await producer.send(batch.flatMap((job) => job.records))
      stage = 'commit'
      await this.commit(producer)
      let at = 0
      for (const job of batch) {
        const slice = metadata.slice(at, at + job.records.length)
        at += job.records.length
        this.settle(job, slice)
      }
    } catch (error) {
      const outcome = stage === 'commit' ? 'unknown' : 'not-written'
      if (isBrokerTrouble(error)) {
        this.unavailableUntil = Date.now() + this.options.unavailableForMs
        this.lastFailure = describe(error)
      }
      const failure = new PublishError(
        stage === 'commit'
          ? `the commit was not confirmed: ${describe(error)}`
          : `the events could not be written: ${describe(error)}`,
        outcome, isBrokerTrouble(error) ? 'broker-unavailable' : 'failed', { cause: error })
      // answer first: an uncommitted transaction can only end aborted, so 'not-written' is already certain,
      // and aborting may take long while the broker is away
      for (const job of batch) this.settle(job, failure)
      await this.recover(slot, stage, error)
    } finally {
      slot.busy = false
      slot.endedAt = Date.now()
      this.pump()
    }
  }

  private async producerFor (slot: Slot): Promise<KafkaProducer> {
    if (slot.producer !== undefined) return slot.producer
    const producer = this.kafka.createProducer({
      transactionalId: `${this.options.transactionalIdPrefix}-${slot.index}`,
      transactionTimeoutMs: this.options.transactionTimeoutMs,
      ...(this.options.clientId === undefined ? {} : { clientId: this.options.clientId })
    })
    try {
      await producer.initTransactions()
    } catch (error) {
      this.retire(producer)
      throw error
    }
    slot.producer = producer
    return producer
  }

  private async commit (producer: KafkaProducer): Promise<void> {
    const attempts = this.options.commitAttempts ?? 3
    for (let attempt = 1; ; attempt++) {
      try {
        await producer.commitTransaction()
        return
      } catch (error) {
        // the adapter leaves the transaction open after a failed commit, so a retriable failure can be retried
        if (attempt >= attempts || !isDevtripError(error) || !error.canRetry) throw error
      }
    }
  }

  /** After a failure: abort the open transaction, or throw the producer away when that is impossible. */
  private async recover (slot: Slot, stage: 'prepare' | 'commit', error: unknown): Promise<void> {
    const producer = slot.producer
    if (producer === undefined) return
    this.log?.warn({ transactionalId: producer.transactionalId, stage, error: describe(error) }, 'ingest transaction failed')
    if (stage === 'prepare' && !isDevtripError(error, 'DEVTRIP_KAFKA_FENCED')) {
      try {
        await producer.abortTransaction()
        return
      } catch {
        // fall through: a producer that cannot abort is in an unknown state
      }
    }
    slot.producer = undefined
    this.retire(producer)
  }

  /** Closes a producer in the background (closing may wait for a broker that is down). */
  private retire (producer: KafkaProducer): void {
    const closing = producer.close().catch(() => undefined).finally(() => { this.retiring.delete(closing) })
    this.retiring.add(closing)
  }

  private settle (job: Job, result: RecordMetadata[] | PublishError): void {
    if (job.state === 'settled') return
    job.state = 'settled'
    job.detach()
    if (result instanceof PublishError) job.reject(result)
    else job.resolve(result)
  }
}
