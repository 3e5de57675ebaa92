/**
 * Reading dead-letter records (streams/tools/dlq-record.ts): decoding payloads for people, splitting original
 * and error headers of a record built by buildDlqRecord, and the headers of a replayed record.
 */
import { DLQ_HEADERS, buildDlqRecord } from '../../streams/error-handling'
import type { ConsumedRecord } from '../../streams/kafka'
import { bytesPreview, decodeBytes, REPLAY_HEADERS, replayHeaders, viewDlqRecord } from '../../streams/tools'

function dlqRecord (headers: Array<readonly [string, Buffer]>, value: Buffer | null, offset = 41n): ConsumedRecord {
  class QuotaError extends Error { override name = 'QuotaError' }
  const produced = buildDlqRecord({
    dlqTopic: 'missions.dlq',
    source: { topic: 'missions', partition: 4, record: { offset: 1234n, timestamp: 1_700_000_000_000, key: Buffer.from('user-9'), value, headers } },
    error: new QuotaError('no tickets left'),
    applicationId: 'devtrip-ticketing',
    taskId: '0_4',
    processor: 'debit-tickets'
  })
  return { topic: 'missions.dlq', partition: 4, offset, timestamp: produced.timestamp, key: produced.key, value: produced.value, headers: produced.headers }
}

test('decodeBytes: JSON when it parses, UTF-8 text otherwise, base64 for bytes that are not UTF-8', () => {
  expect(decodeBytes(null)).toEqual({ encoding: 'null' })
  expect(decodeBytes(Buffer.from('{"a":[1,2]}'))).toEqual({ encoding: 'json', json: { a: [1, 2] } })
  expect(decodeBytes(Buffer.from(' ["x"] '))).toEqual({ encoding: 'json', json: ['x'] })
  expect(decodeBytes(Buffer.from('{not json'))).toEqual({ encoding: 'utf8', text: '{not json' })
  expect(decodeBytes(Buffer.from('42'))).toEqual({ encoding: 'utf8', text: '42' })
  expect(decodeBytes(Buffer.from('사용자'))).toEqual({ encoding: 'utf8', text: '사용자' })
  expect(decodeBytes(Buffer.from([0xff, 0x00, 0xfe]))).toEqual({ encoding: 'base64', base64: '/wD+' })
  expect(bytesPreview({ encoding: 'utf8', text: 'x'.repeat(100) }, 10)).toBe('xxxxxxxxx…')
  expect(bytesPreview({ encoding: 'json', json: { a: 1 } })).toBe('{"a":1}')
})

test('a dead letter splits into the original record and its failure', () => {
  const record = dlqRecord([['eventType', Buffer.from('MissionCompleted')], ['traceId', Buffer.from([0xc3, 0x28])]], Buffer.from('{"missionId":"m-1"}'))
  const view = viewDlqRecord(record)
  expect(view).toMatchObject({ dlqTopic: 'missions.dlq', partition: 4, offset: '41', timestamp: 1_700_000_000_000 })
  expect(view.key).toEqual({ encoding: 'utf8', text: 'user-9' })
  expect(view.value).toEqual({ encoding: 'json', json: { missionId: 'm-1' } })
  expect(view.originalHeaders).toEqual([
    { name: 'eventType', value: { encoding: 'utf8', text: 'MissionCompleted' } },
    { name: 'traceId', value: { encoding: 'base64', base64: 'wyg=' } }
  ])
  expect(Object.keys(view.errorHeaders).sort()).toEqual(Object.values(DLQ_HEADERS).sort())
  expect(view.error).toMatchObject({
    exception: 'QuotaError', message: 'no tickets left', topic: 'missions', partition: 4, offset: '1234',
    applicationId: 'devtrip-ticketing', taskId: '0_4', processor: 'debit-tickets'
  })
  expect(view.error.stacktrace).toMatch(/^QuotaError: no tickets left\n/)
})

test('a replayed record keeps the original headers in order, drops error and earlier replay headers, and says where it came from', () => {
  const record = dlqRecord([['eventType', Buffer.from('MissionCompleted')], [REPLAY_HEADERS.offset, Buffer.from('3')], ['b', Buffer.from('2')]], null, 77n)
  const at = Date.UTC(2025, 2, 3, 4, 5, 6)
  const headers = replayHeaders(record, at)
  expect(headers.map(([n, v]) => [n, v?.toString()])).toEqual([
    ['eventType', 'MissionCompleted'],
    ['b', '2'],
    [REPLAY_HEADERS.at, '2025-03-03T04:05:06.000Z'],
    [REPLAY_HEADERS.topic, 'missions.dlq'],
    [REPLAY_HEADERS.partition, '4'],
    [REPLAY_HEADERS.offset, '77']
  ])
})
