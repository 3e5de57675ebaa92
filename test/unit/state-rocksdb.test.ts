import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isDevtripError } from '../../events/errors'
import { Stores } from '../../state/builders'
import { Serdes } from '../../state/serdes-builtin'
import { ROCKSDB_DEFAULTS, resolveRocksDBConfig } from '../../state/rocksdb/rocksdb-config'
import { RocksDBEngine } from '../../state/rocksdb/rocksdb-engine'
import type { StateStoreContext } from '../../state/base/types'
import { expectCode, stateStoreContract } from './state-contract'

stateStoreContract({
  label: 'rocksdb',
  persistent: true,
  // small memory bounds: the contract does not depend on them, and tests open many stores
  keyValue: (name) => Stores.persistentKeyValueStore(name, { rocksdb: { blockCacheBytes: 1 << 20, writeBufferBytes: 256 << 10 } }),
  window: (name, retentionMs, windowSizeMs, retainDuplicates, segmentIntervalMs) =>
    Stores.persistentWindowStore(name, retentionMs, windowSizeMs, retainDuplicates, { segmentIntervalMs, rocksdb: { blockCacheBytes: 1 << 20, writeBufferBytes: 256 << 10 } })
})

describe('rocksdb engine specifics', () => {
  let dir: string
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'devtrip-rocksdb-')) })
  afterEach(() => { rmSync(dir, { recursive: true, force: true }) })

  const context = (taskDir: string): StateStoreContext => ({
    applicationId: 'app', taskId: '1_0', partition: 0, taskDir, currentTimestamp: () => 0
  })

  test('each store lives in <taskDir>/rocksdb/<storeName> and destroy removes it', async () => {
    const store = Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore('orders'), Serdes.String(), Serdes.Json<{ n: number }>()).withLoggingDisabled().build()
    await store.init(context(dir))
    store.put('a', { n: 1 })
    await store.commit(1n)
    const location = join(dir, 'rocksdb', 'orders')
    expect(existsSync(join(location, 'CURRENT'))).toBe(true)
    expect(readdirSync(join(dir, 'rocksdb'))).toEqual(['orders'])
    await store.destroy()
    expect(existsSync(location)).toBe(false)
  })

  test('a second opener of the same store directory gets a retryable DEVTRIP_STATE_STORE', async () => {
    const first = new RocksDBEngine('s', join(dir, 's'), resolveRocksDBConfig())
    await first.open()
    const second = new RocksDBEngine('s', join(dir, 's'), resolveRocksDBConfig())
    let caught: unknown
    try {
      await second.open()
    } catch (error) {
      caught = error
    }
    expect(isDevtripError(caught, 'DEVTRIP_STATE_STORE')).toBe(true)
    expect((caught as { canRetry: boolean }).canRetry).toBe(true)
    await first.close()
    await second.open()
    await second.close()
  })

  test('the checkpoint is not a visible entry and the batch and checkpoint land together', async () => {
    const engine = new RocksDBEngine('s', join(dir, 's'), resolveRocksDBConfig())
    await engine.open()
    expect(engine.readCheckpoint()).toBeUndefined()
    await engine.write([[Buffer.alloc(0), Buffer.from('empty key')], [Buffer.from('k'), Buffer.alloc(0)]], 123n)
    expect(engine.range(undefined, undefined).map(([k, v]) => [k.toString(), v.toString()])).toEqual([['', 'empty key'], ['k', '']])
    expect(engine.get(Buffer.from('checkpoint'))).toBeUndefined()
    await engine.close()
    await engine.open()
    expect(engine.readCheckpoint()).toBe(123n)
    expect(engine.get(Buffer.alloc(0))?.toString()).toBe('empty key')
    await expectCode('DEVTRIP_STATE_STORE', () => engine.write([], -5n))
    await engine.close()
    await expectCode('DEVTRIP_STORE_NOT_OPEN', () => engine.range(undefined, undefined))
    await expectCode('DEVTRIP_STORE_NOT_OPEN', () => engine.write([], 1n))
  })

  test('memory bounds: defaults, context values, supplier overrides, validation', () => {
    expect(resolveRocksDBConfig()).toEqual(ROCKSDB_DEFAULTS)
    expect(Object.isFrozen(resolveRocksDBConfig())).toBe(true)
    expect(resolveRocksDBConfig({ blockCacheBytes: 1 }, { writeBufferBytes: 1 << 20 })).toEqual({ ...ROCKSDB_DEFAULTS, blockCacheBytes: 1, writeBufferBytes: 1 << 20 })
    expect(resolveRocksDBConfig({ blockCacheBytes: 1 }, { blockCacheBytes: 2 }).blockCacheBytes).toBe(2)
    for (const bad of [{ blockCacheBytes: -1 }, { blockCacheBytes: 2 ** 32 }, { writeBufferBytes: 10 }, { parallelism: 0 }, { cache: 5 }] as Array<Record<string, number>>) {
      expect(() => resolveRocksDBConfig(bad)).toThrow(expect.objectContaining({ code: 'DEVTRIP_INVALID_OPTIONS' }))
    }
    expect(() => Stores.persistentKeyValueStore('x', { rocksdb: { writeBufferBytes: 1 } })).toThrow(expect.objectContaining({ code: 'DEVTRIP_INVALID_OPTIONS' }))
  })

  test('the memory bounds given reach RocksDB (block cache capacity)', async () => {
    const engine = new RocksDBEngine('s', join(dir, 's'), resolveRocksDBConfig({ blockCacheBytes: 3 << 20 }))
    await engine.open()
    const handle = (engine as unknown as { db: { getProperty: (p: string) => string } }).db
    expect(Number(handle.getProperty('rocksdb.block-cache-capacity'))).toBe(3 << 20)
    await engine.close()
  })
})
