import { isDevtripError } from '../../events/errors'
import { Serdes } from '../../state/serdes-builtin'
import {
  Consumed, Grouped, Materialized, Produced, Repartitioned, StreamsBuilder, TopologyTestDriver
} from '../../streams'

const str = Serdes.String()
const num = Serdes.Int64AsNumber()
interface Order { user: string, amount: number }
const orderSerde = Serdes.Json<Order>()

describe('KGroupedStream aggregations', () => {
  test('count, reduce and aggregate per key, each update forwarded and kept in the named store', async () => {
    const b = new StreamsBuilder({ defaultStoreType: 'in-memory' })
    const grouped = b.stream('orders', Consumed.with(str, orderSerde)).groupByKey()
    grouped.count(Materialized.as('order-counts')).toStream().to('counts', Produced.with(str, num))
    grouped.reduce((agg, v) => ({ user: v.user, amount: Math.max(agg.amount, v.amount) }), Materialized.as('max-order'))
      .toStream().to('max', Produced.with(str, orderSerde))
    grouped.aggregate(() => 0, (_k, v, sum) => sum + v.amount, Materialized.as<string, number>('order-sums').withValueSerde(num))
      .toStream().to('sums', Produced.with(str, num))
    const d = new TopologyTestDriver(b.build(), { applicationId: 'agg' })
    try {
      const input = d.createInputTopic('orders', str, orderSerde)
      await input.pipeInput('u1', { user: 'u1', amount: 10 }, 1)
      await input.pipeInput('u2', { user: 'u2', amount: 5 }, 2)
      await input.pipeInput('u1', { user: 'u1', amount: 30 }, 3)
      await input.pipeInput('u1', { user: 'u1', amount: 20 }, 4)
      expect(d.createOutputTopic('counts', str, num).readKeyValuesToList()).toEqual([
        { key: 'u1', value: 1 }, { key: 'u2', value: 1 }, { key: 'u1', value: 2 }, { key: 'u1', value: 3 }
      ])
      expect(d.createOutputTopic('max', str, orderSerde).readKeyValuesToMap()).toEqual(new Map([
        ['u1', { user: 'u1', amount: 30 }], ['u2', { user: 'u2', amount: 5 }]
      ]))
      expect(d.createOutputTopic('sums', str, num).readKeyValuesToMap()).toEqual(new Map([['u1', 60], ['u2', 5]]))
      expect(d.getKeyValueStore<string, number>('order-counts').get('u1')).toBe(3)
      expect(d.getKeyValueStore<string, number>('order-sums').all()).toEqual([{ key: 'u1', value: 60 }, { key: 'u2', value: 5 }])
      // every store update reached the changelog, keyed by the serialized key
      const changelog = d.producedChangelog('order-counts')
      expect(changelog.map((r) => [r.key?.toString(), r.value === null ? null : num.deserialize(r.value)])).toEqual([
        ['u1', 1], ['u2', 1], ['u1', 2], ['u1', 3]
      ])
    } finally {
      await d.close()
    }
  })

  test('null keys are not aggregated and are reported as skipped', async () => {
    const b = new StreamsBuilder({ defaultStoreType: 'in-memory' })
    b.stream('in', Consumed.with(str, str)).groupByKey().count(Materialized.as('c'))
    const skipped: string[] = []
    const d = new TopologyTestDriver(b.build(), { applicationId: 'nullkey', listener: { onSkippedRecord: (e) => skipped.push(e.reason) } })
    try {
      await d.createInputTopic('in', str, str).pipeInput(null, 'v')
      expect(skipped).toEqual(['null key in an aggregation'])
      expect(d.metrics().skipped).toBe(1)
      expect(d.getKeyValueStore('c').approximateNumEntries()).toBe(0)
    } finally {
      await d.close()
    }
  })

  test('selectKey + groupByKey goes through the named repartition topic into a second sub-topology', async () => {
    const b = new StreamsBuilder({ defaultStoreType: 'in-memory' })
    b.stream('orders', Consumed.with(str, orderSerde))
      .selectKey((_k, v) => v.user)
      .groupByKey(Grouped.as<string, Order>('orders-by-user').withKeySerde(str))
      .count(Materialized.as('orders-per-user'))
      .toStream().to('per-user', Produced.with(str, num))
    const topology = b.build()
    const meta = topology.metadata('shop')
    expect(meta.subtopologies.map((s) => s.sourceTopics)).toEqual([['orders'], ['shop-orders-by-user-repartition']])
    expect(meta.repartitionTopics).toEqual([{ name: 'shop-orders-by-user-repartition', numPartitions: undefined, writtenBy: [0], readBy: 1 }])
    expect(meta.changelogTopics).toEqual([{ topic: 'shop-orders-per-user-changelog', store: 'orders-per-user', subtopology: 1, config: {} }])
    const d = new TopologyTestDriver(topology, { applicationId: 'shop', partitions: 3 })
    try {
      const input = d.createInputTopic('orders', str, orderSerde)
      await input.pipeInput('o1', { user: 'alice', amount: 1 })
      await input.pipeInput('o2', { user: 'bob', amount: 1 })
      await input.pipeInput('o3', { user: 'alice', amount: 1 })
      expect(d.createOutputTopic('per-user', str, num).readKeyValuesToMap()).toEqual(new Map([['alice', 2], ['bob', 1]]))
      const repartitioned = d.producedRecords('shop-orders-by-user-repartition')
      expect(repartitioned.map((r) => r.key?.toString())).toEqual(['alice', 'bob', 'alice'])
      // the same key always lands on the same partition
      expect(repartitioned[0]?.partition).toBe(repartitioned[2]?.partition)
      expect(d.getKeyValueStoreAcrossPartitions<string, number>('orders-per-user').get('alice')).toBe(2)
    } finally {
      await d.close()
    }
  })

  test('groupBy repartitions through Grouped.as(name); explicit repartition() honours its partition count', async () => {
    const b = new StreamsBuilder({ defaultStoreType: 'in-memory' })
    const s = b.stream('orders', Consumed.with(str, orderSerde))
    s.groupBy((_k, v) => v.user, Grouped.as<string, Order>('by-user').withKeySerde(str)).count(Materialized.as('n'))
    s.repartition(Repartitioned.as<string, Order>('spread').withNumberOfPartitions(4)).to('spread-out', Produced.with(str, orderSerde))
    const topology = b.build()
    const meta = topology.metadata('app')
    expect(meta.repartitionTopics.map((r) => [r.name, r.numPartitions])).toEqual([['app-by-user-repartition', undefined], ['app-spread-repartition', 4]])
    const d = new TopologyTestDriver(topology, { applicationId: 'app', partitions: 2 })
    try {
      const input = d.createInputTopic('orders', str, orderSerde)
      for (const [id, user] of [['o1', 'ann'], ['o2', 'bob'], ['o3', 'ann'], ['o4', 'cy'], ['o5', 'dee']]) await input.pipeInput(id, { user: user as string, amount: 1 })
      expect(d.getKeyValueStoreAcrossPartitions<string, number>('n').all().sort((x, y) => x.key.localeCompare(y.key)))
        .toEqual([{ key: 'ann', value: 2 }, { key: 'bob', value: 1 }, { key: 'cy', value: 1 }, { key: 'dee', value: 1 }])
      const spread = d.producedRecords('app-spread-repartition')
      expect(spread).toHaveLength(5)
      expect(spread.every((r) => r.partition >= 0 && r.partition < 4)).toBe(true)
      expect(d.createOutputTopic('spread-out', str, orderSerde).readKeyValuesToList().map((kv) => kv.key).sort()).toEqual(['o1', 'o2', 'o3', 'o4', 'o5'])
    } finally {
      await d.close()
    }
  })

  test('a stateful operation after a key change without a repartition name is a topology error', () => {
    const b = new StreamsBuilder()
    const rekeyed = b.stream('orders', Consumed.with(str, orderSerde)).selectKey((_k, v) => v.user)
    let error: unknown
    try { rekeyed.groupByKey() } catch (e) { error = e }
    expect(isDevtripError(error, 'DEVTRIP_TOPOLOGY')).toBe(true)
    expect((error as Error).message).toMatch(/Grouped\.as\("<name>"\)/)
    expect(() => b.stream('other', Consumed.with(str, orderSerde)).groupBy((_k, v) => v.user, Grouped.with(str, orderSerde))).toThrow(/never auto-named/)
    // map and flatMap change keys as well; mapValues does not
    const b2 = new StreamsBuilder()
    const src = b2.stream('x', Consumed.with(str, str))
    expect(() => src.map((k, v) => ({ key: v, value: k })).groupByKey(Grouped.with(str, str))).toThrow(/key-changing/)
    expect(() => src.mapValues((v) => v.length).groupByKey()).not.toThrow()
  })

  test('stores must be named: count() without Materialized.as is an error', () => {
    const b = new StreamsBuilder()
    const grouped = b.stream('x', Consumed.with(str, str)).groupByKey()
    expect(() => grouped.count(undefined as unknown as Materialized<string, number>)).toThrow(/never auto-named/)
    expect(() => grouped.aggregate(() => 0, (_k, _v, a) => a, Materialized.as('no-serde'))).toThrow(/withValueSerde/)
  })
})
