/**
 * Brings the stores of newly assigned tasks up to date from their changelogs, on the restore consumer (no group,
 * read_committed), in steps the main loop interleaves with polling the group consumer — restoring a big store
 * never stops the instance from taking part in rebalances.
 *
 * Per store: assign the changelog partition, seek to the store's checkpoint (every changelog record below it is
 * already in the engine), read until the end offset taken when the restore started (the last stable offset, so an
 * open transaction of a dead or zombie owner is never waited for: its records will be aborted), and hand the
 * records to `task.restore` in batches of `batchSize`. Because the checkpoint lives inside the store and only
 * moves after a Kafka commit, a crash leaves only the changelog tail beyond it to read.
 */
import { DevtripError } from '../../events/errors'
import type { ChangelogRecord } from '../../state/base/types'
import type { StreamTask } from '../internals/task/stream-task'
import type { KafkaAdmin, KafkaAssignedConsumer, TopicPartition } from '../kafka/port'
import { topicPartitionKey } from '../kafka/port'

export interface RestoreProgress {
  readonly taskId: string
  readonly store: string
  readonly changelogTopic: string
  readonly partition: number
  readonly startOffset: bigint
  readonly endOffset: bigint
  /** records applied so far for this store */
  readonly restoredRecords: number
}

export interface RestorerHooks {
  /** after each applied batch (records = size of the batch, remaining = end offset − position) */
  onBatch (progress: RestoreProgress, records: number, remaining: bigint): void
  /** one store is up to date */
  onStoreDone (progress: RestoreProgress): void
}

interface Entry {
  readonly task: StreamTask
  readonly store: string
  readonly tp: TopicPartition
  readonly startOffset: bigint
  readonly endOffset: bigint
  restored: number
}

export class ChangelogRestorer {
  /** changelog "topic:partition" → what is being restored there */
  private readonly entries = new Map<string, Entry>()
  /** task id → how many of its stores are still restoring */
  private readonly pendingByTask = new Map<string, number>()

  constructor (
    private readonly consumer: KafkaAssignedConsumer,
    private readonly admin: KafkaAdmin,
    private readonly batchSize: number,
    private readonly hooks: RestorerHooks
  ) {}

  get active (): boolean {
    return this.entries.size > 0
  }

  isRestoring (taskId: string): boolean {
    return this.pendingByTask.has(taskId)
  }

  /**
   * Registers the stores of tasks whose stores were just initialized. Returns the tasks that have nothing to
   * restore (ready to start processing now); the others finish in a later `step()`.
   */
  async add (tasks: readonly StreamTask[]): Promise<StreamTask[]> {
    const wanted = tasks.flatMap((task) => task.storesNeedingRestore().map((s) => ({ task, s })))
    const ends = wanted.length === 0
      ? []
      : await this.admin.listOffsets(wanted.map(({ s }) => ({ topic: s.changelogTopic, partition: s.partition })), 'latest', 'read_committed')
    const endOf = new Map(ends.map((o) => [topicPartitionKey(o), o.offset]))
    const added: Entry[] = []
    for (const { task, s } of wanted) {
      const tp = { topic: s.changelogTopic, partition: s.partition }
      const key = topicPartitionKey(tp)
      const endOffset = endOf.get(key)
      if (endOffset === undefined) throw new DevtripError('DEVTRIP_KAFKA', `restore: no end offset for changelog ${key}`, { canRetry: true })
      if (this.entries.has(key)) throw new DevtripError('DEVTRIP_STATE_STORE', `restore: changelog ${key} is already being restored by task ${(this.entries.get(key) as Entry).task.id}`)
      const entry: Entry = { task, store: s.store, tp, startOffset: s.checkpoint, endOffset, restored: 0 }
      if (s.checkpoint >= endOffset) {
        this.hooks.onStoreDone(progressOf(entry))
        continue
      }
      this.entries.set(key, entry)
      this.pendingByTask.set(task.id, (this.pendingByTask.get(task.id) ?? 0) + 1)
      added.push(entry)
    }
    if (added.length > 0) {
      this.consumer.assign([...this.entries.values()].map((e) => e.tp))
      for (const e of added) this.consumer.seek(e.tp, e.startOffset)
    }
    return tasks.filter((t) => !this.pendingByTask.has(t.id))
  }

  /** Forgets a task (closed or lost while restoring); what it restored so far is in its store with its checkpoint. */
  remove (taskId: string): void {
    if (!this.pendingByTask.delete(taskId)) return
    for (const [key, e] of this.entries) if (e.task.id === taskId) this.entries.delete(key)
    this.consumer.assign([...this.entries.values()].map((e) => e.tp))
  }

  /** Reads one round of changelog records and applies them; returns the tasks whose stores are all restored. */
  async step (maxWaitMs: number): Promise<StreamTask[]> {
    if (this.entries.size === 0) return []
    const batches = await this.consumer.poll(maxWaitMs)
    for (const batch of batches) {
      const entry = this.entries.get(topicPartitionKey(batch))
      if (entry === undefined) continue
      const records: ChangelogRecord[] = []
      for (const r of batch.records) {
        if (r.offset >= entry.endOffset) break
        if (r.key === null) {
          throw new DevtripError('DEVTRIP_STATE_STORE', `restore: changelog record ${topicPartitionKey(batch)}@${String(r.offset)} has no key; the changelog of store "${entry.store}" is corrupt or written by someone else`)
        }
        records.push({ key: r.key, value: r.value, offset: r.offset })
      }
      for (let i = 0; i < records.length; i += this.batchSize) {
        const chunk = records.slice(i, i + this.batchSize)
        await entry.task.restore(entry.store, chunk)
        entry.restored += chunk.length
        const last = (chunk[chunk.length - 1] as ChangelogRecord).offset
        this.hooks.onBatch(progressOf(entry), chunk.length, entry.endOffset - last - 1n)
      }
    }
    const finished: StreamTask[] = []
    let changed = false
    for (const [key, e] of this.entries) {
      const position = this.consumer.position(e.tp)
      if (position === null || position < e.endOffset) continue
      this.entries.delete(key)
      changed = true
      this.hooks.onStoreDone(progressOf(e))
      const left = (this.pendingByTask.get(e.task.id) as number) - 1
      if (left > 0) {
        this.pendingByTask.set(e.task.id, left)
      } else {
        this.pendingByTask.delete(e.task.id)
        finished.push(e.task)
      }
    }
    if (changed) this.consumer.assign([...this.entries.values()].map((e) => e.tp))
    return finished
  }
}

function progressOf (e: Entry): RestoreProgress {
  return {
    taskId: e.task.id,
    store: e.store,
    changelogTopic: e.tp.topic,
    partition: e.tp.partition,
    startOffset: e.startOffset,
    endOffset: e.endOffset,
    restoredRecords: e.restored
  }
}
