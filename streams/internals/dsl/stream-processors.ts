/**
 * The stateless KStream operators as processors. Each forwards a new record object only when something changed
 * (the record is immutable by convention); a callback's exception is a processing error of that node.
 */
import type { KeyValue } from '../../../state/base/types'
import type { ProcessorSupplier } from '../../processor'
import type { Record } from '../../record'
import type { InternalProcessorContext } from '../task/nodes'

type Untyped = ProcessorSupplier<unknown, unknown, unknown, unknown>
type ProcessFn = (record: Record<unknown, unknown>) => void

/** A supplier from a closure: `make` runs in init() with the task's context and returns the per-record function. */
export function processorFrom (make: (context: InternalProcessorContext) => ProcessFn): Untyped {
  return {
    get: () => {
      let process: ProcessFn | undefined
      return {
        init (context) { process = make(context as InternalProcessorContext) },
        process (record) { (process as ProcessFn)(record) }
      }
    }
  }
}

export function passThrough (): Untyped {
  return processorFrom((ctx) => (record) => { ctx.forward(record) })
}

export function filterProcessor (predicate: (key: unknown, value: unknown) => boolean, negate: boolean): Untyped {
  return processorFrom((ctx) => (record) => {
    if (Boolean(predicate(record.key, record.value)) !== negate) ctx.forward(record)
  })
}

export function mapProcessor (mapper: (key: unknown, value: unknown) => KeyValue<unknown, unknown>): Untyped {
  return processorFrom((ctx) => (record) => {
    const kv = mapper(record.key, record.value)
    ctx.forward({ key: kv.key, value: kv.value, timestamp: record.timestamp, headers: record.headers })
  })
}

export function mapValuesProcessor (mapper: (value: unknown, key: unknown) => unknown): Untyped {
  return processorFrom((ctx) => (record) => {
    ctx.forward({ key: record.key, value: mapper(record.value, record.key), timestamp: record.timestamp, headers: record.headers })
  })
}

export function flatMapProcessor (mapper: (key: unknown, value: unknown) => Iterable<KeyValue<unknown, unknown>>): Untyped {
  return processorFrom((ctx) => (record) => {
    for (const kv of mapper(record.key, record.value)) ctx.forward({ key: kv.key, value: kv.value, timestamp: record.timestamp, headers: record.headers })
  })
}

export function flatMapValuesProcessor (mapper: (value: unknown, key: unknown) => Iterable<unknown>): Untyped {
  return processorFrom((ctx) => (record) => {
    for (const value of mapper(record.value, record.key)) ctx.forward({ key: record.key, value, timestamp: record.timestamp, headers: record.headers })
  })
}

export function selectKeyProcessor (mapper: (key: unknown, value: unknown) => unknown): Untyped {
  return processorFrom((ctx) => (record) => {
    ctx.forward({ key: mapper(record.key, record.value), value: record.value, timestamp: record.timestamp, headers: record.headers })
  })
}

export function peekProcessor (action: (key: unknown, value: unknown) => void): Untyped {
  return processorFrom((ctx) => (record) => {
    action(record.key, record.value)
    ctx.forward(record)
  })
}

/** Before a repartition for grouping or joining: a null key has no partition and cannot be grouped. */
export function dropNullKeyProcessor (purpose: string): Untyped {
  return processorFrom((ctx) => (record) => {
    if (record.key === null || record.key === undefined) ctx.recordSkipped(`null key before ${purpose}`)
    else ctx.forward(record)
  })
}

/**
 * split(): the first matching predicate's child gets the record; `defaultChild` (if any) gets the rest. The arrays
 * grow while branch() calls add branches — the topology is complete before any task calls get().
 */
export function branchProcessor (predicates: Array<(key: unknown, value: unknown) => boolean>, children: string[],
  defaultChild: { name: string | undefined }): Untyped {
  return processorFrom((ctx) => (record) => {
    for (let i = 0; i < predicates.length; i++) {
      if ((predicates[i] as (key: unknown, value: unknown) => boolean)(record.key, record.value)) {
        ctx.forward(record, children[i])
        return
      }
    }
    if (defaultChild.name !== undefined) ctx.forward(record, defaultChild.name)
  })
}
