import { isDevtripError } from '../../events/errors'
import { Serdes } from '../../state/serdes-builtin'
import {
  Consumed, JoinWindows, Materialized, Produced, StreamJoined, StreamsBuilder, TimeWindows, TopologyTestDriver, type SkippedRecordEvent
} from '../../streams'

const str = Serdes.String()
const num = Serdes.Int64AsNumber()

async function run (build: (b: StreamsBuilder) => void, test: (d: TopologyTestDriver, skipped: SkippedRecordEvent[]) => Promise<void>,
  storeType: 'in-memory' | 'persistent' = 'in-memory'): Promise<void> {
  const b = new StreamsBuilder({ defaultStoreType: storeType })
  build(b)
  const skipped: SkippedRecordEvent[] = []
  const d = new TopologyTestDriver(b.build(), { applicationId: 'windows', listener: { onSkippedRecord: (e) => skipped.push(e) } })
  try { await test(d, skipped) } finally { await d.close() }
}

describe('KStream–KStream windowed joins', () => {
  test('inner join: inside the window joins (timestamp = max), outside does not, after grace is dropped and reported', async () => {
    await run((b) => {
      const views = b.stream('views', Consumed.with(str, str))
      const clicks = b.stream('clicks', Consumed.with(str, str))
      views.join(clicks, (v, c) => `${v}+${c}`, JoinWindows.ofTimeDifferenceAndGrace(100, 50), StreamJoined.as('view-click'))
        .to('joined', Produced.with(str, str))
    }, async (d, skipped) => {
      const views = d.createInputTopic('views', str, str)
      const clicks = d.createInputTopic('clicks', str, str)
      await views.pipeInput('k1', 'v1', 1000)
      await clicks.pipeInput('k1', 'c1', 1050) // within 100 ms after v1
      await clicks.pipeInput('k1', 'c2', 1200) // 200 ms after v1: outside
      await views.pipeInput('k1', 'v2', 1090) // out of order but within grace: joins c1 (40 ms), not c2 (110 ms)
      await views.pipeInput('k2', 'v3', 1300) // other key, advances stream time to 1300
      await views.pipeInput('k1', 'late', 1000) // 1000 + 100 + 50 < 1300: window closed
      await clicks.pipeInput('k1', 'c3', 1250) // joins v2? 1250 - 1090 = 160: no; and nothing else
      const out = d.createOutputTopic('joined', str, str).readRecordsToList()
      expect(out.map((r) => [r.key, r.value, r.timestamp])).toEqual([
        ['k1', 'v1+c1', 1050],
        ['k1', 'v2+c1', 1090]
      ])
      expect(skipped.map((s) => [s.processor, s.reason])).toEqual([['view-click-this-join', 'record after its join window closed (grace period passed)']])
      const thisStore = d.getWindowStore<string, string>('view-click-this-join-store')
      // retention = before + after + grace = 250 ms behind the store's stream time (1300): v1 (1000) is gone, v2 stays
      expect(thisStore.fetch('k1', 0, 2000).map((e) => [e.windowStart, e.value])).toEqual([[1090, 'v2']])
      expect(d.getWindowStore<string, string>('view-click-other-join-store').fetch('k1', 0, 2000).map((e) => e.value)).toEqual(['c1', 'c2', 'c3'])
    })
  })

  test('duplicate keys with the same timestamp all join', async () => {
    await run((b) => {
      b.stream('l', Consumed.with(str, str)).join(b.stream('r', Consumed.with(str, str)), (a, c) => a + c,
        JoinWindows.ofTimeDifferenceWithNoGrace(0), StreamJoined.as('dup')).to('out', Produced.with(str, str))
    }, async (d) => {
      await d.createInputTopic('l', str, str).pipeInput('k', 'a', 10)
      await d.createInputTopic('l', str, str).pipeInput('k', 'b', 10)
      await d.createInputTopic('r', str, str).pipeInput('k', 'X', 10)
      expect(d.createOutputTopic('out', str, str).readValuesToList()).toEqual(['aX', 'bX'])
    })
  })

  test('left join: matched records join, unmatched ones are emitted with null only after their window closed', async () => {
    await run((b) => {
      b.stream('left', Consumed.with(str, str))
        .leftJoin(b.stream('right', Consumed.with(str, str)), (l, r) => `${l}/${r ?? 'null'}`, JoinWindows.ofTimeDifferenceWithNoGrace(100), StreamJoined.as('lj'))
        .to('out', Produced.with(str, str))
    }, async (d, skipped) => {
      const left = d.createInputTopic('left', str, str)
      const right = d.createInputTopic('right', str, str)
      const out = d.createOutputTopic('out', str, str)
      await left.pipeInput('k1', 'L1', 1000)
      await left.pipeInput('k2', 'L2', 1010)
      expect(out.isEmpty()).toBe(true) // no early null results
      await right.pipeInput('k2', 'R1', 1050)
      expect(out.readRecordsToList().map((r) => [r.key, r.value, r.timestamp])).toEqual([['k2', 'L2/R1', 1050]])
      await left.pipeInput('k3', 'L3', 1101) // closes k1's window (1000 + 100 < 1101)
      expect(out.readRecordsToList().map((r) => [r.key, r.value, r.timestamp])).toEqual([['k1', 'L1/null', 1000]])
      await right.pipeInput('k9', 'R9', 1300) // closes k3's window
      await right.pipeInput('k1', 'R-late', 1000) // a right record after grace: dropped
      expect(out.readRecordsToList().map((r) => [r.key, r.value, r.timestamp])).toEqual([['k3', 'L3/null', 1101]])
      expect(skipped.map((s) => s.processor)).toEqual(['lj-other-join'])
      expect(d.metadata.subtopologies[0]?.stores.map((s) => s.name)).toEqual(['lj-this-join-store', 'lj-other-join-store', 'lj-outer-shared-join-store'])
      expect(d.getKeyValueStore('lj-outer-shared-join-store').approximateNumEntries()).toBe(0)
    })
  })

  test('stream-stream joins require StreamJoined.as(name) and window stores are named after it', () => {
    const b = new StreamsBuilder()
    const l = b.stream('l', Consumed.with(str, str))
    const r = b.stream('r', Consumed.with(str, str))
    let error: unknown
    try {
      l.join(r, (a, c) => a + c, JoinWindows.ofTimeDifferenceWithNoGrace(10), undefined as unknown as StreamJoined<string, string, string>)
    } catch (e) { error = e }
    expect(isDevtripError(error, 'DEVTRIP_TOPOLOGY')).toBe(true)
    expect((error as Error).message).toMatch(/StreamJoined\.as/)
    l.join(r, (a, c) => a + c, JoinWindows.ofTimeDifferenceWithNoGrace(10), StreamJoined.as('pair'))
    const meta = b.build().metadata('app')
    expect(meta.changelogTopics.map((c) => c.topic)).toEqual(['app-pair-this-join-store-changelog', 'app-pair-other-join-store-changelog'])
    // window-store changelogs are compacted and time-deleted (retention = store retention + 1 day, from the state layer)
    expect(meta.changelogTopics[0]?.config['cleanup.policy']).toBe('compact,delete')
    expect(meta.subtopologies[0]?.stores[0]?.changelogConfig['retention.ms']).toBe(String(20 + 24 * 60 * 60 * 1000))
  })

  test('works the same on persistent (RocksDB) window stores', async () => {
    await run((b) => {
      b.stream('l', Consumed.with(str, str)).join(b.stream('r', Consumed.with(str, str)), (a, c) => a + c,
        JoinWindows.ofTimeDifferenceAndGrace(10, 5), StreamJoined.as('rocks')).to('out', Produced.with(str, str))
    }, async (d) => {
      await d.createInputTopic('l', str, str).pipeInput('k', 'a', 100)
      await d.createInputTopic('r', str, str).pipeInput('k', 'b', 105)
      await d.createInputTopic('r', str, str).pipeInput('k', 'c', 200)
      expect(d.createOutputTopic('out', str, str).readValuesToList()).toEqual(['ab'])
    }, 'persistent')
  })
})

describe('windowed aggregations', () => {
  test('tumbling count: records within grace update their window, later ones are dropped and reported', async () => {
    await run((b) => {
      b.stream('events', Consumed.with(str, str)).groupByKey()
        .windowedBy(TimeWindows.ofSizeAndGrace(1000, 500))
        .count(Materialized.as('per-second'))
        .toStream()
        .map((wk, n) => ({ key: `${wk.key}@${wk.startMs}-${wk.endMs}`, value: n }))
        .to('counts', Produced.with(str, num))
    }, async (d, skipped) => {
      const events = d.createInputTopic('events', str, str)
      await events.pipeInput('k', 'a', 100)
      await events.pipeInput('k', 'b', 1100)
      await events.pipeInput('k', 'c', 900) // window [0,1000) closes at 1000 + 500 > 1100: accepted
      await events.pipeInput('k', 'd', 1600)
      await events.pipeInput('k', 'e', 950) // 1000 + 500 <= 1600: closed
      expect(d.createOutputTopic('counts', str, num).readKeyValuesToList()).toEqual([
        { key: 'k@0-1000', value: 1 },
        { key: 'k@1000-2000', value: 1 },
        { key: 'k@0-1000', value: 2 },
        { key: 'k@1000-2000', value: 2 }
      ])
      expect(skipped.map((s) => s.reason)).toEqual(['record for a window closed after its grace period'])
      expect(d.getWindowStore<string, number>('per-second').fetch('k', 0, 5000)).toEqual([{ windowStart: 0, value: 2 }, { windowStart: 1000, value: 2 }])
    })
  })

  test('hopping windows: a record updates every window that contains it; reduce and aggregate work per window', async () => {
    await run((b) => {
      const grouped = b.stream('events', Consumed.with(str, num)).groupByKey()
      const hopping = grouped.windowedBy(TimeWindows.ofSizeWithNoGrace(1000).advanceBy(500))
      hopping.reduce((a, v) => a + v, Materialized.as('sum')).toStream()
        .map((wk, v) => ({ key: `${wk.key}@${wk.startMs}`, value: v })).to('sums', Produced.with(str, num))
      hopping.aggregate(() => '', (_k, v, agg) => agg + String(v), Materialized.as<string, string>('concat').withValueSerde(str))
    }, async (d) => {
      const events = d.createInputTopic('events', str, num)
      await events.pipeInput('k', 1, 1200)
      await events.pipeInput('k', 2, 1400)
      expect(d.createOutputTopic('sums', str, num).readKeyValuesToList()).toEqual([
        { key: 'k@500', value: 1 }, { key: 'k@1000', value: 1 }, { key: 'k@500', value: 3 }, { key: 'k@1000', value: 3 }
      ])
      expect(d.getWindowStore<string, string>('concat').fetch('k', 0, 2000).map((w) => [w.windowStart, w.value])).toEqual([[500, '12'], [1000, '12']])
    })
  })

  test('TimeWindows computes the windows containing a timestamp', () => {
    expect(TimeWindows.ofSizeWithNoGrace(1000).windowStartsFor(2500)).toEqual([2000])
    expect(TimeWindows.ofSizeWithNoGrace(1000).advanceBy(250).windowStartsFor(2500)).toEqual([1750, 2000, 2250, 2500])
    expect(TimeWindows.ofSizeWithNoGrace(1000).advanceBy(400).windowStartsFor(300)).toEqual([0])
    expect(() => TimeWindows.ofSizeWithNoGrace(1000).advanceBy(1001)).toThrow(/advance/)
  })
})
