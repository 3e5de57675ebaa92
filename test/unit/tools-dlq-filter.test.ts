/**
 * DLQ filters (streams/tools/dlq-filter.ts): parsing name=value pairs and times, validation, and matching
 * records by their error headers, key, time and partition.
 */
import { isDevtripError } from '../../events/errors'
import { DevtripError } from '../../events/errors'
import { buildDlqRecord } from '../../streams/error-handling'
import type { ConsumedRecord } from '../../streams/kafka'
import { matchesFilter, parseFilterPairs, parseTime, resolveDlqFilter } from '../../streams/tools'

const NOW = Date.UTC(2025, 5, 1, 12, 0, 0)

function deadLetter (error: unknown, opts: { key?: string, timestamp?: number, partition?: number, source?: string, app?: string } = {}): ConsumedRecord {
  const partition = opts.partition ?? 0
  const produced = buildDlqRecord({
    dlqTopic: 'orders.dlq',
    source: { topic: opts.source ?? 'orders', partition, record: { offset: 7n, timestamp: opts.timestamp ?? NOW, key: opts.key === undefined ? null : Buffer.from(opts.key), value: Buffer.from('{}'), headers: [] } },
    error,
    applicationId: opts.app ?? 'billing',
    taskId: '0_0',
    processor: 'SOURCE'
  })
  return { topic: 'orders.dlq', partition, offset: 3n, timestamp: produced.timestamp, key: produced.key, value: produced.value, headers: produced.headers }
}

test('parseTime reads ISO 8601, epoch milliseconds and ages', () => {
  expect(parseTime('2025-01-31T10:00:00Z')).toBe(Date.UTC(2025, 0, 31, 10))
  expect(parseTime('2025-01-31')).toBe(Date.UTC(2025, 0, 31))
  expect(parseTime('1700000000000')).toBe(1_700_000_000_000)
  expect(parseTime('90s', NOW)).toBe(NOW - 90_000)
  expect(parseTime('15m', NOW)).toBe(NOW - 900_000)
  expect(parseTime('2h', NOW)).toBe(NOW - 7_200_000)
  expect(parseTime('7d', NOW)).toBe(NOW - 7 * 86_400_000)
  for (const bad of ['yesterday', '', '12', '2h30m', '2025-13-45x']) {
    expect(() => parseTime(bad)).toThrow(/invalid time .*: use ISO 8601/)
  }
})

test('parseFilterPairs builds a validated filter and names bad pairs', () => {
  expect(parseFilterPairs(['error=Timeout', 'since=1h', 'partition=2', 'source-topic=orders', 'application-id=billing', 'key=u1', 'exception=TypeError'], NOW)).toEqual({
    error: 'Timeout', since: NOW - 3_600_000, partition: 2, sourceTopic: 'orders', applicationId: 'billing', key: 'u1', exception: 'TypeError'
  })
  expect(Object.isFrozen(parseFilterPairs([]))).toBe(true)
  const problems: Array<[string[], RegExp]> = [
    [['colour=red'], /invalid filter "colour=red": expected name=value with name one of error, exception, since/],
    [['error'], /invalid filter "error"/],
    [['partition=-1'], /partition must be an integer >= 0/],
    [['error='], /invalid DLQ filter: \/error must NOT have fewer than 1 characters/],
    [['since=2h', 'until=3h'], /until must be after since/]
  ]
  for (const [pairs, message] of problems) {
    let caught: unknown
    try { parseFilterPairs(pairs, NOW) } catch (error) { caught = error }
    expect(isDevtripError(caught, 'DEVTRIP_INVALID_OPTIONS')).toBe(true)
    expect((caught as Error).message).toMatch(message)
  }
  expect(() => resolveDlqFilter({ nope: 1 } as never)).toThrow(/must NOT have additional properties/)
})

test('matchesFilter checks every given condition', () => {
  const record = deadLetter(new DevtripError('DEVTRIP_INVALID_EVENT', 'amount must be >= 0'), { key: 'user-1', partition: 2 })
  expect(matchesFilter({}, record)).toBe(true)
  expect(matchesFilter({ error: 'INVALID_EVENT' }, record)).toBe(true)
  expect(matchesFilter({ error: 'amount MUST' }, record)).toBe(true)
  expect(matchesFilter({ error: 'timeout' }, record)).toBe(false)
  expect(matchesFilter({ exception: 'DevtripError[DEVTRIP_INVALID_EVENT]' }, record)).toBe(true)
  expect(matchesFilter({ exception: 'DevtripError' }, record)).toBe(false)
  expect(matchesFilter({ key: 'user-1', partition: 2 }, record)).toBe(true)
  expect(matchesFilter({ key: 'user-2' }, record)).toBe(false)
  expect(matchesFilter({ partition: 1 }, record)).toBe(false)
  expect(matchesFilter({ since: NOW, until: NOW + 1 }, record)).toBe(true)
  expect(matchesFilter({ since: NOW + 1 }, record)).toBe(false)
  expect(matchesFilter({ until: NOW }, record)).toBe(false)
  expect(matchesFilter({ sourceTopic: 'orders', applicationId: 'billing' }, record)).toBe(true)
  expect(matchesFilter({ sourceTopic: 'payments' }, record)).toBe(false)
  expect(matchesFilter({ applicationId: 'ledger' }, record)).toBe(false)
  // a record without a key never matches a key filter
  expect(matchesFilter({ key: '' }, deadLetter(new Error('x')))).toBe(false)
})
