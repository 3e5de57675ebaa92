import { Serdes } from '../../state/serdes-builtin'
import {
  Consumed, Joined, Materialized, Named, Produced, StreamsBuilder, TopologyTestDriver
} from '../../streams'

const str = Serdes.String()
const num = Serdes.Int64AsNumber()
interface User { name: string, plan: string }
const userSerde = Serdes.Json<User>()

async function run (build: (b: StreamsBuilder) => void, test: (d: TopologyTestDriver) => Promise<void>, partitions = 1): Promise<void> {
  const b = new StreamsBuilder({ defaultStoreType: 'in-memory' })
  build(b)
  const d = new TopologyTestDriver(b.build(), { applicationId: 'tables', partitions })
  try { await test(d) } finally { await d.close() }
}

describe('KTable', () => {
  test('table() keeps the latest value per key; a tombstone deletes; toStream emits every change', async () => {
    await run((b) => {
      b.table('users', Consumed.with(str, userSerde), Materialized.as('users-store')).toStream().to('user-changes', Produced.with(str, userSerde))
    }, async (d) => {
      const users = d.createInputTopic('users', str, userSerde)
      await users.pipeInput('u1', { name: 'Ann', plan: 'free' }, 1)
      await users.pipeInput('u1', { name: 'Ann', plan: 'pro' }, 2)
      await users.pipeInput('u2', { name: 'Bo', plan: 'free' }, 3)
      await users.pipeInput('u2', null, 4)
      await users.pipeInput('u3', null, 5) // deleting an absent key changes nothing
      expect(d.getKeyValueStore<string, User>('users-store').all()).toEqual([{ key: 'u1', value: { name: 'Ann', plan: 'pro' } }])
      expect(d.createOutputTopic('user-changes', str, userSerde).readKeyValuesToList()).toEqual([
        { key: 'u1', value: { name: 'Ann', plan: 'free' } },
        { key: 'u1', value: { name: 'Ann', plan: 'pro' } },
        { key: 'u2', value: { name: 'Bo', plan: 'free' } },
        { key: 'u2', value: null }
      ])
    })
  })

  test('filter retracts a key that stops matching; mapValues maps new values; materialized results are queryable', async () => {
    await run((b) => {
      const users = b.table('users', Consumed.with(str, userSerde), Materialized.as('users-store'))
      const pro = users.filter((_k, u) => u.plan === 'pro', Named.as('pro-only'), Materialized.as('pro-users'))
      pro.toStream().to('pro', Produced.with(str, userSerde))
      users.filterNot((_k, u) => u.plan === 'pro').mapValues((u) => u.name.length, undefined, Materialized.as<string, number>('name-lengths').withValueSerde(num))
        .toStream().to('free-name-lengths', Produced.with(str, num))
    }, async (d) => {
      const users = d.createInputTopic('users', str, userSerde)
      await users.pipeInput('u1', { name: 'Ann', plan: 'free' }, 1)
      await users.pipeInput('u1', { name: 'Ann', plan: 'pro' }, 2)
      await users.pipeInput('u1', { name: 'Ann', plan: 'free' }, 3)
      await users.pipeInput('u2', { name: 'Bea', plan: 'free' }, 4)
      expect(d.createOutputTopic('pro', str, userSerde).readKeyValuesToList()).toEqual([
        { key: 'u1', value: { name: 'Ann', plan: 'pro' } },
        { key: 'u1', value: null } // left the filtered table
      ])
      expect(d.getKeyValueStore('pro-users').approximateNumEntries()).toBe(0)
      expect(d.createOutputTopic('free-name-lengths', str, num).readKeyValuesToList()).toEqual([
        { key: 'u1', value: 3 }, { key: 'u1', value: null }, { key: 'u1', value: 3 }, { key: 'u2', value: 3 }
      ])
      expect(d.getKeyValueStore<string, number>('name-lengths').all()).toEqual([{ key: 'u1', value: 3 }, { key: 'u2', value: 3 }])
    })
  })

  test('KTable–KTable join updates from both sides and deletes when a side is deleted', async () => {
    await run((b) => {
      const users = b.table('users', Consumed.with(str, userSerde), Materialized.as('users-store'))
      const balances = b.table('balances', Consumed.with(str, num), Materialized.as('balances-store'))
      users.join(balances, (u, bal) => `${u.name}:${bal}`, Named.as('user-balance'), Materialized.as<string, string>('user-balance-store').withValueSerde(str))
        .toStream().to('joined', Produced.with(str, str))
      users.leftJoin(balances, (u, bal) => `${u.name}:${bal ?? 'none'}`).toStream().to('left-joined', Produced.with(str, str))
    }, async (d) => {
      const users = d.createInputTopic('users', str, userSerde)
      const balances = d.createInputTopic('balances', str, num)
      await users.pipeInput('u1', { name: 'Ann', plan: 'free' }, 1)
      await balances.pipeInput('u1', 100, 2)
      await balances.pipeInput('u1', 150, 3)
      await users.pipeInput('u1', { name: 'Anne', plan: 'free' }, 4)
      await balances.pipeInput('u1', null, 5)
      await balances.pipeInput('u2', 7, 6) // no user: nothing in either join
      expect(d.createOutputTopic('joined', str, str).readKeyValuesToList()).toEqual([
        { key: 'u1', value: 'Ann:100' },
        { key: 'u1', value: 'Ann:150' },
        { key: 'u1', value: 'Anne:150' },
        { key: 'u1', value: null }
      ])
      expect(d.createOutputTopic('left-joined', str, str).readKeyValuesToList()).toEqual([
        { key: 'u1', value: 'Ann:none' },
        { key: 'u1', value: 'Ann:100' },
        { key: 'u1', value: 'Ann:150' },
        { key: 'u1', value: 'Anne:150' },
        { key: 'u1', value: 'Anne:none' }
      ])
      expect(d.getKeyValueStore('user-balance-store').approximateNumEntries()).toBe(0)
      // joined tables are co-partitioned and live in one sub-topology
      expect(d.metadata.subtopologies).toHaveLength(1)
      expect(d.metadata.subtopologies[0]?.copartitionGroups).toContainEqual(['users', 'balances'])
    })
  })

  test('a join reads through an unmaterialized filtered table (value getter chain)', async () => {
    await run((b) => {
      const users = b.table('users', Consumed.with(str, userSerde), Materialized.as('users-store'))
      const pro = users.filter((_k, u) => u.plan === 'pro')
      b.stream('clicks', Consumed.with(str, str)).join(pro, (click, u) => `${u.name} clicked ${click}`).to('pro-clicks', Produced.with(str, str))
    }, async (d) => {
      await d.createInputTopic('users', str, userSerde).pipeInput('u1', { name: 'Ann', plan: 'pro' }, 1)
      await d.createInputTopic('users', str, userSerde).pipeInput('u2', { name: 'Bo', plan: 'free' }, 2)
      const clicks = d.createInputTopic('clicks', str, str)
      await clicks.pipeInput('u1', 'buy', 3)
      await clicks.pipeInput('u2', 'buy', 4)
      expect(d.createOutputTopic('pro-clicks', str, str).readValuesToList()).toEqual(['Ann clicked buy'])
    })
  })
})

describe('KStream–KTable joins', () => {
  test('join emits only for keys in the table, with the table value at that moment; leftJoin emits null otherwise', async () => {
    await run((b) => {
      const users = b.table('users', Consumed.with(str, userSerde), Materialized.as('users-store'))
      const clicks = b.stream('clicks', Consumed.with(str, str))
      clicks.join(users, (page, u) => `${u.name}@${u.plan}:${page}`, Joined.as('click-user')).to('enriched', Produced.with(str, str))
      clicks.leftJoin(users, (page, u) => `${u?.name ?? '?'}:${page}`).to('left-enriched', Produced.with(str, str))
    }, async (d) => {
      const users = d.createInputTopic('users', str, userSerde)
      const clicks = d.createInputTopic('clicks', str, str)
      await clicks.pipeInput('u1', '/early', 1)
      await users.pipeInput('u1', { name: 'Ann', plan: 'free' }, 2)
      await clicks.pipeInput('u1', '/home', 3)
      await users.pipeInput('u1', { name: 'Ann', plan: 'pro' }, 4)
      await clicks.pipeInput('u1', '/pay', 5)
      await clicks.pipeInput(null, '/anon', 6)
      expect(d.createOutputTopic('enriched', str, str).readValuesToList()).toEqual(['Ann@free:/home', 'Ann@pro:/pay'])
      expect(d.createOutputTopic('left-enriched', str, str).readKeyValuesToList()).toEqual([
        { key: 'u1', value: '?:/early' }, { key: 'u1', value: 'Ann:/home' }, { key: 'u1', value: 'Ann:/pay' }, { key: null, value: '?:/anon' }
      ])
      const join = d.metadata.subtopologies[0]
      expect(join?.copartitionGroups).toContainEqual(['clicks', 'users'])
    })
  })

  test('a stream whose key changed is repartitioned through Joined.as(name) before the join', async () => {
    const b = new StreamsBuilder({ defaultStoreType: 'in-memory' })
    const users = b.table('users', Consumed.with(str, userSerde), Materialized.as('users-store'))
    const clicks = b.stream('clicks', Consumed.with(str, str)).selectKey((_k, v) => v.split(' ')[0] as string)
    expect(() => clicks.join(users, (c, u) => `${u.name}:${c}`)).toThrow(/Joined\.as/)
    clicks.join(users, (c, u) => `${u.name}:${c}`, Joined.with(str, str).withName('clicks-by-user')).to('out', Produced.with(str, str))
    const d = new TopologyTestDriver(b.build(), { applicationId: 'rj', partitions: 2 })
    try {
      expect(d.metadata.repartitionTopics.map((t) => t.name)).toEqual(['rj-clicks-by-user-repartition'])
      await d.createInputTopic('users', str, userSerde).pipeInput('u9', { name: 'Nine', plan: 'free' }, 1)
      await d.createInputTopic('clicks', str, str).pipeInput('session-1', 'u9 /home', 2)
      expect(d.createOutputTopic('out', str, str).readKeyValue()).toEqual({ key: 'u9', value: 'Nine:u9 /home' })
    } finally {
      await d.close()
    }
  })
})
