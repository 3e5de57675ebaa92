/**
 * The store builders the DevTrip processors declare (through ProcessorSupplier.stores(), so a topology gets each
 * store connected to exactly the processor that owns it). Keys are strings; values JSON or int64.
 */
import { Serdes, Stores, type KeyValueStore, type Serde, type StoreBuilder } from '../state'

/** persistent = RocksDB (production); in-memory = restored from the changelog on every start (tests, small runs) */
export type StoreKind = 'persistent' | 'in-memory'

export function keyValueStoreBuilder<V> (name: string, valueSerde: Serde<V>, kind: StoreKind): StoreBuilder<KeyValueStore<string, V>> {
  const supplier = kind === 'persistent' ? Stores.persistentKeyValueStore(name) : Stores.inMemoryKeyValueStore(name)
  return Stores.keyValueStoreBuilder(supplier, Serdes.String(), valueSerde)
}

export function jsonStoreBuilder<V> (name: string, kind: StoreKind): StoreBuilder<KeyValueStore<string, V>> {
  return keyValueStoreBuilder(name, Serdes.Json<V>(), kind)
}

/** the dedup store of event-dedup.ts: string keys, int64 event times */
export function dedupStoreBuilder (name: string, kind: StoreKind): StoreBuilder<KeyValueStore<string, number>> {
  return keyValueStoreBuilder(name, Serdes.Int64AsNumber(), kind)
}
