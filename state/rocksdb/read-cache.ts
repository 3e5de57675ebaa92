/**
 * A write-through cache of a RocksDB store's recent reads and writes, in front of the synchronous native get.
 *
 * Why: a stateful topology reads the key it is about to update for nearly every record (an aggregate, a ledger
 * balance), and the keys it reads are the ones it wrote a moment ago. Each native get crosses into C++, allocates
 * the result and walks memtables and block cache; profiles of `bench engine` put that at ~6% of the process.
 * Kafka Streams keeps such a cache too (its caching layer), but also delays and coalesces the writes behind it,
 * which changes what is emitted downstream; this one only serves reads, so every write still goes to RocksDB
 * (and the changelog) at once and the output is unchanged.
 *
 * Consistency: every write of the engine goes through `noteWrite` before it returns, so the cache never holds
 * a value RocksDB does not; absent keys are cached too (`null`), since first-time keys are common. Range scans
 * go to RocksDB. Eviction is first-in-first-out by bytes: cheaper than LRU bookkeeping on every hit, and for a
 * working set that fits (the case the cache is for) the two behave the same.
 */

/** bytes one entry costs besides its key and value: Map slot, string header, Buffer object */
const ENTRY_OVERHEAD_BYTES = 96

export class ReadCache {
  private readonly entries = new Map<string, Buffer | null>()
  private bytes = 0
  hits = 0
  misses = 0

  constructor (private readonly capacityBytes: number) {}

  get enabled (): boolean {
    return this.capacityBytes > 0
  }

  get sizeBytes (): number {
    return this.bytes
  }

  get size (): number {
    return this.entries.size
  }

  /** The cached value: a Buffer, null for "known absent", undefined for "not cached". */
  lookup (key: string): Buffer | null | undefined {
    const value = this.entries.get(key)
    if (value === undefined) this.misses++
    else this.hits++
    return value
  }

  /** Records what RocksDB holds for a key now (null: nothing). */
  note (key: string, value: Buffer | null): void {
    if (!this.enabled) return
    const cost = ENTRY_OVERHEAD_BYTES + key.length + (value === null ? 0 : value.length)
    // a value bigger than the whole cache would only evict everything else
    if (cost > this.capacityBytes) {
      this.forget(key)
      return
    }
    const previous = this.entries.get(key)
    if (previous !== undefined) {
      this.bytes -= ENTRY_OVERHEAD_BYTES + key.length + (previous === null ? 0 : previous.length)
      // delete first, so the key moves to the young end of the insertion order
      this.entries.delete(key)
    }
    this.entries.set(key, value)
    this.bytes += cost
    if (this.bytes > this.capacityBytes) this.evict()
  }

  forget (key: string): void {
    const previous = this.entries.get(key)
    if (previous === undefined) return
    this.bytes -= ENTRY_OVERHEAD_BYTES + key.length + (previous === null ? 0 : previous.length)
    this.entries.delete(key)
  }

  clear (): void {
    this.entries.clear()
    this.bytes = 0
  }

  private evict (): void {
    for (const [key, value] of this.entries) {
      if (this.bytes <= this.capacityBytes) return
      this.entries.delete(key)
      this.bytes -= ENTRY_OVERHEAD_BYTES + key.length + (value === null ? 0 : value.length)
    }
  }
}

/** The cache key of a store key: latin1 maps every byte to one UTF-16 unit, so distinct bytes stay distinct. */
export function cacheKey (key: Buffer): string {
  return key.toString('latin1')
}
