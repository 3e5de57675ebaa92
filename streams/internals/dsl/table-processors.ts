/**
 * KTable processors. A table forwards CHANGES — { newValue, oldValue } — so that a downstream filter can retract a
 * key that stops matching and a join can replace the result computed from the old value. Tables read through
 * value getters (Kafka's KTableValueGetter): a filtered or mapped table that is not materialized answers a lookup
 * by asking its parent and applying its own function.
 */
import type { KeyValueStore } from '../../../state/base/types'
import type { ProcessorSupplier } from '../../processor'
import type { Record } from '../../record'
import type { ValueGetter, ValueGetterSupplier } from './dsl-context'
import { processorFrom } from './stream-processors'

export interface Change<V> {
  readonly newValue: V | null
  readonly oldValue: V | null
}

type Untyped = ProcessorSupplier<unknown, unknown, unknown, unknown>
type Predicate = (key: unknown, value: unknown) => boolean
type Joiner = (value: unknown, other: unknown, key: unknown) => unknown

function change (newValue: unknown, oldValue: unknown): Change<unknown> {
  return { newValue, oldValue }
}

function forwardChange (ctx: { forward: (r: Record<unknown, unknown>) => void }, record: Record<unknown, unknown>, newValue: unknown, oldValue: unknown): void {
  ctx.forward({ key: record.key, value: change(newValue, oldValue), timestamp: record.timestamp, headers: record.headers })
}

/** Writes `newValue` (or deletes on null) into the table's store when it is materialized. */
function materialize (store: KeyValueStore<unknown, unknown> | undefined, key: unknown, newValue: unknown): void {
  if (store === undefined) return
  if (newValue === null) store.delete(key)
  else store.put(key, newValue)
}

export function storeGetter (storeName: string): ValueGetterSupplier<unknown, unknown> {
  return {
    storeNames: [storeName],
    get: () => {
      let store: KeyValueStore<unknown, unknown> | undefined
      return {
        init (ctx) { store = ctx.getStateStore<KeyValueStore<unknown, unknown>>(storeName) },
        get (key) { return (store as KeyValueStore<unknown, unknown>).get(key) }
      }
    }
  }
}

/** A table topic's records into the store, forwarded as changes; a null value deletes the key. */
export function tableSourceProcessor (storeName: string): Untyped {
  return processorFrom((ctx) => {
    const store = ctx.getStateStore<KeyValueStore<unknown, unknown>>(storeName)
    return (record) => {
      if (record.key === null || record.key === undefined) {
        ctx.recordSkipped('null key on a table topic')
        return
      }
      const old = store.get(record.key) ?? null
      if (record.value === null || record.value === undefined) {
        if (old === null) return // deleting an absent key changes nothing
        store.delete(record.key)
        forwardChange(ctx, record, null, old)
        return
      }
      store.put(record.key, record.value)
      forwardChange(ctx, record, record.value, old)
    }
  })
}

export function tableFilterProcessor (predicate: Predicate, negate: boolean, storeName: string | undefined): Untyped {
  return processorFrom((ctx) => {
    const store = storeName === undefined ? undefined : ctx.getStateStore<KeyValueStore<unknown, unknown>>(storeName)
    const keep = (key: unknown, value: unknown): unknown => value !== null && Boolean(predicate(key, value)) !== negate ? value : null
    return (record) => {
      const c = record.value as Change<unknown>
      const newValue = keep(record.key, c.newValue)
      const oldValue = keep(record.key, c.oldValue)
      if (newValue === null && oldValue === null) return // never was and still is not in the filtered table
      materialize(store, record.key, newValue)
      forwardChange(ctx, record, newValue, oldValue)
    }
  })
}

export function filterGetter (parent: ValueGetterSupplier<unknown, unknown>, predicate: Predicate, negate: boolean): ValueGetterSupplier<unknown, unknown> {
  return {
    storeNames: parent.storeNames,
    get: () => {
      const inner = parent.get()
      return {
        init (ctx) { inner.init(ctx) },
        get (key) {
          const value = inner.get(key)
          return value !== undefined && Boolean(predicate(key, value)) !== negate ? value : undefined
        }
      }
    }
  }
}

export function tableMapValuesProcessor (mapper: (value: unknown, key: unknown) => unknown, storeName: string | undefined): Untyped {
  return processorFrom((ctx) => {
    const store = storeName === undefined ? undefined : ctx.getStateStore<KeyValueStore<unknown, unknown>>(storeName)
    return (record) => {
      const c = record.value as Change<unknown>
      const newValue = c.newValue === null ? null : mapper(c.newValue, record.key)
      // materialized: the old result is in the store, no need to run the mapper twice
      const oldValue = store !== undefined ? store.get(record.key) ?? null : c.oldValue === null ? null : mapper(c.oldValue, record.key)
      if (newValue === null && oldValue === null) return // deleting what this table never had
      materialize(store, record.key, newValue)
      forwardChange(ctx, record, newValue, oldValue)
    }
  })
}

export function mapValuesGetter (parent: ValueGetterSupplier<unknown, unknown>, mapper: (value: unknown, key: unknown) => unknown): ValueGetterSupplier<unknown, unknown> {
  return {
    storeNames: parent.storeNames,
    get: () => {
      const inner = parent.get()
      return {
        init (ctx) { inner.init(ctx) },
        get (key) {
          const value = inner.get(key)
          return value === undefined ? undefined : mapper(value, key)
        }
      }
    }
  }
}

export function toStreamProcessor (): Untyped {
  return processorFrom((ctx) => (record) => {
    ctx.forward({ key: record.key, value: (record.value as Change<unknown>).newValue, timestamp: record.timestamp, headers: record.headers })
  })
}

/**
 * One side of a KTable–KTable join. `thisIsLeft` says whether updates arriving here are the left table's; the
 * joiner always gets (leftValue, rightValue, key). Inner join: a result exists while both sides have the key.
 * Left join: while the left side has it (right value null when absent).
 */
export function tableTableJoinProcessor (otherGetter: ValueGetterSupplier<unknown, unknown>, joiner: Joiner, leftJoin: boolean,
  thisIsLeft: boolean, storeName: string | undefined): Untyped {
  return processorFrom((ctx) => {
    const other = otherGetter.get()
    other.init(ctx)
    const store = storeName === undefined ? undefined : ctx.getStateStore<KeyValueStore<unknown, unknown>>(storeName)
    return (record) => {
      const c = record.value as Change<unknown>
      const otherValue = other.get(record.key)
      let newValue: unknown = null
      let oldValue: unknown = null
      if (thisIsLeft) {
        if (otherValue === undefined && !leftJoin) return // no right side: no result before, none now
        const right = otherValue ?? null
        if (c.newValue !== null) newValue = joiner(c.newValue, right, record.key)
        if (c.oldValue !== null) oldValue = joiner(c.oldValue, right, record.key)
      } else {
        if (otherValue === undefined) return // no left side: no result in either join
        if (leftJoin) {
          newValue = joiner(otherValue, c.newValue, record.key)
          oldValue = joiner(otherValue, c.oldValue, record.key)
        } else {
          if (c.newValue !== null) newValue = joiner(otherValue, c.newValue, record.key)
          if (c.oldValue !== null) oldValue = joiner(otherValue, c.oldValue, record.key)
        }
      }
      if (newValue === null && oldValue === null) return
      materialize(store, record.key, newValue)
      forwardChange(ctx, record, newValue, oldValue)
    }
  })
}

export function joinGetter (left: ValueGetterSupplier<unknown, unknown>, right: ValueGetterSupplier<unknown, unknown>, joiner: Joiner,
  leftJoin: boolean): ValueGetterSupplier<unknown, unknown> {
  return {
    storeNames: [...new Set([...left.storeNames, ...right.storeNames])],
    get: () => {
      const l: ValueGetter<unknown, unknown> = left.get()
      const r: ValueGetter<unknown, unknown> = right.get()
      return {
        init (ctx) { l.init(ctx); r.init(ctx) },
        get (key) {
          const leftValue = l.get(key)
          if (leftValue === undefined) return undefined
          const rightValue = r.get(key)
          if (rightValue === undefined && !leftJoin) return undefined
          return joiner(leftValue, rightValue ?? null, key)
        }
      }
    }
  }
}

/** KStream–KTable join: each stream record looks up the table's current value for its key. */
export function streamTableJoinProcessor (getter: ValueGetterSupplier<unknown, unknown>, joiner: Joiner, leftJoin: boolean): Untyped {
  return processorFrom((ctx) => {
    const table = getter.get()
    table.init(ctx)
    return (record) => {
      if (record.key === null || record.key === undefined) {
        // a null key matches nothing; a left join still emits the record (as Kafka Streams since KIP-962)
        if (leftJoin) ctx.forward({ key: record.key, value: joiner(record.value, null, record.key), timestamp: record.timestamp, headers: record.headers })
        else ctx.recordSkipped('null key in a stream-table join')
        return
      }
      const tableValue = table.get(record.key)
      if (tableValue === undefined && !leftJoin) return
      ctx.forward({ key: record.key, value: joiner(record.value, tableValue ?? null, record.key), timestamp: record.timestamp, headers: record.headers })
    }
  })
}
