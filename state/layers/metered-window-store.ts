/**
 * The top of a window store: typed keys and values through serdes, latency through the context's metrics
 * recorder (fetches are reported as 'range'). Everything below speaks bytes.
 */
import type { ChangelogCheckpoint, ChangelogRecord, KeyValue, StateStoreContext, StoreMetricsRecorder, WindowStore, WindowedKey } from '../base/types'
import type { WindowBytesStore } from '../base/bytes-store'
import type { Serde } from '../serdes'
import { timed, timedAsync } from './latency'
import { SerdeGuard } from './serde-guard'
import { WrappedStateStore } from './wrapped-state-store'

type Operation = Parameters<StoreMetricsRecorder['recordLatency']>[0]

export class MeteredWindowStore<K, V> extends WrappedStateStore<WindowBytesStore> implements WindowStore<K, V> {
  private readonly keys: SerdeGuard<K>
  private readonly values: SerdeGuard<V>
  private metrics: StoreMetricsRecorder | undefined

  constructor (inner: WindowBytesStore, keySerde: Serde<K>, valueSerde: Serde<V>, readonly windowSizeMs: number) {
    super(inner)
    this.keys = new SerdeGuard(inner.name, 'key', keySerde)
    this.values = new SerdeGuard(inner.name, 'value', valueSerde)
  }

  get retentionMs (): number {
    return this.inner.retentionMs
  }

  override async init (context: StateStoreContext): Promise<void> {
    await super.init(context)
    this.metrics = context.metrics
  }

  private recorder (operation: Operation): ((seconds: number) => void) | undefined {
    const metrics = this.metrics
    return metrics === undefined ? undefined : (seconds) => metrics.recordLatency(operation, this.name, seconds)
  }

  put (key: K, value: V, windowStart: number): void {
    timed(this.recorder('put'), () => {
      this.inner.put(this.keys.serialize(key), this.values.serialize(value), windowStart)
    })
  }

  fetch (key: K, timeFrom: number, timeTo: number): Array<{ windowStart: number, value: V }> {
    return timed(this.recorder('range'), () =>
      this.inner.fetch(this.keys.serialize(key), timeFrom, timeTo).map(({ windowStart, value }) => ({ windowStart, value: this.values.deserialize(value) })))
  }

  fetchAll (timeFrom: number, timeTo: number): Array<KeyValue<WindowedKey<K>, V>> {
    return timed(this.recorder('range'), () =>
      this.inner.fetchAll(timeFrom, timeTo).map(({ key, windowStart, value }) => ({
        key: { key: this.keys.deserialize(key), windowStart },
        value: this.values.deserialize(value)
      })))
  }

  override async commit (checkpoint: ChangelogCheckpoint | undefined): Promise<void> {
    await timedAsync(this.recorder('commit'), async () => { await this.inner.commit(checkpoint) })
  }

  override async restore (records: ChangelogRecord[]): Promise<void> {
    await timedAsync(this.recorder('restore'), async () => { await this.inner.restore(records) })
  }
}
