/**
 * KGroupedStream and TimeWindowedKStream: aggregations into a named store. The processor is named after the store
 * (`<store>-aggregate`) unless a Named is given, so a stateful node's name is as stable as its store's.
 */
import type { Serde } from '../../../state/serdes'
import { Serdes } from '../../../state/serdes-builtin'
import type { KGroupedStream, KTable, TimeWindowedKStream } from '../../dsl/kstream'
import { Materialized, type Named } from '../../dsl/options'
import { TimeWindows, type Windowed } from '../../dsl/windows'
import { windowedAggregateProcessor, aggregateProcessor, windowStoreGetter, type Update } from './aggregate-processors'
import { topologyError, type DslContext, type StreamState, type ValueGetterSupplier } from './dsl-context'
import { addMaterializedStore, windowStoreBuilder } from './stores'
import { storeGetter } from './table-processors'

const countUpdate: Update = (old) => (old === undefined ? 0 : old as number) + 1

export class KGroupedStreamImpl<K, V> implements KGroupedStream<K, V> {
  constructor (private readonly ctx: DslContext, private readonly state: StreamState<K, V>) {}

  count (materialized: Materialized<K, number>, named?: Named): KTable<K, number> {
    return this.aggregateImpl(countUpdate, materialized, Serdes.Int64AsNumber(), named, 'count()')
  }

  reduce (reducer: (aggregate: V, value: V, key: K) => V, materialized: Materialized<K, V>, named?: Named): KTable<K, V> {
    checkFunction(reducer, 'reduce()', 'a reducer')
    const update: Update = (old, key, value) => old === undefined ? value : reducer(old as V, value as V, key as K)
    return this.aggregateImpl(update, materialized, this.state.valueSerde, named, 'reduce()')
  }

  aggregate<VA> (initializer: () => VA, aggregator: (key: K, value: V, aggregate: VA) => VA, materialized: Materialized<K, VA>, named?: Named): KTable<K, VA> {
    checkFunction(initializer, 'aggregate()', 'an initializer')
    checkFunction(aggregator, 'aggregate()', 'an aggregator')
    const update: Update = (old, key, value) => aggregator(key as K, value as V, old === undefined ? initializer() : old as VA)
    return this.aggregateImpl(update, materialized, undefined, named, 'aggregate()')
  }

  windowedBy (windows: TimeWindows): TimeWindowedKStream<K, V> {
    if (!(windows instanceof TimeWindows)) throw topologyError('windowedBy() needs TimeWindows (e.g. TimeWindows.ofSizeAndGrace(sizeMs, graceMs))')
    return new TimeWindowedKStreamImpl(this.ctx, this.state, windows)
  }

  private aggregateImpl<VA> (update: Update, materialized: Materialized<K, VA>, defaultValueSerde: Serde<VA> | undefined, named: Named | undefined,
    operation: string): KTable<K, VA> {
    const storeName = addMaterializedStore(this.ctx, materialized, this.state.keySerde, defaultValueSerde, operation)
    const name = this.ctx.nodeName('', named ?? `${storeName}-aggregate`)
    this.ctx.topology.addProcessor(name, aggregateProcessor(storeName, update), [this.state.node])
    this.ctx.topology.connect(name, [storeName])
    return this.ctx.newTable<K, VA>({
      node: name,
      sourceTopics: this.state.sourceTopics,
      keySerde: materialized.keySerde ?? this.state.keySerde,
      valueSerde: materialized.valueSerde ?? defaultValueSerde,
      getter: storeGetter(storeName) as ValueGetterSupplier<K, VA>,
      storeName
    })
  }
}

export class TimeWindowedKStreamImpl<K, V> implements TimeWindowedKStream<K, V> {
  constructor (private readonly ctx: DslContext, private readonly state: StreamState<K, V>, private readonly windows: TimeWindows) {}

  count (materialized: Materialized<K, number>, named?: Named): KTable<Windowed<K>, number> {
    return this.aggregateImpl(countUpdate, materialized, Serdes.Int64AsNumber(), named, 'windowed count()')
  }

  reduce (reducer: (aggregate: V, value: V, key: K) => V, materialized: Materialized<K, V>, named?: Named): KTable<Windowed<K>, V> {
    checkFunction(reducer, 'windowed reduce()', 'a reducer')
    const update: Update = (old, key, value) => old === undefined ? value : reducer(old as V, value as V, key as K)
    return this.aggregateImpl(update, materialized, this.state.valueSerde, named, 'windowed reduce()')
  }

  aggregate<VA> (initializer: () => VA, aggregator: (key: K, value: V, aggregate: VA) => VA, materialized: Materialized<K, VA>,
    named?: Named): KTable<Windowed<K>, VA> {
    checkFunction(initializer, 'windowed aggregate()', 'an initializer')
    checkFunction(aggregator, 'windowed aggregate()', 'an aggregator')
    const update: Update = (old, key, value) => aggregator(key as K, value as V, old === undefined ? initializer() : old as VA)
    return this.aggregateImpl(update, materialized, undefined, named, 'windowed aggregate()')
  }

  private aggregateImpl<VA> (update: Update, materialized: Materialized<K, VA>, defaultValueSerde: Serde<VA> | undefined, named: Named | undefined,
    operation: string): KTable<Windowed<K>, VA> {
    if (!(materialized instanceof Materialized)) throw topologyError(`${operation} needs Materialized.as("<store name>"): stores are never auto-named`)
    const { sizeMs, graceMs } = this.windows
    const retentionMs = materialized.retentionMs ?? sizeMs + graceMs
    if (retentionMs < sizeMs + graceMs) {
      throw topologyError(`store "${materialized.storeName}": retention ${retentionMs} ms is shorter than window size + grace (${sizeMs + graceMs} ms)`)
    }
    const keySerde = materialized.keySerde ?? this.state.keySerde
    const valueSerde = materialized.valueSerde ?? defaultValueSerde
    if (keySerde === undefined || valueSerde === undefined) {
      throw topologyError(`store "${materialized.storeName}" of ${operation} needs a ${keySerde === undefined ? 'key' : 'value'} serde: ` +
        `Materialized.as("${materialized.storeName}").with${keySerde === undefined ? 'Key' : 'Value'}Serde(...)`)
    }
    const choice = { storeType: materialized.storeType ?? this.ctx.defaultStoreType, loggingEnabled: materialized.loggingEnabled }
    const storeName = materialized.storeName
    this.ctx.topology.addStateStore(windowStoreBuilder(storeName, keySerde, valueSerde, choice, { retentionMs, windowSizeMs: sizeMs, retainDuplicates: false }), [])
    const name = this.ctx.nodeName('', named ?? `${storeName}-aggregate`)
    this.ctx.topology.addProcessor(name, windowedAggregateProcessor(storeName, this.windows, update), [this.state.node])
    this.ctx.topology.connect(name, [storeName])
    return this.ctx.newTable<Windowed<K>, VA>({
      node: name,
      sourceTopics: this.state.sourceTopics,
      keySerde: undefined,
      valueSerde,
      getter: windowStoreGetter(storeName) as ValueGetterSupplier<Windowed<K>, VA>,
      storeName
    })
  }
}

function checkFunction (fn: unknown, operation: string, what: string): void {
  if (typeof fn !== 'function') throw topologyError(`${operation} needs ${what} function`)
}
