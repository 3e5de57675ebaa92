/**
 * Rates and catch-up estimates from two lag samples (streams/tools/lag-rates.ts), on hand-made samples.
 */
import { catchUpSeconds, totalsOf, withRates, type GroupLag, type LagSnapshot, type PartitionLag } from '../../streams/tools'

function partition (p: number, committed: bigint | null, end: bigint, stable = end, lagSeconds: number | null = null): PartitionLag {
  return {
    topic: 't',
    partition: p,
    committedOffset: committed,
    logEndOffset: end,
    lastStableOffset: stable,
    logStartOffset: 0n,
    lag: committed === null ? null : end - committed,
    committedLag: committed === null ? null : (stable > committed ? stable - committed : 0n),
    oldestUnconsumedTimestamp: null,
    lagSeconds,
    consumeRate: null,
    produceRate: null,
    catchUpSeconds: null,
    memberId: null,
    clientId: null,
    host: null
  }
}

function snapshot (takenAt: number, partitions: PartitionLag[], groupId = 'g'): LagSnapshot {
  const group: GroupLag = { groupId, state: 'Stable', protocolType: 'consumer', protocol: 'x', members: [], partitions, totals: totalsOf(partitions), missingTopics: [] }
  return { takenAt, sampleSeconds: null, groups: [group] }
}

test('consume and produce rates are offset growth per second between the samples; the ETA is lag over the net rate', () => {
  const before = snapshot(10_000, [partition(0, 100n, 1100n), partition(1, 50n, 50n)])
  const after = snapshot(12_000, [partition(0, 300n, 1300n), partition(1, 50n, 60n)])
  const rated = withRates(before, after)
  expect(rated.sampleSeconds).toBe(2)
  const [p0, p1] = rated.groups[0]!.partitions
  expect([p0!.consumeRate, p0!.produceRate]).toEqual([100, 100])
  // gaining nothing: no ETA while lag remains
  expect(p0!.catchUpSeconds).toBeNull()
  expect([p1!.consumeRate, p1!.produceRate]).toEqual([0, 5])
  expect(p1!.catchUpSeconds).toBeNull()
  expect(rated.groups[0]!.totals).toMatchObject({ lag: 1010n, consumeRate: 100, produceRate: 105, catchUpSeconds: null })
})

test('a partition catching up gets lag / (consume − produce); the group waits for its slowest partition', () => {
  const before = snapshot(0, [partition(0, 0n, 1000n), partition(1, 0n, 100n)])
  const after = snapshot(1000, [partition(0, 400n, 1100n), partition(1, 100n, 100n)])
  const rated = withRates(before, after)
  const [p0, p1] = rated.groups[0]!.partitions
  // 700 left at 400 − 100 = 300/s
  expect(p0!.catchUpSeconds).toBeCloseTo(700 / 300, 10)
  expect(p1!.catchUpSeconds).toBe(0)
  expect(rated.groups[0]!.totals.catchUpSeconds).toBeCloseTo(700 / 300, 10)
})

test('no previous sample, a reset offset or a new partition give null rates, never negative ones', () => {
  const first = withRates(null, snapshot(0, [partition(0, 10n, 20n)]))
  expect(first.sampleSeconds).toBeNull()
  expect(first.groups[0]!.partitions[0]!.consumeRate).toBeNull()
  const reset = withRates(snapshot(0, [partition(0, 500n, 600n)]), snapshot(1000, [partition(0, 100n, 610n), partition(1, 0n, 5n)]))
  expect(reset.groups[0]!.partitions.map((p) => p.consumeRate)).toEqual([null, null])
  expect(reset.groups[0]!.partitions[0]!.produceRate).toBe(10)
  // the same instant twice: no division by zero
  const same = withRates(snapshot(5, [partition(0, 1n, 2n)]), snapshot(5, [partition(0, 2n, 2n)]))
  expect(same.groups[0]!.partitions[0]!.consumeRate).toBeNull()
})

test('catchUpSeconds and totals edge cases', () => {
  expect(catchUpSeconds(null, 10, 0)).toBeNull()
  expect(catchUpSeconds(0n, null, null)).toBe(0)
  expect(catchUpSeconds(50n, 10, null)).toBe(5)
  expect(catchUpSeconds(50n, 10, 10)).toBeNull()
  const totals = totalsOf([partition(0, null, 10n), partition(1, 5n, 10n, 8n, 12.5), partition(2, 9n, 10n, 10n, 3)])
  // a partition without a committed offset adds nothing; the oldest record decides the group's age
  expect(totals).toMatchObject({ lag: 6n, committedLag: 4n, lagSeconds: 12.5, consumeRate: null })
  expect(totalsOf([])).toMatchObject({ lag: null, committedLag: null, lagSeconds: null, catchUpSeconds: null })
})
