/**
 * Small, pure statistics for the benchmarks: percentiles (nearest rank), medians and a latency summary.
 * Kept free of I/O so the unit tests can check them exactly.
 */

/**
 * The p-th percentile (0 < p ≤ 100) of `sorted` (ascending) by the nearest-rank method: the smallest value such that
 * at least p % of the values are ≤ it. Nearest rank never interpolates, so a reported p99 is a latency some record
 * really had — an interpolated value between two samples could be one nobody saw.
 */
export function percentileOfSorted (sorted: ArrayLike<number>, p: number): number {
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${p}`)
  if (sorted.length === 0) throw new RangeError('percentile of an empty sample')
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.max(0, rank - 1)] as number
}

/** Ascending copy as a Float64Array (numeric sort; Array#sort would compare as strings without a comparator). */
export function sortedCopy (values: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(values as ArrayLike<number>)
  out.sort()
  return out
}

export function percentile (values: ArrayLike<number>, p: number): number {
  return percentileOfSorted(sortedCopy(values), p)
}

/** The median; for an even count, the mean of the two middle values (the usual definition for a handful of runs). */
export function median (values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of an empty list')
  const s = sortedCopy(values)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid] as number : ((s[mid - 1] as number) + (s[mid] as number)) / 2
}

/** Median of the values that are numbers; null when there are none (e.g. a figure no run produced). */
export function medianOrNull (values: ReadonlyArray<number | null | undefined>): number | null {
  const present = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v))
  return present.length === 0 ? null : median(present)
}

export interface LatencySummary {
  readonly count: number
  readonly p50Ms: number
  readonly p90Ms: number
  readonly p99Ms: number
  readonly p999Ms: number
  readonly maxMs: number
  readonly minMs: number
  readonly meanMs: number
}

/** p50 / p90 / p99 / p99.9 / max / min / mean of latencies in milliseconds. */
export function summarizeLatencies (latenciesMs: ArrayLike<number>): LatencySummary {
  const s = sortedCopy(latenciesMs)
  if (s.length === 0) throw new RangeError('no latencies to summarize')
  let sum = 0
  for (let i = 0; i < s.length; i++) sum += s[i] as number
  return {
    count: s.length,
    p50Ms: percentileOfSorted(s, 50),
    p90Ms: percentileOfSorted(s, 90),
    p99Ms: percentileOfSorted(s, 99),
    p999Ms: percentileOfSorted(s, 99.9),
    maxMs: s[s.length - 1] as number,
    minMs: s[0] as number,
    meanMs: sum / s.length
  }
}

/** Rounds for reports: to `digits` decimals (figures like 12.3456 ms → 12.35). */
export function round (value: number, digits = 2): number {
  const f = 10 ** digits
  return Math.round(value * f) / f
}
