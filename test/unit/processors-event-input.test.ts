import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isDevtripError, sampleEvent } from '../../events'
import { Serdes, Stores, type KeyValueStore } from '../../state'
import { EventDeduplicator, paddedTime } from '../../processors/event-dedup'
import { EventBodyDeserializer, eventFromRecord, type EventBody } from '../../processors/event-input'
import { envelopeHeaders, outputRecord } from '../../processors/output-records'
import { derivedEventId } from '../../processors/derived-ids'
import type { Record } from '../../streams/record'

function codeOf (fn: () => unknown): { code: string | undefined, message: string } {
  try {
    fn()
  } catch (error) {
    return { code: isDevtripError(error) ? error.code : undefined, message: (error as Error).message }
  }
  throw new Error('expected a throw')
}

const bytes = (value: unknown): Buffer => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8')

describe('EventBodyDeserializer (what the source node rejects to the DLQ)', () => {
  const auth = new EventBodyDeserializer('auth-events')

  test('a valid body passes through unchanged', () => {
    const body = { eventType: 'UserSignedUp', userId: 123, email: 'u@devtrip.com', ipAddress: '192.168.1.100', timestamp: 1705312200000 }
    expect(auth.deserialize(bytes(body))).toEqual(body)
  })

  test('a body without eventType is left for the headers (seed §5.2)', () => {
    const body = { authUserId: 'auth_user_123', userId: 123, email: 'user@devtrip.com', ipAddress: '192.168.1.100', timestamp: 1705312200000 }
    expect(auth.deserialize(bytes(body))).toEqual(body)
  })

  test.each([
    ['not UTF-8', Buffer.from([0xff, 0xfe, 0x00]), /not UTF-8/],
    ['not JSON', bytes('{"userId":'), /not JSON/],
    ['an array', bytes([1, 2]), /must be a JSON object .* an array/],
    ['null', bytes('null'), /must be a JSON object .* null/],
    ['an unknown type', bytes({ eventType: 'UserExploded', userId: 1 }), /"UserExploded" is not a known event type/],
    ['a type of another topic', bytes({ eventType: 'mission.completed', userId: 1 }), /MissionCompleted belongs on mission-events, not on auth-events/],
    ['a schema violation', bytes({ eventType: 'UserSignedUp', userId: 1, email: 'nope', ipAddress: '1.2.3.4' }), /invalid UserSignedUp: \/email must be an email address/]
  ])('rejects %s with DEVTRIP_INVALID_EVENT', (_what, data, message) => {
    const error = codeOf(() => auth.deserialize(data))
    expect(error.code).toBe('DEVTRIP_INVALID_EVENT')
    expect(error.message).toMatch(message)
  })
})

describe('eventFromRecord (what the processor rejects to the DLQ)', () => {
  const record = (value: EventBody | null, key: string | null, headers: Array<[string, Buffer]> = [], timestamp = 1705312300000): Record<string | null, EventBody | null> =>
    ({ key, value, timestamp, headers })

  test('the envelope is completed from headers and the record timestamp', () => {
    const body = { userId: 123, email: 'user@devtrip.com', ipAddress: '192.168.1.100' }
    const event = eventFromRecord(record(body, '123', [['eventType', Buffer.from('UserSignedUp')], ['eventId', Buffer.from('0b6f5f2e-3c1d-4e8a-9a57-2f0d1c9e7b42')]]), 'auth-events')
    expect(event).toMatchObject({ eventType: 'UserSignedUp', eventId: '0b6f5f2e-3c1d-4e8a-9a57-2f0d1c9e7b42', timestamp: 1705312300000, source: 'auth-service', userId: 123 })
  })

  test('the key must be the userId as a string', () => {
    const event = sampleEvent('UserLoggedOut', { userId: 5 })
    expect(eventFromRecord(record(event as unknown as EventBody, '5'), 'auth-events').userId).toBe(5)
    expect(codeOf(() => eventFromRecord(record(event as unknown as EventBody, '6'), 'auth-events')).message).toMatch(/record key "6" but the event's userId is "5"/)
    expect(codeOf(() => eventFromRecord(record(event as unknown as EventBody, null), 'auth-events')).message).toMatch(/record key is null/)
  })

  test('a tombstone, a type missing everywhere, or a type of another topic is refused', () => {
    expect(codeOf(() => eventFromRecord(record(null, '1'), 'auth-events')).message).toMatch(/tombstone/)
    expect(codeOf(() => eventFromRecord(record({ userId: 1 }, '1'), 'auth-events')).code).toBe('DEVTRIP_INVALID_EVENT')
    const mission = sampleEvent('MissionStarted', { userId: 1 }) as unknown as EventBody
    expect(codeOf(() => eventFromRecord(record(mission, '1'), 'auth-events')).message).toMatch(/belongs on mission-events/)
    // without a known topic (a renamed physical topic not in the map) the type is not tied to a topic
    expect(eventFromRecord(record(mission, '1'), undefined).eventType).toBe('MissionStarted')
  })
})

describe('output records', () => {
  test('catalog events get the checked envelope headers; pipeline records the same header names', () => {
    const retry = sampleEvent('EvaluationRetryRequested', { userId: 9 })
    const headers = Object.fromEntries(envelopeHeaders(retry).map(([k, v]) => [k, v.toString('utf8')]))
    expect(headers).toEqual({ eventId: retry.eventId, eventType: 'EvaluationRetryRequested', source: retry.source, timestamp: new Date(retry.timestamp).toISOString(), version: retry.version })
    const own = { eventId: 'a3a1c2f0-5d7e-5c59-9a3e-64d0c0b7e911', eventType: 'TicketDeducted', source: 'devtrip-ticketing', timestamp: 1705312200000, version: '1.0', userId: 9 }
    const rec = outputRecord(own)
    expect(rec.key).toBe('9')
    expect(rec.timestamp).toBe(1705312200000)
    expect(Object.fromEntries(rec.headers.map(([k, v]) => [k, v.toString('utf8')]))).toEqual({
      eventId: own.eventId, eventType: 'TicketDeducted', source: 'devtrip-ticketing', timestamp: '2024-01-15T09:50:00.000Z', version: '1.0'
    })
  })
})

describe('EventDeduplicator', () => {
  async function store (): Promise<KeyValueStore<string, number>> {
    const kv = Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore('dedup'), Serdes.String(), Serdes.Int64AsNumber()).withLoggingDisabled().build()
    await kv.init({ applicationId: 'test', taskId: '0_0', partition: 0, taskDir: mkdtempSync(join(tmpdir(), 'devtrip-dedup-')), currentTimestamp: () => 0 })
    return kv
  }

  test('remembers processed ids and forgets them after the retention (in stream time)', async () => {
    const kv = await store()
    const dedup = new EventDeduplicator(kv, 1000)
    expect(dedup.isDuplicate('a')).toBe(false)
    dedup.remember('a', 1_700_000_000_000)
    dedup.remember('b', 1_700_000_000_500)
    dedup.remember('a', 1_700_000_000_900) // already known: the first time stays
    expect(dedup.isDuplicate('a')).toBe(true)
    expect(dedup.purge(1_700_000_001_000)).toBe(0) // a is exactly 1000 ms old: kept
    expect(dedup.purge(1_700_000_001_001)).toBe(1)
    expect(dedup.isDuplicate('a')).toBe(false)
    expect(dedup.isDuplicate('b')).toBe(true)
    expect(dedup.purge(1_700_000_002_000)).toBe(1)
    expect(kv.all()).toEqual([])
  })

  test('the time index sorts by time', () => {
    expect(paddedTime(5)).toBe('0000000000000005')
    expect(paddedTime(1_705_312_200_000) < paddedTime(10_000_000_000_000)).toBe(true)
  })
})

describe('derivedEventId', () => {
  test('a version-5 UUID, the same for the same parts, different for different parts', () => {
    const id = derivedEventId('0b6f5f2e-3c1d-4e8a-9a57-2f0d1c9e7b42', 'TicketDeducted')
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(derivedEventId('0b6f5f2e-3c1d-4e8a-9a57-2f0d1c9e7b42', 'TicketDeducted')).toBe(id)
    expect(derivedEventId('0b6f5f2e-3c1d-4e8a-9a57-2f0d1c9e7b42', 'TicketsGranted')).not.toBe(id)
    // the parts are unambiguous: joining them differently gives another id
    expect(derivedEventId('a', 'b:c')).not.toBe(derivedEventId('a:b', 'c'))
    expect(derivedEventId('attempt', 1)).not.toBe(derivedEventId('attempt', '1'))
  })
})
