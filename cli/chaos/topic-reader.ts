/**
 * Reading topics back the way a downstream consumer sees them: read_committed, from the first offset to the end as
 * it was when the read started, every partition. Plus the offset facts the chaos run checks: open transactions (last
 * stable offset below the high watermark) and whether a consumer group has consumed everything.
 */
import type { ConsumedRecord, KafkaAdmin, KafkaClientFactory, TopicPartition, TopicPartitionOffset } from '../../streams/kafka'
import { topicPartitionKey } from '../../streams/kafka'

export async function partitionsOf (admin: KafkaAdmin, topics: readonly string[]): Promise<TopicPartition[]> {
  if (topics.length === 0) return []
  return (await admin.describeTopics(topics)).flatMap((d) => d.partitions.map((p) => ({ topic: d.name, partition: p.partition })))
}

export interface OpenTransaction extends TopicPartition {
  readonly lastStableOffset: bigint
  readonly highWatermark: bigint
}

/** Partitions whose last stable offset is below the high watermark: a transaction is still open on them. */
export async function openTransactions (admin: KafkaAdmin, partitions: readonly TopicPartition[]): Promise<OpenTransaction[]> {
  if (partitions.length === 0) return []
  const stable = await admin.listOffsets(partitions, 'latest', 'read_committed')
  const high = new Map((await admin.listOffsets(partitions, 'latest', 'read_uncommitted')).map((o) => [topicPartitionKey(o), o.offset]))
  return stable
    .map((s) => ({ topic: s.topic, partition: s.partition, lastStableOffset: s.offset, highWatermark: high.get(topicPartitionKey(s)) ?? s.offset }))
    .filter((o) => o.lastStableOffset < o.highWatermark)
}

/**
 * Calls `onRecord` for every committed record of `topics` (offset order within a partition), up to the last stable
 * offsets taken at the start. Fails after `timeoutMs` without progress.
 */
export async function readCommitted (kafka: KafkaClientFactory, admin: KafkaAdmin, topics: readonly string[], onRecord: (record: ConsumedRecord) => void, timeoutMs = 60_000): Promise<number> {
  return await readTopics(kafka, admin, topics, 'read_committed', onRecord, timeoutMs)
}

/** How many records `topics` hold read_uncommitted: committed ones plus those of aborted transactions. */
export async function countUncommitted (kafka: KafkaClientFactory, admin: KafkaAdmin, topics: readonly string[], timeoutMs = 60_000): Promise<number> {
  return await readTopics(kafka, admin, topics, 'read_uncommitted', () => {}, timeoutMs)
}

async function readTopics (kafka: KafkaClientFactory, admin: KafkaAdmin, topics: readonly string[], isolationLevel: 'read_committed' | 'read_uncommitted', onRecord: (record: ConsumedRecord) => void, timeoutMs: number): Promise<number> {
  const tps = await partitionsOf(admin, topics)
  if (tps.length === 0) return 0
  const ends = new Map((await admin.listOffsets(tps, 'latest', isolationLevel)).map((o) => [topicPartitionKey(o), o.offset]))
  const pending = tps.filter((tp) => (ends.get(topicPartitionKey(tp)) ?? 0n) > 0n)
  if (pending.length === 0) return 0
  const consumer = kafka.createAssignedConsumer({ isolationLevel, autoOffsetReset: 'earliest', maxPartitionFetchBytes: 8 * 1024 * 1024 })
  let count = 0
  try {
    consumer.assign(pending)
    for (const tp of pending) consumer.seek(tp, 'earliest')
    let lastProgress = Date.now()
    const finished = (): boolean => consumer.partitionStates().every((s) => s.position !== null && s.position >= (ends.get(topicPartitionKey(s)) ?? 0n))
    while (!finished()) {
      const batches = await consumer.poll(500)
      for (const batch of batches) {
        const end = ends.get(topicPartitionKey(batch)) ?? 0n
        for (const record of batch.records) {
          if (record.offset >= end) break
          onRecord(record)
          count++
        }
      }
      if (batches.length > 0) lastProgress = Date.now()
      else if (Date.now() - lastProgress > timeoutMs) {
        const behind = consumer.partitionStates().filter((s) => s.position === null || s.position < (ends.get(topicPartitionKey(s)) ?? 0n))
        throw new Error(`reading ${topics.join(', ')}: no progress for ${timeoutMs / 1000} s; still behind on ${behind.map(topicPartitionKey).join(', ')}`)
      }
    }
  } finally {
    await consumer.close()
  }
  return count
}

/**
 * Source partitions of `groupId` that still hold committed data records at or after the group's committed offset.
 * The end offset alone cannot tell: a partition another application writes transactionally ends with a commit
 * marker, which a consumer never processes, so its committed offset stays one below the end. Partitions whose
 * committed offset is below the end are therefore read from the committed offset on to look for real records.
 */
export async function unconsumed (kafka: KafkaClientFactory, admin: KafkaAdmin, groupId: string, partitions: readonly TopicPartition[]): Promise<TopicPartitionOffset[]> {
  const committed = new Map((await admin.listGroupOffsets(groupId)).map((o) => [topicPartitionKey(o), o.offset]))
  const ends = await admin.listOffsets(partitions, 'latest', 'read_committed')
  const behind = ends.filter((e) => (committed.get(topicPartitionKey(e)) ?? 0n) < e.offset)
  if (behind.length === 0) return []
  const consumer = kafka.createAssignedConsumer({ isolationLevel: 'read_committed', autoOffsetReset: 'earliest' })
  const withData = new Map<string, TopicPartitionOffset>()
  try {
    consumer.assign(behind)
    for (const e of behind) consumer.seek(e, committed.get(topicPartitionKey(e)) ?? 'earliest')
    const endOf = new Map(behind.map((e) => [topicPartitionKey(e), e.offset]))
    const deadline = Date.now() + 15_000
    const done = (): boolean => consumer.partitionStates().every((s) => withData.has(topicPartitionKey(s)) || (s.position !== null && s.position >= (endOf.get(topicPartitionKey(s)) ?? 0n)))
    while (!done() && Date.now() < deadline) {
      for (const batch of await consumer.poll(200)) {
        const key = topicPartitionKey(batch)
        const end = endOf.get(key) ?? 0n
        if (batch.records.some((r) => r.offset < end)) withData.set(key, { topic: batch.topic, partition: batch.partition, offset: committed.get(key) ?? 0n })
      }
    }
    if (!done()) for (const e of behind) if (!withData.has(topicPartitionKey(e))) withData.set(topicPartitionKey(e), { ...e, offset: committed.get(topicPartitionKey(e)) ?? 0n })
  } finally {
    await consumer.close()
  }
  return [...withData.values()]
}
