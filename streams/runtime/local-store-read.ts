/**
 * Reading a key from the stores of THIS instance (the local half of interactive queries; query-metadata.ts finds
 * the instance). Unlike `StreamsApp.store()`, which only answers "here is the store" or "no", the result says why a
 * key cannot be answered here, so that a caller can choose between 404, 503 and asking someone else:
 *
 *   found      the running task of the key's partition holds the key
 *   absent     the running task(s) checked do not hold it                            → 404 (when all were checked)
 *   notReady   the task of that partition is here but restoring (or suspended mid-rebalance)  → 503, retry
 *   (neither)  this instance has no task for the partition: a rebalance moved it     → ask the owner
 *
 * Reads see the task's open transaction (docs/state.md): like Kafka Streams' interactive queries under
 * exactly-once before KIP-892, a value may belong to a transaction that is still to commit.
 */
import { DevtripError, isDevtripError } from '../../events/errors'
import type { StateStore } from '../../state/base/types'
import type { TopologyMetadata } from '../internals/topology/metadata'
import type { LocalTaskInfo } from './task-manager'

/** What a local read needs of an instance; StreamsApp has all of it. */
export interface LocalStoreSource {
  readonly metadata: TopologyMetadata
  store (name: string, partition: number): StateStore | undefined
  localTasks (): LocalTaskInfo[]
}

export type LocalKeyRead<V> =
  | { readonly status: 'found', readonly partition: number, readonly value: V }
  | {
    readonly status: 'absent'
    /** partitions whose running task was asked and does not hold the key */
    readonly checked: readonly number[]
    /** partitions whose task is here but cannot answer yet (restoring, or suspended during a rebalance) */
    readonly notReady: readonly number[]
  }

export interface LocalReadOptions {
  /** the key's partition (query-metadata.ts); omitted: every local partition of the store is asked */
  readonly partition?: number
}

/** Whether the topology has a store of that name (an unknown name is a caller error, not a miss). */
export function hasStore (source: LocalStoreSource, storeName: string): boolean {
  return source.metadata.subtopologies.some((s) => s.stores.some((st) => st.name === storeName))
}

/**
 * Looks `key` up in the key-value store `storeName` of this instance's tasks (one partition, or all of them).
 * DEVTRIP_INVALID_OPTIONS for a store the topology does not have or one that is not a key-value store.
 */
export function readLocalKey<V = unknown> (source: LocalStoreSource, storeName: string, key: unknown, options: LocalReadOptions = {}): LocalKeyRead<V> {
  if (!hasStore(source, storeName)) {
    throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `application "${source.metadata.applicationId}" has no store "${storeName}"`, { details: { store: storeName } })
  }
  const tasks = source.localTasks()
    .filter((t) => t.stores.includes(storeName) && (options.partition === undefined || t.partition === options.partition))
    .sort((a, b) => a.partition - b.partition)
  const checked: number[] = []
  const notReady: number[] = []
  for (const task of tasks) {
    if (task.status !== 'running') {
      notReady.push(task.partition)
      continue
    }
    const store = source.store(storeName, task.partition) as (StateStore & { get?: (k: unknown) => unknown }) | undefined
    if (store === undefined) {
      notReady.push(task.partition)
      continue
    }
    if (typeof store.get !== 'function') {
      throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `store "${storeName}" is not a key-value store; only key lookups are served`, { details: { store: storeName } })
    }
    let value: unknown
    try {
      value = store.get(key)
    } catch (error) {
      // closed between the task list and the read (a rebalance callback ran): the same as restoring
      if (isDevtripError(error, 'DEVTRIP_STORE_NOT_OPEN')) {
        notReady.push(task.partition)
        continue
      }
      throw error
    }
    if (value !== undefined) return { status: 'found', partition: task.partition, value: value as V }
    checked.push(task.partition)
  }
  return { status: 'absent', checked, notReady }
}
