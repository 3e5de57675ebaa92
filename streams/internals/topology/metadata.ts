/**
 * What the runtime needs to know about a topology before it can create tasks: which topics each sub-topology reads
 * (and which of them must be co-partitioned), its stores and their changelog topics, and the repartition topics it
 * must create with their partition counts. All names are resolved for one application id.
 */
import { DevtripError } from '../../../events/errors'
import type { InternalTopology, StoreDef } from './internal-topology'

export interface StoreMetadata {
  readonly name: string
  /** `<applicationId>-<store>-changelog`; undefined when logging is disabled */
  readonly changelogTopic: string | undefined
  /** topic configs the store asks for on its changelog (window stores: compact,delete and a retention) */
  readonly changelogConfig: Readonly<{ [key: string]: string }>
}

export interface SubtopologyMetadata {
  readonly id: number
  /** resolved source topics (user and repartition) in declaration order */
  readonly sourceTopics: readonly string[]
  readonly repartitionSourceTopics: readonly string[]
  readonly sinkTopics: readonly string[]
  readonly stores: readonly StoreMetadata[]
  /** each group must have the same partition count (joined streams and tables) */
  readonly copartitionGroups: ReadonlyArray<readonly string[]>
}

export interface RepartitionTopicMetadata {
  readonly name: string
  /** explicit count from Repartitioned.withNumberOfPartitions; undefined means: as many as the writing sub-topology has tasks */
  readonly numPartitions: number | undefined
  readonly writtenBy: readonly number[]
  readonly readBy: number
}

export interface TopologyMetadata {
  readonly applicationId: string
  readonly subtopologies: readonly SubtopologyMetadata[]
  /** user (non-internal) topics read by the topology */
  readonly sourceTopics: readonly string[]
  /** user (non-internal) topics written by sinks */
  readonly sinkTopics: readonly string[]
  readonly repartitionTopics: readonly RepartitionTopicMetadata[]
  readonly changelogTopics: ReadonlyArray<{
    readonly topic: string
    readonly store: string
    readonly subtopology: number
    readonly config: Readonly<{ [key: string]: string }>
  }>
}

export function changelogTopicName (applicationId: string, store: string): string {
  return `${applicationId}-${store}-changelog`
}

export function buildTopologyMetadata (topology: InternalTopology, applicationId: string): TopologyMetadata {
  const resolve = (t: string): string => topology.resolveTopic(applicationId, t)
  const subs = topology.subtopologies()
  const sourceTopics: string[] = []
  const sinkTopics: string[] = []
  const changelogTopics: Array<{ topic: string, store: string, subtopology: number, config: { [key: string]: string } }> = []
  const writers = new Map<string, number[]>()
  const readers = new Map<string, number>()
  const subtopologies = subs.map((sub): SubtopologyMetadata => {
    for (const t of sub.sourceTopics) {
      if (topology.internalTopics.has(t)) readers.set(t, sub.id)
      else sourceTopics.push(t)
    }
    for (const t of sub.sinkTopics) {
      if (topology.internalTopics.has(t)) writers.set(t, [...(writers.get(t) ?? []), sub.id])
      else if (!sinkTopics.includes(t)) sinkTopics.push(t)
    }
    const stores = sub.stores.map((name): StoreMetadata => {
      const builder = (topology.stores.get(name) as StoreDef).builder
      const changelogTopic = builder.loggingEnabled ? changelogTopicName(applicationId, name) : undefined
      const changelogConfig = changelogTopic === undefined ? {} : { ...(builder.changelogConfig ?? {}) }
      if (changelogTopic !== undefined) changelogTopics.push({ topic: changelogTopic, store: name, subtopology: sub.id, config: changelogConfig })
      return { name, changelogTopic, changelogConfig }
    })
    return {
      id: sub.id,
      sourceTopics: sub.sourceTopics.map(resolve),
      repartitionSourceTopics: sub.sourceTopics.filter((t) => topology.internalTopics.has(t)).map(resolve),
      sinkTopics: sub.sinkTopics.map(resolve),
      stores,
      copartitionGroups: sub.copartitionGroups.map((g) => g.map(resolve))
    }
  })
  const repartitionTopics = [...topology.internalTopics.values()].map((t): RepartitionTopicMetadata => ({
    name: resolve(t.name),
    numPartitions: t.numPartitions,
    writtenBy: writers.get(t.name) ?? [],
    readBy: readers.get(t.name) as number
  }))
  return { applicationId, subtopologies, sourceTopics, sinkTopics, repartitionTopics, changelogTopics }
}

/**
 * Partition counts of every source topic (user topics from `partitionsOf`, repartition topics derived), and the
 * number of tasks per sub-topology (the largest partition count among its sources, as in Kafka Streams).
 * A repartition topic without an explicit count gets the task count of the sub-topologies writing it; that may
 * depend on other repartition topics, so this iterates until nothing changes.
 */
export function resolvePartitionCounts (metadata: TopologyMetadata, partitionsOf: (topic: string) => number):
{ topics: Map<string, number>, tasksPerSubtopology: Map<number, number> } {
  const topics = new Map<string, number>()
  for (const t of metadata.sourceTopics) {
    const n = partitionsOf(t)
    if (!Number.isInteger(n) || n < 1) throw new DevtripError('DEVTRIP_UNKNOWN_TOPIC', `source topic "${t}" has no partitions (does it exist?)`, { details: { topic: t } })
    topics.set(t, n)
  }
  for (const r of metadata.repartitionTopics) if (r.numPartitions !== undefined) topics.set(r.name, r.numPartitions)
  const tasks = new Map<number, number>()
  let changed = true
  while (changed) {
    changed = false
    for (const sub of metadata.subtopologies) {
      const known = sub.sourceTopics.map((t) => topics.get(t))
      if (known.some((n) => n === undefined) || tasks.has(sub.id)) continue
      tasks.set(sub.id, Math.max(...(known as number[])))
      changed = true
    }
    for (const r of metadata.repartitionTopics) {
      if (topics.has(r.name)) continue
      const counts = r.writtenBy.map((id) => tasks.get(id))
      if (counts.length === 0 || counts.some((n) => n === undefined)) continue
      topics.set(r.name, Math.max(...(counts as number[])))
      changed = true
    }
  }
  for (const sub of metadata.subtopologies) {
    if (!tasks.has(sub.id)) {
      throw new DevtripError('DEVTRIP_TOPOLOGY', `cannot derive the partition count of sub-topology ${sub.id}: its repartition topics form a cycle; give one of them Repartitioned.withNumberOfPartitions(n)`)
    }
  }
  return { topics, tasksPerSubtopology: tasks }
}
