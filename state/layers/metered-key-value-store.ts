/**
 * The top of a key-value store: typed keys and values through serdes, and per-operation latency through the
 * context's metrics recorder (when the runtime bound one). Everything below speaks bytes.
 */
import type { ChangelogCheckpoint, ChangelogRecord, KeyValue, KeyValueStore, StateStoreContext, StoreMetricsRecorder } from '../base/types'
import type { KeyValueBytesStore } from '../base/bytes-store'
import type { Serde } from '../serdes'
import { timed, timedAsync } from './latency'
import { SerdeGuard } from './serde-guard'
import { WrappedStateStore } from './wrapped-state-store'

type Operation = Parameters<StoreMetricsRecorder['recordLatency']>[0]

export class MeteredKeyValueStore<K, V> extends WrappedStateStore<KeyValueBytesStore> implements KeyValueStore<K, V> {
  private readonly keys: SerdeGuard<K>
  private readonly values: SerdeGuard<V>
  private metrics: StoreMetricsRecorder | undefined

  constructor (inner: KeyValueBytesStore, keySerde: Serde<K>, valueSerde: Serde<V>) {
    super(inner)
    this.keys = new SerdeGuard(inner.name, 'key', keySerde)
    this.values = new SerdeGuard(inner.name, 'value', valueSerde)
  }

  override async init (context: StateStoreContext): Promise<void> {
    await super.init(context)
    this.metrics = context.metrics
  }

  private recorder (operation: Operation): ((seconds: number) => void) | undefined {
    const metrics = this.metrics
    return metrics === undefined ? undefined : (seconds) => metrics.recordLatency(operation, this.name, seconds)
  }

  get (key: K): V | undefined {
    return timed(this.recorder('get'), () => {
      const bytes = this.inner.get(this.keys.serialize(key))
      return bytes === undefined ? undefined : this.values.deserialize(bytes)
    })
  }

  put (key: K, value: V): void {
    timed(this.recorder('put'), () => {
      this.inner.put(this.keys.serialize(key), this.values.serialize(value))
    })
  }

  /** stores the value only when the key is absent; returns the value already there, if any */
  putIfAbsent (key: K, value: V): V | undefined {
    return timed(this.recorder('put'), () => {
      const keyBytes = this.keys.serialize(key)
      const existing = this.inner.get(keyBytes)
      if (existing !== undefined) return this.values.deserialize(existing)
      this.inner.put(keyBytes, this.values.serialize(value))
      return undefined
    })
  }

  delete (key: K): V | undefined {
    return timed(this.recorder('delete'), () => {
      const keyBytes = this.keys.serialize(key)
      const old = this.inner.get(keyBytes)
      this.inner.put(keyBytes, null)
      return old === undefined ? undefined : this.values.deserialize(old)
    })
  }

  range (from: K | undefined, to: K | undefined): Array<KeyValue<K, V>> {
    return timed(this.recorder('range'), () => {
      const rows = this.inner.range(from === undefined ? undefined : this.keys.serialize(from), to === undefined ? undefined : this.keys.serialize(to))
      return rows.map(([k, v]) => ({ key: this.keys.deserialize(k), value: this.values.deserialize(v) }))
    })
  }

  all (): Array<KeyValue<K, V>> {
    return this.range(undefined, undefined)
  }

  approximateNumEntries (): number {
    return this.inner.approximateNumEntries()
  }

  override async commit (checkpoint: ChangelogCheckpoint | undefined): Promise<void> {
    await timedAsync(this.recorder('commit'), async () => { await this.inner.commit(checkpoint) })
  }

  override async restore (records: ChangelogRecord[]): Promise<void> {
    await timedAsync(this.recorder('restore'), async () => { await this.inner.restore(records) })
  }
}
