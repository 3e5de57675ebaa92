/**
 * What both consumer kinds share on librdkafka: positions, pauses, seeks, watermarks and `poll()`.
 *
 * Positions are the port's, kept here: librdkafka prefetches, so its own fetch position runs ahead of what the
 * caller was given. A position moves with the records returned, and with librdkafka's end-of-partition events,
 * which carry the offset the fetcher reached at the end of what may be read (past transaction markers and
 * aborted records). Seeks and the assignment are applied at the start of the next `poll()`: librdkafka can only
 * seek a partition whose fetcher runs, so seeks of partitions still waiting for librdkafka's `assign` are folded
 * into it. Records of a partition paused meanwhile are dropped; `resume` re-seeks to the kept position, so
 * nothing dropped is lost.
 */
import { DevtripError } from '../../../events/errors'
import type { ResolvedConnectionOptions, ResolvedFetchOptions } from '../options'
import { topicPartitionKey, type ConsumedRecord, type KafkaConsumer, type OffsetSpec, type PartitionBatch, type PartitionState, type RecordHeader, type TopicPartition } from '../port'
import { checkOffsetSpec, checkTopicPartition, checkTopicPartitions } from '../validation'
import { call, closedError, RD, rdCode, translateError } from './errors'
import type { RdConsumer, RdMessage, RdTopicPartition } from './library'

/** librdkafka's logical offsets (rdkafka.h RD_KAFKA_OFFSET_*) */
export const OFFSET = { BEGINNING: -2, END: -1, STORED: -1000, INVALID: -1001 } as const

/** the most records one poll hands back */
const MAX_RECORDS_PER_POLL = 2000

export interface PartState {
  readonly topic: string
  readonly partition: number
  position: bigint | null
  paused: boolean
  /** offset of the last end-of-partition event, when it is still the position (the end of what may be read) */
  endAt: bigint | null
  /** librdkafka's assign() includes the partition (seeks go to librdkafka directly) */
  fetching: boolean
  /**
   * A record or end-of-partition event arrived since fetching last (re)started (assign, seek, resume): only then do
   * librdkafka's cached watermarks describe a fetch at or after the position. Before that they may be from a
   * previous assignment or from before a pause, and are not reported.
   */
  fresh: boolean
}

export abstract class RdkafkaConsumerBase implements KafkaConsumer {
  protected readonly parts = new Map<string, PartState>()
  protected readonly pendingSeeks = new Map<string, OffsetSpec>()
  protected closed = false
  protected abstract readonly rd: RdConsumer
  protected connected!: Promise<void>
  private polling: Promise<unknown> | null = null
  private endEvents: RdTopicPartition[] = []

  constructor (protected readonly connection: ResolvedConnectionOptions, protected readonly fetch: ResolvedFetchOptions, private readonly what: string) {}

  /** Called by the subclass once `rd` exists. */
  protected start (): void {
    this.rd.on('partition.eof', (event: RdTopicPartition) => { this.endEvents.push(event) })
    this.rd.on('event.error', () => undefined)
    this.connected = call<unknown>('connect', (cb) => this.rd.connect({ timeout: this.connection.connectTimeoutMs + this.connection.requestTimeoutMs }, cb))
      .then(() => {
        // wait up to maxWaitMs for the first record, then take only what is already there
        this.rd.setDefaultIsTimeoutOnlyForFirstMessage(true)
      })
    this.connected.catch(() => undefined)
  }

  /** Group membership work before fetching (rebalances) or the assigned consumer's pending assignment. */
  protected abstract beforeFetch (): Promise<void>
  /** How a consume error is handled: thrown (translated) or ignored (returns true). */
  protected abstract ignorable (code: number | null): boolean

  async poll (maxWaitMs: number): Promise<PartitionBatch[]> {
    this.assertOpen('poll')
    if (!Number.isInteger(maxWaitMs) || maxWaitMs < 0) throw new DevtripError('DEVTRIP_INVALID_OPTIONS', 'poll: /maxWaitMs must be an integer >= 0')
    if (this.polling !== null) throw new DevtripError('DEVTRIP_INVALID_OPTIONS', 'poll: already polling (poll is not re-entrant)')
    const run = this.pollOnce(maxWaitMs)
    this.polling = run
    try {
      return await run
    } finally {
      this.polling = null
    }
  }

  private async pollOnce (maxWaitMs: number): Promise<PartitionBatch[]> {
    await this.connected.catch((error: unknown) => { throw translateError(error, 'poll') })
    await this.beforeFetch()
    await this.applySeeks()
    this.endEvents = []
    this.rd.setDefaultConsumeTimeout(Math.max(1, maxWaitMs))
    let messages: RdMessage[]
    try {
      messages = await call<RdMessage[]>('poll', (cb) => this.rd.consume(MAX_RECORDS_PER_POLL, cb))
    } catch (error) {
      if (!this.ignorable(rdCode((error as DevtripError).cause))) throw error
      messages = []
    }
    return this.batches(messages ?? [])
  }

  private batches (messages: RdMessage[]): PartitionBatch[] {
    const byPartition = new Map<string, ConsumedRecord[]>()
    for (const m of messages) {
      const key = topicPartitionKey(m)
      const part = this.parts.get(key)
      // not ours any more, paused meanwhile, or from before a seek: dropped (fetched again where the position says)
      if (part === undefined || part.paused || this.pendingSeeks.has(key)) continue
      const offset = BigInt(m.offset)
      if (part.position !== null && offset < part.position) continue
      part.position = offset + 1n
      part.endAt = null
      part.fresh = true
      const records = byPartition.get(key) ?? []
      records.push(toRecord(m, offset))
      byPartition.set(key, records)
    }
    for (const event of this.endEvents) {
      const part = this.parts.get(topicPartitionKey(event))
      if (part === undefined || part.paused || this.pendingSeeks.has(topicPartitionKey(event))) continue
      const end = BigInt(event.offset ?? -1)
      if (end < 0n || (part.position !== null && end < part.position)) continue
      part.position = end
      part.endAt = end
      part.fresh = true
    }
    this.endEvents = []
    const out: PartitionBatch[] = []
    for (const [key, records] of byPartition) {
      const state = this.stateOf(this.parts.get(key)!)
      out.push({
        topic: state.topic,
        partition: state.partition,
        records,
        highWatermark: state.highWatermark ?? state.position!,
        lastStableOffset: state.lastStableOffset ?? state.position!,
        logStartOffset: state.logStartOffset ?? 0n
      })
    }
    return out
  }

  /** Seeks of partitions librdkafka fetches go to librdkafka now; the others wait for its assign. */
  private async applySeeks (): Promise<void> {
    for (const [key, spec] of [...this.pendingSeeks]) {
      const part = this.parts.get(key)
      if (part === undefined) { this.pendingSeeks.delete(key); continue }
      if (!part.fetching) continue
      const offset = rdOffset(spec)
      await this.seekWithRetry(part, offset)
      this.pendingSeeks.delete(key)
    }
  }

  private async seekWithRetry (part: PartState, offset: number): Promise<void> {
    // a partition whose fetcher is still starting answers ERR__STATE for a moment
    for (let attempt = 0; ; attempt++) {
      try {
        await call('seek', (cb) => this.rd.seek({ topic: part.topic, partition: part.partition, offset }, this.connection.requestTimeoutMs, cb))
        return
      } catch (error) {
        if (rdCode((error as DevtripError).cause) !== RD.STATE || attempt >= 50) throw error
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    }
  }

  /** The offset librdkafka's assign should start a partition at: a pending seek, the kept position, else `fallback`. */
  protected startOffset (part: PartState, fallback: number): number {
    const key = topicPartitionKey(part)
    const seek = this.pendingSeeks.get(key)
    this.pendingSeeks.delete(key)
    if (seek !== undefined) return rdOffset(seek)
    if (part.position !== null) return Number(part.position)
    return fallback
  }

  /** Re-applies pause flags after librdkafka's assign (a new assignment starts unpaused there). */
  protected repause (): void {
    const paused = [...this.parts.values()].filter((p) => p.paused).map((p) => ({ topic: p.topic, partition: p.partition }))
    if (paused.length > 0) this.rd.pause(paused)
  }

  pause (partitions: readonly TopicPartition[]): void {
    this.assertOpen('pause')
    checkTopicPartitions('pause', 'partitions', partitions)
    const parts = partitions.map((tp) => this.assigned('pause', tp))
    const fetching = parts.filter((p) => p.fetching).map((p) => ({ topic: p.topic, partition: p.partition }))
    if (fetching.length > 0) this.rd.pause(fetching)
    for (const p of parts) p.paused = true
  }

  resume (partitions: readonly TopicPartition[]): void {
    this.assertOpen('resume')
    checkTopicPartitions('resume', 'partitions', partitions)
    const parts = partitions.map((tp) => this.assigned('resume', tp)).filter((p) => p.paused)
    const fetching = parts.filter((p) => p.fetching).map((p) => ({ topic: p.topic, partition: p.partition }))
    if (fetching.length > 0) this.rd.resume(fetching)
    for (const p of parts) {
      p.paused = false
      p.fresh = false
      // records fetched while paused were dropped: fetch again from the kept position
      if (p.position !== null && !this.pendingSeeks.has(topicPartitionKey(p))) this.pendingSeeks.set(topicPartitionKey(p), p.position)
    }
  }

  seek (partition: TopicPartition, offset: OffsetSpec): void {
    this.assertOpen('seek')
    checkTopicPartition('seek', '/partition', partition)
    checkOffsetSpec('seek', offset)
    const part = this.assigned('seek', partition)
    this.pendingSeeks.set(topicPartitionKey(part), offset)
    part.position = typeof offset === 'bigint' ? offset : null
    part.endAt = null
    part.fresh = false
  }

  position (partition: TopicPartition): bigint | null {
    checkTopicPartition('position', '/partition', partition)
    return this.assigned('position', partition).position
  }

  partitionStates (): PartitionState[] {
    return [...this.parts.values()].map((p) => this.stateOf(p))
  }

  assignment (): TopicPartition[] {
    return [...this.parts.values()].map((p) => ({ topic: p.topic, partition: p.partition }))
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.polling?.catch(() => undefined)
    await this.beforeDisconnect()
    const connected = await this.connected.then(() => true, () => false)
    if (connected) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 15_000)
        this.rd.disconnect(() => { clearTimeout(timer); resolve() })
      })
    }
    this.parts.clear()
    this.pendingSeeks.clear()
  }

  /** The group consumer's revoke callback and leaving; nothing for the assigned consumer. */
  protected async beforeDisconnect (): Promise<void> {}

  protected assertOpen (operation: string): void {
    if (this.closed) throw closedError(operation, this.what)
  }

  protected assigned (operation: string, tp: TopicPartition): PartState {
    const part = this.parts.get(topicPartitionKey(tp))
    if (part === undefined) throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `${operation}: ${tp.topic}[${tp.partition}] is not assigned to this consumer`)
    return part
  }

  /**
   * Watermarks of the last fetch response that covered the partition (librdkafka caches them; no request).
   * librdkafka keeps the last stable offset to itself (statistics only), so it is the position when the fetcher
   * reported the end of what may be read at exactly this position, else the high watermark — exact under
   * read_uncommitted and whenever the consumer has caught up, an upper bound otherwise (docs/kafka-port.md).
   * Until a record or end-of-partition event shows a fetch since fetching last (re)started, both are null
   * (unknown): librdkafka's cache may still hold a previous assignment's or a pre-pause fetch, which would make a
   * partition with unread records look fully read.
   */
  protected stateOf (p: PartState): PartitionState {
    let high: bigint | null = null
    let low: bigint | null = null
    let stable: bigint | null = null
    if (p.fetching && p.fresh) {
      try {
        const w = this.rd.getWatermarkOffsets(p.topic, p.partition)
        if (w.highOffset >= 0) high = BigInt(w.highOffset)
        if (w.lowOffset >= 0) low = BigInt(w.lowOffset)
      } catch {
        // no fetch response yet
      }
      const atEnd = p.endAt !== null && p.position === p.endAt
      if (atEnd && (high === null || high < (p.endAt as bigint))) high = p.endAt
      stable = atEnd ? p.endAt : high
    }
    return { topic: p.topic, partition: p.partition, position: p.position, paused: p.paused, highWatermark: high, lastStableOffset: stable, logStartOffset: low }
  }
}

export function newPartState (tp: TopicPartition): PartState {
  return { topic: tp.topic, partition: tp.partition, position: null, paused: false, endAt: null, fetching: false, fresh: false }
}

export function rdOffset (spec: OffsetSpec): number {
  if (spec === 'earliest') return OFFSET.BEGINNING
  if (spec === 'latest') return OFFSET.END
  return Number(spec)
}

function toRecord (m: RdMessage, offset: bigint): ConsumedRecord {
  const headers: RecordHeader[] = (m.headers ?? []).map((h) => {
    const name = Object.keys(h)[0]!
    return [name, h[name] ?? null] as const
  })
  return {
    topic: m.topic,
    partition: m.partition,
    offset,
    timestamp: m.timestamp ?? -1,
    key: m.key === undefined || m.key === null ? null : Buffer.isBuffer(m.key) ? m.key : Buffer.from(m.key),
    value: m.value ?? null,
    headers
  }
}

export { checkTopicPartitions }
