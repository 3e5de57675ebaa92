import { countTopology, eventValue, userKey, type BenchEvent } from '../../bench/engine-workload'
import { expectedCountForKey } from '../../bench/topic-io'
import { readStamp, stampHeaders } from '../../bench/latency'
import { Serdes } from '../../state/serdes-builtin'
import { TopologyTestDriver } from '../../streams'

describe('bench workload', () => {
  test('events are JSON of exactly the record size', () => {
    for (const size of [200, 201, 512, 4096]) {
      const value = eventValue(123_456, 10_000, size, 1_764_000_000_000)
      expect(value.length).toBe(size)
      const event = JSON.parse(value.toString('utf8')) as BenchEvent
      expect(event).toMatchObject({ eventId: 'bench-000000123456', type: 'MissionSubmitted', userId: 'user-03456', occurredAt: 1_764_000_000_000 })
    }
  })

  test('a record size too small for the fields is an error', () => {
    expect(() => eventValue(1, 10, 100, 0)).toThrow(/needs at least \d+ bytes, record size is 100/)
  })

  test('keys are dealt round-robin and the expected counts add up', () => {
    expect([0, 1, 2, 3, 4].map((i) => userKey(i, 3))).toEqual(['user-00000', 'user-00001', 'user-00002', 'user-00000', 'user-00001'])
    const total = 10_007
    const keys = 10
    const counts = Array.from({ length: keys }, (_v, k) => expectedCountForKey(k, total, keys))
    expect(counts.reduce((a, b) => a + b, 0)).toBe(total)
    const tally = new Array<number>(keys).fill(0)
    for (let i = 0; i < total; i++) tally[i % keys]++
    expect(counts).toEqual(tally)
    // fewer inputs than keys: the surplus keys get none
    expect(Array.from({ length: 5 }, (_v, k) => expectedCountForKey(k, 3, 5))).toEqual([1, 1, 1, 0, 0])
  })

  test('the topology emits one count per input and carries the latency stamp and timestamp through', async () => {
    const driver = new TopologyTestDriver(countTopology('in', 'out'), { applicationId: 'bench-unit', partitions: 2 })
    try {
      const input = driver.createInputTopic('in', Serdes.String(), Serdes.Buffer())
      const keys = 3
      for (let i = 0; i < 7; i++) {
        await input.pipeInput(userKey(i, keys), eventValue(i, keys, 200, 1000 + i), 1000 + i, stampHeaders(i, 1000.5 + i))
      }
      const out = driver.createOutputTopic('out', Serdes.String(), Serdes.Int64AsNumber()).readRecordsToList()
      expect(out).toHaveLength(7)
      const bySeq = out.map((r) => ({ key: r.key, count: r.value, timestamp: r.timestamp, stamp: readStamp(r.headers) }))
        .sort((a, b) => (a.stamp?.seq ?? 0) - (b.stamp?.seq ?? 0))
      expect(bySeq).toEqual([
        { key: 'user-00000', count: 1, timestamp: 1000, stamp: { seq: 0, intendedMs: 1000.5 } },
        { key: 'user-00001', count: 1, timestamp: 1001, stamp: { seq: 1, intendedMs: 1001.5 } },
        { key: 'user-00002', count: 1, timestamp: 1002, stamp: { seq: 2, intendedMs: 1002.5 } },
        { key: 'user-00000', count: 2, timestamp: 1003, stamp: { seq: 3, intendedMs: 1003.5 } },
        { key: 'user-00001', count: 2, timestamp: 1004, stamp: { seq: 4, intendedMs: 1004.5 } },
        { key: 'user-00002', count: 2, timestamp: 1005, stamp: { seq: 5, intendedMs: 1005.5 } },
        { key: 'user-00000', count: 3, timestamp: 1006, stamp: { seq: 6, intendedMs: 1006.5 } }
      ])
      expect(driver.getKeyValueStore<string, number>('bench-counts').get('user-00000')).toBe(3)
    } finally {
      await driver.close()
    }
  })
})
