/**
 * The Processor API topology builder, and what StreamsBuilder.build() returns. One Topology object runs unchanged
 * under the TopologyTestDriver and the Kafka runtime: both build their stream tasks from it.
 */
import type { StoreBuilder } from '../state/base/types'
import type { Deserializer, Serializer } from '../state/serdes'
import { describeTopology, type TopologyDescription } from './internals/topology/describe'
import { InternalTopology } from './internals/topology/internal-topology'
import { buildTopologyMetadata, type TopologyMetadata } from './internals/topology/metadata'
import type { StreamPartitioner } from './partitioner'
import type { ProcessorSupplier } from './processor'

export interface SourceOptions<K, V> {
  /** without one, keys (values) reach the children as Buffers */
  keyDeserializer?: Deserializer<K>
  valueDeserializer?: Deserializer<V>
}

export interface SinkOptions<K, V> {
  /** without one, keys (values) must already be Buffers */
  keySerializer?: Serializer<K>
  valueSerializer?: Serializer<V>
  partitioner?: StreamPartitioner<K, V>
}

const internals = new WeakMap<Topology, InternalTopology>()

/** The node graph behind a Topology, for the DSL, the stream task and the test driver (not for applications). */
export function internalTopologyOf (topology: Topology): InternalTopology {
  return internals.get(topology) as InternalTopology
}

export class Topology {
  constructor () {
    internals.set(this, new InternalTopology())
  }

  addSource<K = Buffer, V = Buffer> (name: string, topics: string | readonly string[], options: SourceOptions<K, V> = {}): this {
    internalTopologyOf(this).addSource(name, typeof topics === 'string' ? [topics] : topics,
      options.keyDeserializer as Deserializer<unknown> | undefined, options.valueDeserializer as Deserializer<unknown> | undefined)
    return this
  }

  addProcessor<KIn, VIn, KOut, VOut> (name: string, supplier: ProcessorSupplier<KIn, VIn, KOut, VOut>, ...parentNames: string[]): this {
    internalTopologyOf(this).addProcessor(name, supplier as unknown as ProcessorSupplier<unknown, unknown, unknown, unknown>, parentNames)
    return this
  }

  addSink<K = Buffer, V = Buffer> (name: string, topic: string, options: SinkOptions<K, V>, ...parentNames: string[]): this {
    internalTopologyOf(this).addSink(name, topic, parentNames, options.keySerializer as Serializer<unknown> | undefined,
      options.valueSerializer as Serializer<unknown> | undefined, options.partitioner as StreamPartitioner<unknown, unknown> | undefined)
    return this
  }

  /** Adds a store; every task gets its own instance built from `builder`. */
  addStateStore (builder: StoreBuilder, ...processorNames: string[]): this {
    internalTopologyOf(this).addStateStore(builder, processorNames)
    return this
  }

  connectProcessorAndStateStores (processorName: string, ...storeNames: string[]): this {
    internalTopologyOf(this).connect(processorName, storeNames)
    return this
  }

  /** Sub-topologies with their sources, processors, sinks and stores; `String(describe())` gives the text form. */
  describe (): TopologyDescription {
    return describeTopology(internalTopologyOf(this))
  }

  /** Topics, stores, changelog and repartition topics as the runtime needs them, names resolved for `applicationId`. */
  metadata (applicationId: string): TopologyMetadata {
    return buildTopologyMetadata(internalTopologyOf(this), applicationId)
  }
}
