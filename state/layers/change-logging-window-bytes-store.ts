/**
 * The change-logging layer of a window store: each stored window goes to the changelog under its changelog key
 * ([keyLen][key][windowStart][seq], see base/window-key-layout.ts). Windows refused as expired are not logged;
 * segment drops are not logged either — the changelog topic expires old windows itself through its own
 * retention (the builder asks for cleanup.policy=compact,delete), as in Kafka Streams.
 */
import type { StateStoreContext } from '../base/types'
import type { WindowBytesStore, WindowedBytes } from '../base/bytes-store'
import { type ChangelogTarget, changelogTarget } from './change-logging-bytes-store'
import { WrappedStateStore } from './wrapped-state-store'

export class ChangeLoggingWindowBytesStore extends WrappedStateStore<WindowBytesStore> implements WindowBytesStore {
  private target: ChangelogTarget | undefined

  get retentionMs (): number {
    return this.inner.retentionMs
  }

  override async init (context: StateStoreContext): Promise<void> {
    const target = changelogTarget(this.name, context)
    await super.init(context)
    this.target = target
  }

  put (key: Buffer, value: Buffer, windowStart: number): Buffer | undefined {
    const changelogKey = this.inner.put(key, value, windowStart)
    if (changelogKey !== undefined) {
      const target = this.target as ChangelogTarget
      target.sink.send(target.topic, target.partition, changelogKey, value, target.timestamp())
    }
    return changelogKey
  }

  fetch (key: Buffer, timeFrom: number, timeTo: number): Array<{ windowStart: number, value: Buffer }> {
    return this.inner.fetch(key, timeFrom, timeTo)
  }

  fetchAll (timeFrom: number, timeTo: number): WindowedBytes[] {
    return this.inner.fetchAll(timeFrom, timeTo)
  }
}
