/**
 * The DSL entry point, as Kafka Streams' StreamsBuilder: declare sources, chain operations, then build() the
 * Topology that both the TopologyTestDriver and the Kafka runtime run.
 */
import { DevtripError } from '../events/errors'
import type { StoreBuilder } from '../state/base/types'
import type { Serde } from '../state/serdes'
import type { KStream, KTable } from './dsl/kstream'
import { Consumed, Materialized, type StoreType } from './dsl/options'
import { DslContext, type DslFactories, type ValueGetterSupplier } from './internals/dsl/dsl-context'
import { KGroupedStreamImpl } from './internals/dsl/grouped-impl'
import { KStreamImpl } from './internals/dsl/kstream-impl'
import { KTableImpl } from './internals/dsl/ktable-impl'
import { addMaterializedStore } from './internals/dsl/stores'
import { storeGetter, tableSourceProcessor } from './internals/dsl/table-processors'
import { internalTopologyOf, Topology } from './topology'

export interface StreamsBuilderOptions {
  /** engine of DSL stores whose Materialized / StreamJoined does not say; default 'persistent' (RocksDB) */
  defaultStoreType?: StoreType
}

const factories: DslFactories = {
  stream: (ctx, state) => new KStreamImpl(ctx, state),
  table: (ctx, state) => new KTableImpl(ctx, state),
  grouped: (ctx, state) => new KGroupedStreamImpl(ctx, state)
}

export class StreamsBuilder {
  private readonly topology = new Topology()
  private readonly ctx: DslContext

  constructor (options: StreamsBuilderOptions = {}) {
    const storeType = options.defaultStoreType ?? 'persistent'
    if (storeType !== 'persistent' && storeType !== 'in-memory') {
      throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `defaultStoreType must be 'persistent' or 'in-memory', got ${String(storeType)}`)
    }
    this.ctx = new DslContext(internalTopologyOf(this.topology), storeType, factories)
  }

  /** A stream of every record of `topics` (several topics are read as one stream, in timestamp order). */
  stream<K, V> (topics: string | readonly string[], consumed: Consumed<K, V>): KStream<K, V> {
    checkConsumed(consumed)
    const list = typeof topics === 'string' ? [topics] : [...topics]
    const name = this.ctx.nodeName('KSTREAM-SOURCE', consumed.name)
    this.ctx.topology.addSource(name, list, consumed.keySerde as Serde<unknown>, consumed.valueSerde as Serde<unknown>)
    return this.ctx.newStream<K, V>({ node: name, sourceTopics: list, keySerde: consumed.keySerde, valueSerde: consumed.valueSerde, repartitionRequired: false })
  }

  /** A table of the latest value per key of `topic`, kept in the named store; a null value deletes the key. */
  table<K, V> (topic: string, consumed: Consumed<K, V>, materialized: Materialized<K, V>): KTable<K, V> {
    checkConsumed(consumed)
    if (!(materialized instanceof Materialized)) throw new DevtripError('DEVTRIP_TOPOLOGY', `table("${topic}") needs Materialized.as("<store name>"): stores are never auto-named`)
    const sourceName = this.ctx.nodeName('KSTREAM-SOURCE', consumed.name)
    this.ctx.topology.addSource(sourceName, [topic], consumed.keySerde as Serde<unknown>, consumed.valueSerde as Serde<unknown>)
    const storeName = addMaterializedStore(this.ctx, materialized, consumed.keySerde, consumed.valueSerde, `table("${topic}")`)
    const name = this.ctx.nodeName('KTABLE-SOURCE')
    this.ctx.topology.addProcessor(name, tableSourceProcessor(storeName), [sourceName])
    this.ctx.topology.connect(name, [storeName])
    return this.ctx.newTable<K, V>({
      node: name,
      sourceTopics: [topic],
      keySerde: materialized.keySerde ?? consumed.keySerde,
      valueSerde: materialized.valueSerde ?? consumed.valueSerde,
      getter: storeGetter(storeName) as ValueGetterSupplier<K, V>,
      storeName
    })
  }

  /** A store for processors added with KStream.process(supplier, named, storeName). */
  addStateStore (builder: StoreBuilder): this {
    this.ctx.topology.addStateStore(builder, [])
    return this
  }

  /** Checks the graph (every store connected, no dangling repartition topic) and returns the topology. */
  build (): Topology {
    internalTopologyOf(this.topology).subtopologies()
    return this.topology
  }
}

function checkConsumed (consumed: unknown): void {
  if (!(consumed instanceof Consumed)) throw new DevtripError('DEVTRIP_TOPOLOGY', 'sources need Consumed.with(keySerde, valueSerde)')
}
