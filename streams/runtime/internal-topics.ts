/**
 * Start-up checks and topic creation, before the app joins its group:
 *   1. the user topics it reads and writes must exist (topics are never auto-created: a typo must not become a
 *      silent empty topic) — DEVTRIP_UNKNOWN_TOPIC names every missing one;
 *   2. topics a sub-topology joins must have equal partition counts — DEVTRIP_TOPOLOGY names them and their counts;
 *   3. internal topics are created idempotently: repartition topics (counts from resolvePartitionCounts),
 *      changelogs `<applicationId>-<store>-changelog` (compacted, one partition per task), and the dead-letter
 *      topics `<source><dlqTopicSuffix>` (as many partitions as their source, because a DLQ record keeps its
 *      source partition). An existing internal topic with too few partitions is DEVTRIP_TOPIC_MISMATCH: running
 *      on it would put state of two tasks into one partition.
 * The result is the partition count of every topic the app touches (the sinks' partitioner needs them).
 */
import { DevtripError, isDevtripError } from '../../events/errors'
import { resolvePartitionCounts, type TopologyMetadata } from '../internals/topology/metadata'
import type { KafkaAdmin, NewTopic } from '../kafka/port'

export interface TopicLayout {
  /** partition count of every topic the app reads, writes, logs to or dead-letters to */
  readonly partitions: ReadonlyMap<string, number>
  readonly tasksPerSubtopology: ReadonlyMap<number, number>
  /** DLQ topics that exist (created or found) */
  readonly dlqTopics: readonly string[]
}

export interface TopicSetupOptions {
  readonly replicationFactor: number
  /** create `<source><suffix>` for every source topic (some handler may dead-letter) */
  readonly dlqTopicSuffix: string | undefined
}

export async function prepareTopics (admin: KafkaAdmin, metadata: TopologyMetadata, options: TopicSetupOptions): Promise<TopicLayout> {
  const appId = metadata.applicationId
  const userTopics = [...new Set([...metadata.sourceTopics, ...metadata.sinkTopics])]
  const described = new Map<string, number>()
  if (userTopics.length > 0) {
    try {
      for (const d of await admin.describeTopics(userTopics)) described.set(d.name, d.partitions.length)
    } catch (error) {
      if (!isDevtripError(error, 'DEVTRIP_UNKNOWN_TOPIC')) throw error
      const missing = await missingTopics(admin, userTopics)
      throw new DevtripError('DEVTRIP_UNKNOWN_TOPIC', `application "${appId}": topic(s) ${missing.map((t) => `"${t}"`).join(', ')} do not exist; create them first (bin/devtrip-streams topics apply)`, {
        cause: error,
        details: { topics: missing, applicationId: appId }
      })
    }
  }
  const counts = resolvePartitionCounts(metadata, (t) => described.get(t) ?? 0)
  const partitions = new Map<string, number>(described)
  for (const [topic, n] of counts.topics) partitions.set(topic, n)

  for (const sub of metadata.subtopologies) {
    for (const group of sub.copartitionGroups) {
      const sizes = group.map((t) => partitions.get(t))
      if (new Set(sizes).size > 1) {
        const listed = group.map((t, i) => `"${t}" (${String(sizes[i])} partitions)`).join(', ')
        throw new DevtripError('DEVTRIP_TOPOLOGY', `application "${appId}", sub-topology ${sub.id}: ${listed} are joined, so they must have the same number of partitions; repartition one side or recreate the topic`, {
          details: { subtopology: sub.id, topics: group, partitions: sizes }
        })
      }
    }
  }

  const wanted: Array<NewTopic & { minimum: number, role: string }> = []
  const add = (name: string, count: number, role: string, configs: Record<string, string>): void => {
    if (wanted.some((w) => w.name === name)) return
    wanted.push({ name, partitions: count, replicationFactor: options.replicationFactor, configs, minimum: count, role })
  }
  for (const r of metadata.repartitionTopics) add(r.name, counts.topics.get(r.name) as number, 'repartition', { 'cleanup.policy': 'delete' })
  for (const c of metadata.changelogTopics) {
    add(c.topic, counts.tasksPerSubtopology.get(c.subtopology) as number, 'changelog', { 'cleanup.policy': 'compact', ...c.config })
  }
  const dlqTopics: string[] = []
  if (options.dlqTopicSuffix !== undefined) {
    const sources = [...new Set(metadata.subtopologies.flatMap((s) => s.sourceTopics))]
    for (const source of sources) {
      const name = source + options.dlqTopicSuffix
      dlqTopics.push(name)
      add(name, partitions.get(source) as number, 'dead-letter', {})
    }
  }
  const results = await admin.createTopics(wanted.map(({ name, partitions: n, replicationFactor, configs }) => ({ name, partitions: n, replicationFactor, configs })))
  for (const result of results) {
    const want = wanted.find((w) => w.name === result.name) as (typeof wanted)[number]
    if (result.partitions < want.minimum) {
      throw new DevtripError('DEVTRIP_TOPIC_MISMATCH', `application "${appId}": the ${want.role} topic "${result.name}" has ${result.partitions} partitions but needs ${want.minimum}; delete it (its data belongs to an older layout) or fix the source topics`, {
        details: { topic: result.name, partitions: result.partitions, expected: want.minimum }
      })
    }
    partitions.set(result.name, result.partitions)
  }
  return { partitions, tasksPerSubtopology: counts.tasksPerSubtopology, dlqTopics }
}

async function missingTopics (admin: KafkaAdmin, topics: readonly string[]): Promise<string[]> {
  const existing = new Set(await admin.listTopics())
  const missing = topics.filter((t) => !existing.has(t))
  return missing.length > 0 ? missing : [...topics]
}
