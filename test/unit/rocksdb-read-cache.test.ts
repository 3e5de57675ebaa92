/**
 * state/rocksdb/read-cache.ts and its use by RocksDBEngine: a write-through cache that answers gets for keys
 * recently read or written (absent ones too), never disagrees with RocksDB, and stays within its byte budget.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cacheKey, ReadCache } from '../../state/rocksdb/read-cache'
import { RocksDBEngine } from '../../state/rocksdb/rocksdb-engine'
import { resolveRocksDBConfig } from '../../state/rocksdb/rocksdb-config'

const b = (s: string): Buffer => Buffer.from(s)

describe('ReadCache', () => {
  test('remembers values and absences; a newer note replaces an older one', () => {
    const cache = new ReadCache(10_000)
    expect(cache.lookup('a')).toBeUndefined()
    cache.note('a', b('1'))
    cache.note('gone', null)
    expect(cache.lookup('a')).toEqual(b('1'))
    expect(cache.lookup('gone')).toBeNull()
    cache.note('a', b('22'))
    expect(cache.lookup('a')).toEqual(b('22'))
    expect(cache.size).toBe(2)
    expect([cache.hits, cache.misses]).toEqual([3, 1])
  })

  test('evicts the oldest entries first and never exceeds its byte budget', () => {
    const cache = new ReadCache(3 * (96 + 1 + 10))
    for (const k of ['a', 'b', 'c', 'd']) cache.note(k, Buffer.alloc(10))
    expect(cache.sizeBytes).toBeLessThanOrEqual(3 * (96 + 1 + 10))
    expect(cache.lookup('a')).toBeUndefined()
    expect(cache.lookup('d')).toBeDefined()
    // re-noting a key makes it young again
    cache.note('b', Buffer.alloc(10))
    cache.note('e', Buffer.alloc(10))
    expect(cache.lookup('b')).toBeDefined()
    expect(cache.lookup('c')).toBeUndefined()
  })

  test('a value larger than the whole budget is not cached, and drops an older copy of its key', () => {
    const cache = new ReadCache(200)
    cache.note('k', b('small'))
    cache.note('k', Buffer.alloc(500))
    expect(cache.lookup('k')).toBeUndefined()
    expect(cache.sizeBytes).toBe(0)
  })

  test('a zero budget disables it; keys of different bytes never collide', () => {
    const off = new ReadCache(0)
    off.note('x', b('1'))
    expect(off.lookup('x')).toBeUndefined()
    expect(cacheKey(Buffer.from([0xff, 0x00]))).not.toBe(cacheKey(Buffer.from([0xfe, 0x00])))
    expect(cacheKey(Buffer.from([0xc3, 0xa9]))).not.toBe(cacheKey(Buffer.from('é')).slice(0, 1))
  })
})

describe('RocksDBEngine with its read cache', () => {
  let dir: string
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'devtrip-readcache-')) })
  afterEach(() => { rmSync(dir, { recursive: true, force: true }) })

  test('gets after writes and deletes agree with RocksDB; the cache is dropped on close and refilled after reopening', async () => {
    const engine = new RocksDBEngine('s', join(dir, 's'), resolveRocksDBConfig({ readCacheBytes: 1 << 20 }))
    await engine.open()
    expect(engine.get(b('k1'))).toBeUndefined()
    await engine.write([[b('k1'), b('v1')], [b('k2'), b('v2')], [b('k2'), b('v2b')]], 5n)
    expect(engine.get(b('k1'))).toEqual(b('v1'))
    expect(engine.get(b('k2'))).toEqual(b('v2b'))
    await engine.write([[b('k1'), null]], 6n)
    expect(engine.get(b('k1'))).toBeUndefined()
    expect(engine.range(undefined, undefined)).toEqual([[b('k2'), b('v2b')]])
    expect(engine.readCache.hits).toBeGreaterThanOrEqual(3)
    await engine.close()
    expect(engine.readCache.size).toBe(0)
    const again = new RocksDBEngine('s', join(dir, 's'), resolveRocksDBConfig({ readCacheBytes: 1 << 20 }))
    await again.open()
    expect(again.get(b('k2'))).toEqual(b('v2b'))
    expect(again.get(b('k1'))).toBeUndefined()
    expect(again.readCache.misses).toBe(2)
    await again.close()
  })

  test('readCacheBytes 0 turns it off; bad values are refused by the config schema', async () => {
    const engine = new RocksDBEngine('s', join(dir, 'off'), resolveRocksDBConfig({ readCacheBytes: 0 }))
    await engine.open()
    await engine.write([[b('k'), b('v')]], undefined)
    expect(engine.get(b('k'))).toEqual(b('v'))
    expect(engine.readCache.size).toBe(0)
    await engine.close()
    expect(() => resolveRocksDBConfig({ readCacheBytes: -1 })).toThrow(/readCacheBytes/)
  })
})
