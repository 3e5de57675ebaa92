/**
 * KStream: each operation adds processor nodes to the shared graph and returns a new KStream describing the
 * output node. Serdes travel with the stream while they are known (a key change forgets the key serde, a value
 * change the value serde), so stateful operations can name them only when they must.
 */
import type { KeyValue } from '../../../state/base/types'
import { Serdes } from '../../../state/serdes-builtin'
import type { Serde } from '../../../state/serdes'
import type { BranchedKStream, KGroupedStream, KStream, KTable } from '../../dsl/kstream'
import { Branched, Grouped, Joined, Named, Produced, Repartitioned, StreamJoined } from '../../dsl/options'
import type { JoinWindows } from '../../dsl/windows'
import type { StreamPartitioner } from '../../partitioner'
import type { ProcessorSupplier } from '../../processor'
import { topologyError, type DslContext, type StreamState } from './dsl-context'
import { repartitionIfRequired, repartitionStream } from './repartition'
import { keyValueStoreBuilder, windowStoreBuilder } from './stores'
import { addStreamStreamJoin } from './stream-stream-join'
import {
  branchProcessor, filterProcessor, flatMapProcessor, flatMapValuesProcessor, mapProcessor, mapValuesProcessor, passThrough, peekProcessor,
  selectKeyProcessor
} from './stream-processors'
import { streamTableJoinProcessor } from './table-processors'

type Untyped = ProcessorSupplier<unknown, unknown, unknown, unknown>
// the join overloads of KStream are implemented by one method each; `any` is confined to those signatures
/* eslint-disable @typescript-eslint/no-explicit-any */

export class KStreamImpl<K, V> implements KStream<K, V> {
  constructor (private readonly ctx: DslContext, private readonly state: StreamState<K, V>) {}

  private add<KR, VR> (prefix: string, named: Named | string | undefined, supplier: Untyped, next: Omit<StreamState<KR, VR>, 'node'>): KStream<KR, VR> {
    const name = this.ctx.nodeName(prefix, named)
    this.ctx.topology.addProcessor(name, supplier, [this.state.node])
    return this.ctx.newStream<KR, VR>({ ...next, node: name })
  }

  private same (): Omit<StreamState<K, V>, 'node'> {
    return this.state
  }

  filter (predicate: (key: K, value: V) => boolean, named?: Named): KStream<K, V> {
    return this.add('KSTREAM-FILTER', named, filterProcessor(predicate as (k: unknown, v: unknown) => boolean, false), this.same())
  }

  filterNot (predicate: (key: K, value: V) => boolean, named?: Named): KStream<K, V> {
    return this.add('KSTREAM-FILTER', named, filterProcessor(predicate as (k: unknown, v: unknown) => boolean, true), this.same())
  }

  map<KR, VR> (mapper: (key: K, value: V) => KeyValue<KR, VR>, named?: Named): KStream<KR, VR> {
    return this.add<KR, VR>('KSTREAM-MAP', named, mapProcessor(mapper as (k: unknown, v: unknown) => KeyValue<unknown, unknown>),
      { sourceTopics: this.state.sourceTopics, keySerde: undefined, valueSerde: undefined, repartitionRequired: true })
  }

  mapValues<VR> (mapper: (value: V, key: K) => VR, named?: Named): KStream<K, VR> {
    return this.add<K, VR>('KSTREAM-MAPVALUES', named, mapValuesProcessor(mapper as (v: unknown, k: unknown) => unknown),
      { ...this.state, valueSerde: undefined })
  }

  flatMap<KR, VR> (mapper: (key: K, value: V) => Iterable<KeyValue<KR, VR>>, named?: Named): KStream<KR, VR> {
    return this.add<KR, VR>('KSTREAM-FLATMAP', named, flatMapProcessor(mapper as (k: unknown, v: unknown) => Iterable<KeyValue<unknown, unknown>>),
      { sourceTopics: this.state.sourceTopics, keySerde: undefined, valueSerde: undefined, repartitionRequired: true })
  }

  flatMapValues<VR> (mapper: (value: V, key: K) => Iterable<VR>, named?: Named): KStream<K, VR> {
    return this.add<K, VR>('KSTREAM-FLATMAPVALUES', named, flatMapValuesProcessor(mapper as (v: unknown, k: unknown) => Iterable<unknown>),
      { ...this.state, valueSerde: undefined })
  }

  selectKey<KR> (mapper: (key: K, value: V) => KR, named?: Named): KStream<KR, V> {
    return this.add<KR, V>('KSTREAM-KEY-SELECT', named, selectKeyProcessor(mapper as (k: unknown, v: unknown) => unknown),
      { sourceTopics: this.state.sourceTopics, keySerde: undefined, valueSerde: this.state.valueSerde, repartitionRequired: true })
  }

  peek (action: (key: K, value: V) => void, named?: Named): KStream<K, V> {
    return this.add('KSTREAM-PEEK', named, peekProcessor(action as (k: unknown, v: unknown) => void), this.same())
  }

  merge (other: KStream<K, V>, named?: Named): KStream<K, V> {
    const o = this.ctx.streamState(other)
    const name = this.ctx.nodeName('KSTREAM-MERGE', named)
    this.ctx.topology.addProcessor(name, passThrough(), [this.state.node, o.node])
    return this.ctx.newStream<K, V>({
      node: name,
      sourceTopics: [...new Set([...this.state.sourceTopics, ...o.sourceTopics])],
      keySerde: this.state.keySerde === o.keySerde ? this.state.keySerde : undefined,
      valueSerde: this.state.valueSerde === o.valueSerde ? this.state.valueSerde : undefined,
      repartitionRequired: this.state.repartitionRequired || o.repartitionRequired
    })
  }

  split (named?: Named): BranchedKStream<K, V> {
    const name = this.ctx.nodeName('KSTREAM-BRANCH', named)
    return new BranchedKStreamImpl<K, V>(this.ctx, this.state, name, named !== undefined)
  }

  repartition (repartitioned: Repartitioned<K, V>): KStream<K, V> {
    if (!(repartitioned instanceof Repartitioned)) throw topologyError('repartition() needs Repartitioned.as(name): repartition topics are never auto-named')
    const state = repartitionStream(this.ctx, this.state, {
      name: repartitioned.name,
      keySerde: repartitioned.keySerde,
      valueSerde: repartitioned.valueSerde,
      numPartitions: repartitioned.numPartitions,
      partitioner: repartitioned.partitioner
    })
    return this.ctx.newStream(state)
  }

  process<KOut, VOut> (supplier: ProcessorSupplier<K, V, KOut, VOut>, named?: Named | string, ...storeNames: string[]): KStream<KOut, VOut> {
    const name = this.ctx.nodeName('KSTREAM-PROCESSOR', named)
    this.ctx.topology.addProcessor(name, supplier as unknown as Untyped, [this.state.node])
    if (storeNames.length > 0) this.ctx.topology.connect(name, storeNames)
    return this.ctx.newStream<KOut, VOut>({ node: name, sourceTopics: this.state.sourceTopics, keySerde: undefined, valueSerde: undefined, repartitionRequired: true })
  }

  groupByKey (grouped?: Grouped<K, V>): KGroupedStream<K, V> {
    const state = repartitionIfRequired(this.ctx, this.state, 'groupByKey()', 'Grouped.as("<name>")', {
      name: grouped?.name,
      keySerde: grouped?.keySerde,
      valueSerde: grouped?.valueSerde,
      dropNullKeysFor: 'grouping'
    })
    return this.ctx.newGrouped({
      ...state,
      keySerde: grouped?.keySerde ?? state.keySerde,
      valueSerde: grouped?.valueSerde ?? state.valueSerde
    })
  }

  groupBy<KR> (selector: (key: K, value: V) => KR, grouped: Grouped<KR, V>): KGroupedStream<KR, V> {
    if (!(grouped instanceof Grouped) || grouped.name === undefined) {
      throw topologyError('groupBy() always repartitions and repartition topics are never auto-named: pass Grouped.as("<name>") — the topic becomes "<applicationId>-<name>-repartition"')
    }
    const selected = this.selectKey(selector) as unknown as KStreamImpl<KR, V>
    return selected.groupByKey(grouped)
  }

  join (other: KTable<K, unknown> | KStream<K, unknown>, joiner: (value: V, other: any, key: K) => unknown,
    windowsOrJoined?: JoinWindows | Joined<K, V, unknown>, streamJoined?: StreamJoined<K, V, unknown>): KStream<K, any> {
    return this.anyJoin(other, joiner, windowsOrJoined, streamJoined, false)
  }

  leftJoin (other: KTable<K, unknown> | KStream<K, unknown>, joiner: (value: V, other: any, key: K) => unknown,
    windowsOrJoined?: JoinWindows | Joined<K, V, unknown>, streamJoined?: StreamJoined<K, V, unknown>): KStream<K, any> {
    return this.anyJoin(other, joiner, windowsOrJoined, streamJoined, true)
  }

  private anyJoin (other: unknown, joiner: (value: V, other: any, key: K) => unknown, windowsOrJoined: unknown, streamJoined: unknown,
    leftJoin: boolean): KStream<K, any> {
    const op = leftJoin ? 'leftJoin' : 'join'
    if (typeof joiner !== 'function') throw topologyError(`${op}() needs a joiner function`)
    const untypedJoiner = joiner as (a: unknown, b: unknown, k: unknown) => unknown
    const table = this.ctx.tableState<K, unknown>(other)
    if (table !== undefined) {
      if (windowsOrJoined !== undefined && !(windowsOrJoined instanceof Joined)) throw topologyError(`stream-table ${op}() takes an optional Joined, not join windows`)
      const joined = windowsOrJoined as Joined<K, V, unknown> | undefined
      const stream = repartitionIfRequired(this.ctx, this.state, `stream-table ${op}()`, 'Joined.as("<name>")', {
        name: joined?.name,
        keySerde: joined?.keySerde,
        valueSerde: joined?.valueSerde,
        dropNullKeysFor: `a stream-table ${op}`
      })
      const name = this.ctx.nodeName('KSTREAM-JOIN', joined?.name)
      this.ctx.topology.addProcessor(name, streamTableJoinProcessor(table.getter, untypedJoiner, leftJoin), [stream.node])
      this.ctx.topology.connect(name, table.getter.storeNames)
      this.ctx.topology.addCopartitionGroup([...stream.sourceTopics, ...table.sourceTopics])
      return this.ctx.newStream({ node: name, sourceTopics: stream.sourceTopics, keySerde: stream.keySerde, valueSerde: undefined, repartitionRequired: false })
    }
    if (!this.ctx.isStream(other)) throw topologyError(`${op}() needs a KTable or a KStream of the same StreamsBuilder`)
    const windows = windowsOrJoined as JoinWindows | undefined
    if (windows === undefined || typeof (windows as JoinWindows).beforeMs !== 'number') {
      throw topologyError(`stream-stream ${op}() needs JoinWindows (e.g. JoinWindows.ofTimeDifferenceAndGrace(diffMs, graceMs))`)
    }
    if (!(streamJoined instanceof StreamJoined)) {
      throw topologyError(`stream-stream ${op}() needs StreamJoined.as("<name>"): it names the join stores "<name>-this-join-store" / "<name>-other-join-store"`)
    }
    const sj = streamJoined as StreamJoined<K, V, unknown>
    const right = this.ctx.streamState(other as KStream<K, unknown>)
    const leftState = repartitionIfRequired(this.ctx, this.state, `stream-stream ${op}()`, 'StreamJoined.as("<name>")', {
      name: `${sj.name}-left`, keySerde: sj.keySerde, valueSerde: sj.valueSerde, dropNullKeysFor: `a stream-stream ${op}`
    })
    const rightState = repartitionIfRequired(this.ctx, right, `stream-stream ${op}()`, 'StreamJoined.as("<name>")', {
      name: `${sj.name}-right`, keySerde: sj.keySerde, valueSerde: sj.otherValueSerde, dropNullKeysFor: `a stream-stream ${op}`
    })
    const keySerde = sj.keySerde ?? leftState.keySerde ?? rightState.keySerde
    const leftValueSerde = sj.valueSerde ?? leftState.valueSerde
    const rightValueSerde = sj.otherValueSerde ?? rightState.valueSerde
    if (keySerde === undefined || leftValueSerde === undefined || rightValueSerde === undefined) {
      const missing = keySerde === undefined ? 'key' : leftValueSerde === undefined ? 'value' : 'other value'
      throw topologyError(`stream-stream join "${sj.name}" needs a ${missing} serde for its window stores: give it with StreamJoined.withKeySerde / withValueSerde / withOtherValueSerde`)
    }
    const choice = { storeType: sj.storeType ?? this.ctx.defaultStoreType, loggingEnabled: sj.loggingEnabled }
    const merge = addStreamStreamJoin({
      name: sj.name,
      topology: this.ctx.topology,
      left: leftState,
      right: rightState,
      keySerde: keySerde as Serde<unknown>,
      leftValueSerde: leftValueSerde as Serde<unknown>,
      rightValueSerde: rightValueSerde as Serde<unknown>,
      beforeMs: windows.beforeMs,
      afterMs: windows.afterMs,
      graceMs: windows.graceMs,
      joiner: untypedJoiner,
      leftJoin,
      storeBuilders: {
        window: (name, valueSerde, retentionMs, windowSizeMs) =>
          windowStoreBuilder(name, keySerde as Serde<unknown>, valueSerde, choice, { retentionMs, windowSizeMs, retainDuplicates: true }),
        outer: (name) => keyValueStoreBuilder(name, Serdes.Buffer(), Serdes.Buffer(), choice)
      }
    })
    return this.ctx.newStream({
      node: merge,
      sourceTopics: [...new Set([...leftState.sourceTopics, ...rightState.sourceTopics])],
      keySerde: keySerde as Serde<K>,
      valueSerde: undefined,
      repartitionRequired: false
    })
  }

  to (topic: string, produced?: Produced<NonNullable<K>, NonNullable<V>>): void {
    if (produced !== undefined && !(produced instanceof Produced)) throw topologyError('to() takes Produced.with(keySerde, valueSerde)')
    const keySerde = produced?.keySerde ?? this.state.keySerde
    const valueSerde = produced?.valueSerde ?? this.state.valueSerde
    const name = this.ctx.nodeName('KSTREAM-SINK', produced?.name)
    this.ctx.topology.addSink(name, topic, [this.state.node], keySerde as Serde<unknown> | undefined, valueSerde as Serde<unknown> | undefined,
      produced?.partitioner as StreamPartitioner<unknown, unknown> | undefined)
  }
}

class BranchedKStreamImpl<K, V> implements BranchedKStream<K, V> {
  private readonly predicates: Array<(key: unknown, value: unknown) => boolean> = []
  private readonly children: string[] = []
  private readonly defaultChild: { name: string | undefined } = { name: undefined }
  private readonly result = new Map<string, KStream<K, V>>()
  private done = false

  constructor (private readonly ctx: DslContext, private readonly state: StreamState<K, V>, private readonly name: string, named: boolean) {
    ctx.topology.addProcessor(name, branchProcessor(this.predicates, this.children, this.defaultChild), [state.node])
    // Kafka Streams: with a user name, branch names are that name as prefix plus the branch name
    this.prefix = named ? name : `${name}-`
  }

  private readonly prefix: string

  branch (predicate: (key: K, value: V) => boolean, branched?: Branched<K, V>): BranchedKStream<K, V> {
    if (typeof predicate !== 'function') throw topologyError('branch() needs a predicate function')
    this.predicates.push(predicate as (key: unknown, value: unknown) => boolean)
    this.children.push(this.addBranch(branched, String(this.predicates.length)))
    return this
  }

  defaultBranch (branched?: Branched<K, V>): Map<string, KStream<K, V>> {
    this.defaultChild.name = this.addBranch(branched, '0')
    return this.finish()
  }

  noDefaultBranch (): Map<string, KStream<K, V>> {
    return this.finish()
  }

  private addBranch (branched: Branched<K, V> | undefined, position: string): string {
    if (this.done) throw topologyError(`split "${this.name}" is complete; add branches before defaultBranch() / noDefaultBranch()`)
    if (branched !== undefined && !(branched instanceof Branched)) throw topologyError('branch() takes Branched.as(name) / withConsumer / withFunction')
    const childName = this.prefix + (branched?.name ?? position)
    this.ctx.topology.addProcessor(childName, passThrough(), [this.name])
    const stream = this.ctx.newStream<K, V>({ ...this.state, node: childName })
    const chained = branched?.chain === undefined ? stream : branched.chain(stream)
    if (chained !== undefined && chained !== null) this.result.set(childName, chained as KStream<K, V>)
    return childName
  }

  private finish (): Map<string, KStream<K, V>> {
    this.done = true
    return this.result
  }
}
