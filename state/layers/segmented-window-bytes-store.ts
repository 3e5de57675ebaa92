/**
 * A window store over the transactional buffer, segmented by time as Kafka Streams' segmented stores are
 * (key layout in base/window-key-layout.ts).
 *
 * Retention follows observed stream time = the largest windowStart ever put. A window is retained while
 * windowStart > streamTime - retentionMs: older ones are never returned, a put for one is refused (and
 * reported through metrics.recordDroppedRecord), and once a whole segment lies below that line it is dropped
 * with one buffered range delete — buffered like every write, so an aborted transaction un-drops it.
 * Stream time is kept in the store under its own key (not logged) and committed with the batch, so it
 * survives restarts exactly as far as the data does; on restore it is recomputed from the restored records.
 */
import type { ChangelogCheckpoint, ChangelogRecord, StateStoreContext, StoreMetricsRecorder } from '../base/types'
import type { WindowBytesStore, WindowedBytes } from '../base/bytes-store'
import { storeError, storeNotOpen } from '../base/store-errors'
import {
  MAX_SEQ, STREAM_TIME_KEY, changelogKeyOf, decodeStreamTime, decodeWindowKey, encodeStreamTime, encodeWindowKey,
  engineKeyOfChangelogKey, segmentIdOf, segmentPrefix
} from '../base/window-key-layout'
import type { TransactionalBytesStore } from './transactional-bytes-store'

export interface SegmentedWindowOptions {
  readonly retentionMs: number
  readonly segmentIntervalMs: number
  /** keep every put for the same key and window start (joins) instead of overwriting */
  readonly retainDuplicates: boolean
}

const NO_TIME = -1

export class SegmentedWindowBytesStore implements WindowBytesStore {
  readonly retentionMs: number
  private streamTime = NO_TIME
  private committedStreamTime = NO_TIME
  /** segments below this one were already range-deleted (in the buffer or the engine) */
  private droppedBelow = 0
  private committedDroppedBelow = 0
  private metrics: StoreMetricsRecorder | undefined

  constructor (private readonly inner: TransactionalBytesStore, private readonly options: SegmentedWindowOptions) {
    this.retentionMs = options.retentionMs
  }

  get name (): string {
    return this.inner.name
  }

  get persistent (): boolean {
    return this.inner.persistent
  }

  async init (context: StateStoreContext): Promise<void> {
    await this.inner.init(context)
    this.metrics = context.metrics
    const stored = this.inner.get(STREAM_TIME_KEY)
    this.streamTime = this.committedStreamTime = stored === undefined ? NO_TIME : decodeStreamTime(stored)
    this.droppedBelow = this.committedDroppedBelow = 0
  }

  isOpen (): boolean {
    return this.inner.isOpen()
  }

  checkpoint (): ChangelogCheckpoint {
    return this.inner.checkpoint()
  }

  private assertOpen (operation: string): void {
    if (!this.inner.isOpen()) throw storeNotOpen(this.name, operation)
  }

  private validateTime (what: string, value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) throw storeError(this.name, `${what} must be a non-negative safe integer (ms), got ${String(value)}`)
  }

  /** lowest window start still retained, given the current stream time */
  private lowestLive (): number {
    return Math.max(0, this.streamTime - this.options.retentionMs + 1)
  }

  put (key: Buffer, value: Buffer, windowStart: number): Buffer | undefined {
    this.assertOpen('put')
    this.validateTime('windowStart', windowStart)
    if (this.streamTime !== NO_TIME && windowStart <= this.streamTime - this.options.retentionMs) {
      this.metrics?.recordDroppedRecord?.(this.name, 'expired-window')
      return undefined
    }
    if (windowStart > this.streamTime) this.advanceStreamTime(windowStart)
    const segment = segmentIdOf(windowStart, this.options.segmentIntervalMs)
    const seq = this.options.retainDuplicates ? this.nextSeq(segment, key, windowStart) : 0
    const engineKey = encodeWindowKey(segment, key, windowStart, seq)
    this.inner.put(engineKey, value)
    return changelogKeyOf(engineKey)
  }

  private advanceStreamTime (windowStart: number): void {
    this.streamTime = windowStart
    this.inner.put(STREAM_TIME_KEY, encodeStreamTime(windowStart))
    const lowestLiveSegment = segmentIdOf(this.lowestLive(), this.options.segmentIntervalMs)
    if (lowestLiveSegment > this.droppedBelow) {
      // inclusive upper bound = the bare 8-byte prefix of the first live segment: no entry is that short,
      // so this is exactly "every key of every earlier segment"
      this.inner.deleteRange(undefined, segmentPrefix(lowestLiveSegment))
      this.droppedBelow = lowestLiveSegment
    }
  }

  private nextSeq (segment: number, key: Buffer, windowStart: number): number {
    const rows = this.inner.range(encodeWindowKey(segment, key, windowStart, 0), encodeWindowKey(segment, key, windowStart, MAX_SEQ))
    if (rows.length === 0) return 0
    const last = decodeWindowKey(rows[rows.length - 1][0]).seq
    if (last === MAX_SEQ) throw storeError(this.name, `more than ${MAX_SEQ} duplicates for one key and window start`)
    return last + 1
  }

  fetch (key: Buffer, timeFrom: number, timeTo: number): Array<{ windowStart: number, value: Buffer }> {
    this.assertOpen('fetch')
    const bounds = this.liveBounds(timeFrom, timeTo)
    if (bounds === undefined) return []
    const [lower, upper] = bounds
    const out: Array<{ windowStart: number, value: Buffer }> = []
    const interval = this.options.segmentIntervalMs
    for (let segment = segmentIdOf(lower, interval); segment <= segmentIdOf(upper, interval); segment++) {
      const rows = this.inner.range(encodeWindowKey(segment, key, lower, 0), encodeWindowKey(segment, key, upper, MAX_SEQ))
      for (const [engineKey, value] of rows) out.push({ windowStart: decodeWindowKey(engineKey).windowStart, value })
    }
    return out
  }

  fetchAll (timeFrom: number, timeTo: number): WindowedBytes[] {
    this.assertOpen('fetchAll')
    const bounds = this.liveBounds(timeFrom, timeTo)
    if (bounds === undefined) return []
    const [lower, upper] = bounds
    const interval = this.options.segmentIntervalMs
    const rows = this.inner.range(segmentPrefix(segmentIdOf(lower, interval)), segmentPrefix(segmentIdOf(upper, interval) + 1))
    const out: WindowedBytes[] = []
    for (const [engineKey, value] of rows) {
      const decoded = decodeWindowKey(engineKey)
      if (decoded.windowStart >= lower && decoded.windowStart <= upper) out.push({ key: decoded.key, windowStart: decoded.windowStart, value })
    }
    return out
  }

  /** [timeFrom, timeTo] clamped to what can be retained: no later than stream time, no earlier than retention */
  private liveBounds (timeFrom: number, timeTo: number): [number, number] | undefined {
    if (typeof timeFrom !== 'number' || typeof timeTo !== 'number' || Number.isNaN(timeFrom) || Number.isNaN(timeTo)) {
      throw storeError(this.name, `fetch bounds must be numbers, got ${String(timeFrom)} and ${String(timeTo)}`)
    }
    if (this.streamTime === NO_TIME) return undefined
    const lower = Math.max(Math.ceil(timeFrom), this.lowestLive())
    const upper = Math.min(Math.floor(timeTo), this.streamTime)
    return lower > upper ? undefined : [lower, upper]
  }

  async commit (checkpoint: ChangelogCheckpoint | undefined): Promise<void> {
    const streamTime = this.streamTime
    const droppedBelow = this.droppedBelow
    await this.inner.commit(checkpoint)
    this.committedStreamTime = streamTime
    this.committedDroppedBelow = droppedBelow
  }

  abort (): void {
    this.inner.abort()
    this.streamTime = this.committedStreamTime
    this.droppedBelow = this.committedDroppedBelow
  }

  /**
   * Changelog records carry changelog keys; each goes to its segment. Stream time moves to the largest
   * restored windowStart; restored windows already past retention are skipped and expired segments dropped,
   * all in the one engine batch that also moves the checkpoint.
   */
  async restore (records: ChangelogRecord[]): Promise<void> {
    this.assertOpen('restore')
    if (records.length === 0) return
    let last = -1n
    let streamTime = this.streamTime
    const mapped: Array<{ engineKey: Buffer, windowStart: number, value: Buffer | null }> = []
    for (let i = 0; i < records.length; i++) {
      const { key, value, offset } = records[i]
      if (!Buffer.isBuffer(key) || (value !== null && !Buffer.isBuffer(value)) || typeof offset !== 'bigint' || offset < 0n) {
        throw storeError(this.name, `restore: record ${i} is malformed (key and value must be Buffers or null, offset a non-negative bigint)`)
      }
      if (offset > last) last = offset
      const { engineKey, windowStart } = engineKeyOfChangelogKey(key, this.options.segmentIntervalMs)
      if (windowStart > streamTime) streamTime = windowStart
      mapped.push({ engineKey, windowStart, value })
    }
    const lowestLive = Math.max(0, streamTime - this.options.retentionMs + 1)
    const lowestLiveSegment = segmentIdOf(lowestLive, this.options.segmentIntervalMs)
    const batch: Array<[Buffer, Buffer | null]> = []
    if (lowestLiveSegment > 0) {
      for (const [engineKey] of this.inner.range(undefined, segmentPrefix(lowestLiveSegment))) batch.push([engineKey, null])
    }
    for (const { engineKey, windowStart, value } of mapped) {
      if (value === null || windowStart >= lowestLive) batch.push([engineKey, value])
    }
    if (streamTime !== NO_TIME) batch.push([STREAM_TIME_KEY, encodeStreamTime(streamTime)])
    await this.inner.restoreBatch(batch, last + 1n)
    this.streamTime = this.committedStreamTime = streamTime
    this.droppedBelow = this.committedDroppedBelow = lowestLiveSegment
  }

  async close (): Promise<void> {
    await this.inner.close()
    this.streamTime = this.committedStreamTime = NO_TIME
  }

  async destroy (): Promise<void> {
    await this.inner.destroy()
    this.streamTime = this.committedStreamTime = NO_TIME
  }
}
