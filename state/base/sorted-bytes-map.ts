/**
 * A map from byte-string keys to values that also answers range queries in byte order.
 *
 * Why this shape: stores need O(1) point reads (every processed record does a few) and cheap inclusive range
 * scans (window fetches, prefix scans). Keys are held as latin1 strings: each byte becomes one UTF-16 code
 * unit 0..255, so JavaScript's `<` on those strings is exactly `Buffer.compare` on the bytes (shorter prefix
 * first), and a `Map` gives the point reads. Order is kept in a chunked sorted array — a list of sorted runs
 * of at most CHUNK_MAX keys — so an insert moves at most CHUNK_MAX pointers instead of the whole key set,
 * and a range scan is two binary searches plus a walk.
 *
 * New keys are ordered lazily: they wait in `pending` until the next ordered read, which sorts them once and
 * merges them in. A transaction's write buffer that is only read point-wise is thus sorted once, at commit,
 * instead of once per put.
 */
import { DevtripError } from '../../events/errors'

const CHUNK_MAX = 512
/** runs built in bulk are half full, so later single inserts rarely split them at once */
const CHUNK_FILL = CHUNK_MAX >>> 1

export function toKeyString (key: Buffer): string {
  return key.toString('latin1')
}

interface Entry<V> {
  key: Buffer
  value: V
}

export class SortedBytesMap<V> {
  private readonly entries = new Map<string, Entry<V>>()
  /** sorted runs; every key of chunks[i] is smaller than every key of chunks[i + 1]; no run is empty */
  private chunks: string[][] = []
  /** keys in `entries` not yet in `chunks` */
  private readonly pending = new Set<string>()

  get size (): number {
    return this.entries.size
  }

  has (key: Buffer): boolean {
    return this.entries.has(toKeyString(key))
  }

  get (key: Buffer): V | undefined {
    return this.entries.get(toKeyString(key))?.value
  }

  /** the stored key Buffer is the one passed in; callers hand over ownership */
  set (key: Buffer, value: V): void {
    const k = toKeyString(key)
    const existing = this.entries.get(k)
    if (existing !== undefined) {
      existing.value = value
      return
    }
    this.entries.set(k, { key, value })
    this.pending.add(k)
  }

  delete (key: Buffer): boolean {
    const k = toKeyString(key)
    if (!this.entries.delete(k)) return false
    if (!this.pending.delete(k)) this.removeOrdered(k)
    return true
  }

  clear (): void {
    this.entries.clear()
    this.pending.clear()
    this.chunks = []
  }

  /** entries with from <= key <= to (either bound optional), ascending */
  range (from: Buffer | undefined, to: Buffer | undefined): Array<[Buffer, V]> {
    const out: Array<[Buffer, V]> = []
    this.walk(from, to, (k) => {
      const entry = this.entries.get(k) as Entry<V>
      out.push([entry.key, entry.value])
    })
    return out
  }

  /** removes every key in [from, to]; returns how many were removed */
  deleteRange (from: Buffer | undefined, to: Buffer | undefined): number {
    const doomed: string[] = []
    this.walk(from, to, (k) => { doomed.push(k) })
    for (const k of doomed) {
      this.entries.delete(k)
      this.removeOrdered(k)
    }
    return doomed.length
  }

  private walk (from: Buffer | undefined, to: Buffer | undefined, visit: (k: string) => void): void {
    this.orderPending()
    const lo = from === undefined ? undefined : toKeyString(from)
    const hi = to === undefined ? undefined : toKeyString(to)
    if (lo !== undefined && hi !== undefined && lo > hi) return
    let c = lo === undefined ? 0 : this.chunkFor(lo)
    let i = lo === undefined ? 0 : lowerBound(this.chunks[c] ?? [], lo)
    for (; c < this.chunks.length; c++, i = 0) {
      const chunk = this.chunks[c]
      for (; i < chunk.length; i++) {
        const k = chunk[i]
        if (hi !== undefined && k > hi) return
        visit(k)
      }
    }
  }

  /** merges the pending keys into the chunks: one at a time when few, by one sort-and-rebuild when many */
  private orderPending (): void {
    if (this.pending.size === 0) return
    const fresh = [...this.pending].sort()
    this.pending.clear()
    if (fresh.length * 8 < this.entries.size - fresh.length) {
      for (const k of fresh) this.insertOrdered(k)
      return
    }
    const merged: string[] = new Array(this.entries.size)
    let n = 0
    let f = 0
    for (const chunk of this.chunks) {
      for (const k of chunk) {
        while (f < fresh.length && fresh[f] < k) merged[n++] = fresh[f++]
        merged[n++] = k
      }
    }
    while (f < fresh.length) merged[n++] = fresh[f++]
    this.chunks = []
    for (let i = 0; i < n; i += CHUNK_FILL) this.chunks.push(merged.slice(i, Math.min(n, i + CHUNK_FILL)))
  }

  /** index of the chunk a key belongs in: the last chunk whose first key is <= k (0 when none) */
  private chunkFor (k: string): number {
    let lo = 0
    let hi = this.chunks.length - 1
    let found = 0
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      if (this.chunks[mid][0] <= k) {
        found = mid
        lo = mid + 1
      } else {
        hi = mid - 1
      }
    }
    return found
  }

  private insertOrdered (k: string): void {
    if (this.chunks.length === 0) {
      this.chunks.push([k])
      return
    }
    const c = this.chunkFor(k)
    const chunk = this.chunks[c]
    chunk.splice(lowerBound(chunk, k), 0, k)
    if (chunk.length > CHUNK_MAX) {
      const tail = chunk.splice(chunk.length >>> 1)
      this.chunks.splice(c + 1, 0, tail)
    }
  }

  private removeOrdered (k: string): void {
    const c = this.chunkFor(k)
    const chunk = this.chunks[c]
    const i = lowerBound(chunk, k)
    if (chunk[i] !== k) {
      throw new DevtripError('DEVTRIP_STATE_STORE', 'sorted-bytes-map: the order index is out of step with the entries (a bug)', { details: { key: Buffer.from(k, 'latin1').toString('hex') } })
    }
    chunk.splice(i, 1)
    if (chunk.length === 0) this.chunks.splice(c, 1)
  }
}

/** first index whose key is >= k */
function lowerBound (chunk: string[], k: string): number {
  let lo = 0
  let hi = chunk.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (chunk[mid] < k) lo = mid + 1
    else hi = mid
  }
  return lo
}
