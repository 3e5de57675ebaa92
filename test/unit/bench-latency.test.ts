import { dueCount, intendedTimeMs, INTENDED_HEADER, readStamp, SEQ_HEADER, stampHeaders } from '../../bench/latency'

describe('bench/latency: the fixed-rate schedule and its stamps', () => {
  test('record i is due at t0 + i/rate', () => {
    // 1000/s: one record per millisecond, record 0 at t0
    expect(dueCount(-0.1, 1000, 100)).toBe(0)
    expect(dueCount(0, 1000, 100)).toBe(1)
    expect(dueCount(0.99, 1000, 100)).toBe(1)
    expect(dueCount(1, 1000, 100)).toBe(2)
    expect(dueCount(50.5, 1000, 100)).toBe(51)
    expect(dueCount(10_000, 1000, 100)).toBe(100) // never more than the total
    // 250/s: one every 4 ms
    expect(dueCount(11.9, 250, 10)).toBe(3)
    expect(dueCount(12, 250, 10)).toBe(4)
    expect(intendedTimeMs(1000, 3, 250)).toBe(1012)
    expect(intendedTimeMs(1000, 0, 250)).toBe(1000)
  })

  test('a stalled producer catches up in one batch: the due count jumps, intended times stay on the schedule', () => {
    const t0 = 5000
    const beforeStall = dueCount(9.5, 1000, 1000)
    const afterStall = dueCount(209.5, 1000, 1000)
    expect(afterStall - beforeStall).toBe(200)
    // the records sent late keep their intended times, so their latency includes the stall
    expect(intendedTimeMs(t0, beforeStall, 1000)).toBe(5010)
    expect(intendedTimeMs(t0, afterStall - 1, 1000)).toBe(5209)
  })

  test('stamps survive a round trip through headers, among other headers', () => {
    const headers = [['trace', Buffer.from('x')] as const, ...stampHeaders(42, 1764000000123.4567), ['empty', null] as const]
    expect(headers.map(([name]) => name)).toEqual(['trace', INTENDED_HEADER, SEQ_HEADER, 'empty'])
    expect(readStamp(headers)).toEqual({ seq: 42, intendedMs: 1764000000123.457 })
  })

  test('records without a stamp are recognised; malformed stamps are errors', () => {
    expect(readStamp([])).toBeUndefined()
    expect(readStamp([[SEQ_HEADER, Buffer.from('1')]])).toBeUndefined()
    expect(() => readStamp([[SEQ_HEADER, Buffer.from('one')], [INTENDED_HEADER, Buffer.from('12')]])).toThrow('malformed latency stamp')
    expect(() => readStamp([[SEQ_HEADER, Buffer.from('-1')], [INTENDED_HEADER, Buffer.from('12')]])).toThrow('malformed latency stamp')
    expect(() => readStamp([[SEQ_HEADER, Buffer.from('1')], [INTENDED_HEADER, Buffer.from('soon')]])).toThrow('malformed latency stamp')
  })
})
