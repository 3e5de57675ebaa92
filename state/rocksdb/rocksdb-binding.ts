/**
 * A typed facade over the parts of @nxtedition/rocksdb (12.x, untyped JavaScript) the engine uses.
 *
 * Read from the package's index.js / chained-batch.js / binding.cc:
 *  - `db._getManySync(keys, { column })` → binding.db_get_many_sync: MultiGet on the calling thread;
 *    one entry per key, `undefined` when absent (null only for timeouts, which we never request).
 *  - `db.querySync({ gte, lte, keyEncoding, valueEncoding, column })` → binding.db_query: a bounded iterator
 *    drained synchronously into `{ rows: [k0, v0, k1, v1, ...], finished }`. `lte` becomes an exclusive upper
 *    bound `lte + '\0'`, i.e. inclusive. keyEncoding/valueEncoding MUST be given: the binding leaves them
 *    uninitialised otherwise; 'buffer' (any 6-letter name) returns Buffer copies.
 *  - chained batch `_put/_del(key, value, { column })` + `_writeSync()` → one rocksdb::WriteBatch applied by
 *    DB::Write on the calling thread: atomic across column families. `_closeSync()` frees it.
 * Neither sync call checks that the database is open (a closed one dereferences null), so the engine guards.
 *
 * Zero-length Buffers: Node may give a zero-length Buffer a null data pointer, and RocksDB asserts on a null
 * Slice when comparing keys (it aborts the process). Every zero-length key or value is therefore passed as a
 * zero-length view into a real allocation, which has a valid pointer.
 */
export interface ColumnHandle {
  readonly __rocksdbColumnHandle: unique symbol
}

interface ColumnOption {
  column?: ColumnHandle
}

export interface RocksChainedBatch {
  _put (key: Buffer, value: Buffer, options: ColumnOption): void
  _del (key: Buffer, options: ColumnOption): void
  _writeSync (options?: { sync?: boolean }): void
  _closeSync (): void
}

export interface RocksQueryOptions extends ColumnOption {
  gte?: Buffer
  lte?: Buffer
  limit?: number
  reverse?: boolean
  keyEncoding: 'buffer'
  valueEncoding: 'buffer'
}

export interface RocksLevelHandle {
  readonly status: 'opening' | 'open' | 'closing' | 'closed'
  readonly columns: Readonly<Record<string, ColumnHandle>>
  open (options: Record<string, unknown>): Promise<void>
  close (): Promise<void>
  batch (): RocksChainedBatch
  _getManySync (keys: Buffer[], options?: ColumnOption): Array<Buffer | undefined | null>
  querySync (options: RocksQueryOptions): { rows: Array<Buffer | undefined>, finished: boolean }
  getProperty (property: string): string
}

interface RocksLevelModule {
  RocksLevel: new (location: string, options: Record<string, unknown>) => RocksLevelHandle
}

let loaded: RocksLevelModule | undefined

export function createRocksLevel (location: string): RocksLevelHandle {
  // loaded lazily so that memory-only users never load the native addon
  loaded ??= require('@nxtedition/rocksdb') as RocksLevelModule
  return new loaded.RocksLevel(location, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
}

const EMPTY_WITH_POINTER = Buffer.alloc(8).subarray(0, 0)

/** see the note on zero-length Buffers above */
export function nonNullSlice (buffer: Buffer): Buffer {
  return buffer.length === 0 ? EMPTY_WITH_POINTER : buffer
}
