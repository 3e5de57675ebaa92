/** The public face of state/: contracts, serdes, store builders, engines and the state directory. */
export * from './base/types'
export type { Serde, Serializer, Deserializer } from './serdes'
export { Serdes } from './serdes-builtin'
export type { KeyValueBytesStore, WindowBytesStore, WindowedBytes } from './base/bytes-store'
export {
  Stores, KeyValueStoreBuilder, WindowStoreBuilder, WINDOW_CHANGELOG_ADDITIONAL_RETENTION_MS,
  type KeyValueBytesStoreSupplier, type WindowBytesStoreSupplier, type BytesEngineFactory,
  type PersistentStoreOptions, type WindowStoreOptions
} from './builders'
export { StateDirectory } from './state-directory'
export { isProcessAlive, lockOwner, readLockOwner, releaseLockFile, takeLockFile, type LockFileOwner, type TakeLockOptions } from './lock-file'
export { MemoryEngine } from './memory/memory-engine'
export { RocksDBEngine } from './rocksdb/rocksdb-engine'
export { type RocksDBConfig, ROCKSDB_DEFAULTS, resolveRocksDBConfig } from './rocksdb/rocksdb-config'
