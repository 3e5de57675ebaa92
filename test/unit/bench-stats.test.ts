import { median, medianOrNull, percentile, percentileOfSorted, round, sortedCopy, summarizeLatencies } from '../../bench/stats'

describe('bench/stats', () => {
  test('nearest-rank percentiles never interpolate', () => {
    const values = Float64Array.from({ length: 100 }, (_v, i) => i + 1) // 1..100
    expect(percentileOfSorted(values, 50)).toBe(50)
    expect(percentileOfSorted(values, 99)).toBe(99)
    expect(percentileOfSorted(values, 99.9)).toBe(100)
    expect(percentileOfSorted(values, 100)).toBe(100)
    expect(percentileOfSorted(values, 0.5)).toBe(1)
    // five samples: p50 is the 3rd, p99 the 5th (a value someone really saw, not 4.96)
    expect(percentile([5, 1, 4, 2, 3], 50)).toBe(3)
    expect(percentile([5, 1, 4, 2, 3], 99)).toBe(5)
    expect(percentile([10, 20], 50)).toBe(10)
  })

  test('sorting is numeric, not lexicographic', () => {
    expect(Array.from(sortedCopy([100, 9, 10, 1.5]))).toEqual([1.5, 9, 10, 100])
    expect(percentile([100, 9, 10], 50)).toBe(10)
  })

  test('bad percentiles and empty samples are errors', () => {
    expect(() => percentile([1], 0)).toThrow(RangeError)
    expect(() => percentile([1], 101)).toThrow(RangeError)
    expect(() => percentile([1], Number.NaN)).toThrow(RangeError)
    expect(() => percentile([], 50)).toThrow('empty')
    expect(() => median([])).toThrow('empty')
    expect(() => summarizeLatencies([])).toThrow('no latencies')
  })

  test('median of odd and even counts; medianOrNull skips missing figures', () => {
    expect(median([3, 1, 2])).toBe(2)
    expect(median([4, 1, 3, 2])).toBe(2.5)
    expect(medianOrNull([null, 7, undefined, 1, 4])).toBe(4)
    expect(medianOrNull([null, undefined])).toBeNull()
  })

  test('a latency summary', () => {
    const latencies = [12, 8, 30, 10, 9, 11, 250, 10, 9, 11]
    const s = summarizeLatencies(latencies)
    expect(s).toEqual({ count: 10, p50Ms: 10, p90Ms: 30, p99Ms: 250, p999Ms: 250, maxMs: 250, minMs: 8, meanMs: 36 })
  })

  test('round', () => {
    expect(round(12.3456)).toBe(12.35)
    expect(round(12.3456, 0)).toBe(12)
    expect(round(0.0004, 3)).toBe(0)
  })
})
