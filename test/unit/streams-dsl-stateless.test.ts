import { Serdes } from '../../state/serdes-builtin'
import {
  Branched, Consumed, Named, Produced, StreamsBuilder, TopologyTestDriver, type KStream
} from '../../streams'

const str = Serdes.String()
const json = Serdes.Json<{ n: number, tag?: string }>()

async function withDriver (build: (b: StreamsBuilder) => void, run: (d: TopologyTestDriver) => Promise<void>): Promise<void> {
  const builder = new StreamsBuilder({ defaultStoreType: 'in-memory' })
  build(builder)
  const driver = new TopologyTestDriver(builder.build(), { applicationId: 'stateless-test' })
  try {
    await run(driver)
  } finally {
    await driver.close()
  }
}

describe('KStream stateless operators', () => {
  test('filter and filterNot keep / drop records by predicate', async () => {
    await withDriver((b) => {
      const s = b.stream('in', Consumed.with(str, json))
      s.filter((_k, v) => v.n % 2 === 0).to('even', Produced.with(str, json))
      s.filterNot((_k, v) => v.n % 2 === 0).to('odd', Produced.with(str, json))
    }, async (d) => {
      const input = d.createInputTopic('in', str, json)
      for (let n = 1; n <= 5; n++) await input.pipeInput(`k${n}`, { n }, n)
      expect(d.createOutputTopic('even', str, json).readKeyValuesToList()).toEqual([
        { key: 'k2', value: { n: 2 } }, { key: 'k4', value: { n: 4 } }
      ])
      expect(d.createOutputTopic('odd', str, json).readValuesToList().map((v) => v?.n)).toEqual([1, 3, 5])
    })
  })

  test('map, mapValues, selectKey, flatMap, flatMapValues transform keys and values and keep timestamps', async () => {
    await withDriver((b) => {
      const s = b.stream('in', Consumed.with(str, json))
      s.map((k, v) => ({ key: k.toUpperCase(), value: v.n * 10 })).to('mapped', Produced.with(str, Serdes.Int32()))
      s.mapValues((v, k) => `${k}:${v.n}`).to('values', Produced.with(str, str))
      s.selectKey((_k, v) => `n${v.n}`).to('rekeyed', Produced.with(str, json))
      s.flatMap((k, v) => Array.from({ length: v.n }, (_x, i) => ({ key: `${k}-${i}`, value: i }))).to('flat', Produced.with(str, Serdes.Int32()))
      s.flatMapValues((v) => [v.n, -v.n]).to('flatvalues', Produced.with(str, Serdes.Int32()))
    }, async (d) => {
      const input = d.createInputTopic('in', str, json)
      await input.pipeInput('a', { n: 2 }, 1000)
      const mapped = d.createOutputTopic('mapped', str, Serdes.Int32()).readRecord()
      expect([mapped.key, mapped.value, mapped.timestamp]).toEqual(['A', 20, 1000])
      expect(d.createOutputTopic('values', str, str).readKeyValue()).toEqual({ key: 'a', value: 'a:2' })
      expect(d.createOutputTopic('rekeyed', str, json).readKeyValue()).toEqual({ key: 'n2', value: { n: 2 } })
      expect(d.createOutputTopic('flat', str, Serdes.Int32()).readKeyValuesToList()).toEqual([{ key: 'a-0', value: 0 }, { key: 'a-1', value: 1 }])
      expect(d.createOutputTopic('flatvalues', str, Serdes.Int32()).readValuesToList()).toEqual([2, -2])
    })
  })

  test('peek sees every record and passes it on unchanged; merge combines two streams', async () => {
    const seen: string[] = []
    await withDriver((b) => {
      const a = b.stream('a', Consumed.with(str, json))
      const c = b.stream('c', Consumed.with(str, json))
      a.merge(c).peek((k, v) => { seen.push(`${k}=${v.n}`) }).to('merged', Produced.with(str, json))
    }, async (d) => {
      await d.createInputTopic('a', str, json).pipeInput('x', { n: 1 }, 1)
      await d.createInputTopic('c', str, json).pipeInput('y', { n: 2 }, 2)
      expect(seen).toEqual(['x=1', 'y=2'])
      expect(d.createOutputTopic('merged', str, json).readKeyValuesToList()).toEqual([{ key: 'x', value: { n: 1 } }, { key: 'y', value: { n: 2 } }])
    })
  })

  test('split routes each record to the first matching branch, the rest to the default branch', async () => {
    let branches: Map<string, KStream<string, { n: number }>> = new Map()
    await withDriver((b) => {
      branches = b.stream('in', Consumed.with(str, json))
        .split(Named.as('size-'))
        .branch((_k, v) => v.n < 10, Branched.as('small'))
        .branch((_k, v) => v.n < 100, Branched.withConsumer((s) => { s.to('medium', Produced.with(str, json)) }, 'medium'))
        .defaultBranch(Branched.as('large'))
      branches.get('size-small')?.to('small', Produced.with(str, json))
      branches.get('size-large')?.to('large', Produced.with(str, json))
    }, async (d) => {
      const input = d.createInputTopic('in', str, json)
      for (const n of [5, 50, 500, 7, 5000]) await input.pipeInput(String(n), { n })
      expect(d.createOutputTopic('small', str, json).readValuesToList().map((v) => v?.n)).toEqual([5, 7])
      expect(d.createOutputTopic('medium', str, json).readValuesToList().map((v) => v?.n)).toEqual([50])
      expect(d.createOutputTopic('large', str, json).readValuesToList().map((v) => v?.n)).toEqual([500, 5000])
    })
    // withConsumer branches are not in the map (as in Kafka Streams)
    expect([...branches.keys()]).toEqual(['size-small', 'size-large'])
  })

  test('noDefaultBranch drops records matching no predicate; unnamed branches are numbered by position', async () => {
    await withDriver((b) => {
      const map = b.stream('in', Consumed.with(str, json)).split(Named.as('s-'))
        .branch((_k, v) => v.tag === 'x')
        .branch((_k, v) => v.tag === 'y')
        .noDefaultBranch()
      expect([...map.keys()]).toEqual(['s-1', 's-2'])
      map.get('s-2')?.to('ys', Produced.with(str, json))
    }, async (d) => {
      const input = d.createInputTopic('in', str, json)
      await input.pipeInput('1', { n: 1, tag: 'y' })
      await input.pipeInput('2', { n: 2, tag: 'z' })
      await input.pipeInput('3', { n: 3, tag: 'x' })
      expect(d.createOutputTopic('ys', str, json).readValuesToList().map((v) => v?.n)).toEqual([1])
    })
  })

  test('headers and timestamps pass through stateless operators to the sink', async () => {
    await withDriver((b) => {
      b.stream('in', Consumed.with(str, str)).mapValues((v) => v.toUpperCase()).to('out', Produced.with(str, str))
    }, async (d) => {
      await d.createInputTopic('in', str, str).pipeInput('k', 'v', 1234, [['trace', Buffer.from('abc')]])
      const r = d.createOutputTopic('out', str, str).readRecord()
      expect(r.value).toBe('V')
      expect(r.timestamp).toBe(1234)
      expect(r.headers.map(([k, v]) => [k, v.toString()])).toEqual([['trace', 'abc']])
    })
  })

  test('sinks partition by murmur2 of the key bytes unless Produced names a partitioner', async () => {
    const builder = new StreamsBuilder()
    const s = builder.stream('in', Consumed.with(str, str))
    s.to('by-key', Produced.with(str, str))
    s.to('by-value-length', Produced.with(str, str).withStreamPartitioner((_t, _k, v, n) => v.length % n))
    const d = new TopologyTestDriver(builder.build(), { applicationId: 'parts', partitions: 3 })
    try {
      const input = d.createInputTopic('in', str, str)
      // partitions of 3 for these keys, from Kafka's Utils.murmur2 (see streams-partitioner.test.ts): a → 1, ab → 2, abc → 0
      await input.pipeInput('a', 'xx')
      await input.pipeInput('ab', 'x')
      await input.pipeInput('abc', 'xxx')
      expect(d.createOutputTopic('by-key', str, str).readRecordsToList().map((r) => [r.key, r.partition])).toEqual([['a', 1], ['ab', 2], ['abc', 0]])
      expect(d.createOutputTopic('by-value-length', str, str).readRecordsToList().map((r) => [r.value, r.partition])).toEqual([['xx', 2], ['x', 1], ['xxx', 0]])
    } finally {
      await d.close()
    }
  })

  test('a record without explicit timestamp gets the driver wall clock', async () => {
    const builder = new StreamsBuilder()
    builder.stream('in', Consumed.with(str, str)).to('out', Produced.with(str, str))
    const d = new TopologyTestDriver(builder.build(), { applicationId: 'clock', initialWallClockMs: 5000 })
    try {
      await d.createInputTopic('in', str, str).pipeInput('k', 'v')
      expect(d.createOutputTopic('out', str, str).readRecord().timestamp).toBe(5000)
    } finally {
      await d.close()
    }
  })
})
