/**
 * KTable: a changelog stream interpreted as the latest value per key. Operations forward changes and expose a
 * value getter; a table is materialized (has its own store) only where the user names one.
 */
import type { KStream, KTable } from '../../dsl/kstream'
import type { Materialized, Named } from '../../dsl/options'
import type { ProcessorSupplier } from '../../processor'
import { topologyError, type DslContext, type TableState, type ValueGetterSupplier } from './dsl-context'
import { addMaterializedStore } from './stores'
import { passThrough } from './stream-processors'
import {
  filterGetter, joinGetter, mapValuesGetter, storeGetter, tableFilterProcessor, tableMapValuesProcessor, tableTableJoinProcessor,
  toStreamProcessor
} from './table-processors'

type Untyped = ProcessorSupplier<unknown, unknown, unknown, unknown>
type AnyGetter = ValueGetterSupplier<unknown, unknown>

export class KTableImpl<K, V> implements KTable<K, V> {
  constructor (private readonly ctx: DslContext, private readonly state: TableState<K, V>) {}

  get queryableStoreName (): string | undefined {
    return this.state.storeName
  }

  filter (predicate: (key: K, value: V) => boolean, named?: Named, materialized?: Materialized<K, V>): KTable<K, V> {
    return this.filterImpl(predicate, false, named, materialized)
  }

  filterNot (predicate: (key: K, value: V) => boolean, named?: Named, materialized?: Materialized<K, V>): KTable<K, V> {
    return this.filterImpl(predicate, true, named, materialized)
  }

  private filterImpl (predicate: (key: K, value: V) => boolean, negate: boolean, named: Named | undefined, materialized: Materialized<K, V> | undefined): KTable<K, V> {
    const p = predicate as (k: unknown, v: unknown) => boolean
    const storeName = materialized === undefined ? undefined : addMaterializedStore(this.ctx, materialized, this.state.keySerde, this.state.valueSerde, 'KTable.filter()')
    const name = this.addNode('KTABLE-FILTER', named, tableFilterProcessor(p, negate, storeName), storeName)
    return this.ctx.newTable<K, V>({
      ...this.state,
      node: name,
      getter: storeName === undefined ? filterGetter(this.state.getter as AnyGetter, p, negate) as ValueGetterSupplier<K, V> : storeGetter(storeName) as ValueGetterSupplier<K, V>,
      storeName
    })
  }

  mapValues<VR> (mapper: (value: V, key: K) => VR, named?: Named, materialized?: Materialized<K, VR>): KTable<K, VR> {
    const m = mapper as (v: unknown, k: unknown) => unknown
    const storeName = materialized === undefined ? undefined : addMaterializedStore(this.ctx, materialized, this.state.keySerde, undefined, 'KTable.mapValues()')
    const name = this.addNode('KTABLE-MAPVALUES', named, tableMapValuesProcessor(m, storeName), storeName)
    return this.ctx.newTable<K, VR>({
      node: name,
      sourceTopics: this.state.sourceTopics,
      keySerde: this.state.keySerde,
      valueSerde: materialized?.valueSerde,
      getter: (storeName === undefined ? mapValuesGetter(this.state.getter as AnyGetter, m) : storeGetter(storeName)) as ValueGetterSupplier<K, VR>,
      storeName
    })
  }

  toStream (named?: Named): KStream<K, V | null> {
    const name = this.ctx.nodeName('KTABLE-TOSTREAM', named)
    this.ctx.topology.addProcessor(name, toStreamProcessor(), [this.state.node])
    return this.ctx.newStream<K, V | null>({
      node: name,
      sourceTopics: this.state.sourceTopics,
      keySerde: this.state.keySerde,
      valueSerde: this.state.valueSerde,
      repartitionRequired: false
    })
  }

  join<VO, VR> (other: KTable<K, VO>, joiner: (value: V, otherValue: VO, key: K) => VR, named?: Named, materialized?: Materialized<K, VR>): KTable<K, VR> {
    return this.joinImpl(other, joiner as (a: unknown, b: unknown, k: unknown) => unknown, false, named, materialized)
  }

  leftJoin<VO, VR> (other: KTable<K, VO>, joiner: (value: V, otherValue: VO | null, key: K) => VR, named?: Named, materialized?: Materialized<K, VR>): KTable<K, VR> {
    return this.joinImpl(other, joiner as (a: unknown, b: unknown, k: unknown) => unknown, true, named, materialized)
  }

  private joinImpl<VO, VR> (other: KTable<K, VO>, joiner: (a: unknown, b: unknown, k: unknown) => unknown, leftJoin: boolean,
    named: Named | undefined, materialized: Materialized<K, VR> | undefined): KTable<K, VR> {
    const op = leftJoin ? 'KTable.leftJoin()' : 'KTable.join()'
    const o = this.ctx.tableState<K, VO>(other)
    if (o === undefined) throw topologyError(`${op} needs a KTable of the same StreamsBuilder`)
    if (typeof joiner !== 'function') throw topologyError(`${op} needs a joiner function`)
    const storeName = materialized === undefined ? undefined : addMaterializedStore(this.ctx, materialized, this.state.keySerde ?? o.keySerde, undefined, op)
    const base = this.ctx.nodeName('KTABLE-JOIN', named)
    const thisGetter = this.state.getter as AnyGetter
    const otherGetter = o.getter as AnyGetter
    const topology = this.ctx.topology
    const thisNode = `${base}-join-this`
    const otherNode = `${base}-join-other`
    topology.addProcessor(thisNode, tableTableJoinProcessor(otherGetter, joiner, leftJoin, true, storeName), [this.state.node])
    topology.addProcessor(otherNode, tableTableJoinProcessor(thisGetter, joiner, leftJoin, false, storeName), [o.node])
    topology.connect(thisNode, storeName === undefined ? otherGetter.storeNames : [...otherGetter.storeNames, storeName])
    topology.connect(otherNode, storeName === undefined ? thisGetter.storeNames : [...thisGetter.storeNames, storeName])
    const merge = `${base}-merge`
    topology.addProcessor(merge, passThrough(), [thisNode, otherNode])
    const sourceTopics = [...new Set([...this.state.sourceTopics, ...o.sourceTopics])]
    topology.addCopartitionGroup(sourceTopics)
    return this.ctx.newTable<K, VR>({
      node: merge,
      sourceTopics,
      keySerde: this.state.keySerde ?? o.keySerde,
      valueSerde: materialized?.valueSerde,
      getter: (storeName === undefined ? joinGetter(thisGetter, otherGetter, joiner, leftJoin) : storeGetter(storeName)) as ValueGetterSupplier<K, VR>,
      storeName
    })
  }

  private addNode (prefix: string, named: Named | undefined, supplier: Untyped, storeName: string | undefined): string {
    const name = this.ctx.nodeName(prefix, named)
    this.ctx.topology.addProcessor(name, supplier, [this.state.node])
    if (storeName !== undefined) this.ctx.topology.connect(name, [storeName])
    return name
  }
}
