/**
 * The node graph behind a Topology: sources, processors, sinks and stores, plus the internal (repartition) topics
 * and co-partition groups the DSL declares. It is a pure description — tasks instantiate it per partition — and it
 * splits into sub-topologies the way Kafka Streams does: connected components of the graph, where a store shared by
 * two processors also connects them, and a topic written by one component and read by another (a repartition
 * topic) does not.
 */
import { DevtripError } from '../../../events/errors'
import type { StoreBuilder } from '../../../state/base/types'
import type { Deserializer, Serializer } from '../../../state/serdes'
import type { StreamPartitioner } from '../../partitioner'
import type { ProcessorSupplier } from '../../processor'

export interface SourceNodeDef {
  readonly kind: 'source'
  readonly name: string
  readonly order: number
  /** unresolved names; internal ones get the application id prefix when a task is built */
  readonly topics: readonly string[]
  readonly keyDeserializer: Deserializer<unknown> | undefined
  readonly valueDeserializer: Deserializer<unknown> | undefined
}

export interface ProcessorNodeDef {
  readonly kind: 'processor'
  readonly name: string
  readonly order: number
  readonly supplier: ProcessorSupplier<unknown, unknown, unknown, unknown>
  readonly parents: readonly string[]
  readonly stores: Set<string>
}

export interface SinkNodeDef {
  readonly kind: 'sink'
  readonly name: string
  readonly order: number
  readonly topic: string
  readonly keySerializer: Serializer<unknown> | undefined
  readonly valueSerializer: Serializer<unknown> | undefined
  readonly partitioner: StreamPartitioner<unknown, unknown> | undefined
  readonly parents: readonly string[]
}

export type NodeDef = SourceNodeDef | ProcessorNodeDef | SinkNodeDef

export interface StoreDef {
  readonly builder: StoreBuilder
  readonly processors: Set<string>
}

export interface InternalTopicDef {
  /** unresolved, e.g. `orders-by-user-repartition` */
  readonly name: string
  /** explicit partition count (Repartitioned.withNumberOfPartitions), else the writing sub-topology's */
  readonly numPartitions: number | undefined
}

export interface SubtopologyDef {
  readonly id: number
  /** in insertion order, which is a topological order: a node's parents are always added before it */
  readonly nodes: readonly NodeDef[]
  /** unresolved source topics in declaration order; this order breaks timestamp ties between partitions */
  readonly sourceTopics: readonly string[]
  readonly sinkTopics: readonly string[]
  readonly stores: readonly string[]
  /** groups of unresolved source topics that must have equal partition counts (joins) */
  readonly copartitionGroups: ReadonlyArray<readonly string[]>
}

const LEGAL_TOPIC = /^[A-Za-z0-9._-]{1,249}$/
const LEGAL_NAME = /^[^\s]{1,249}$/

function topologyError (message: string, details: { [key: string]: unknown } = {}): DevtripError {
  return new DevtripError('DEVTRIP_TOPOLOGY', message, { details })
}

export class InternalTopology {
  readonly nodes = new Map<string, NodeDef>()
  readonly stores = new Map<string, StoreDef>()
  readonly internalTopics = new Map<string, InternalTopicDef>()
  private readonly topicToSource = new Map<string, string>()
  private readonly copartitionGroups: Array<readonly string[]> = []
  private nextOrder = 0
  private cachedSubtopologies: SubtopologyDef[] | undefined

  addSource (name: string, topics: readonly string[], keyDeserializer?: Deserializer<unknown>, valueDeserializer?: Deserializer<unknown>): void {
    this.checkNewNode(name)
    if (topics.length === 0) throw topologyError(`source "${name}" needs at least one topic`)
    for (const topic of topics) {
      checkTopic(topic)
      const other = this.topicToSource.get(topic)
      if (other !== undefined) throw topologyError(`topic "${topic}" is already read by source "${other}"; a topic may feed one source node only`, { topic })
    }
    for (const topic of topics) this.topicToSource.set(topic, name)
    this.add({ kind: 'source', name, order: this.nextOrder++, topics: [...topics], keyDeserializer, valueDeserializer })
  }

  addProcessor (name: string, supplier: ProcessorSupplier<unknown, unknown, unknown, unknown>, parents: readonly string[]): void {
    this.checkNewNode(name)
    if (typeof supplier?.get !== 'function') throw topologyError(`processor "${name}" needs a ProcessorSupplier with get()`)
    this.checkParents(name, parents)
    this.add({ kind: 'processor', name, order: this.nextOrder++, supplier, parents: [...parents], stores: new Set() })
    for (const builder of supplier.stores?.() ?? []) {
      if (!this.stores.has(builder.name)) this.addStateStore(builder, [])
      this.connect(name, [builder.name])
    }
  }

  addSink (name: string, topic: string, parents: readonly string[], keySerializer?: Serializer<unknown>, valueSerializer?: Serializer<unknown>,
    partitioner?: StreamPartitioner<unknown, unknown>): void {
    this.checkNewNode(name)
    checkTopic(topic)
    this.checkParents(name, parents)
    this.add({ kind: 'sink', name, order: this.nextOrder++, topic, keySerializer, valueSerializer, partitioner, parents: [...parents] })
  }

  addStateStore (builder: StoreBuilder, processorNames: readonly string[]): void {
    if (typeof builder?.build !== 'function' || typeof builder.name !== 'string') throw topologyError('addStateStore needs a StoreBuilder')
    if (!LEGAL_TOPIC.test(builder.name)) {
      throw topologyError(`store name "${builder.name}" must be 1-249 characters of [A-Za-z0-9._-] (it is part of the changelog topic name)`)
    }
    if (this.stores.has(builder.name)) throw topologyError(`a store named "${builder.name}" is already in the topology; store names must be unique`, { store: builder.name })
    this.stores.set(builder.name, { builder, processors: new Set() })
    this.invalidate()
    this.connect(undefined, [builder.name], processorNames)
  }

  /** Connects stores to processors; called with one processor and many stores, or one store and many processors. */
  connect (processorName: string | undefined, storeNames: readonly string[], processorNames: readonly string[] = []): void {
    const processors = processorName === undefined ? processorNames : [processorName]
    for (const processor of processors) {
      const node = this.nodes.get(processor)
      if (node === undefined || node.kind !== 'processor') throw topologyError(`cannot connect a store to "${processor}": no processor node has that name`)
      for (const store of storeNames) {
        const def = this.stores.get(store)
        if (def === undefined) throw topologyError(`processor "${processor}" refers to store "${store}", which was never added (addStateStore / Materialized.as)`, { store })
        def.processors.add(processor)
        node.stores.add(store)
      }
    }
    this.invalidate()
  }

  addInternalTopic (name: string, numPartitions: number | undefined): void {
    checkTopic(name)
    if (this.internalTopics.has(name)) throw topologyError(`internal topic "${name}" is declared twice; repartition names must be unique`, { topic: name })
    if (numPartitions !== undefined && (!Number.isInteger(numPartitions) || numPartitions < 1)) {
      throw topologyError(`repartition topic "${name}": number of partitions must be a positive integer`)
    }
    this.internalTopics.set(name, { name, numPartitions })
  }

  addCopartitionGroup (topics: readonly string[]): void {
    this.copartitionGroups.push([...new Set(topics)])
    this.invalidate()
  }

  hasNode (name: string): boolean {
    return this.nodes.has(name)
  }

  /** Splits the graph into sub-topologies; throws if a processor refers to a store that is missing. */
  subtopologies (): readonly SubtopologyDef[] {
    if (this.cachedSubtopologies !== undefined) return this.cachedSubtopologies
    if (this.nodes.size === 0) throw topologyError('the topology is empty: add at least one source')
    const parent = new Map<string, string>()
    const find = (x: string): string => {
      let root = x
      while (parent.get(root) !== root) root = parent.get(root) as string
      let cur = x
      while (cur !== root) { const next = parent.get(cur) as string; parent.set(cur, root); cur = next }
      return root
    }
    const union = (a: string, b: string): void => { parent.set(find(a), find(b)) }
    for (const name of this.nodes.keys()) parent.set(name, name)
    for (const node of this.nodes.values()) {
      if (node.kind !== 'source') for (const p of node.parents) union(node.name, p)
    }
    for (const [storeName, store] of this.stores) {
      if (store.processors.size === 0) throw topologyError(`store "${storeName}" is not connected to any processor`, { store: storeName })
      const [first, ...rest] = [...store.processors]
      for (const other of rest) union(first as string, other)
    }
    const components = new Map<string, NodeDef[]>()
    for (const node of this.nodes.values()) {
      const root = find(node.name)
      const list = components.get(root)
      if (list === undefined) components.set(root, [node])
      else list.push(node)
    }
    // Map iteration follows insertion, so components come out ordered by their earliest node: stable ids.
    let id = 0
    const result: SubtopologyDef[] = []
    for (const nodes of components.values()) {
      const sourceTopics: string[] = []
      const sinkTopics: string[] = []
      const stores = new Set<string>()
      for (const node of nodes) {
        if (node.kind === 'source') sourceTopics.push(...node.topics)
        else if (node.kind === 'sink') { if (!sinkTopics.includes(node.topic)) sinkTopics.push(node.topic) } else for (const s of node.stores) stores.add(s)
      }
      if (sourceTopics.length === 0) {
        throw topologyError(`nodes ${nodes.map((n) => `"${n.name}"`).join(', ')} are not connected to any source`)
      }
      const copartitionGroups = this.copartitionGroups.filter((g) => g.some((t) => sourceTopics.includes(t)))
      result.push({ id: id++, nodes, sourceTopics, sinkTopics, stores: [...stores], copartitionGroups })
    }
    for (const topic of this.internalTopics.keys()) {
      if (!this.topicToSource.has(topic)) throw topologyError(`repartition topic "${topic}" is written but never read`)
    }
    this.cachedSubtopologies = result
    return result
  }

  /** `<applicationId>-<name>` for internal topics; user topics unchanged. */
  resolveTopic (applicationId: string, topic: string): string {
    return this.internalTopics.has(topic) ? `${applicationId}-${topic}` : topic
  }

  private add (node: NodeDef): void {
    this.nodes.set(node.name, node)
    this.invalidate()
  }

  private invalidate (): void {
    this.cachedSubtopologies = undefined
  }

  private checkNewNode (name: string): void {
    if (typeof name !== 'string' || !LEGAL_NAME.test(name)) throw topologyError(`node name ${JSON.stringify(name)} must be 1-249 characters without whitespace`)
    if (this.nodes.has(name)) throw topologyError(`a node named "${name}" already exists; node names must be unique`, { node: name })
  }

  private checkParents (name: string, parents: readonly string[]): void {
    if (parents.length === 0) throw topologyError(`"${name}" needs at least one parent node`)
    for (const p of parents) {
      const parent = this.nodes.get(p)
      if (parent === undefined) throw topologyError(`"${name}" names parent "${p}", which does not exist (add parents first)`, { node: name, parent: p })
      if (parent.kind === 'sink') throw topologyError(`"${name}" cannot have sink "${p}" as parent`)
    }
  }
}

function checkTopic (topic: string): void {
  if (typeof topic !== 'string' || !LEGAL_TOPIC.test(topic) || topic === '.' || topic === '..') {
    throw topologyError(`topic name ${JSON.stringify(topic)} is not a legal Kafka topic name (1-249 of [A-Za-z0-9._-])`, { topic })
  }
}
