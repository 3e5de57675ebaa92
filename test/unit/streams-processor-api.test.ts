import { Stores } from '../../state/builders'
import { Serdes } from '../../state/serdes-builtin'
import type { KeyValueStore } from '../../state/base/types'
import {
  Consumed, Grouped, Materialized, Produced, Repartitioned, StreamsBuilder, Topology, TopologyTestDriver, resolvePartitionCounts,
  type Cancellable, type Processor, type ProcessorContext, type Record, type RecordMetadata
} from '../../streams'

const str = Serdes.String()
const num = Serdes.Int64AsNumber()

describe('Processor API through the test driver', () => {
  test('stream-time punctuators fire when stream time reaches the next interval multiple, once even when several were skipped', async () => {
    const fired: number[] = []
    const topology = new Topology()
      .addSource('src', 'in', { keyDeserializer: str, valueDeserializer: str })
      .addProcessor('ticker', {
        get: (): Processor<string, string, string, string> => {
          let ctx: ProcessorContext<string, string>
          return {
            init (c) {
              ctx = c
              c.schedule(1000, 'stream-time', (ts) => {
                fired.push(ts)
                ctx.forward({ key: 'tick', value: `stream-time ${ts}`, timestamp: ts, headers: [] })
              })
            },
            process () {}
          }
        }
      }, 'src')
      .addSink('out', 'ticks', { keySerializer: str, valueSerializer: str }, 'ticker')
    const d = new TopologyTestDriver(topology, { applicationId: 'punct' })
    try {
      const input = d.createInputTopic('in', str, str)
      await input.pipeInput('k', 'v', 1500) // first data: fires at once (aligned to 0), next due 2000
      await input.pipeInput('k', 'v', 1700)
      await input.pipeInput('k', 'v', 3100) // 2000 and 3000 were skipped: fires once, next due 4000
      await input.pipeInput('k', 'v', 3999)
      await input.pipeInput('k', 'v', 4000)
      await input.pipeInput('k', 'v', 100) // stream time does not go back
      expect(fired).toEqual([1500, 3100, 4000])
      expect(d.createOutputTopic('ticks', str, str).readValuesToList()).toEqual(['stream-time 1500', 'stream-time 3100', 'stream-time 4000'])
      expect(d.metrics().punctuations).toBe(3)
    } finally {
      await d.close()
    }
  })

  test('wall-clock punctuators follow the driver clock; cancel() stops them; a punctuator has no record metadata', async () => {
    const fired: Array<[number, RecordMetadata | undefined]> = []
    let cancellable: Cancellable | undefined
    const topology = new Topology()
      .addSource('src', 'in')
      .addProcessor('wall', {
        get: (): Processor<Buffer, Buffer> => ({
          init (ctx) {
            cancellable = ctx.schedule(500, 'wall-clock', (ts) => {
              fired.push([ts, ctx.recordMetadata()])
              if (fired.length === 3) cancellable?.cancel()
            })
          },
          process () {}
        })
      }, 'src')
    const d = new TopologyTestDriver(topology, { applicationId: 'wall', initialWallClockMs: 10_000 })
    try {
      await d.advanceWallClockTime(499)
      expect(fired).toEqual([])
      await d.advanceWallClockTime(1) // 10 500
      await d.advanceWallClockTime(1200) // 11 700: fires once; next due 12 000
      await d.advanceWallClockTime(300) // 12 000
      await d.advanceWallClockTime(5000) // cancelled
      expect(fired).toEqual([[10_500, undefined], [11_700, undefined], [12_000, undefined]])
    } finally {
      await d.close()
    }
  })

  test('a processor with a connected store; record metadata; getStateStore on an unconnected store is an error', async () => {
    const seenOffsets: bigint[] = []
    class Dedup implements Processor<string, string, string, string> {
      private ctx!: ProcessorContext<string, string>
      private store!: KeyValueStore<string, number>
      init (ctx: ProcessorContext<string, string>): void {
        this.ctx = ctx
        this.store = ctx.getStateStore<KeyValueStore<string, number>>('seen')
      }

      process (record: Record<string, string>): void {
        seenOffsets.push((this.ctx.recordMetadata() as RecordMetadata).offset)
        if (this.store.get(record.value) !== undefined) return
        this.store.put(record.value, record.timestamp)
        this.ctx.forward(record)
      }
    }
    const topology = new Topology()
      .addSource('src', 'in', { keyDeserializer: str, valueDeserializer: str })
      .addProcessor('dedup', { get: () => new Dedup() }, 'src')
      .addStateStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore('seen'), str, num), 'dedup')
      .addSink('out', 'unique', { keySerializer: str, valueSerializer: str }, 'dedup')
    const d = new TopologyTestDriver(topology, { applicationId: 'dedup' })
    try {
      const input = d.createInputTopic('in', str, str)
      await input.pipeRecordList([{ key: 'a', value: 'x', timestampMs: 1 }, { key: 'b', value: 'y', timestampMs: 2 }, { key: 'c', value: 'x', timestampMs: 3 }])
      expect(d.createOutputTopic('unique', str, str).readKeyValuesToList()).toEqual([{ key: 'a', value: 'x' }, { key: 'b', value: 'y' }])
      expect(seenOffsets).toEqual([0n, 1n, 2n])
      expect(d.getKeyValueStore<string, number>('seen').get('x')).toBe(1)
    } finally {
      await d.close()
    }

    const bad = new Topology()
      .addSource('src', 'in')
      .addProcessor('p1', { get: () => ({ process () {} }) }, 'src')
      .addProcessor('p2', { get: () => ({ init (ctx: ProcessorContext) { ctx.getStateStore('s') }, process () {} }) }, 'src')
      .addStateStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore('s'), str, str), 'p1')
    const d2 = new TopologyTestDriver(bad, { applicationId: 'bad' })
    await expect(d2.init()).rejects.toThrow(/processor "p2" failed in init\(\).*not connected to store "s"/)
    await d2.close()
  })

  test('KStream.process() runs a Processor API processor with the stores named for it', async () => {
    const b = new StreamsBuilder()
    b.addStateStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore('totals'), str, num))
    b.stream('in', Consumed.with(str, num))
      .process({
        get: (): Processor<string, number, string, number> => {
          let ctx: ProcessorContext<string, number>
          let totals: KeyValueStore<string, number>
          return {
            init (c) { ctx = c; totals = c.getStateStore('totals') },
            process (r) {
              const total = (totals.get(r.key) ?? 0) + r.value
              totals.put(r.key, total)
              ctx.forward({ ...r, value: total })
            }
          }
        }
      }, 'running-total', 'totals')
      .to('totals-out', Produced.with(str, num))
    const d = new TopologyTestDriver(b.build(), { applicationId: 'proc' })
    try {
      const input = d.createInputTopic('in', str, num)
      await input.pipeInput('a', 5)
      await input.pipeInput('a', 7)
      expect(d.createOutputTopic('totals-out', str, num).readValuesToList()).toEqual([5, 12])
      expect(String(b.build().describe())).toContain('Processor: running-total (stores: [totals])')
    } finally {
      await d.close()
    }
  })

  test('forward(record, childName) reaches only that child; an unknown child is an error', async () => {
    const topology = new Topology()
      .addSource('src', 'in', { keyDeserializer: str, valueDeserializer: str })
      .addProcessor('router', {
        get: (): Processor<string, string, string, string> => {
          let ctx: ProcessorContext<string, string>
          return { init (c) { ctx = c }, process (r) { ctx.forward(r, r.value === 'left' ? 'to-left' : r.value === 'right' ? 'to-right' : 'nowhere') } }
        }
      }, 'src')
      .addSink('to-left', 'left', { keySerializer: str, valueSerializer: str }, 'router')
      .addSink('to-right', 'right', { keySerializer: str, valueSerializer: str }, 'router')
    const errors: string[] = []
    const d = new TopologyTestDriver(topology, {
      applicationId: 'route',
      errorHandling: { processing: 'continue' },
      listener: { onHandledError: (e) => errors.push(`${e.processor}: ${(e.error as Error).message}`) }
    })
    try {
      const input = d.createInputTopic('in', str, str)
      await input.pipeInput('1', 'left')
      await input.pipeInput('2', 'right')
      await input.pipeInput('3', 'up')
      expect(d.createOutputTopic('left', str, str).readKeyValuesToList()).toEqual([{ key: '1', value: 'left' }])
      expect(d.createOutputTopic('right', str, str).readKeyValuesToList()).toEqual([{ key: '2', value: 'right' }])
      expect(d.metrics().continued).toBe(1)
    } finally {
      await d.close()
    }
    expect(errors).toEqual(['router: "router" forwarded to "nowhere", which is not one of its children (to-left, to-right)'])
  })
})

describe('Topology structure', () => {
  test('describe() lists sub-topologies, sources, processors, sinks and stores like Kafka Streams', () => {
    const b2 = new StreamsBuilder()
    b2.stream('orders', Consumed.with(str, str).withName('orders-source'))
      .filter((_k, v) => v.length > 0)
      .groupBy((_k, v) => v, Grouped.as<string, string>('by-value').withKeySerde(str))
      .count(Materialized.as('counts'))
      .toStream()
      .to('counts-out', Produced.with(str, num).withName('counts-sink'))
    expect(String(b2.build().describe())).toBe([
      'Topologies:',
      '   Sub-topology: 0',
      '    Source: orders-source (topics: [orders])',
      '      --> KSTREAM-FILTER-0000000000',
      '    Processor: KSTREAM-FILTER-0000000000 (stores: [])',
      '      --> KSTREAM-KEY-SELECT-0000000001',
      '      <-- orders-source',
      '    Processor: KSTREAM-KEY-SELECT-0000000001 (stores: [])',
      '      --> by-value-repartition-filter',
      '      <-- KSTREAM-FILTER-0000000000',
      '    Processor: by-value-repartition-filter (stores: [])',
      '      --> by-value-repartition-sink',
      '      <-- KSTREAM-KEY-SELECT-0000000001',
      '    Sink: by-value-repartition-sink (topic: by-value-repartition)',
      '      <-- by-value-repartition-filter',
      '   Sub-topology: 1',
      '    Source: by-value-repartition-source (topics: [by-value-repartition])',
      '      --> counts-aggregate',
      '    Processor: counts-aggregate (stores: [counts])',
      '      --> KTABLE-TOSTREAM-0000000002',
      '      <-- by-value-repartition-source',
      '    Processor: KTABLE-TOSTREAM-0000000002 (stores: [])',
      '      --> counts-sink',
      '      <-- counts-aggregate',
      '    Sink: counts-sink (topic: counts-out)',
      '      <-- KTABLE-TOSTREAM-0000000002',
      ''
    ].join('\n'))
    const description = b2.build().describe()
    expect(description.subtopologies[1]?.nodes[1]).toEqual({
      type: 'processor', name: 'counts-aggregate', topics: [], stores: ['counts'], predecessors: ['by-value-repartition-source'], successors: ['KTABLE-TOSTREAM-0000000002']
    })
  })

  test('topology errors: duplicate names, unknown parents, a topic read twice, an unconnected store', () => {
    const t = new Topology().addSource('s', 'a')
    expect(() => t.addSource('s', 'b')).toThrow(/already exists/)
    expect(() => t.addSource('s2', 'a')).toThrow(/already read by source "s"/)
    expect(() => t.addProcessor('p', { get: () => ({ process () {} }) }, 'nope')).toThrow(/parent "nope", which does not exist/)
    expect(() => t.addSink('k', 'bad topic!', {}, 's')).toThrow(/not a legal Kafka topic name/)
    t.addStateStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore('lonely'), str, str))
    expect(() => t.describe()).toThrow(/store "lonely" is not connected to any processor/)
    expect(() => new Topology().describe()).toThrow(/empty/)
  })

  test('metadata: stores with changelog topics, co-partition groups, partition counts derived for repartition topics', () => {
    const b = new StreamsBuilder()
    const table = b.table('users', Consumed.with(str, str), Materialized.as('users-store'))
    b.stream('clicks', Consumed.with(str, str)).join(table, (c, u) => c + u).to('out', Produced.with(str, str))
    const meta = b.build().metadata('app')
    expect(meta.sourceTopics).toEqual(['users', 'clicks'])
    expect(meta.sinkTopics).toEqual(['out'])
    expect(meta.subtopologies).toEqual([{
      id: 0,
      sourceTopics: ['users', 'clicks'],
      repartitionSourceTopics: [],
      sinkTopics: ['out'],
      stores: [{ name: 'users-store', changelogTopic: 'app-users-store-changelog', changelogConfig: {} }],
      copartitionGroups: [['clicks', 'users']]
    }])
  })

  test('resolvePartitionCounts: tasks per sub-topology = most partitions among its sources; repartition topics inherit or are explicit', () => {
    const b = new StreamsBuilder()
    const s = b.stream(['a', 'b'], Consumed.with(str, str))
    s.selectKey((_k, v) => v).groupByKey(Grouped.as<string, string>('inherit').withKeySerde(str)).count(Materialized.as('c1'))
    s.repartition(Repartitioned.as<string, string>('fixed').withNumberOfPartitions(7)).groupByKey().count(Materialized.as('c2'))
    const meta = b.build().metadata('app')
    const counts = resolvePartitionCounts(meta, (t) => (t === 'a' ? 3 : 5))
    expect(Object.fromEntries(counts.topics)).toEqual({ a: 3, b: 5, 'app-inherit-repartition': 5, 'app-fixed-repartition': 7 })
    expect([...counts.tasksPerSubtopology.entries()].sort((x, y) => x[0] - y[0])).toEqual([[0, 5], [1, 5], [2, 7]])
    expect(() => resolvePartitionCounts(meta, () => 0)).toThrow(/source topic "a" has no partitions/)
  })
})
