/**
 * count / reduce / aggregate, plain and windowed. The result is a table: every update is forwarded as a change
 * { newValue, oldValue } (no caching, so each input record produces one update downstream, as Kafka Streams does
 * with the record cache disabled).
 */
import type { KeyValueStore, WindowStore } from '../../../state/base/types'
import type { TimeWindows, Windowed } from '../../dsl/windows'
import type { ProcessorSupplier } from '../../processor'
import type { ValueGetterSupplier } from './dsl-context'
import { processorFrom } from './stream-processors'
import type { Change } from './table-processors'

type Untyped = ProcessorSupplier<unknown, unknown, unknown, unknown>
/** new aggregate from the old one (undefined: first record of the key or window) */
export type Update = (old: unknown, key: unknown, value: unknown) => unknown

export function aggregateProcessor (storeName: string, update: Update): Untyped {
  return processorFrom((ctx) => {
    const store = ctx.getStateStore<KeyValueStore<unknown, unknown>>(storeName)
    return (record) => {
      if (record.key === null || record.key === undefined) { ctx.recordSkipped('null key in an aggregation'); return }
      if (record.value === null || record.value === undefined) { ctx.recordSkipped('null value in an aggregation'); return }
      const old = store.get(record.key)
      const value = update(old, record.key, record.value)
      store.put(record.key, value)
      const c: Change<unknown> = { newValue: value, oldValue: old ?? null }
      ctx.forward({ key: record.key, value: c, timestamp: record.timestamp, headers: record.headers })
    }
  })
}

/**
 * Updates every window containing the record's timestamp. A window is closed once stream time reached its end plus
 * grace (end + grace <= stream time); a record for a closed window is dropped and reported.
 */
export function windowedAggregateProcessor (storeName: string, windows: TimeWindows, update: Update): Untyped {
  return processorFrom((ctx) => {
    const store = ctx.getStateStore<WindowStore<unknown, unknown>>(storeName)
    return (record) => {
      if (record.key === null || record.key === undefined) { ctx.recordSkipped('null key in a windowed aggregation'); return }
      if (record.value === null || record.value === undefined) { ctx.recordSkipped('null value in a windowed aggregation'); return }
      const streamTime = ctx.currentStreamTimeMs()
      let expired = false
      for (const start of windows.windowStartsFor(record.timestamp)) {
        const end = start + windows.sizeMs
        if (end + windows.graceMs <= streamTime) { expired = true; continue }
        const old = store.fetch(record.key, start, start)[0]?.value
        const value = update(old, record.key, record.value)
        store.put(record.key, value, start)
        const key: Windowed<unknown> = { key: record.key, startMs: start, endMs: end }
        const c: Change<unknown> = { newValue: value, oldValue: old ?? null }
        ctx.forward({ key, value: c, timestamp: record.timestamp, headers: record.headers })
      }
      if (expired) ctx.recordSkipped('record for a window closed after its grace period')
    }
  })
}

export function windowStoreGetter (storeName: string): ValueGetterSupplier<unknown, unknown> {
  return {
    storeNames: [storeName],
    get: () => {
      let store: WindowStore<unknown, unknown> | undefined
      return {
        init (ctx) { store = ctx.getStateStore<WindowStore<unknown, unknown>>(storeName) },
        get (key) {
          const windowed = key as Windowed<unknown>
          return (store as WindowStore<unknown, unknown>).fetch(windowed.key, windowed.startMs, windowed.startMs)[0]?.value
        }
      }
    }
  }
}
