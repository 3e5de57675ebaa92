/**
 * The persistent bytes engine: one RocksDB database per store per task, read synchronously.
 *
 * On-disk layout:
 *   <taskDir>/rocksdb/<storeName>/        one RocksDB database (its own LOCK file: one opener at a time)
 *     column family "default"             the store's entries: key → value, bytes exactly as the layers wrote them
 *     column family "devtrip_meta"        the engine's bookkeeping, never visible through get/range:
 *       "format"     → [layout version: 4 bytes, big-endian unsigned] (currently 1)
 *       "checkpoint" → [next changelog offset: 8 bytes, big-endian two's complement int64]
 *
 * Why a second column family: store keys may be any bytes (even empty), so no reserved key in "default" could
 * be guaranteed not to collide or not to show up in a range scan; a rocksdb::WriteBatch spans column families
 * atomically, so `write(batch, checkpoint)` still lands the entries and the checkpoint in one commit.
 */
import { mkdir, rm } from 'node:fs/promises'
import type { BytesEngine, ChangelogCheckpoint } from '../base/types'
import { storeError, storeNotOpen } from '../base/store-errors'
import type { RocksDBConfig } from './rocksdb-config'
import { type ColumnHandle, type RocksLevelHandle, createRocksLevel, nonNullSlice } from './rocksdb-binding'
import { cacheKey, ReadCache } from './read-cache'

const META_COLUMN = 'devtrip_meta'
const FORMAT_KEY = Buffer.from('format', 'ascii')
const CHECKPOINT_KEY = Buffer.from('checkpoint', 'ascii')
const FORMAT_VERSION = 1
const INT64_MAX = 2n ** 63n - 1n
const NO_OPTIONS = Object.freeze({})

/** [layout version: 4 bytes BE unsigned] */
function encodeFormat (version: number): Buffer {
  const out = Buffer.allocUnsafe(4)
  out.writeUInt32BE(version, 0)
  return out
}

/** [next changelog offset: 8 bytes BE int64] */
function encodeCheckpoint (checkpoint: ChangelogCheckpoint): Buffer {
  const out = Buffer.allocUnsafe(8)
  out.writeBigInt64BE(checkpoint, 0)
  return out
}

export class RocksDBEngine implements BytesEngine {
  readonly persistent = true
  private db: RocksLevelHandle | undefined
  private meta: ColumnHandle | undefined
  private checkpoint: ChangelogCheckpoint | undefined
  /** recent reads and writes (read-cache.ts); empty while closed */
  readonly readCache: ReadCache

  constructor (
    private readonly storeName: string,
    /** `<taskDir>/rocksdb/<storeName>` */
    readonly location: string,
    private readonly config: Readonly<RocksDBConfig>
  ) {
    this.readCache = new ReadCache(config.readCacheBytes)
  }

  async open (): Promise<void> {
    if (this.db !== undefined) throw storeError(this.storeName, 'the RocksDB engine is already open')
    await mkdir(this.location, { recursive: true })
    const data = {
      cacheSize: this.config.blockCacheBytes,
      cacheIndexAndFilterBlocks: this.config.blockCacheBytes > 0,
      compaction: 'level',
      memtableMemoryBudget: 4 * this.config.writeBufferBytes
    }
    // the meta family holds two tiny keys: no block cache, 64 KiB memtables
    const meta = { cacheSize: 0, compaction: 'level', memtableMemoryBudget: 256 * 1024, compression: false }
    const db = createRocksLevel(this.location)
    try {
      // the top-level cacheSize would only size an unused table factory: column families use their own options
      await db.open({ createIfMissing: true, parallelism: this.config.parallelism, cacheSize: 0, columns: { default: data, [META_COLUMN]: meta } })
    } catch (error) {
      const code = (error as { cause?: { code?: string } }).cause?.code ?? (error as { code?: string }).code
      if (code === 'LEVEL_LOCKED') {
        throw storeError(this.storeName, `RocksDB at ${this.location} is locked by another open store (another instance or task owns it)`, { cause: error, canRetry: true, details: { location: this.location } })
      }
      throw storeError(this.storeName, `cannot open RocksDB at ${this.location}: ${(error as Error).message}`, { cause: error, details: { location: this.location } })
    }
    const metaColumn = db.columns[META_COLUMN]
    if (metaColumn === undefined) {
      await db.close()
      throw storeError(this.storeName, `RocksDB at ${this.location} opened without its "${META_COLUMN}" column family`)
    }
    try {
      this.checkpoint = this.readMeta(db, metaColumn)
    } catch (error) {
      await db.close()
      throw error
    }
    this.db = db
    this.meta = metaColumn
  }

  private readMeta (db: RocksLevelHandle, meta: ColumnHandle): ChangelogCheckpoint | undefined {
    const [format, checkpoint] = db._getManySync([FORMAT_KEY, CHECKPOINT_KEY], { column: meta })
    if (format === undefined || format === null) {
      const batch = db.batch()
      try {
        batch._put(FORMAT_KEY, encodeFormat(FORMAT_VERSION), { column: meta })
        batch._writeSync()
      } finally {
        batch._closeSync()
      }
    } else if (format.length !== 4 || format.readUInt32BE(0) !== FORMAT_VERSION) {
      throw storeError(this.storeName, `RocksDB at ${this.location} has layout format ${format.toString('hex')}, expected ${FORMAT_VERSION}; destroy the store and let it restore from its changelog`)
    }
    if (checkpoint === undefined || checkpoint === null) return undefined
    if (checkpoint.length !== 8) throw storeError(this.storeName, `RocksDB at ${this.location} holds a corrupt checkpoint (${checkpoint.length} bytes); destroy the store and let it restore`)
    return checkpoint.readBigInt64BE(0)
  }

  get (key: Buffer): Buffer | undefined {
    const db = this.openDb('get')
    const cache = this.readCache
    const k = cache.enabled ? cacheKey(key) : ''
    if (cache.enabled) {
      const cached = cache.lookup(k)
      if (cached !== undefined) return cached === null ? undefined : cached
    }
    const value = db._getManySync([nonNullSlice(key)], NO_OPTIONS)[0]
    if (value === null) throw storeError(this.storeName, 'RocksDB read was aborted')
    if (cache.enabled) cache.note(k, value ?? null)
    return value
  }

  range (from: Buffer | undefined, to: Buffer | undefined): Array<[Buffer, Buffer]> {
    const db = this.openDb('range')
    const { rows } = db.querySync({
      gte: from === undefined ? undefined : nonNullSlice(from),
      lte: to === undefined ? undefined : nonNullSlice(to),
      keyEncoding: 'buffer',
      valueEncoding: 'buffer'
    })
    const out: Array<[Buffer, Buffer]> = new Array(rows.length >>> 1)
    for (let i = 0; i < rows.length; i += 2) out[i >>> 1] = [rows[i] as Buffer, rows[i + 1] as Buffer]
    return out
  }

  async write (batch: Array<[Buffer, Buffer | null]>, checkpoint: ChangelogCheckpoint | undefined): Promise<void> {
    const db = this.openDb('write')
    if (checkpoint !== undefined && (typeof checkpoint !== 'bigint' || checkpoint < 0n || checkpoint > INT64_MAX)) {
      throw storeError(this.storeName, `checkpoint must be a bigint in [0, 2^63 - 1], got ${String(checkpoint)}`)
    }
    const wb = db.batch()
    try {
      for (const [key, value] of batch) {
        if (value === null) wb._del(nonNullSlice(key), NO_OPTIONS)
        else wb._put(nonNullSlice(key), nonNullSlice(value), NO_OPTIONS)
      }
      if (checkpoint !== undefined) wb._put(CHECKPOINT_KEY, encodeCheckpoint(checkpoint), { column: this.meta })
      // no fsync: RocksDB recovers a consistent prefix of its WAL, and entries and checkpoint travel together,
      // so a write lost to a power cut only means restoring a longer changelog tail
      wb._writeSync()
    } catch (error) {
      // what landed is unknown: the cache must not answer for any key of this batch
      for (const [key] of batch) this.readCache.forget(cacheKey(key))
      throw storeError(this.storeName, `RocksDB write failed: ${(error as Error).message}`, { cause: error })
    } finally {
      wb._closeSync()
    }
    if (this.readCache.enabled) for (const [key, value] of batch) this.readCache.note(cacheKey(key), value)
    if (checkpoint !== undefined) this.checkpoint = checkpoint
  }

  readCheckpoint (): ChangelogCheckpoint | undefined {
    this.openDb('readCheckpoint')
    return this.checkpoint
  }

  approximateNumEntries (): number {
    const db = this.openDb('approximateNumEntries')
    const estimate = Number(db.getProperty('rocksdb.estimate-num-keys'))
    return Number.isFinite(estimate) ? estimate : 0
  }

  async close (): Promise<void> {
    const db = this.db
    if (db === undefined) return
    this.db = undefined
    this.meta = undefined
    this.checkpoint = undefined
    this.readCache.clear()
    await db.close()
  }

  async destroy (): Promise<void> {
    await this.close()
    await rm(this.location, { recursive: true, force: true })
  }

  private openDb (operation: string): RocksLevelHandle {
    if (this.db === undefined) throw storeNotOpen(this.storeName, operation)
    return this.db
  }
}
