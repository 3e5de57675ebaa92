/**
 * Exactly-once with one transactional producer PER TASK — for Kafka adapters whose `sendOffsetsToTransaction`
 * carries the group id only (capability 'group-id-only', e.g. kafkajs): the broker cannot tell a zombie's offset
 * commit by its group generation, so zombies are fenced by transactional id instead ("EOS alpha" in Kafka Streams).
 *
 *   - Each task gets a producer with transactional id `<applicationId>-<taskId>` when it is CREATED, and
 *     `initTransactions()` runs right then — before the task's input positions are read from the committed offsets.
 *     That bumps the id's epoch, which fences the previous owner of the task (a zombie that lost it in a rebalance
 *     or stalled) and completes (aborts) whatever transaction it left open, so no pending offset commit of the
 *     zombie can land after we read the committed offsets.
 *   - Each task has its own Checkpoint (the record collector its processors write through) on its producer; a commit
 *     runs the usual order PER TASK: flush → await sends → sendOffsetsToTransaction(the task's offsets) →
 *     commitTransaction; the caller then writes the task's stores with the changelog ends (checkpoint.ts).
 *   - The producer is closed with the task.
 *
 * Cost: one producer (one more connection set) per task, and per commit one AddOffsetsToTxn/TxnOffsetCommit/EndTxn
 * round-trip set per task that wrote or consumed something, instead of one per instance (docs/exactly-once.md).
 *
 * This class offers the same surface as Checkpoint, so the StreamsApp drives either the same way.
 */
import { DevtripError, isDevtripError } from '../../events/errors'
import type { ConsumerGroupMetadata, KafkaClientFactory, KafkaProducer, TopicPartitionOffset } from '../kafka/port'
import { topicPartitionKey } from '../kafka/port'
import type { RecordCollector } from '../record-collector'
import { Checkpoint, type CheckpointOptions, type CommitOutcome, type CommitTarget } from './checkpoint'

interface TaskEntry {
  readonly producer: KafkaProducer
  readonly checkpoint: Checkpoint
  /** "topic:partition" of the task's inputs: a commit's offsets are split by them */
  readonly inputs: ReadonlySet<string>
}

export interface TaskProducerSettings {
  readonly applicationId: string
  readonly clientId: string
  readonly transactionTimeoutMs: number
  readonly checkpoint: Omit<CheckpointOptions, 'exactlyOnce'>
}

export class TaskProducers {
  private readonly tasks = new Map<string, TaskEntry>()

  constructor (private readonly kafka: KafkaClientFactory, private readonly settings: TaskProducerSettings) {}

  /** `<applicationId>-<taskId>` */
  transactionalIdOf (taskId: string): string {
    return `${this.settings.applicationId}-${taskId}`
  }

  /**
   * Creates the task's producer and initializes its transactional id (fencing the task's previous owner); returns
   * the collector the task writes through. A task opened again (e.g. after a failed creation) replaces its producer.
   */
  async open (taskId: string, inputs: readonly { topic: string, partition: number }[]): Promise<RecordCollector> {
    await this.close(taskId)
    const producer = this.kafka.createProducer({
      transactionalId: this.transactionalIdOf(taskId),
      transactionTimeoutMs: this.settings.transactionTimeoutMs,
      clientId: `${this.settings.clientId}-producer-${taskId}`
    })
    try {
      await producer.initTransactions()
    } catch (error) {
      await producer.close().catch(() => undefined)
      throw error
    }
    const checkpoint = new Checkpoint(producer, { ...this.settings.checkpoint, exactlyOnce: true })
    this.tasks.set(taskId, { producer, checkpoint, inputs: new Set(inputs.map(topicPartitionKey)) })
    return checkpoint
  }

  /** Aborts the task's open transaction (best effort) and closes its producer. */
  async close (taskId: string): Promise<void> {
    const entry = this.tasks.get(taskId)
    if (entry === undefined) return
    this.tasks.delete(taskId)
    await entry.checkpoint.abort()
    await entry.producer.close().catch(() => undefined)
  }

  async closeAll (): Promise<void> {
    await Promise.all([...this.tasks.keys()].map(async (id) => { await this.close(id) }))
  }

  // ---- the Checkpoint surface, over every task ----

  get uncommittedRecords (): number {
    let n = 0
    for (const t of this.tasks.values()) n += t.checkpoint.uncommittedRecords
    return n
  }

  get inTransaction (): boolean {
    for (const t of this.tasks.values()) if (t.checkpoint.inTransaction) return true
    return false
  }

  /**
   * Commits each task with its own producer, its own offsets (split from `target.offsets` by input partition) and
   * its own transaction; tasks commit concurrently (different producers, different coordinators' queues). Throws the
   * first failure once every task has finished (tasks that committed stay committed; the caller aborts the rest).
   */
  async commit (target: CommitTarget): Promise<CommitOutcome> {
    const byTask = new Map<TaskEntry, TopicPartitionOffset[]>()
    for (const o of target.offsets) {
      const key = topicPartitionKey(o)
      const entry = [...this.tasks.values()].find((t) => t.inputs.has(key))
      if (entry === undefined) continue
      const list = byTask.get(entry) ?? []
      list.push(o)
      byTask.set(entry, list)
    }
    let group: ConsumerGroupMetadata | undefined
    const groupMetadata = (): ConsumerGroupMetadata => { group ??= target.groupMetadata(); return group }
    const outcomes = await Promise.allSettled([...this.tasks.values()].map(async (entry) => {
      const offsets = byTask.get(entry) ?? []
      if (offsets.length === 0 && entry.checkpoint.uncommittedRecords === 0 && !entry.checkpoint.inTransaction) return undefined
      return entry.checkpoint.commit({ offsets, groupMetadata, commitOffsets: target.commitOffsets })
    }))
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected')
    if (failed !== undefined) {
      // a fenced task outranks other failures: the caller must rejoin, not just rewind
      const fenced = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected' && isDevtripError(o.reason, 'DEVTRIP_KAFKA_FENCED'))
      throw (fenced ?? failed).reason
    }
    const changelogEnds = new Map<string, bigint>()
    let records = 0
    for (const o of outcomes) {
      const outcome = (o as PromiseFulfilledResult<CommitOutcome | undefined>).value
      if (outcome === undefined) continue
      records += outcome.records
      for (const [k, v] of outcome.changelogEnds) changelogEnds.set(k, v)
    }
    return { changelogEnds, records }
  }

  /** Aborts every task's open transaction; returns the first failure (a fenced one first), never throws. */
  async abort (): Promise<unknown> {
    const failures = (await Promise.all([...this.tasks.values()].map(async (t) => t.checkpoint.abort()))).filter((f) => f !== undefined)
    return failures.find((f) => isDevtripError(f, 'DEVTRIP_KAFKA_FENCED')) ?? failures[0]
  }
}

/** What the StreamsApp drives at commit and abort time: the instance-wide Checkpoint or the per-task set. */
export type CommitSurface = Pick<Checkpoint, 'uncommittedRecords' | 'inTransaction' | 'commit' | 'abort'>

/** Stands in for the shared collector when every task has its own: a write through it is a wiring bug. */
export const NO_SHARED_COLLECTOR: RecordCollector = {
  send () {
    throw new DevtripError('DEVTRIP_PROCESSING', 'internal error: a task wrote through the shared record collector while each task has its own producer')
  }
}
