/**
 * Which stream tasks an assignment calls for. A task is a (sub-topology, partition number); the group's
 * co-partitioned assignor hands partition N of every subscribed topic to one member, so the assigned input
 * partitions of one sub-topology with number N are exactly that task's inputs.
 */
import type { TopologyMetadata } from '../internals/topology/metadata'
import type { TopicPartition } from '../kafka/port'

export interface TaskSpec {
  /** `<subtopologyId>_<partition>` */
  readonly id: string
  readonly subtopologyId: number
  readonly partition: number
  /** the task's assigned source topics, in the sub-topology's declaration order */
  readonly inputTopics: readonly string[]
}

export function taskSpecsFor (metadata: TopologyMetadata, assigned: readonly TopicPartition[]): TaskSpec[] {
  const subOfTopic = new Map<string, number>()
  for (const sub of metadata.subtopologies) for (const t of sub.sourceTopics) subOfTopic.set(t, sub.id)
  const byTask = new Map<string, { sub: number, partition: number, topics: Set<string> }>()
  for (const tp of assigned) {
    const sub = subOfTopic.get(tp.topic)
    // not a topic of this topology (an older member's subscription during a rolling upgrade): ignore it
    if (sub === undefined) continue
    const id = `${sub}_${tp.partition}`
    const entry = byTask.get(id) ?? { sub, partition: tp.partition, topics: new Set<string>() }
    entry.topics.add(tp.topic)
    byTask.set(id, entry)
  }
  const specs: TaskSpec[] = []
  for (const [id, e] of byTask) {
    const declared = (metadata.subtopologies.find((s) => s.id === e.sub) as TopologyMetadata['subtopologies'][number]).sourceTopics
    specs.push({ id, subtopologyId: e.sub, partition: e.partition, inputTopics: declared.filter((t) => e.topics.has(t)) })
  }
  return specs.sort((a, b) => a.subtopologyId - b.subtopologyId || a.partition - b.partition)
}

export function sameSpec (a: TaskSpec, b: TaskSpec): boolean {
  return a.id === b.id && a.inputTopics.length === b.inputTopics.length && a.inputTopics.every((t, i) => b.inputTopics[i] === t)
}
