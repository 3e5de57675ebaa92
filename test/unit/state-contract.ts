/**
 * The one behavioural contract every state-store engine must meet. state-rocksdb.test.ts and
 * state-memory.test.ts run it against their engine; anything engine-specific (files on disk, locks)
 * is tested in those files.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isDevtripError } from '../../events/errors'
import type { ChangelogRecord, KeyValueStore, StateStore, StateStoreContext, WindowStore } from '../../state/base/types'
import { type KeyValueBytesStoreSupplier, Stores, type WindowBytesStoreSupplier } from '../../state/builders'
import { Serdes } from '../../state/serdes-builtin'
import { TransactionalBytesStore } from '../../state/layers/transactional-bytes-store'
import { SegmentedWindowBytesStore } from '../../state/layers/segmented-window-bytes-store'

export interface EngineUnderTest {
  label: string
  persistent: boolean
  keyValue: (name: string) => KeyValueBytesStoreSupplier
  window: (name: string, retentionMs: number, windowSizeMs: number, retainDuplicates: boolean, segmentIntervalMs?: number) => WindowBytesStoreSupplier
}

export interface SentRecord {
  topic: string
  partition: number
  key: Buffer
  value: Buffer | null
  timestamp: number
}

interface Harness {
  taskDir: string
  sent: SentRecord[]
  latencies: Array<{ operation: string, store: string }>
  dropped: Array<{ store: string, reason: string }>
  now: { value: number }
  context: (overrides?: Partial<StateStoreContext>) => StateStoreContext
  track: <S extends StateStore>(store: S) => S
}

/** expects `run` to throw (or reject with) a DevtripError of `code` */
export async function expectCode (code: string, run: () => unknown): Promise<void> {
  let thrown: unknown
  try {
    await run()
  } catch (error) {
    thrown = error
  }
  if (thrown === undefined) throw new Error(`expected ${code}, nothing was thrown`)
  if (!isDevtripError(thrown)) throw new Error(`expected ${code}, got ${String(thrown)}`)
  expect(thrown.code).toBe(code)
}

/** a deterministic pseudo-random generator (mulberry32) so failures reproduce */
export function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const hex = (b: Buffer): string => b.toString('hex')
const str = (s: string): Buffer => Buffer.from(s, 'utf8')

export function stateStoreContract (engine: EngineUnderTest): void {
  describe(`state store contract: ${engine.label}`, () => {
    const opened: StateStore[] = []
    const dirs: string[] = []
    let h: Harness

    beforeEach(() => {
      const taskDir = mkdtempSync(join(tmpdir(), 'devtrip-state-contract-'))
      dirs.push(taskDir)
      const sent: SentRecord[] = []
      const latencies: Harness['latencies'] = []
      const dropped: Harness['dropped'] = []
      const now = { value: 1_000 }
      h = {
        taskDir,
        sent,
        latencies,
        dropped,
        now,
        context: (overrides = {}) => ({
          applicationId: 'contract-app',
          taskId: '0_3',
          partition: 3,
          taskDir,
          changelogTopic: 'contract-app-store-changelog',
          changelogSink: { send: (topic, partition, key, value, timestamp) => { sent.push({ topic, partition, key, value, timestamp }) } },
          metrics: {
            recordLatency: (operation, store) => { latencies.push({ operation, store }) },
            recordDroppedRecord: (store, reason) => { dropped.push({ store, reason }) }
          },
          currentTimestamp: () => now.value,
          ...overrides
        }),
        track: (store) => { opened.push(store); return store }
      }
    })

    afterEach(async () => {
      for (const store of opened.splice(0)) await store.close()
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
    })

    async function kvStore (name = 'store', logging = true, context?: StateStoreContext): Promise<KeyValueStore<string, string>> {
      const builder = Stores.keyValueStoreBuilder(engine.keyValue(name), Serdes.String(), Serdes.String())
      if (!logging) builder.withLoggingDisabled()
      const store = h.track(builder.build())
      await store.init(context ?? h.context(logging ? {} : { changelogTopic: undefined, changelogSink: undefined }))
      return store
    }

    async function bytesStore (name = 'bytes'): Promise<KeyValueStore<Buffer, Buffer>> {
      const store = h.track(Stores.keyValueStoreBuilder(engine.keyValue(name), Serdes.Buffer(), Serdes.Buffer()).withLoggingDisabled().build())
      await store.init(h.context({ changelogTopic: undefined, changelogSink: undefined }))
      return store
    }

    describe('key-value reads and writes', () => {
      test('get, put, delete and putIfAbsent behave as a map', async () => {
        const store = await kvStore()
        expect(store.get('a')).toBeUndefined()
        store.put('a', 'one')
        expect(store.get('a')).toBe('one')
        store.put('a', 'uno')
        expect(store.get('a')).toBe('uno')
        expect(store.putIfAbsent('a', 'ignored')).toBe('uno')
        expect(store.get('a')).toBe('uno')
        expect(store.putIfAbsent('b', 'two')).toBeUndefined()
        expect(store.get('b')).toBe('two')
        expect(store.delete('a')).toBe('uno')
        expect(store.get('a')).toBeUndefined()
        expect(store.delete('a')).toBeUndefined()
        await store.commit(undefined)
        expect(store.get('a')).toBeUndefined()
        expect(store.get('b')).toBe('two')
        expect(store.delete('b')).toBe('two')
        expect(store.putIfAbsent('b', 'again')).toBeUndefined()
        expect(store.get('b')).toBe('again')
      })

      test('range and all return entries in byte order of the serialized keys, bounds inclusive', async () => {
        const store = await bytesStore()
        const keys = [Buffer.alloc(0), Buffer.from([0x00]), Buffer.from('a'), Buffer.from('a\u0000'), Buffer.from('ab'), Buffer.from('b'), Buffer.from([0x7f]), Buffer.from([0x80]), Buffer.from([0xff]), Buffer.from([0xff, 0xff])]
        // insert half before a commit and half after, in a scrambled order, so the merge of engine and buffer is exercised
        const order = [5, 0, 9, 2, 7, 1, 8, 3, 6, 4]
        for (const i of order.slice(0, 5)) store.put(keys[i], Buffer.from([i]))
        await store.commit(undefined)
        for (const i of order.slice(5)) store.put(keys[i], Buffer.from([i]))
        const sorted = [...keys].sort(Buffer.compare)
        expect(sorted.map(hex)).toEqual(keys.map(hex)) // the list above is already in byte order
        for (const view of [store.all(), store.range(undefined, undefined)]) {
          expect(view.map((e) => hex(e.key))).toEqual(keys.map(hex))
          expect(view.map((e) => e.value[0])).toEqual(keys.map((_, i) => i))
        }
        expect(store.range(Buffer.from('a'), Buffer.from('b')).map((e) => e.key.toString('latin1'))).toEqual(['a', 'a\u0000', 'ab', 'b'])
        expect(store.range(Buffer.from('a\u0000'), undefined).map((e) => hex(e.key))).toEqual(keys.slice(3).map(hex))
        expect(store.range(undefined, Buffer.from([0x00])).map((e) => hex(e.key))).toEqual(['', '00'])
        // bounds that are not keys themselves
        expect(store.range(Buffer.from('aa'), Buffer.from('az')).map((e) => e.key.toString('latin1'))).toEqual(['ab'])
        expect(store.range(Buffer.from('b'), Buffer.from('a'))).toEqual([])
        await store.commit(undefined)
        expect(store.all().map((e) => hex(e.key))).toEqual(keys.map(hex))
      })

      test('UTF-8 string keys range in code point order', async () => {
        const store = await kvStore('utf8', false)
        for (const k of ['가', 'z', 'é', 'a', '😀', 'Z']) store.put(k, k)
        await store.commit(undefined)
        expect(store.all().map((e) => e.key)).toEqual(['Z', 'a', 'z', 'é', '가', '😀'])
        expect(store.range('a', 'é').map((e) => e.value)).toEqual(['a', 'z', 'é'])
      })

      test('values keep their bytes exactly, empty values included', async () => {
        const store = await bytesStore()
        const big = Buffer.alloc(300_000, 7)
        store.put(Buffer.from('empty'), Buffer.alloc(0))
        store.put(Buffer.from('big'), big)
        await store.commit(undefined)
        expect(store.get(Buffer.from('empty'))?.length).toBe(0)
        expect(store.get(Buffer.from('big'))?.equals(big)).toBe(true)
      })

      test('serde failures are DEVTRIP_SERDE', async () => {
        const store = await kvStore()
        await expectCode('DEVTRIP_SERDE', () => store.put(42 as unknown as string, 'x'))
        const bytes = await bytesStore('raw')
        bytes.put(Buffer.from('k'), Buffer.from([0xc3, 0x28]))
        await bytes.commit(undefined)
        await bytes.close()
        const strings = h.track(Stores.keyValueStoreBuilder(engine.keyValue('raw'), Serdes.String(), Serdes.String()).withLoggingDisabled().build())
        await strings.init(h.context({ changelogTopic: undefined, changelogSink: undefined }))
        if (engine.persistent) await expectCode('DEVTRIP_SERDE', () => strings.get('k'))
      })
    })

    describe('transactions', () => {
      test('reads see uncommitted writes, ranges merge them over committed ones', async () => {
        const store = await kvStore()
        store.put('a', '1')
        store.put('c', '3')
        store.put('e', '5')
        await store.commit(10n)
        store.put('b', '2')
        store.delete('c')
        store.put('e', 'five')
        store.put('f', '6')
        expect(store.get('b')).toBe('2')
        expect(store.get('c')).toBeUndefined()
        expect(store.all()).toEqual([{ key: 'a', value: '1' }, { key: 'b', value: '2' }, { key: 'e', value: 'five' }, { key: 'f', value: '6' }])
        expect(store.range('b', 'e')).toEqual([{ key: 'b', value: '2' }, { key: 'e', value: 'five' }])
      })

      test('abort forgets the open transaction and nothing else', async () => {
        const store = await kvStore()
        store.put('a', '1')
        store.put('b', '2')
        await store.commit(5n)
        store.put('a', 'changed')
        store.delete('b')
        store.put('c', 'new')
        store.abort()
        expect(store.get('a')).toBe('1')
        expect(store.get('b')).toBe('2')
        expect(store.get('c')).toBeUndefined()
        expect(store.all().map((e) => e.key)).toEqual(['a', 'b'])
        expect(store.checkpoint()).toBe(5n)
      })

      test('commit makes writes permanent: a later abort keeps them', async () => {
        const store = await kvStore()
        store.put('a', '1')
        await store.commit(1n)
        store.abort()
        expect(store.get('a')).toBe('1')
      })

      test('a commit in flight stays readable and later writes go to the next transaction', async () => {
        const store = await kvStore()
        store.put('a', '1')
        const committing = store.commit(2n)
        // before the commit settles
        expect(store.get('a')).toBe('1')
        store.put('b', '2')
        expect(store.all().map((e) => e.key)).toEqual(['a', 'b'])
        await committing
        store.abort()
        expect(store.get('a')).toBe('1')
        expect(store.get('b')).toBeUndefined()
        expect(store.checkpoint()).toBe(2n)
      })

      test('matches a reference map under random puts, deletes, commits and aborts', async () => {
        const random = prng(20240611)
        const store = await kvStore('model', false)
        let committed = new Map<string, string>()
        let open = new Map<string, string>()
        const view = (): Array<[string, string]> => [...open].sort(([a], [b]) => Buffer.compare(str(a), str(b)))
        for (let step = 0; step < 3000; step++) {
          const key = `k${Math.floor(random() * 300).toString(36)}`
          const r = random()
          if (r < 0.55) {
            const value = `v${step}`
            store.put(key, value)
            open.set(key, value)
          } else if (r < 0.8) {
            expect(store.delete(key)).toBe(open.get(key))
            open.delete(key)
          } else if (r < 0.9) {
            expect(store.get(key)).toBe(open.get(key))
          } else if (r < 0.96) {
            await store.commit(BigInt(step))
            committed = new Map(open)
          } else {
            store.abort()
            open = new Map(committed)
          }
          if (step % 250 === 0) {
            const from = `k${Math.floor(random() * 300).toString(36)}`
            const expected = view().filter(([k]) => Buffer.compare(str(k), str(from)) >= 0)
            expect(store.range(from, undefined).map((e) => [e.key, e.value])).toEqual(expected)
          }
        }
        expect(store.all().map((e) => [e.key, e.value])).toEqual(view())
      })
    })

    describe('checkpoint', () => {
      test('starts at 0n, follows commits, stays when a commit gives none', async () => {
        const store = await kvStore()
        expect(store.checkpoint()).toBe(0n)
        store.put('a', '1')
        await store.commit(42n)
        expect(store.checkpoint()).toBe(42n)
        store.put('b', '2')
        await store.commit(undefined)
        expect(store.checkpoint()).toBe(42n)
        await store.commit(43n)
        expect(store.checkpoint()).toBe(43n)
        await expectCode('DEVTRIP_STATE_STORE', () => store.commit(-1n))
      })

      test(engine.persistent ? 'data and checkpoint survive close and reopen; uncommitted writes do not' : 'is not persistent: a reopened store is empty with checkpoint 0n', async () => {
        const store = await kvStore()
        store.put('a', '1')
        store.put('b', '2')
        await store.commit(7n)
        store.put('c', 'uncommitted')
        await store.close()
        expect(store.isOpen()).toBe(false)
        const again = await kvStore()
        expect(again.persistent).toBe(engine.persistent)
        if (engine.persistent) {
          expect(again.checkpoint()).toBe(7n)
          expect(again.all()).toEqual([{ key: 'a', value: '1' }, { key: 'b', value: '2' }])
        } else {
          expect(again.checkpoint()).toBe(0n)
          expect(again.all()).toEqual([])
        }
      })
    })

    describe('restore', () => {
      test('applies changelog records with tombstones and moves the checkpoint past the last offset', async () => {
        const store = await kvStore()
        const records: ChangelogRecord[] = [
          { key: str('a'), value: str('1'), offset: 100n },
          { key: str('b'), value: str('2'), offset: 101n },
          { key: str('a'), value: null, offset: 102n },
          { key: str('c'), value: str('3'), offset: 104n }
        ]
        await store.restore(records)
        expect(store.get('a')).toBeUndefined()
        expect(store.all()).toEqual([{ key: 'b', value: '2' }, { key: 'c', value: '3' }])
        expect(store.checkpoint()).toBe(105n)
        expect(h.sent).toEqual([]) // restoring never writes to the changelog
        await store.restore([{ key: str('b'), value: null, offset: 105n }])
        expect(store.all()).toEqual([{ key: 'c', value: '3' }])
        expect(store.checkpoint()).toBe(106n)
        await store.restore([])
        expect(store.checkpoint()).toBe(106n)
      })

      test('is refused while the open transaction has writes, and rejects malformed records', async () => {
        const store = await kvStore()
        store.put('x', 'y')
        await expectCode('DEVTRIP_STATE_STORE', () => store.restore([{ key: str('a'), value: str('1'), offset: 1n }]))
        store.abort()
        await expectCode('DEVTRIP_STATE_STORE', () => store.restore([{ key: str('a'), value: str('1'), offset: 1 as unknown as bigint }]))
      })

      test('a store restored from another store\'s changelog holds the same entries', async () => {
        const source = await kvStore('source')
        source.put('a', '1')
        source.put('b', '2')
        source.delete('a')
        source.put('c', '3')
        await source.commit(undefined)
        const records = h.sent.map((r, i) => ({ key: r.key, value: r.value, offset: BigInt(i) }))
        const target = await kvStore('target', false)
        await target.restore(records)
        expect(target.all()).toEqual(source.all())
        expect(target.checkpoint()).toBe(BigInt(records.length))
      })
    })

    describe('change-logging', () => {
      test('every write is sent once, with topic, partition, key, value and the current record timestamp', async () => {
        const store = await kvStore()
        h.now.value = 111
        store.put('a', '1')
        h.now.value = 222
        store.delete('a')
        store.delete('never-there')
        h.now.value = 333
        expect(store.putIfAbsent('b', '2')).toBeUndefined()
        expect(store.putIfAbsent('b', 'ignored')).toBe('2')
        store.get('b')
        store.range(undefined, undefined)
        expect(h.sent.map((r) => [r.topic, r.partition, r.key.toString(), r.value?.toString() ?? null, r.timestamp])).toEqual([
          ['contract-app-store-changelog', 3, 'a', '1', 111],
          ['contract-app-store-changelog', 3, 'a', null, 222],
          ['contract-app-store-changelog', 3, 'never-there', null, 222],
          ['contract-app-store-changelog', 3, 'b', '2', 333]
        ])
        await store.commit(4n)
        store.abort()
        expect(h.sent).toHaveLength(4)
      })

      test('logging disabled sends nothing and needs no sink; logging enabled without a sink fails init', async () => {
        const quiet = await kvStore('quiet', false)
        quiet.put('a', '1')
        quiet.delete('a')
        expect(h.sent).toEqual([])
        const loud = h.track(Stores.keyValueStoreBuilder(engine.keyValue('loud'), Serdes.String(), Serdes.String()).build())
        await expectCode('DEVTRIP_STATE_STORE', () => loud.init(h.context({ changelogSink: undefined })))
        expect(loud.isOpen()).toBe(false)
      })
    })

    describe('metrics and sizes', () => {
      test('latencies are reported per operation with the store name', async () => {
        const store = await kvStore('metered')
        store.put('a', '1')
        store.get('a')
        store.delete('a')
        store.all()
        await store.commit(1n)
        await store.restore([{ key: str('z'), value: str('26'), offset: 1n }])
        expect(h.latencies.map((l) => l.operation)).toEqual(['put', 'get', 'delete', 'range', 'commit', 'restore'])
        expect(new Set(h.latencies.map((l) => l.store))).toEqual(new Set(['metered']))
      })

      test('approximateNumEntries counts committed entries and the open transaction\'s changes', async () => {
        const store = await kvStore('count', false)
        expect(store.approximateNumEntries()).toBe(0)
        for (let i = 0; i < 50; i++) store.put(`k${i}`, String(i))
        expect(store.approximateNumEntries()).toBe(50)
        await store.commit(undefined)
        expect(store.approximateNumEntries()).toBe(50)
        store.put('extra', 'x')
        store.delete('k0')
        store.put('k1', 'overwrite')
        expect(store.approximateNumEntries()).toBe(50)
      })
    })

    describe('lifecycle', () => {
      test('a store that is not open throws DEVTRIP_STORE_NOT_OPEN for every operation', async () => {
        const never = Stores.keyValueStoreBuilder(engine.keyValue('never'), Serdes.String(), Serdes.String()).build()
        const closed = await kvStore('closed')
        closed.put('a', '1')
        await closed.commit(1n)
        await closed.close()
        await closed.close() // closing twice is harmless
        for (const store of [never, closed]) {
          expect(store.isOpen()).toBe(false)
          await expectCode('DEVTRIP_STORE_NOT_OPEN', () => store.get('a'))
          await expectCode('DEVTRIP_STORE_NOT_OPEN', () => store.put('a', '1'))
          await expectCode('DEVTRIP_STORE_NOT_OPEN', () => store.putIfAbsent('a', '1'))
          await expectCode('DEVTRIP_STORE_NOT_OPEN', () => store.delete('a'))
          await expectCode('DEVTRIP_STORE_NOT_OPEN', () => store.range('a', 'b'))
          await expectCode('DEVTRIP_STORE_NOT_OPEN', () => store.all())
          await expectCode('DEVTRIP_STORE_NOT_OPEN', () => store.approximateNumEntries())
          await expectCode('DEVTRIP_STORE_NOT_OPEN', () => store.checkpoint())
          await expectCode('DEVTRIP_STORE_NOT_OPEN', () => store.commit(2n))
          await expectCode('DEVTRIP_STORE_NOT_OPEN', () => store.restore([]))
          expect(() => store.abort()).not.toThrow()
        }
        const window = Stores.windowStoreBuilder(engine.window('never-window', 1000, 100, false), Serdes.String(), Serdes.String()).build()
        await expectCode('DEVTRIP_STORE_NOT_OPEN', () => window.put('a', '1', 0))
        await expectCode('DEVTRIP_STORE_NOT_OPEN', () => window.fetch('a', 0, 10))
        await expectCode('DEVTRIP_STORE_NOT_OPEN', () => window.fetchAll(0, 10))
      })

      test('init twice without close is refused', async () => {
        const store = await kvStore()
        await expectCode('DEVTRIP_STATE_STORE', () => store.init(h.context()))
        expect(store.isOpen()).toBe(true)
      })

      test('destroy removes the contents for good', async () => {
        const store = await kvStore()
        store.put('a', '1')
        await store.commit(3n)
        await store.destroy()
        expect(store.isOpen()).toBe(false)
        const again = await kvStore()
        expect(again.all()).toEqual([])
        expect(again.checkpoint()).toBe(0n)
      })
    })

    describe('window store', () => {
      async function windowStore (name: string, opts: { retentionMs: number, windowSizeMs?: number, dup?: boolean, segmentMs?: number, logging?: boolean }): Promise<WindowStore<string, string>> {
        const supplier = engine.window(name, opts.retentionMs, opts.windowSizeMs ?? 10, opts.dup ?? false, opts.segmentMs)
        const builder = Stores.windowStoreBuilder(supplier, Serdes.String(), Serdes.String())
        if (opts.logging === false) builder.withLoggingDisabled()
        const store = h.track(builder.build())
        await store.init(h.context(opts.logging === false ? { changelogTopic: undefined, changelogSink: undefined } : {}))
        return store
      }

      test('fetch returns one key\'s windows in [from, to], oldest first, across segments', async () => {
        const store = await windowStore('w-fetch', { retentionMs: 100_000, segmentMs: 1000 })
        expect(store.retentionMs).toBe(100_000)
        store.put('k1', 'a', 2500)
        store.put('k1', 'b', 0)
        store.put('k2', 'x', 1000)
        store.put('k1', 'c', 1000)
        store.put('k1', 'd', 4999)
        expect(store.fetch('k1', 0, 5000)).toEqual([{ windowStart: 0, value: 'b' }, { windowStart: 1000, value: 'c' }, { windowStart: 2500, value: 'a' }, { windowStart: 4999, value: 'd' }])
        expect(store.fetch('k1', 500, 2500)).toEqual([{ windowStart: 1000, value: 'c' }, { windowStart: 2500, value: 'a' }])
        expect(store.fetch('k1', 1001, 2499)).toEqual([])
        expect(store.fetch('k2', 0, 5000)).toEqual([{ windowStart: 1000, value: 'x' }])
        expect(store.fetch('missing', 0, 5000)).toEqual([])
        await store.commit(undefined)
        expect(store.fetch('k1', 1000, 1000)).toEqual([{ windowStart: 1000, value: 'c' }])
        // fetchAll: by segment, then key, then window start
        expect(store.fetchAll(0, 2500).map((e) => [e.key.key, e.key.windowStart, e.value])).toEqual([
          ['k1', 0, 'b'], ['k1', 1000, 'c'], ['k2', 1000, 'x'], ['k1', 2500, 'a']
        ])
      })

      test('keys that are prefixes of each other never see each other\'s windows', async () => {
        const store = await windowStore('w-prefix', { retentionMs: 100_000 })
        for (const [k, t] of [['a', 10], ['a\u0000', 10], ['ab', 5], ['a', 20], ['', 15]] as Array<[string, number]>) store.put(k, `${k}@${t}`, t)
        expect(store.fetch('a', 0, 100).map((e) => e.value)).toEqual(['a@10', 'a@20'])
        expect(store.fetch('a\u0000', 0, 100).map((e) => e.value)).toEqual(['a\u0000@10'])
        expect(store.fetch('ab', 0, 100).map((e) => e.value)).toEqual(['ab@5'])
        expect(store.fetch('', 0, 100).map((e) => e.value)).toEqual(['@15'])
      })

      test('without duplicates a put overwrites the window; with duplicates every put is kept in order', async () => {
        const single = await windowStore('w-single', { retentionMs: 10_000 })
        single.put('k', 'first', 100)
        single.put('k', 'second', 100)
        expect(single.fetch('k', 0, 200)).toEqual([{ windowStart: 100, value: 'second' }])
        const dup = await windowStore('w-dup', { retentionMs: 10_000, dup: true })
        dup.put('k', 'first', 100)
        dup.put('k', 'second', 100)
        await dup.commit(undefined)
        dup.put('k', 'third', 100)
        dup.put('k', 'later', 150)
        expect(dup.fetch('k', 0, 200).map((e) => [e.windowStart, e.value])).toEqual([[100, 'first'], [100, 'second'], [100, 'third'], [150, 'later']])
      })

      test('retention follows stream time: expired windows are neither returned nor stored', async () => {
        const store = await windowStore('w-retention', { retentionMs: 1000, segmentMs: 100 })
        store.put('k', 'old', 0)
        store.put('k', 'mid', 500)
        expect(store.fetch('k', 0, 10_000).map((e) => e.value)).toEqual(['old', 'mid'])
        store.put('k', 'new', 1600) // stream time 1600: windows starting at or before 600 are gone
        expect(store.fetch('k', 0, 10_000).map((e) => e.value)).toEqual(['new'])
        expect(store.fetchAll(0, 10_000).map((e) => e.value)).toEqual(['new'])
        const sentBefore = h.sent.length
        store.put('k', 'late', 600) // expired on arrival
        expect(h.sent.length).toBe(sentBefore)
        expect(h.dropped).toEqual([{ store: 'w-retention', reason: 'expired-window' }])
        store.put('k', 'just-in-time', 601)
        expect(store.fetch('k', 0, 10_000).map((e) => e.value)).toEqual(['just-in-time', 'new'])
        await store.commit(undefined)
        expect(store.fetch('k', 0, 10_000).map((e) => e.value)).toEqual(['just-in-time', 'new'])
      })

      test('expired segments are range-deleted in the commit batch, and an abort undoes the drop', async () => {
        const supplier = engine.window('w-segments', 300, 10, false, 100)
        const buffered = new TransactionalBytesStore('w-segments', supplier.persistent, supplier.createEngine)
        const store = h.track(new SegmentedWindowBytesStore(buffered, { retentionMs: 300, segmentIntervalMs: 100, retainDuplicates: false }))
        await store.init(h.context())
        for (let t = 0; t < 500; t += 50) store.put(str('k'), str(`v${t}`), t)
        // stream time 450: lowest live window start 151, so segment 0 (0, 50) is dropped; segment 1 is kept
        // whole (100 and 150 stay stored but are no longer returned)
        const entries = (): number => buffered.range(undefined, undefined).length - 1 // minus the stream-time key
        expect(entries()).toBe(8)
        await store.commit(undefined)
        expect(entries()).toBe(8)
        store.put(str('k'), str('far'), 2000) // drops every earlier segment
        expect(entries()).toBe(1)
        store.abort()
        expect(entries()).toBe(8)
        expect(store.fetch(str('k'), 0, 1000).map((e) => e.value.toString())).toEqual(['v200', 'v250', 'v300', 'v350', 'v400', 'v450'])
        store.put(str('k'), str('far'), 2000)
        await store.commit(undefined)
        expect(entries()).toBe(1)
      })

      test('aborting rolls stream time back, so retention is judged by committed time again', async () => {
        const store = await windowStore('w-abort', { retentionMs: 1000, segmentMs: 100 })
        store.put('k', 'a', 100)
        await store.commit(undefined)
        store.put('k', 'b', 5000)
        expect(store.fetch('k', 0, 10_000).map((e) => e.value)).toEqual(['b'])
        store.abort()
        expect(store.fetch('k', 0, 10_000).map((e) => e.value)).toEqual(['a'])
        store.put('k', 'c', 200)
        expect(store.fetch('k', 0, 10_000).map((e) => e.value)).toEqual(['a', 'c'])
      })

      test('each stored window is logged under its changelog key; restoring those records rebuilds the store', async () => {
        const source = await windowStore('w-source', { retentionMs: 10_000, dup: true, segmentMs: 1000 })
        h.now.value = 77
        source.put('k1', 'a', 100)
        source.put('k1', 'b', 100)
        source.put('k2', 'c', 2500)
        expect(h.sent).toHaveLength(3)
        expect(h.sent.every((r) => r.topic === 'contract-app-store-changelog' && r.partition === 3 && r.timestamp === 77)).toBe(true)
        expect(new Set(h.sent.map((r) => hex(r.key))).size).toBe(3) // duplicates get distinct keys
        const records = h.sent.map((r, i) => ({ key: r.key, value: r.value, offset: BigInt(10 + i) }))
        const target = await windowStore('w-target', { retentionMs: 10_000, dup: true, segmentMs: 1000, logging: false })
        await target.restore(records)
        expect(target.checkpoint()).toBe(13n)
        expect(target.fetchAll(0, 10_000)).toEqual(source.fetchAll(0, 10_000))
        // restoring the same records again is idempotent: same keys, same entries
        await target.restore(records)
        expect(target.fetch('k1', 0, 10_000).map((e) => e.value)).toEqual(['a', 'b'])
        // after restore, new duplicates continue after the restored ones
        target.put('k1', 'd', 100)
        expect(target.fetch('k1', 0, 10_000).map((e) => e.value)).toEqual(['a', 'b', 'd'])
        await expectCode('DEVTRIP_STATE_STORE', () => target.restore([{ key: str('not a window key'), value: str('x'), offset: 20n }]))
      })

      test('restore skips windows already past retention and sets stream time from the records', async () => {
        const store = await windowStore('w-restore-expiry', { retentionMs: 1000, segmentMs: 100, logging: false })
        const source = await windowStore('w-restore-src', { retentionMs: 1_000_000, segmentMs: 100 })
        source.put('k', 'old', 100)
        source.put('k', 'new', 3000)
        await store.restore(h.sent.map((r, i) => ({ key: r.key, value: r.value, offset: BigInt(i) })))
        expect(store.fetch('k', 0, 10_000).map((e) => e.value)).toEqual(['new'])
        store.put('k', 'late', 1500)
        expect(store.fetch('k', 0, 10_000).map((e) => e.value)).toEqual(['new'])
      })

      test(engine.persistent ? 'windows and stream time survive close and reopen' : 'windows do not survive close (not persistent)', async () => {
        const store = await windowStore('w-reopen', { retentionMs: 1000, segmentMs: 100 })
        store.put('k', 'a', 100)
        store.put('k', 'b', 900)
        await store.commit(9n)
        await store.close()
        const again = await windowStore('w-reopen', { retentionMs: 1000, segmentMs: 100 })
        if (engine.persistent) {
          expect(again.checkpoint()).toBe(9n)
          expect(again.fetch('k', 0, 10_000).map((e) => e.value)).toEqual(['a', 'b'])
          again.put('k', 'too-late', 50) // stream time 900 came back with the data: 50 <= 900 - 1000 is false, still live
          again.put('k', 'c', 1500) // lowest live 501: 'a' and 'too-late' expire
          expect(again.fetch('k', 0, 10_000).map((e) => e.value)).toEqual(['b', 'c'])
        } else {
          expect(again.checkpoint()).toBe(0n)
          expect(again.fetch('k', 0, 10_000)).toEqual([])
        }
      })

      test('negative or fractional window starts are refused', async () => {
        const store = await windowStore('w-bad', { retentionMs: 1000 })
        await expectCode('DEVTRIP_STATE_STORE', () => store.put('k', 'v', -1))
        await expectCode('DEVTRIP_STATE_STORE', () => store.put('k', 'v', 1.5))
      })
    })
  })
}
