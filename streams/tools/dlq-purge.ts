/**
 * `dlq purge`: marks dead-letter records as handled without replaying them, by moving the replay group's
 * committed offsets forward (never backward: that would let a later replay republish records twice), and
 * optionally deletes the records before those offsets from the log (Kafka DeleteRecords).
 *
 * The move is a transactional offset commit with the replay's transactional id, so a purge fences a replay of
 * the same DLQ that is still running instead of racing it. `planPurge` computes what would change (for the
 * confirmation prompt and --dry-run); `applyPurge` does it.
 */
import { DevtripError } from '../../events/errors'
import type { KafkaAdmin, KafkaClientFactory, TopicPartitionOffset } from '../kafka/port'
import { loadMarkers, markerKey, replayedUpTo, replayGroupId } from './dlq-markers'
import { scanRanges, topicRanges, type ScanOptions } from './topic-scan'

/** Where to move to: an offset (every partition), a time (first record at or after it, per partition), or the end. */
export type PurgeBefore = { readonly offset: bigint } | { readonly timestamp: number } | 'end'

export interface PurgePartitionPlan {
  readonly partition: number
  /** committed offset of the replay group now (log start when none) */
  readonly from: bigint
  /** committed offset after the purge (= from when nothing moves) */
  readonly to: bigint
  /** pending records (not replayed yet) the move marks handled */
  readonly records: number
}

export interface PurgePlan {
  readonly dlqTopic: string
  readonly groupId: string
  readonly partitions: readonly PurgePartitionPlan[]
  readonly records: number
  readonly deleteRecords: boolean
}

export interface PurgeResult extends PurgePlan {
  /** the new log start offsets, when records were deleted */
  readonly logStartOffsets: ReadonlyArray<{ readonly partition: number, readonly offset: string }> | null
}

export async function planPurge (kafka: KafkaClientFactory, admin: KafkaAdmin, dlqTopic: string, before: PurgeBefore, deleteRecords: boolean, onProgress?: ScanOptions['onProgress']): Promise<PurgePlan> {
  const upTo = await replayedUpTo(admin, dlqTopic)
  const ranges = await topicRanges(admin, dlqTopic, (p, start) => upTo.get(p) ?? start)
  let targets: Map<number, bigint>
  if (before === 'end') targets = new Map(ranges.map((r) => [r.partition, r.to]))
  else if ('offset' in before) targets = new Map(ranges.map((r) => [r.partition, before.offset < r.to ? before.offset : r.to]))
  else {
    const found = await admin.listOffsets(ranges, { timestamp: before.timestamp }, 'read_committed')
    targets = new Map(found.map((o) => [o.partition, o.offset]))
  }
  const partitions = ranges.map((r): PurgePartitionPlan => {
    const target = targets.get(r.partition)!
    return { partition: r.partition, from: r.from, to: target > r.from ? target : r.from, records: 0 }
  })
  // count what is really pending in the moved spans: committed records that no filtered replay marked
  const markers = await loadMarkers(kafka, admin, dlqTopic)
  const counts = new Map<number, number>()
  await scanRanges(kafka, partitions.map((p) => ({ topic: dlqTopic, partition: p.partition, from: p.from, to: p.to })), (record) => {
    if (!markers.has(markerKey(record.partition, record.offset))) counts.set(record.partition, (counts.get(record.partition) ?? 0) + 1)
  }, { onProgress })
  const counted = partitions.map((p) => ({ ...p, records: counts.get(p.partition) ?? 0 }))
  return { dlqTopic, groupId: replayGroupId(dlqTopic), partitions: counted, records: counted.reduce((s, p) => s + p.records, 0), deleteRecords }
}

export async function applyPurge (kafka: KafkaClientFactory, admin: KafkaAdmin, plan: PurgePlan): Promise<PurgeResult> {
  const moves: TopicPartitionOffset[] = plan.partitions.filter((p) => p.to > p.from).map((p) => ({ topic: plan.dlqTopic, partition: p.partition, offset: p.to }))
  if (moves.length > 0) await commitTransactionally(kafka, plan, moves)
  let logStartOffsets: PurgeResult['logStartOffsets'] = null
  if (plan.deleteRecords) {
    const targets = plan.partitions.filter((p) => p.to > 0n).map((p) => ({ topic: plan.dlqTopic, partition: p.partition, offset: p.to }))
    const deleted = targets.length === 0 ? [] : await admin.deleteRecords(targets)
    logStartOffsets = deleted.map((d) => ({ partition: d.partition, offset: d.offset.toString() }))
  }
  return { ...plan, logStartOffsets }
}

async function commitTransactionally (kafka: KafkaClientFactory, plan: PurgePlan, moves: TopicPartitionOffset[]): Promise<void> {
  const producer = kafka.createProducer({ transactionalId: plan.groupId, clientId: 'devtrip-dlq-purge' })
  const consumer = kafka.createGroupConsumer({
    groupId: plan.groupId, clientId: 'devtrip-dlq-purge', sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1000, rebalanceTimeoutMs: 10_000
  })
  try {
    await producer.initTransactions()
    consumer.subscribe([plan.dlqTopic])
    // join the group (a commit needs a generation); fetching nothing: every partition is paused once assigned
    const deadline = Date.now() + 60_000
    while (consumer.assignment().length === 0) {
      if (Date.now() > deadline) throw new DevtripError('DEVTRIP_TIMEOUT', `purge: could not join ${plan.groupId} within 60 s`, { canRetry: true })
      await consumer.poll(0)
      if (consumer.assignment().length > 0) consumer.pause(consumer.assignment())
    }
    if (consumer.assignment().length < plan.partitions.length) {
      throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `purge: another member of ${plan.groupId} holds partitions (is a replay of ${plan.dlqTopic} running?)`, {
        details: { hint: 'wait for the replay to finish, then purge' }
      })
    }
    // a replay that finished in the meantime may have moved further: never go back
    const current = new Map((await consumer.committed(moves)).map((c) => [c.partition, c.offset]))
    const forward = moves.filter((m) => (current.get(m.partition) ?? -1n) < m.offset)
    if (forward.length === 0) return
    await producer.beginTransaction()
    try {
      await producer.sendOffsetsToTransaction(forward, consumer.groupMetadata())
      await producer.commitTransaction()
    } catch (error) {
      await producer.abortTransaction().catch(() => undefined)
      throw error
    }
  } finally {
    await Promise.allSettled([consumer.close(), producer.close()])
  }
}
