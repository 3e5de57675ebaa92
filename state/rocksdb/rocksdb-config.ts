/**
 * Memory bounds of one RocksDB store instance, validated by one compiled JSON Schema, defaulted, frozen.
 *
 * What the binding (@nxtedition/rocksdb 12.x, binding.cc InitOptions/db_open) lets us set, and how:
 *  - blockCacheBytes → `cacheSize`: a HyperClockCache created per column family per open (the binding has no
 *    way to share one cache between databases), read as uint32 (so at most 4 GiB - 1); 0 disables the cache.
 *    `cacheIndexAndFilterBlocks: true` makes index and filter blocks live in that cache, so it is a real bound.
 *  - writeBufferBytes → `compaction: 'level'` + `memtableMemoryBudget = 4 × writeBufferBytes`: the binding then
 *    sets write_buffer_size = budget / 4, min_write_buffer_number_to_merge = 2, max_write_buffer_number = 6.
 *    There is no direct write_buffer_size option, hence the factor.
 *  - parallelism → `parallelism`: Options::IncreaseParallelism, i.e. the background flush/compaction threads of
 *    RocksDB's process-wide default Env (every store in the process shares it; the last open sets it).
 *
 *  - readCacheBytes: our own write-through cache in front of RocksDB's get (read-cache.ts), on the JS heap.
 *
 * Worst-case memory of one store ≈ readCacheBytes + blockCacheBytes + 6 × writeBufferBytes (+ the tiny meta
 * column family); in steady state ≈ readCacheBytes + blockCacheBytes + 3 × writeBufferBytes (one active memtable, up to two immutable ones
 * waiting to be merged into one flush). Multiply by (stores × tasks) on an instance.
 */
import Ajv from 'ajv'
import { DevtripError } from '../../events/errors'

export interface RocksDBConfig {
  /** block cache per store instance, bytes; 0 = no cache (default 8 MiB) */
  blockCacheBytes: number
  /** size of one memtable, bytes (default 4 MiB); up to 6 may exist while flushes lag */
  writeBufferBytes: number
  /** RocksDB background threads for the process (default 2) */
  parallelism: number
  /** write-through cache of recent reads and writes in front of RocksDB, bytes per store instance; 0 = none (default 4 MiB) */
  readCacheBytes: number
}

export const ROCKSDB_DEFAULTS: Readonly<RocksDBConfig> = Object.freeze({
  blockCacheBytes: 8 * 1024 * 1024,
  writeBufferBytes: 4 * 1024 * 1024,
  parallelism: 2,
  readCacheBytes: 4 * 1024 * 1024
})

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    blockCacheBytes: { type: 'integer', minimum: 0, maximum: 0xffffffff, default: ROCKSDB_DEFAULTS.blockCacheBytes },
    writeBufferBytes: { type: 'integer', minimum: 64 * 1024, maximum: 1024 * 1024 * 1024, default: ROCKSDB_DEFAULTS.writeBufferBytes },
    parallelism: { type: 'integer', minimum: 1, maximum: 64, default: ROCKSDB_DEFAULTS.parallelism },
    readCacheBytes: { type: 'integer', minimum: 0, maximum: 1024 * 1024 * 1024, default: ROCKSDB_DEFAULTS.readCacheBytes }
  }
} as const

const validate = new Ajv({ allErrors: true, useDefaults: true, strict: true }).compile(schema)

/** Later inputs win over earlier ones (e.g. runtime config, then the store supplier's own options). */
export function resolveRocksDBConfig (...inputs: Array<Partial<RocksDBConfig> | undefined>): Readonly<RocksDBConfig> {
  const merged: Record<string, unknown> = {}
  for (const input of inputs) {
    if (input === undefined || input === null) continue
    if (typeof input !== 'object') {
      throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `invalid rocksdb options: expected an object, got ${typeof input}`)
    }
    for (const [key, value] of Object.entries(input)) if (value !== undefined) merged[key] = value
  }
  if (!validate(merged)) {
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath === '' ? '(options)' : e.instancePath} ${e.message ?? 'is invalid'}`)
    throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `invalid rocksdb options: ${problems.join('; ')}`, { details: { problems } })
  }
  return Object.freeze(merged) as unknown as Readonly<RocksDBConfig>
}
