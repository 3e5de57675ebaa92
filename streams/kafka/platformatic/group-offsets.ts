/**
 * Reading and writing a consumer group's committed offsets with raw OffsetFetch / OffsetCommit, on the group
 * coordinator. Used by the group consumer (committed / commitOffsets) and the admin client (listGroupOffsets).
 */
import type { TopicPartition, TopicPartitionOffset } from '../port'
import type { Platformatic } from './library'
import type { RawClient } from './raw-client'

function groupByTopic<T extends TopicPartition> (items: readonly T[]): Map<string, T[]> {
  const byTopic = new Map<string, T[]>()
  for (const item of items) {
    const list = byTopic.get(item.topic) ?? []
    list.push(item)
    byTopic.set(item.topic, list)
  }
  return byTopic
}

/**
 * The group's committed offsets: for `partitions`, or for every partition it has one for when null. Partitions
 * without a committed offset are left out. With `requireStable`, the broker answers UNSTABLE_OFFSET_COMMIT
 * (retried here) while a transaction that commits offsets for the partition is still open, so the result never
 * misses a commit that is about to land.
 */
export async function fetchCommittedOffsets (raw: RawClient, operation: string, groupId: string, partitions: readonly TopicPartition[] | null, requireStable = true): Promise<TopicPartitionOffset[]> {
  const topics = partitions === null
    ? null
    : [...groupByTopic(partitions)].map(([name, list]) => ({ name, partitionIndexes: list.map((tp) => tp.partition) }))
  const request: Platformatic.offsetFetchV9.OffsetFetchRequestGroup[] = [{ groupId, memberId: null, memberEpoch: -1, topics }]
  const response = await raw.withRetry(operation, async () => {
    const connection = await raw.coordinatorConnection('group', groupId)
    return raw.request<[typeof request, boolean], Platformatic.offsetFetchV9.OffsetFetchResponse>('OffsetFetch', connection, request, requireStable)
  }, { coordinator: ['group', groupId] })
  const out: TopicPartitionOffset[] = []
  for (const group of response.groups) {
    for (const topic of group.topics) {
      for (const p of topic.partitions) {
        if (p.committedOffset >= 0n) out.push({ topic: topic.name, partition: p.partitionIndex, offset: p.committedOffset })
      }
    }
  }
  return out
}

export interface GroupIdentity {
  readonly groupId: string
  readonly generationId: number
  readonly memberId: string
  readonly groupInstanceId: string | null
}

/** Commits offsets as member `identity` (a stale generation fails with DEVTRIP_TASK_MIGRATED). */
export async function commitGroupOffsets (raw: RawClient, identity: GroupIdentity, offsets: readonly TopicPartitionOffset[]): Promise<void> {
  if (offsets.length === 0) return
  const topics: Platformatic.offsetCommitV9.OffsetCommitRequestTopic[] = [...groupByTopic(offsets)].map(([name, list]) => ({
    name,
    partitions: list.map((o) => ({ partitionIndex: o.partition, committedOffset: o.offset, committedLeaderEpoch: -1, committedMetadata: null }))
  }))
  await raw.withRetry('commitOffsets', async () => {
    const connection = await raw.coordinatorConnection('group', identity.groupId)
    await raw.request<[string, number, string, string | null, typeof topics], unknown>(
      'OffsetCommit', connection, identity.groupId, identity.generationId, identity.memberId, identity.groupInstanceId, topics)
  }, { coordinator: ['group', identity.groupId] })
}
