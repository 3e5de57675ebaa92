/**
 * The writes of one open transaction: point writes (a value, or null for a delete) and range deletes,
 * kept apart from the engine until the transaction commits. It answers reads as an overlay: "this buffer
 * decides the key" (a value, or deleted) or "ask the layer below" (MISS).
 */
import { SortedBytesMap } from '../base/sorted-bytes-map'

export const MISS: unique symbol = Symbol('write-buffer-miss')

interface RangeDelete {
  from: Buffer | undefined
  to: Buffer | undefined
}

function inRange (key: Buffer, from: Buffer | undefined, to: Buffer | undefined): boolean {
  return (from === undefined || Buffer.compare(key, from) >= 0) && (to === undefined || Buffer.compare(key, to) <= 0)
}

export class WriteBuffer {
  private readonly entries = new SortedBytesMap<Buffer | null>()
  private readonly rangeDeletes: RangeDelete[] = []

  get isEmpty (): boolean {
    return this.entries.size === 0 && this.rangeDeletes.length === 0
  }

  /** point writes plus range deletes, for metrics and tests */
  get size (): number {
    return this.entries.size + this.rangeDeletes.length
  }

  put (key: Buffer, value: Buffer | null): void {
    this.entries.set(key, value)
  }

  /** deletes every key in [from, to], buffered writes included; a later put in the range wins again */
  deleteRange (from: Buffer | undefined, to: Buffer | undefined): void {
    if (from !== undefined && to !== undefined && Buffer.compare(from, to) > 0) return
    this.entries.deleteRange(from, to)
    this.rangeDeletes.push({ from, to })
  }

  /** the value this buffer holds for the key, null if it deleted it, MISS if it knows nothing about it */
  lookup (key: Buffer): Buffer | null | typeof MISS {
    const value = this.entries.get(key)
    if (value !== undefined) return value
    return this.coveredByRangeDelete(key) ? null : MISS
  }

  private coveredByRangeDelete (key: Buffer): boolean {
    for (const { from, to } of this.rangeDeletes) if (inRange(key, from, to)) return true
    return false
  }

  /** the rows below (sorted, within [from, to]) as they look once this buffer is applied on top */
  overlay (below: Array<[Buffer, Buffer]>, from: Buffer | undefined, to: Buffer | undefined): Array<[Buffer, Buffer]> {
    if (this.isEmpty) return below
    const rows = this.rangeDeletes.length === 0 ? below : below.filter(([key]) => !this.coveredByRangeDelete(key))
    const mine = this.entries.range(from, to)
    if (mine.length === 0) return rows
    const out: Array<[Buffer, Buffer]> = []
    let i = 0
    let j = 0
    while (i < rows.length || j < mine.length) {
      const order = i === rows.length ? 1 : j === mine.length ? -1 : Buffer.compare(rows[i][0], mine[j][0])
      if (order < 0) {
        out.push(rows[i++])
        continue
      }
      if (order === 0) i++
      const [key, value] = mine[j++]
      if (value !== null) out.push([key, value])
    }
    return out
  }

  /**
   * The engine batch for this buffer: each range delete becomes point deletes of the keys `engineRange`
   * finds (the RocksDB binding's WriteBatch has no DeleteRange), then the point writes in key order.
   * A put that followed a range delete comes later in the batch, so it wins.
   */
  toBatch (engineRange: (from: Buffer | undefined, to: Buffer | undefined) => Array<[Buffer, Buffer]>): Array<[Buffer, Buffer | null]> {
    const batch: Array<[Buffer, Buffer | null]> = []
    for (const { from, to } of this.rangeDeletes) {
      for (const [key] of engineRange(from, to)) batch.push([key, null])
    }
    for (const entry of this.entries.range(undefined, undefined)) batch.push(entry)
    return batch
  }

  /** put keys this buffer adds (value set) and deletes, for an entry-count estimate */
  pointWrites (): Array<[Buffer, Buffer | null]> {
    return this.entries.range(undefined, undefined)
  }
}
