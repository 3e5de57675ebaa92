/**
 * Offset requests on kafkajs's internal Cluster: ListOffsets with an isolation level (kafkajs's public admin has
 * none), and OffsetFetch / OffsetCommit for one group. Shared by the consumers and the admin.
 */
import { DevtripError } from '../../../events/errors'
import { groupByTopic } from '../common/topic-partitions'
import type { TopicPartition, TopicPartitionOffset } from '../port'
import { topicPartitionKey } from '../port'
import { hasKafkaError, isRetriable, protocolError, translateError } from './errors'
import { READ_COMMITTED, READ_UNCOMMITTED, type InternalBroker, type InternalCluster } from './library'

/** Retries `work` on retriable failures (metadata refreshed in between) for up to `budgetMs`. */
export async function withRetry<T> (cluster: InternalCluster, operation: string, budgetMs: number, work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + budgetMs
  for (let attempt = 0; ; attempt++) {
    try {
      return await work()
    } catch (error) {
      if (!isRetriable(error) || Date.now() >= deadline) throw translateError(error, operation)
      await cluster.refreshMetadata().catch(() => undefined)
      await new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** attempt, 1000)))
    }
  }
}

/** Partition count of each topic; DEVTRIP_UNKNOWN_TOPIC naming every missing one. */
export async function partitionCounts (cluster: InternalCluster, operation: string, topics: readonly string[], budgetMs: number): Promise<Map<string, number>> {
  const unique = [...new Set(topics)]
  const metadata = await withRetry(cluster, operation, budgetMs, () => cluster.metadata({ topics: unique }).catch((error: unknown) => {
    // one missing topic fails the whole Metadata request in kafkajs; find out which below
    if (hasKafkaError(error, 'UNKNOWN_TOPIC_OR_PARTITION')) return null
    throw error
  }))
  const counts = new Map<string, number>()
  for (const t of metadata?.topicMetadata ?? []) if (t.topicErrorCode === 0) counts.set(t.topic, t.partitionMetadata.length)
  if (metadata === null) {
    for (const topic of unique) {
      const one = await cluster.metadata({ topics: [topic] }).catch(() => null)
      const t = one?.topicMetadata.find((m) => m.topic === topic)
      if (t !== undefined && t.topicErrorCode === 0) counts.set(topic, t.partitionMetadata.length)
    }
  }
  const missing = unique.filter((t) => !counts.has(t))
  if (missing.length > 0) {
    throw new DevtripError('DEVTRIP_UNKNOWN_TOPIC', `${operation}: ${missing.map((m) => `topic "${m}"`).join(', ')} ${missing.length === 1 ? 'does' : 'do'} not exist`, {
      details: { topic: missing[0], topics: missing, hint: 'create it first: bin/devtrip-streams topics apply' }
    })
  }
  return counts
}

/** The leader of every partition (metadata refreshed for these topics first). */
export async function leaders (cluster: InternalCluster, operation: string, partitions: readonly TopicPartition[], budgetMs: number): Promise<Map<number, TopicPartition[]>> {
  const topics = [...new Set(partitions.map((tp) => tp.topic))]
  await partitionCounts(cluster, operation, topics, budgetMs)
  await withRetry(cluster, operation, budgetMs, () => cluster.addMultipleTargetTopics(topics))
  const byLeader = new Map<number, TopicPartition[]>()
  for (const tp of partitions) {
    const leader = cluster.findTopicPartitionMetadata(tp.topic).find((p) => p.partitionId === tp.partition)?.leader
    if (leader === undefined || leader < 0) {
      throw new DevtripError('DEVTRIP_KAFKA', `${operation}: ${topicPartitionKey(tp)} has no leader`, { canRetry: true, details: { ...tp } })
    }
    const list = byLeader.get(leader) ?? []
    list.push(tp)
    byLeader.set(leader, list)
  }
  return byLeader
}

/** ListOffsets: `timestamp` is '-2' (earliest), '-1' (latest) or ms; -1 in the result means "no such record". */
export async function listOffsets (cluster: InternalCluster, operation: string, partitions: readonly TopicPartition[], timestamp: string,
  isolation: 'read_committed' | 'read_uncommitted', budgetMs: number): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>()
  if (partitions.length === 0) return out
  return withRetry(cluster, operation, budgetMs, async () => {
    const byLeader = await leaders(cluster, operation, partitions, budgetMs)
    await Promise.all([...byLeader].map(async ([nodeId, tps]) => {
      const broker = await cluster.findBroker({ nodeId })
      const topics = [...groupByTopic(tps, (tp) => ({ partition: tp.partition, timestamp }))].map(([topic, list]) => ({ topic, partitions: list }))
      const response = await broker.listOffsets({ replicaId: -1, isolationLevel: isolation === 'read_committed' ? READ_COMMITTED : READ_UNCOMMITTED, topics })
      for (const t of response.responses) {
        for (const p of t.partitions) {
          if (p.errorCode !== 0) throw protocolError(p.errorCode)
          out.set(topicPartitionKey({ topic: t.topic, partition: p.partition }), BigInt(p.offset))
        }
      }
    }))
    return out
  })
}

async function coordinator (cluster: InternalCluster, groupId: string): Promise<InternalBroker> {
  return cluster.findGroupCoordinator({ groupId })
}

/**
 * The group's committed offsets (null partitions = every partition it has one for); absent where none. kafkajs's
 * OffsetFetch stops at v4, before require_stable (v7): a pending transactional commit is not waited for. The
 * runtime reads committed offsets only after the task's producer ran initTransactions, which completes any
 * transaction a previous owner left open, so nothing is pending by then (docs/kafka-port.md).
 */
export async function fetchCommittedOffsets (cluster: InternalCluster, operation: string, groupId: string, partitions: readonly TopicPartition[], budgetMs: number): Promise<TopicPartitionOffset[]> {
  if (partitions.length === 0) return []
  return withRetry(cluster, operation, budgetMs, async () => {
    const broker = await coordinator(cluster, groupId)
    const topics = [...groupByTopic(partitions, (tp) => ({ partition: tp.partition }))].map(([topic, list]) => ({ topic, partitions: list }))
    const response = await broker.offsetFetch({ groupId, topics })
    const out: TopicPartitionOffset[] = []
    for (const t of response.responses) {
      for (const p of t.partitions) {
        if (p.errorCode !== 0) throw protocolError(p.errorCode)
        const offset = BigInt(p.offset)
        if (offset >= 0n) out.push({ topic: t.topic, partition: p.partition, offset })
      }
    }
    return out
  })
}

/** OffsetCommit with the member's generation (no retry: a stale generation must surface as TASK_MIGRATED). */
export async function commitGroupOffsets (cluster: InternalCluster, groupId: string, generationId: number, memberId: string, offsets: readonly TopicPartitionOffset[], budgetMs: number): Promise<void> {
  const topics = [...groupByTopic(offsets, (o) => ({ partition: o.partition, offset: o.offset.toString() }))].map(([topic, partitions]) => ({ topic, partitions }))
  await withRetry(cluster, 'commitOffsets', budgetMs, async () => {
    const broker = await coordinator(cluster, groupId)
    await broker.offsetCommit({ groupId, groupGenerationId: generationId, memberId, topics })
  })
}
