/**
 * Shared state of one StreamsBuilder while the DSL builds its topology: the node graph, deterministic names, and
 * the factories of the KStream/KTable/KGroupedStream implementations. The factories are injected by
 * streams-builder.ts so that the implementation modules, which create each other's objects (a KTable's toStream()
 * makes a KStream, a KStream's groupBy() a KGroupedStream ...), never import each other.
 */
import { DevtripError } from '../../../events/errors'
import type { Serde } from '../../../state/serdes'
import type { KGroupedStream, KStream, KTable } from '../../dsl/kstream'
import type { Named, StoreType } from '../../dsl/options'
import type { ProcessorContext } from '../../processor'
import type { InternalTopology } from '../topology/internal-topology'

/** What the DSL knows about a stream: the node producing it and what it was read from. */
export interface StreamState<K, V> {
  readonly node: string
  /** unresolved source topics feeding this stream (co-partitioning of joins) */
  readonly sourceTopics: readonly string[]
  readonly keySerde: Serde<K> | undefined
  readonly valueSerde: Serde<V> | undefined
  /** the key changed since the last repartition: a stateful operation must repartition first */
  readonly repartitionRequired: boolean
}

/** Reads the current value of a table key, e.g. for a join (Kafka's KTableValueGetter). */
export interface ValueGetter<K, V> {
  init (context: ProcessorContext<unknown, unknown>): void
  get (key: K): V | undefined
}

export interface ValueGetterSupplier<K, V> {
  /** stores the getter reads: connected to every processor using it */
  readonly storeNames: readonly string[]
  get (): ValueGetter<K, V>
}

export interface TableState<K, V> extends Omit<StreamState<K, V>, 'repartitionRequired'> {
  readonly getter: ValueGetterSupplier<K, V>
  readonly storeName: string | undefined
}

export interface DslFactories {
  stream<K, V> (context: DslContext, state: StreamState<K, V>): KStream<K, V>
  table<K, V> (context: DslContext, state: TableState<K, V>): KTable<K, V>
  grouped<K, V> (context: DslContext, state: StreamState<K, V>): KGroupedStream<K, V>
}

const streamStates = new WeakMap<object, { context: DslContext, state: StreamState<unknown, unknown> }>()
const tableStates = new WeakMap<object, { context: DslContext, state: TableState<unknown, unknown> }>()

export class DslContext {
  private index = 0

  constructor (readonly topology: InternalTopology, readonly defaultStoreType: StoreType, readonly factories: DslFactories) {}

  /** The user's name, or `<PREFIX>-<10-digit counter>` as Kafka Streams names unnamed nodes (stable for stable code). */
  nodeName (prefix: string, named?: Named | string): string {
    if (named !== undefined) return typeof named === 'string' ? named : named.name
    return `${prefix}-${String(this.index++).padStart(10, '0')}`
  }

  newStream<K, V> (state: StreamState<K, V>): KStream<K, V> {
    const stream = this.factories.stream(this, state)
    streamStates.set(stream, { context: this, state: state as StreamState<unknown, unknown> })
    return stream
  }

  newTable<K, V> (state: TableState<K, V>): KTable<K, V> {
    const table = this.factories.table(this, state)
    tableStates.set(table, { context: this, state: state as TableState<unknown, unknown> })
    return table
  }

  newGrouped<K, V> (state: StreamState<K, V>): KGroupedStream<K, V> {
    return this.factories.grouped(this, state)
  }

  streamState<K, V> (stream: KStream<K, V>): StreamState<K, V> {
    const entry = streamStates.get(stream)
    if (entry === undefined) throw new DevtripError('DEVTRIP_TOPOLOGY', 'expected a KStream created by a StreamsBuilder')
    if (entry.context !== this) throw new DevtripError('DEVTRIP_TOPOLOGY', 'cannot combine streams of two different StreamsBuilders')
    return entry.state as StreamState<K, V>
  }

  /** the table's state, or undefined when `value` is not a KTable (join dispatch) */
  tableState<K, V> (value: unknown): TableState<K, V> | undefined {
    const entry = typeof value === 'object' && value !== null ? tableStates.get(value) : undefined
    if (entry === undefined) return undefined
    if (entry.context !== this) throw new DevtripError('DEVTRIP_TOPOLOGY', 'cannot combine tables of two different StreamsBuilders')
    return entry.state as TableState<K, V>
  }

  isStream (value: unknown): boolean {
    return typeof value === 'object' && value !== null && streamStates.has(value)
  }
}

export function topologyError (message: string): DevtripError {
  return new DevtripError('DEVTRIP_TOPOLOGY', message)
}
