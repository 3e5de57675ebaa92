/**
 * Rates and catch-up estimates from two lag samples (pure: no Kafka). Kept apart from the collector so the
 * arithmetic can be tested on hand-made samples, and so the CLI's --watch, the API and the dashboard all derive
 * throughput the same way.
 *
 * consume rate = growth of the committed offset / elapsed time; produce rate = growth of the log end offset /
 * elapsed time. Catch-up ETA = lag / (consume − produce): the time until the consumer reaches the head of the log
 * if both rates hold. It is null when the consumer is not gaining (consume ≤ produce) with lag left.
 */
import type { GroupLag, LagSnapshot, PartitionLag } from './lag-types'

function perSecond (before: bigint | null, after: bigint | null, seconds: number): number | null {
  if (before === null || after === null || seconds <= 0) return null
  // an offset that went backwards was reset by an operator: no meaningful rate across the reset
  if (after < before) return null
  return Number(after - before) / seconds
}

/** Seconds until `lag` records are consumed at a net rate; 0 without lag, null when not catching up. */
export function catchUpSeconds (lag: bigint | null, consumeRate: number | null, produceRate: number | null): number | null {
  if (lag === null) return null
  if (lag <= 0n) return 0
  if (consumeRate === null) return null
  const net = consumeRate - (produceRate ?? 0)
  if (net <= 0) return null
  return Number(lag) / net
}

const partitionKey = (p: { topic: string, partition: number }): string => `${p.topic}:${p.partition}`

/**
 * `current` with its rate fields filled from the growth since `previous` (same group, same partition). Partitions
 * absent from `previous` keep null rates; a previous sample from the same instant or later is ignored.
 */
export function withRates (previous: LagSnapshot | null, current: LagSnapshot): LagSnapshot {
  const seconds = previous === null ? 0 : (current.takenAt - previous.takenAt) / 1000
  const before = new Map<string, Map<string, PartitionLag>>()
  if (previous !== null && seconds > 0) {
    for (const g of previous.groups) before.set(g.groupId, new Map(g.partitions.map((p) => [partitionKey(p), p])))
  }
  const groups = current.groups.map((g): GroupLag => {
    const old = before.get(g.groupId)
    const partitions = g.partitions.map((p): PartitionLag => {
      const prior = old?.get(partitionKey(p))
      const consumeRate = prior === undefined ? null : perSecond(prior.committedOffset, p.committedOffset, seconds)
      const produceRate = prior === undefined ? null : perSecond(prior.logEndOffset, p.logEndOffset, seconds)
      return { ...p, consumeRate, produceRate, catchUpSeconds: catchUpSeconds(p.committedLag, consumeRate, produceRate) }
    })
    return { ...g, partitions, totals: totalsOf(partitions) }
  })
  return { ...current, sampleSeconds: seconds > 0 ? seconds : null, groups }
}

const sumOrNull = (values: Array<number | null>): number | null => {
  const known = values.filter((v): v is number => v !== null)
  return known.length === 0 ? null : known.reduce((a, b) => a + b, 0)
}

/** A group's totals: lags add up, the oldest unconsumed record decides lag in seconds, rates add up. */
export function totalsOf (partitions: readonly PartitionLag[]): GroupLag['totals'] {
  const lags = partitions.map((p) => p.lag).filter((l): l is bigint => l !== null)
  const committedLags = partitions.map((p) => p.committedLag).filter((l): l is bigint => l !== null)
  const seconds = partitions.map((p) => p.lagSeconds).filter((s): s is number => s !== null)
  const lag = lags.length === 0 ? null : lags.reduce((a, b) => a + b, 0n)
  const committedLag = committedLags.length === 0 ? null : committedLags.reduce((a, b) => a + b, 0n)
  const consumeRate = sumOrNull(partitions.map((p) => p.consumeRate))
  const produceRate = sumOrNull(partitions.map((p) => p.produceRate))
  // the group is caught up when its slowest partition is: take the largest per-partition ETA, unknown if any is
  const etas = partitions.map((p) => p.catchUpSeconds)
  let eta: number | null
  if (committedLag === null || committedLag === 0n) eta = committedLag === null ? null : 0
  else if (etas.some((e, i) => e === null && (partitions[i]!.committedLag ?? 0n) > 0n)) eta = null
  else eta = Math.max(0, ...etas.filter((e): e is number => e !== null))
  return {
    lag,
    committedLag,
    lagSeconds: seconds.length === 0 ? null : Math.max(...seconds),
    consumeRate,
    produceRate,
    catchUpSeconds: eta
  }
}
