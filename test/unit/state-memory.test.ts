import { Stores } from '../../state/builders'
import { MemoryEngine } from '../../state/memory/memory-engine'
import { expectCode, stateStoreContract } from './state-contract'

stateStoreContract({
  label: 'in-memory',
  persistent: false,
  keyValue: (name) => Stores.inMemoryKeyValueStore(name),
  window: (name, retentionMs, windowSizeMs, retainDuplicates, segmentIntervalMs) =>
    Stores.inMemoryWindowStore(name, retentionMs, windowSizeMs, retainDuplicates, segmentIntervalMs === undefined ? undefined : { segmentIntervalMs })
})

describe('memory engine', () => {
  test('keeps its checkpoint in memory and forgets everything on close', async () => {
    const engine = new MemoryEngine('m')
    await engine.open()
    expect(engine.persistent).toBe(false)
    expect(engine.readCheckpoint()).toBeUndefined()
    await engine.write([[Buffer.from('a'), Buffer.from('1')]], 5n)
    expect(engine.readCheckpoint()).toBe(5n)
    await engine.write([[Buffer.from('a'), null]], undefined)
    expect(engine.readCheckpoint()).toBe(5n)
    expect(engine.get(Buffer.from('a'))).toBeUndefined()
    await engine.write([[Buffer.from('b'), Buffer.from('2')]], 6n)
    await engine.close()
    await expectCode('DEVTRIP_STORE_NOT_OPEN', () => engine.get(Buffer.from('b')))
    await engine.open()
    expect(engine.readCheckpoint()).toBeUndefined()
    expect(engine.approximateNumEntries()).toBe(0)
  })

  test('copies what it is given, so callers reusing a buffer cannot change stored entries', async () => {
    const engine = new MemoryEngine('m')
    await engine.open()
    const key = Buffer.from('key')
    const value = Buffer.from('value')
    await engine.write([[key, value]], undefined)
    key.write('xxx')
    value.write('XXXXX')
    expect(engine.get(Buffer.from('key'))?.toString()).toBe('value')
    expect(engine.range(undefined, undefined).map(([k]) => k.toString())).toEqual(['key'])
  })
})
