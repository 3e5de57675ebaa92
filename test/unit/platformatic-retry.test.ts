/**
 * The platformatic adapter's retry back-off: the coordinator's CONCURRENT_TRANSACTIONS (met right after nearly every
 * EndTxn under exactly-once) is retried after 20 ms; everything else backs off exponentially, capped at 1 s.
 * Built from the library's own error classes, so a change in how it nests protocol errors shows here.
 */
import { kafka } from '../../streams/kafka/platformatic/library'
import { retryDelayMs } from '../../streams/kafka/platformatic/producer'

const protocol = (id: string): Error => new kafka.ProtocolError(id)

test('CONCURRENT_TRANSACTIONS, alone or inside a response with several errors, is retried after 20 ms', () => {
  expect(retryDelayMs(1, protocol('CONCURRENT_TRANSACTIONS'))).toBe(20)
  expect(retryDelayMs(5, protocol('CONCURRENT_TRANSACTIONS'))).toBe(20)
  const response = new kafka.ResponseError(24, 3, { '/results/0': [51, null], '/results/1': [0, null] }, {})
  expect(retryDelayMs(1, response)).toBe(20)
})

test('other errors back off exponentially from 100 ms to at most 1 s', () => {
  const other = protocol('COORDINATOR_LOAD_IN_PROGRESS')
  expect([1, 2, 3, 4, 5].map((attempt) => retryDelayMs(attempt, other))).toEqual([100, 200, 400, 800, 1000])
  expect(retryDelayMs(1, new Error('socket hang up'))).toBe(100)
  expect(retryDelayMs(2, undefined)).toBe(200)
})
