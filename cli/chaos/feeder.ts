/**
 * Produces a workload in the background, in production (= timestamp) order, at a limited rate (so the chaos run's
 * kills and the broker restart land while data is still flowing), with an idempotent producer (acks=all).
 *
 * The model replays each user's events in timestamp order, so the feeder makes sure the pipeline can see them in
 * that order. A task processes its partitions by record timestamp, but it can only order what it has fetched, and
 * it does not wait for a partition it believes fully read. Two situations would show it a user's later event first:
 *
 *   - a fetch is not a snapshot across partitions: the broker reads the partitions one after the other, so records
 *     appended while it reads may show on one partition and not yet on another, and the partition that missed them
 *     looks fully read (its last stable offset equals the position). Two events of one user in ONE send, or in sends
 *     a few milliseconds apart, can therefore reach a task in the wrong order. So a send holds at most one record per
 *     user, and a user's next record goes MIN_USER_GAP_MS after the previous one was acknowledged.
 *   - evaluation-events has a transactional co-writer: the evaluation topology writes its retry events there. While
 *     its transaction is open (up to a commit interval), read_committed readers see nothing beyond the transaction's
 *     first record — including the evaluator's events appended after it — and the partition looks fully read (its
 *     last stable offset equals their position), so tasks move on with the user's events on other topics. So after a
 *     record on evaluation-events, the feeder holds that user's next records back until the record is visible (the
 *     partition's last stable offset passed it), as a real user waits for the result page before clicking on. The
 *     user's next evaluation event needs no wait: it lands behind the held one, on the same partition.
 *
 * Production stays in timestamp order: a held user holds everything behind it. Letting other users pass would put
 * their later records in front of the held user's earlier ones ON THE SAME PARTITION, and a task can only take a
 * partition's records in offset order — the held user's event on another topic, with a time between the two, would
 * then be processed before its predecessor. (The generator leaves 30 s of event time after a user's evaluation event
 * before the user's next event elsewhere, so at the usual rates a hold is over before that event is due.)
 *
 * When a send fails for good (the broker is restarting), the same records are sent again after a pause: a batch
 * partly written before the failure then exists twice in the input. The pipeline deduplicates by eventId, and the
 * verifier counts the copies it finds in the input instead of assuming one.
 */
import type { KafkaAdmin, KafkaClientFactory, ProducerRecord } from '../../streams/kafka'
import { encodeRecord, type Workload, type WorkloadRecord } from './generator'

/** the topic a transactional application (the evaluation topology) writes to, too */
const SHARED_TOPIC = 'evaluation-events'
/** wall-clock time between two sends of one user's records: far longer than a broker takes to read a fetch */
export const MIN_USER_GAP_MS = 100

export interface FeederOptions {
  /** records per second */
  readonly rate: number
  readonly onError?: (error: Error, attempt: number) => void
}

interface Hold {
  readonly partition: number
  readonly offset: bigint
}

export class WorkloadFeeder {
  produced = 0
  /** records sent again after a failed send */
  resent = 0
  failures = 0
  /** sends that waited for a held user's record to become visible */
  holdWaits = 0
  private stopped = false
  private done: Promise<void> | undefined
  /** first record not yet sent */
  private next = 0
  private readonly holds = new Map<number, Hold>()
  /** when each user's last record was acknowledged */
  private readonly lastSent = new Map<number, number>()

  constructor (private readonly kafka: KafkaClientFactory, private readonly admin: KafkaAdmin, private readonly workload: Workload, private readonly options: FeederOptions) {
  }

  get total (): number {
    return this.workload.records.length
  }

  /** Starts producing; the promise resolves when every record was acknowledged (or `stop()` was called). */
  start (): Promise<void> {
    this.done ??= this.run()
    return this.done
  }

  stop (): void {
    this.stopped = true
  }

  /** The next records to send: from the first unsent one on, in order, one per user, stopping at a held user. */
  private nextBatch (max: number): WorkloadRecord[] {
    const records = this.workload.records
    const batch: WorkloadRecord[] = []
    const users = new Set<number>()
    const now = Date.now()
    for (let i = this.next; i < records.length && batch.length < max; i++) {
      const r = records[i]!
      // a held user's next evaluation event may go: it lands behind the held one on the same partition
      const held = this.holds.has(r.userId) && r.topic !== SHARED_TOPIC
      if (users.has(r.userId) || held || now - (this.lastSent.get(r.userId) ?? 0) < MIN_USER_GAP_MS) break
      batch.push(r)
      users.add(r.userId)
    }
    return batch
  }

  /** Releases the holds whose record is visible now (the partition's last stable offset passed it). */
  private async releaseHolds (): Promise<void> {
    if (this.holds.size === 0) return
    const partitions = [...new Set([...this.holds.values()].map((h) => h.partition))].map((partition) => ({ topic: SHARED_TOPIC, partition }))
    const stable = new Map((await this.admin.listOffsets(partitions, 'latest', 'read_committed')).map((o) => [o.partition, o.offset]))
    for (const [user, hold] of this.holds) if ((stable.get(hold.partition) ?? 0n) > hold.offset) this.holds.delete(user)
  }

  private async run (): Promise<void> {
    const producer = this.kafka.createProducer({ clientId: 'devtrip-chaos-feeder' })
    const perTick = Math.max(1, Math.round(this.options.rate / 10))
    try {
      while (this.produced < this.total && !this.stopped) {
        const tickStarted = Date.now()
        await this.retrying(async () => { await this.releaseHolds() })
        const batch = this.nextBatch(perTick)
        if (batch.length === 0) {
          // everything sendable is held: wait for the evaluation topology's commit, or for the users' gap
          this.holdWaits++
          await sleep(20)
          continue
        }
        const out = batch.map((r): ProducerRecord => {
          const { value, headers } = encodeRecord(r)
          return { topic: r.topic, key: Buffer.from(r.key), value, headers, timestamp: r.timestamp }
        })
        const metadata = await this.retrying(async () => await producer.send(out), out.length)
        if (metadata === undefined) return
        const acknowledged = Date.now()
        batch.forEach((r, i) => {
          this.lastSent.set(r.userId, acknowledged)
          if (r.topic === SHARED_TOPIC) this.holds.set(r.userId, { partition: metadata[i]!.partition, offset: metadata[i]!.offset })
        })
        this.produced += batch.length
        this.next += batch.length
        // keep to the rate: a slow send (or an outage) delays the schedule rather than causing a burst afterwards
        const wait = tickStarted + batch.length / this.options.rate * 1000 - Date.now()
        if (wait > 0) await sleep(wait)
      }
    } finally {
      await producer.close().catch(() => undefined)
    }
  }

  /** Runs `work` until it succeeds (the broker may be restarting); undefined when stopped meanwhile. */
  private async retrying<T> (work: () => Promise<T>, resendCount = 0): Promise<T | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await work()
      } catch (error) {
        this.failures++
        this.options.onError?.(error as Error, attempt)
        if (this.stopped) return undefined
        this.resent += resendCount
        await sleep(Math.min(5000, 500 * attempt))
      }
    }
  }
}

async function sleep (ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}
