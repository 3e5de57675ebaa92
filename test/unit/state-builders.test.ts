import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Stores, WINDOW_CHANGELOG_ADDITIONAL_RETENTION_MS } from '../../state/builders'
import { Serdes } from '../../state/serdes-builtin'
import type { StoreBuilder } from '../../state/base/types'

const invalid = expect.objectContaining({ code: 'DEVTRIP_INVALID_OPTIONS' })

describe('Stores builders', () => {
  test('key-value builders build a fresh, typed store per call with logging on by default', async () => {
    const builder = Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore('counts'), Serdes.String(), Serdes.Int64())
    const asContract: StoreBuilder = builder
    expect(asContract.name).toBe('counts')
    expect(builder.loggingEnabled).toBe(true)
    expect(builder.changelogConfig).toEqual({})
    expect(builder.keySerde.name).toBe('string')
    const a = builder.build()
    const b = builder.build()
    expect(a).not.toBe(b)
    const sent: string[] = []
    const dir = mkdtempSync(join(tmpdir(), 'devtrip-builders-'))
    try {
      await a.init({ applicationId: 'app', taskId: '0_0', partition: 0, taskDir: dir, changelogTopic: 'app-counts-changelog', changelogSink: { send: (topic) => { sent.push(topic) } }, currentTimestamp: () => 0 })
      a.put('x', 5n)
      expect(a.get('x')).toBe(5n)
      expect(sent).toEqual(['app-counts-changelog'])
      await a.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('withLoggingDisabled / withLoggingEnabled(config) switch logging and changelog topic configs', () => {
    const builder = Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore('s'), Serdes.String(), Serdes.String())
    expect(builder.withLoggingDisabled().loggingEnabled).toBe(false)
    expect(builder.withLoggingEnabled({ 'min.compaction.lag.ms': '1000' }).loggingEnabled).toBe(true)
    expect(builder.changelogConfig).toEqual({ 'min.compaction.lag.ms': '1000' })
    expect(() => builder.withLoggingEnabled({ 'Bad Key': 'x' })).toThrow(invalid)
    expect(() => builder.withLoggingEnabled({ 'retention.ms': 5 as unknown as string })).toThrow(invalid)
  })

  test('window builders ask for a compacted and time-deleted changelog that outlives retention by a day', () => {
    const supplier = Stores.persistentWindowStore('join-left', 60_000, 10_000, true)
    expect(supplier.segmentIntervalMs).toBe(60_000) // max(retention / 2, 60 s)
    expect(Stores.inMemoryWindowStore('w', 10 * 60_000, 1000, false).segmentIntervalMs).toBe(5 * 60_000)
    expect(Stores.inMemoryWindowStore('w', 10_000, 1000, false, { segmentIntervalMs: 500 }).segmentIntervalMs).toBe(500)
    const builder = Stores.windowStoreBuilder(supplier, Serdes.String(), Serdes.Json())
    expect(builder.retentionMs).toBe(60_000)
    expect(builder.windowSizeMs).toBe(10_000)
    expect(builder.changelogConfig).toEqual({ 'cleanup.policy': 'compact,delete', 'retention.ms': String(60_000 + WINDOW_CHANGELOG_ADDITIONAL_RETENTION_MS) })
    expect(builder.withLoggingEnabled({ 'retention.ms': '1' }).changelogConfig['retention.ms']).toBe('1')
    const store = builder.build()
    expect(store.retentionMs).toBe(60_000)
    expect(store.persistent).toBe(true)
  })

  test('bad names, durations, suppliers and serdes are refused up front', () => {
    for (const name of ['', '.', '..', 'a/b', 'has space', 'x'.repeat(201)]) {
      expect(() => Stores.persistentKeyValueStore(name)).toThrow(invalid)
      expect(() => Stores.inMemoryKeyValueStore(name)).toThrow(invalid)
    }
    expect(() => Stores.persistentWindowStore('w', 0, 0, false)).toThrow(invalid)
    expect(() => Stores.persistentWindowStore('w', 1000, 2000, false)).toThrow(invalid) // retention < window size
    expect(() => Stores.inMemoryWindowStore('w', 1.5, 1, false)).toThrow(invalid)
    expect(() => Stores.inMemoryWindowStore('w', 1000, 10, 'yes' as unknown as boolean)).toThrow(invalid)
    expect(() => Stores.inMemoryWindowStore('w', 1000, 10, false, { segmentIntervalMs: 0 })).toThrow(invalid)
    const window = Stores.inMemoryWindowStore('w', 1000, 10, false)
    expect(() => Stores.keyValueStoreBuilder(window as never, Serdes.String(), Serdes.String())).toThrow(invalid)
    expect(() => Stores.windowStoreBuilder(Stores.inMemoryKeyValueStore('k') as never, Serdes.String(), Serdes.String())).toThrow(invalid)
    expect(() => Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore('k'), {} as never, Serdes.String())).toThrow(invalid)
  })
})
