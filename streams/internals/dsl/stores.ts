/**
 * The stores the DSL creates, through the state layer's Stores factory. Every one is explicitly named by the user
 * (Materialized.as / StreamJoined.as); the names below only ever add fixed suffixes.
 */
import type { KeyValueStore, StoreBuilder, WindowStore } from '../../../state/base/types'
import { Stores } from '../../../state/builders'
import type { Serde } from '../../../state/serdes'
import { Materialized, type StoreType } from '../../dsl/options'
import { topologyError, type DslContext } from './dsl-context'

export interface StoreChoice {
  readonly storeType: StoreType
  readonly loggingEnabled: boolean
}

export function keyValueStoreBuilder<K, V> (name: string, keySerde: Serde<K>, valueSerde: Serde<V>, choice: StoreChoice): StoreBuilder<KeyValueStore<K, V>> {
  const supplier = choice.storeType === 'in-memory' ? Stores.inMemoryKeyValueStore(name) : Stores.persistentKeyValueStore(name)
  const builder = Stores.keyValueStoreBuilder(supplier, keySerde, valueSerde)
  return choice.loggingEnabled ? builder : builder.withLoggingDisabled()
}

export function windowStoreBuilder<K, V> (name: string, keySerde: Serde<K>, valueSerde: Serde<V>, choice: StoreChoice,
  window: { retentionMs: number, windowSizeMs: number, retainDuplicates: boolean }): StoreBuilder<WindowStore<K, V>> {
  const supplier = choice.storeType === 'in-memory'
    ? Stores.inMemoryWindowStore(name, window.retentionMs, window.windowSizeMs, window.retainDuplicates)
    : Stores.persistentWindowStore(name, window.retentionMs, window.windowSizeMs, window.retainDuplicates)
  const builder = Stores.windowStoreBuilder(supplier, keySerde, valueSerde)
  return choice.loggingEnabled ? builder : builder.withLoggingDisabled()
}

/** Adds the key-value store a Materialized names (not yet connected); serdes default to the stream's. */
export function addMaterializedStore<K, V> (ctx: DslContext, materialized: Materialized<K, V>, keySerde: Serde<K> | undefined,
  valueSerde: Serde<V> | undefined, operation: string): string {
  if (!(materialized instanceof Materialized)) {
    throw topologyError(`${operation} needs Materialized.as("<store name>"): stores are never auto-named`)
  }
  const k = materialized.keySerde ?? keySerde
  const v = materialized.valueSerde ?? valueSerde
  if (k === undefined || v === undefined) {
    throw topologyError(`store "${materialized.storeName}" of ${operation} needs a ${k === undefined ? 'key' : 'value'} serde: ` +
      `Materialized.as("${materialized.storeName}").with${k === undefined ? 'Key' : 'Value'}Serde(...)`)
  }
  const choice = { storeType: materialized.storeType ?? ctx.defaultStoreType, loggingEnabled: materialized.loggingEnabled }
  ctx.topology.addStateStore(keyValueStoreBuilder(materialized.storeName, k, v, choice), [])
  return materialized.storeName
}
