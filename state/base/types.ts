/**
 * The contracts every state store honours. Implementations live in state/rocksdb and state/memory;
 * the layers (metered → change-logging → transactional buffer → bytes engine) live in state/layers.
 *
 * Reads are synchronous: a processor's `process()` is synchronous, as in Kafka Streams. Writes are
 * buffered per task while its Kafka transaction is open (reads see them) and reach the bytes engine
 * in one atomic batch, together with the changelog checkpoint, only after the transaction commits.
 */
import type { Serde } from '../serdes'

export interface KeyValue<K, V> {
  key: K
  value: V
}

/** Where a change-logging store sends its records; the runtime puts them into the task's open transaction. */
export interface ChangelogSink {
  send (topic: string, partition: number, key: Buffer, value: Buffer | null, timestamp: number): void
}

/** Per-store counters a metered store reports to; the runtime binds it to prom-client. */
export interface StoreMetricsRecorder {
  recordLatency (operation: 'get' | 'put' | 'delete' | 'range' | 'commit' | 'restore', store: string, seconds: number): void
  /** a write the store refused on purpose (a window already past retention); Kafka Streams' dropped-records */
  recordDroppedRecord? (store: string, reason: 'expired-window'): void
}

/**
 * Memory bounds for persistent (RocksDB) engines, per store instance (one per store per task).
 * The runtime passes its `rocksdb` config here; a store supplier's own options win over it.
 * See state/rocksdb/rocksdb-config.ts and docs/state.md for the defaults and the memory formula.
 */
export interface RocksDBMemoryOptions {
  blockCacheBytes?: number
  writeBufferBytes?: number
  readCacheBytes?: number
}

export interface StateStoreContext {
  readonly applicationId: string
  /** `<subtopologyId>_<partition>`, as Kafka Streams names tasks */
  readonly taskId: string
  readonly partition: number
  /** the task's own directory; persistent engines keep their files below it */
  readonly taskDir: string
  /** `<applicationId>-<store>-changelog`; absent when logging is disabled */
  readonly changelogTopic?: string
  readonly changelogSink?: ChangelogSink
  readonly metrics?: StoreMetricsRecorder
  /** memory bounds for persistent engines; defaults apply when absent */
  readonly rocksdb?: RocksDBMemoryOptions
  /** record timestamp to stamp changelog records with (the current record's) */
  currentTimestamp (): number
}

/** Next changelog offset to restore from: every changelog record below it is already in the engine. */
export type ChangelogCheckpoint = bigint

/** One changelog record handed to a store during restore. */
export interface ChangelogRecord {
  key: Buffer
  value: Buffer | null
  offset: bigint
}

export interface StateStore {
  readonly name: string
  readonly persistent: boolean
  init (context: StateStoreContext): Promise<void>
  isOpen (): boolean
  /** where restore must start: the checkpoint kept inside the engine, or 0n when there is none */
  checkpoint (): ChangelogCheckpoint
  /** apply restored changelog records directly to the engine and move the checkpoint past them */
  restore (records: ChangelogRecord[]): Promise<void>
  /** after the Kafka transaction committed: write the buffered batch and the new checkpoint atomically */
  commit (checkpoint: ChangelogCheckpoint | undefined): Promise<void>
  /** after the Kafka transaction aborted: forget the buffered writes */
  abort (): void
  close (): Promise<void>
  /** close and delete the store's files (a task that lost its partition for good, or a corrupt store) */
  destroy (): Promise<void>
}

export interface ReadOnlyKeyValueStore<K, V> {
  get (key: K): V | undefined
  /** entries with from <= key <= to in the byte order of the serialized keys; either bound may be omitted */
  range (from: K | undefined, to: K | undefined): Array<KeyValue<K, V>>
  all (): Array<KeyValue<K, V>>
  approximateNumEntries (): number
}

export interface KeyValueStore<K, V> extends StateStore, ReadOnlyKeyValueStore<K, V> {
  put (key: K, value: V): void
  putIfAbsent (key: K, value: V): V | undefined
  /** returns the old value */
  delete (key: K): V | undefined
}

export interface WindowedKey<K> {
  key: K
  windowStart: number
}

export interface ReadOnlyWindowStore<K, V> {
  /** values of `key` whose window start lies in [timeFrom, timeTo], oldest first */
  fetch (key: K, timeFrom: number, timeTo: number): Array<{ windowStart: number, value: V }>
  fetchAll (timeFrom: number, timeTo: number): Array<KeyValue<WindowedKey<K>, V>>
}

export interface WindowStore<K, V> extends StateStore, ReadOnlyWindowStore<K, V> {
  /** windows older than observed stream time minus retention are dropped */
  put (key: K, value: V, windowStart: number): void
  readonly retentionMs: number
}

/** The innermost layer: bytes in, bytes out; one atomic write for a batch plus its checkpoint. */
export interface BytesEngine {
  readonly persistent: boolean
  open (): Promise<void>
  get (key: Buffer): Buffer | undefined
  /** inclusive bounds, ascending byte order */
  range (from: Buffer | undefined, to: Buffer | undefined): Array<[Buffer, Buffer]>
  write (batch: Array<[Buffer, Buffer | null]>, checkpoint: ChangelogCheckpoint | undefined): Promise<void>
  readCheckpoint (): ChangelogCheckpoint | undefined
  approximateNumEntries (): number
  close (): Promise<void>
  destroy (): Promise<void>
}

/** What a topology declares; the runtime builds one store per task from it. */
export interface StoreBuilder<S extends StateStore = StateStore> {
  readonly name: string
  readonly loggingEnabled: boolean
  readonly keySerde: Serde<unknown>
  readonly valueSerde: Serde<unknown>
  /**
   * topic configs for the changelog topic the runtime creates (e.g. window stores ask for
   * cleanup.policy=compact,delete and a retention.ms); absent or empty means plain compaction
   */
  readonly changelogConfig?: Readonly<Record<string, string>>
  build (): S
}
