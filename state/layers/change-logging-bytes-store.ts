/**
 * The change-logging layer: every write also goes to the store's changelog topic, through the sink the runtime
 * binds to the task's open transaction, so the changelog and the output records commit or abort together.
 * Deletes are logged as tombstones (null), also for keys that were absent, as Kafka Streams does: the
 * changelog records every write, not every change.
 */
import type { ChangelogSink, StateStoreContext } from '../base/types'
import type { KeyValueBytesStore } from '../base/bytes-store'
import { storeError } from '../base/store-errors'
import { WrappedStateStore } from './wrapped-state-store'

export interface ChangelogTarget {
  readonly topic: string
  readonly partition: number
  readonly sink: ChangelogSink
  readonly timestamp: () => number
}

/** what a change-logging layer needs from the context, checked once at init */
export function changelogTarget (store: string, context: StateStoreContext): ChangelogTarget {
  const { changelogTopic, changelogSink, partition } = context
  if (typeof changelogTopic !== 'string' || changelogTopic.length === 0 || changelogSink === undefined) {
    throw storeError(store, 'logging is enabled but the context has no changelogTopic/changelogSink; give both, or build the store withLoggingDisabled()')
  }
  if (!Number.isInteger(partition) || partition < 0) throw storeError(store, `context.partition must be a non-negative integer, got ${String(partition)}`)
  return { topic: changelogTopic, partition, sink: changelogSink, timestamp: () => context.currentTimestamp() }
}

export class ChangeLoggingBytesStore extends WrappedStateStore<KeyValueBytesStore> implements KeyValueBytesStore {
  private target: ChangelogTarget | undefined

  override async init (context: StateStoreContext): Promise<void> {
    const target = changelogTarget(this.name, context)
    await super.init(context)
    this.target = target
  }

  get (key: Buffer): Buffer | undefined {
    return this.inner.get(key)
  }

  range (from: Buffer | undefined, to: Buffer | undefined): Array<[Buffer, Buffer]> {
    return this.inner.range(from, to)
  }

  put (key: Buffer, value: Buffer | null): void {
    this.inner.put(key, value)
    // inner.put threw if the store is closed, so the target is set here
    const target = this.target as ChangelogTarget
    target.sink.send(target.topic, target.partition, key, value, target.timestamp())
  }

  approximateNumEntries (): number {
    return this.inner.approximateNumEntries()
  }
}
