/**
 * A readable description of a topology in the layout Kafka Streams users know from TopologyDescription:
 *
 *   Topologies:
 *      Sub-topology: 0
 *       Source: name (topics: [a, b])
 *         --> child
 *       Processor: name (stores: [s])
 *         --> child
 *         <-- parent
 *       Sink: name (topic: t)
 *         <-- parent
 *
 * Internal topics are shown without the application id prefix (the description does not depend on it).
 */
import type { InternalTopology, NodeDef, SubtopologyDef } from './internal-topology'

export interface NodeDescription {
  readonly type: 'source' | 'processor' | 'sink'
  readonly name: string
  readonly topics: readonly string[]
  readonly stores: readonly string[]
  readonly predecessors: readonly string[]
  readonly successors: readonly string[]
}

export interface SubtopologyDescription {
  readonly id: number
  readonly nodes: readonly NodeDescription[]
}

export class TopologyDescription {
  constructor (readonly subtopologies: readonly SubtopologyDescription[]) {}

  toString (): string {
    const lines = ['Topologies:']
    for (const sub of this.subtopologies) {
      lines.push(`   Sub-topology: ${sub.id}`)
      for (const node of sub.nodes) {
        if (node.type === 'source') lines.push(`    Source: ${node.name} (topics: [${node.topics.join(', ')}])`)
        else if (node.type === 'processor') lines.push(`    Processor: ${node.name} (stores: [${node.stores.join(', ')}])`)
        else lines.push(`    Sink: ${node.name} (topic: ${node.topics[0] as string})`)
        if (node.type !== 'sink') lines.push(`      --> ${node.successors.length === 0 ? 'none' : node.successors.join(', ')}`)
        if (node.type !== 'source') lines.push(`      <-- ${node.predecessors.join(', ')}`)
      }
    }
    return lines.join('\n') + '\n'
  }
}

export function describeTopology (topology: InternalTopology): TopologyDescription {
  return new TopologyDescription(topology.subtopologies().map((sub) => describeSubtopology(sub)))
}

function describeSubtopology (sub: SubtopologyDef): SubtopologyDescription {
  const children = new Map<string, string[]>()
  for (const node of sub.nodes) {
    if (node.kind === 'source') continue
    for (const p of node.parents) {
      const list = children.get(p)
      if (list === undefined) children.set(p, [node.name])
      else list.push(node.name)
    }
  }
  return {
    id: sub.id,
    nodes: sub.nodes.map((node: NodeDef): NodeDescription => ({
      type: node.kind,
      name: node.name,
      topics: node.kind === 'source' ? node.topics : node.kind === 'sink' ? [node.topic] : [],
      stores: node.kind === 'processor' ? [...node.stores] : [],
      predecessors: node.kind === 'source' ? [] : node.parents,
      successors: children.get(node.name) ?? []
    }))
  }
}
