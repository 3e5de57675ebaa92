/**
 * Small list operations on topic-partitions that every adapter needs to build requests (which are grouped by
 * topic) and to answer in a stable order.
 */
import type { TopicPartition } from '../port'
import { topicPartitionKey } from '../port'

/** `map` of each item, grouped by topic; topics in order of first appearance, items in input order. */
export function groupByTopic<T extends TopicPartition, P> (items: readonly T[], map: (item: T) => P): Map<string, P[]> {
  const out = new Map<string, P[]>()
  for (const item of items) {
    const list = out.get(item.topic) ?? []
    list.push(map(item))
    out.set(item.topic, list)
  }
  return out
}

/** Each partition once (plain `{ topic, partition }` copies, so extra fields of the caller's objects stay behind). */
export function dedupePartitions (partitions: readonly TopicPartition[]): TopicPartition[] {
  const seen = new Map<string, TopicPartition>()
  for (const tp of partitions) seen.set(topicPartitionKey(tp), { topic: tp.topic, partition: tp.partition })
  return [...seen.values()]
}

/** Sorts in place by topic, then partition: the order the admin calls answer in. */
export function sortByTopicPartition<T extends TopicPartition> (items: T[]): T[] {
  return items.sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1))
}

