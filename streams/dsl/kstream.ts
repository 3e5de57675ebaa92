/**
 * The typed DSL surface: KStream, KTable, KGroupedStream, TimeWindowedKStream, BranchedKStream.
 *
 * Keys are INVARIANT in their type parameter (the phantom `keyType` member below is a function type, which
 * TypeScript checks in both directions), so joining a KStream<string, …> with a KTable<number, …> — or even with a
 * KTable<'a' | 'b', …> — does not compile. Co-partitioned joins need identical key types and serdes.
 */
import type { KeyValue } from '../../state/base/types'
import type { ProcessorSupplier } from '../processor'
import type { Branched, Grouped, Joined, Materialized, Named, Produced, Repartitioned, StreamJoined } from './options'
import type { JoinWindows, TimeWindows, Windowed } from './windows'

declare const keyType: unique symbol

export interface KStream<K, V> {
  /** type-level only; never present at run time */
  readonly [keyType]?: (key: K) => K

  filter<VS extends V> (predicate: (key: K, value: V) => value is VS, named?: Named): KStream<K, VS>
  filter (predicate: (key: K, value: V) => boolean, named?: Named): KStream<K, V>
  filterNot (predicate: (key: K, value: V) => boolean, named?: Named): KStream<K, V>
  /** changes the key: a later stateful operation needs a named repartition */
  map<KR, VR> (mapper: (key: K, value: V) => KeyValue<KR, VR>, named?: Named): KStream<KR, VR>
  mapValues<VR> (mapper: (value: V, key: K) => VR, named?: Named): KStream<K, VR>
  /** changes the key: a later stateful operation needs a named repartition */
  flatMap<KR, VR> (mapper: (key: K, value: V) => Iterable<KeyValue<KR, VR>>, named?: Named): KStream<KR, VR>
  flatMapValues<VR> (mapper: (value: V, key: K) => Iterable<VR>, named?: Named): KStream<K, VR>
  /** changes the key: a later stateful operation needs a named repartition */
  selectKey<KR> (mapper: (key: K, value: V) => KR, named?: Named): KStream<KR, V>
  peek (action: (key: K, value: V) => void, named?: Named): KStream<K, V>
  merge (other: KStream<K, V>, named?: Named): KStream<K, V>
  /** routes each record to the first branch whose predicate matches */
  split (named?: Named): BranchedKStream<K, V>
  /** writes through the topic `<applicationId>-<name>-repartition`, partitioned by the current key */
  repartition (repartitioned: Repartitioned<K, V>): KStream<K, V>
  /** a Processor API processor inside the DSL; may change the key (later stateful operations repartition) */
  process<KOut, VOut> (supplier: ProcessorSupplier<K, V, KOut, VOut>, named?: Named | string, ...storeNames: string[]): KStream<KOut, VOut>
  /** groups by the current key; after a key change `grouped` must name the repartition topic */
  groupByKey (grouped?: Grouped<K, V>): KGroupedStream<K, V>
  /** groups by a new key; always repartitions, through `<applicationId>-<grouped name>-repartition` */
  groupBy<KR> (selector: (key: K, value: V) => KR, grouped: Grouped<KR, V>): KGroupedStream<KR, V>

  /** stream–table inner join: records whose key has no table entry produce nothing */
  join<VT, VR> (table: KTable<K, VT>, joiner: (value: V, tableValue: VT, key: K) => VR, joined?: Joined<K, V, unknown>): KStream<K, VR>
  /** stream–stream windowed inner join */
  join<VO, VR> (other: KStream<K, VO>, joiner: (value: V, otherValue: VO, key: K) => VR, windows: JoinWindows,
    streamJoined: StreamJoined<K, V, VO>): KStream<K, VR>
  /** stream–table left join: the joiner gets null when the table has no entry for the key */
  leftJoin<VT, VR> (table: KTable<K, VT>, joiner: (value: V, tableValue: VT | null, key: K) => VR, joined?: Joined<K, V, unknown>): KStream<K, VR>
  /**
   * stream–stream windowed left join: a record without a match in its window is emitted with null once the
   * window has closed (after grace), never before — so there are no early null results followed by a join.
   */
  leftJoin<VO, VR> (other: KStream<K, VO>, joiner: (value: V, otherValue: VO | null, key: K) => VR, windows: JoinWindows,
    streamJoined: StreamJoined<K, V, VO>): KStream<K, VR>

  /**
   * Writes to `topic`. The serdes are for present keys and values: a null value is written as a tombstone and never
   * reaches the serializer, so a KStream<K, V | null> (e.g. from KTable.toStream()) takes Produced<K, V>.
   */
  to (topic: string, produced?: Produced<NonNullable<K>, NonNullable<V>>): void
}

export interface BranchedKStream<K, V> {
  branch (predicate: (key: K, value: V) => boolean, branched?: Branched<K, V>): BranchedKStream<K, V>
  /** records matching no predicate go to this branch; returns all branches by name */
  defaultBranch (branched?: Branched<K, V>): Map<string, KStream<K, V>>
  /** records matching no predicate are dropped on purpose; returns all branches by name */
  noDefaultBranch (): Map<string, KStream<K, V>>
}

export interface KTable<K, V> {
  readonly [keyType]?: (key: K) => K

  /** the store this table is materialized in, when it has one */
  readonly queryableStoreName: string | undefined
  filter (predicate: (key: K, value: V) => boolean, named?: Named, materialized?: Materialized<K, V>): KTable<K, V>
  filterNot (predicate: (key: K, value: V) => boolean, named?: Named, materialized?: Materialized<K, V>): KTable<K, V>
  mapValues<VR> (mapper: (value: V, key: K) => VR, named?: Named, materialized?: Materialized<K, VR>): KTable<K, VR>
  /** every update as a record; a deletion arrives as a null value */
  toStream (named?: Named): KStream<K, V | null>
  /** KTable–KTable inner join, updated from both sides; a key is deleted when either side is */
  join<VO, VR> (other: KTable<K, VO>, joiner: (value: V, otherValue: VO, key: K) => VR, named?: Named, materialized?: Materialized<K, VR>): KTable<K, VR>
  /** KTable–KTable left join: every key of this table, with null when the other has no entry */
  leftJoin<VO, VR> (other: KTable<K, VO>, joiner: (value: V, otherValue: VO | null, key: K) => VR, named?: Named,
    materialized?: Materialized<K, VR>): KTable<K, VR>
}

export interface KGroupedStream<K, V> {
  count (materialized: Materialized<K, number>, named?: Named): KTable<K, number>
  reduce (reducer: (aggregate: V, value: V, key: K) => V, materialized: Materialized<K, V>, named?: Named): KTable<K, V>
  aggregate<VA> (initializer: () => VA, aggregator: (key: K, value: V, aggregate: VA) => VA, materialized: Materialized<K, VA>,
    named?: Named): KTable<K, VA>
  windowedBy (windows: TimeWindows): TimeWindowedKStream<K, V>
}

export interface TimeWindowedKStream<K, V> {
  count (materialized: Materialized<K, number>, named?: Named): KTable<Windowed<K>, number>
  reduce (reducer: (aggregate: V, value: V, key: K) => V, materialized: Materialized<K, V>, named?: Named): KTable<Windowed<K>, V>
  aggregate<VA> (initializer: () => VA, aggregator: (key: K, value: V, aggregate: VA) => VA, materialized: Materialized<K, VA>,
    named?: Named): KTable<Windowed<K>, VA>
}
