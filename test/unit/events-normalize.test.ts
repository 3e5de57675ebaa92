/**
 * Normalisation: type aliases → canonical names, ISO-8601/epoch-ms → epoch ms, envelope headers in and out,
 * derived event ids, record keys.
 */
import {
  EVENT_TYPES,
  canonicalEventType,
  deriveEventId,
  envelopeFromHeaders,
  envelopeToHeaders,
  eventTypeAliases,
  formatTimestamp,
  normalizeEvent,
  parseTimestamp,
  recordKeyFor,
  requireEvent,
  sampleEvent,
  isDevtripError,
  type DevtripEvent
} from '../../events'

const loggedOut = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ userId: 123, timestamp: 1705312200000, ...extra })

function ok (result: ReturnType<typeof normalizeEvent>): DevtripEvent {
  if (!result.ok) throw new Error(`expected a valid event, got ${JSON.stringify(result.errors)}`)
  return result.event
}

describe('event type aliases', () => {
  it.each([
    ['UserSignedUp', 'UserSignedUp'],
    ['UserSignedUpEvent', 'UserSignedUp'],
    ['auth.user-signed-up', 'UserSignedUp'],
    ['mission.completed', 'MissionCompleted'],
    ['MissionCompletedEvent', 'MissionCompleted'],
    ['evaluation.completed', 'EvaluationCompleted'],
    ['evaluation.retry-requested', 'EvaluationRetryRequested'],
    ['mission.resource-provisioning-failed', 'ResourceProvisioningFailed'],
    ['subscription.plan-upgraded', 'PlanUpgraded'],
    ['payment.completed', 'PaymentCompleted'],
    ['user.profile-updated', 'UserProfileUpdated']
  ])('%s → %s', (alias, canonical) => {
    expect(canonicalEventType(alias)).toBe(canonical)
    const event = ok(normalizeEvent({ ...sampleEvent(canonical as 'UserSignedUp'), eventType: alias }))
    expect(event.eventType).toBe(canonical)
  })

  it('does not accept case variants or near misses', () => {
    for (const name of ['usersignedup', 'Mission.Completed', 'mission-completed', 'MissionCompletedEvents', 'auth.*']) {
      expect(canonicalEventType(name)).toBeUndefined()
    }
  })

  it('gives every type three distinct spellings, and no spelling names two types', () => {
    const all = EVENT_TYPES.flatMap((t) => eventTypeAliases(t))
    expect(all).toHaveLength(EVENT_TYPES.length * 3)
    expect(new Set(all).size).toBe(all.length)
  })

  it('accepts an alias as the expected type that agrees with a different alias in the body', () => {
    const event = ok(normalizeEvent({ ...sampleEvent('MissionCompleted'), eventType: 'MissionCompletedEvent' }, { type: 'mission.completed' }))
    expect(event.eventType).toBe('MissionCompleted')
  })
})

describe('timestamps', () => {
  it.each([
    [1705312200000, 1705312200000],
    ['2024-01-15T09:50:00Z', 1705312200000],
    ['2024-01-15T09:50:00.000Z', 1705312200000],
    ['2024-01-15T18:50:00+09:00', 1705312200000],
    ['2024-01-15T04:20:00-05:30', 1705312200000],
    ['2024-01-15 09:50:00z', 1705312200000],
    ['2024-01-15T09:50:00.1239Z', 1705312200123],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)]
  ])('%s → %d epoch ms', (input, expected) => {
    expect(ok(normalizeEvent(loggedOut({ timestamp: input }), { type: 'UserLoggedOut' })).timestamp).toBe(expected)
  })

  it('normalises other time fields too (MissionCompleted.completedAt)', () => {
    const event = ok(normalizeEvent({ ...sampleEvent('MissionCompleted'), completedAt: '2024-01-15T09:55:00.000Z' }))
    expect(event).toMatchObject({ completedAt: 1705312500000 })
  })

  it('rejects 2023-02-29 and 24:00 as unreal date-times', () => {
    expect(parseTimestamp('2023-02-29T00:00:00Z').ok).toBe(false)
    expect(parseTimestamp('2024-01-15T24:00:00Z').ok).toBe(false)
  })

  it('formats epoch ms as ISO-8601 UTC with milliseconds, and parses it back exactly', () => {
    expect(formatTimestamp(1705312200123)).toBe('2024-01-15T09:50:00.123Z')
    expect(parseTimestamp(formatTimestamp(1705312200123))).toEqual({ ok: true, ms: 1705312200123 })
  })

  it('takes the Kafka record timestamp (number or bigint) when body and headers have none', () => {
    expect(ok(normalizeEvent({ userId: 1 }, { type: 'UserLoggedOut', recordTimestamp: 1705312200000n })).timestamp).toBe(1705312200000)
    const bad = normalizeEvent({ userId: 1 }, { type: 'UserLoggedOut', recordTimestamp: 5 })
    expect(!bad.ok && bad.errors).toEqual([{ pointer: '/timestamp', message: expect.stringContaining('the record timestamp is before 1973') }])
  })

  it('prefers the body timestamp over the record timestamp', () => {
    expect(ok(normalizeEvent(loggedOut(), { type: 'UserLoggedOut', recordTimestamp: 1800000000000 })).timestamp).toBe(1705312200000)
  })
})

describe('envelope headers', () => {
  it('round-trips a normalised envelope through string headers', () => {
    const event = sampleEvent('EvaluationCompleted', {}, 7)
    const headers = envelopeToHeaders(event)
    expect(headers).toEqual({
      eventId: event.eventId,
      eventType: 'EvaluationCompleted',
      source: 'ai-evaluation-service',
      timestamp: new Date(event.timestamp).toISOString(),
      version: '1.0'
    })
    const back = envelopeFromHeaders(headers)
    expect(back).toEqual({ ok: true, envelope: { eventId: event.eventId, eventType: 'EvaluationCompleted', source: 'ai-evaluation-service', timestamp: event.timestamp, version: '1.0' } })
  })

  it('reads Buffer headers from a Map (the Kafka client form) and a bare body gets its envelope from them', () => {
    const event = sampleEvent('PaymentCompleted')
    const headers = new Map(Object.entries(envelopeToHeaders(event)).map(([k, v]) => [Buffer.from(k), Buffer.from(v)]))
    headers.set(Buffer.from('traceparent'), Buffer.from('00-abc-def-01'))
    const { eventId, eventType, source, timestamp, version, ...payload } = event
    expect([eventId, eventType, source, timestamp, version].every((v) => v !== undefined)).toBe(true)
    const again = ok(normalizeEvent(payload, { headers }))
    expect(again).toEqual(event)
  })

  it('accepts [key, value] pairs and epoch-ms digits in the timestamp header', () => {
    const result = envelopeFromHeaders([['timestamp', '1705312200000'], ['eventType', 'mission.completed']])
    expect(result).toEqual({ ok: true, envelope: { timestamp: 1705312200000, eventType: 'MissionCompleted' } })
  })

  it("takes the type from Spring's __TypeId__ header when nothing else names it", () => {
    const body = { userId: 123, email: 'user@devtrip.com', ipAddress: '192.168.1.100', timestamp: 1705312200000 }
    const event = ok(normalizeEvent(body, { headers: { __TypeId__: 'com.devtrip.auth.event.UserSignedUpEvent' } }))
    expect(event.eventType).toBe('UserSignedUp')
    const unknown = normalizeEvent(body, { headers: { __TypeId__: 'java.util.LinkedHashMap' } })
    expect(!unknown.ok && unknown.errors).toEqual([{ pointer: '/eventType', message: expect.stringContaining('java.util.LinkedHashMap') }])
  })

  it('rejects a body and a header that disagree, naming both values', () => {
    const event = sampleEvent('UserLoggedOut')
    const headers = { ...envelopeToHeaders(event), source: 'payment-service' }
    const result = normalizeEvent(event, { headers })
    expect(!result.ok && result.errors).toEqual([{ pointer: '/source', message: 'the body says "auth-service" but the source header says "payment-service"' }])
    const typeClash = normalizeEvent(event, { headers: { eventType: 'PasswordChanged' } })
    expect(!typeClash.ok && typeClash.errors).toEqual([{ pointer: '/eventType', message: 'the eventType header says PasswordChanged but the body says UserLoggedOut' }])
  })

  it('reports unusable header values with the field pointer and the header name', () => {
    const result = envelopeFromHeaders({ eventId: 'nope', timestamp: '2024-01-15T09:50:00', version: '2', source: '', eventType: 'Whatever' })
    expect(!result.ok && result.errors.map((e) => [e.pointer, e.message.split(' ').slice(0, 2).join(' ')])).toEqual([
      ['/eventId', 'header eventId'],
      ['/eventType', 'header eventType'],
      ['/source', 'header source'],
      ['/timestamp', 'header timestamp'],
      ['/version', 'header version']
    ])
    const invalidUtf8 = envelopeFromHeaders(new Map([[Buffer.from('source'), Buffer.from([0xff, 0xfe])]]))
    expect(!invalidUtf8.ok && invalidUtf8.errors).toEqual([{ pointer: '/source', message: 'header source is not valid UTF-8' }])
    const twice = envelopeFromHeaders([['eventType', 'UserLoggedOut'], ['eventType', 'PasswordChanged']])
    expect(!twice.ok && twice.errors[0]!.message).toMatch(/appears twice with different values/)
  })

  it('refuses to build headers from something that is not a normalised envelope', () => {
    expect(() => envelopeToHeaders({ eventId: 'x', eventType: 'UserLoggedOut', source: 's', timestamp: 1705312200000, version: '1.0' }))
      .toThrow(/eventId must be a UUID/)
  })
})

describe('envelope defaults and event ids', () => {
  it('fills source and version from the catalog and derives a stable id from the content', () => {
    const a = ok(normalizeEvent(loggedOut(), { type: 'UserLoggedOut' }))
    const b = ok(normalizeEvent({ timestamp: '2024-01-15T09:50:00Z', userId: 123, eventType: 'UserLoggedOutEvent' }))
    expect(a).toMatchObject({ source: 'auth-service', version: '1.0' })
    expect(b.eventId).toBe(a.eventId)
    const c = ok(normalizeEvent(loggedOut({ userId: 124 }), { type: 'UserLoggedOut' }))
    expect(c.eventId).not.toBe(a.eventId)
  })

  it('derives RFC 9562 version-5 UUIDs independent of property order', () => {
    const id = deriveEventId({ a: 1, b: [1, { c: 2, d: 3 }] })
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(deriveEventId({ b: [1, { d: 3, c: 2 }], a: 1 })).toBe(id)
  })

  it('keeps a given eventId (lower-cased) and puts the envelope first', () => {
    const event = ok(normalizeEvent(loggedOut({ eventId: '3F2B8C1E-5D4A-4F6B-9C8D-1A2B3C4D5E6F' }), { type: 'UserLoggedOut' }))
    expect(event.eventId).toBe('3f2b8c1e-5d4a-4f6b-9c8d-1a2b3c4d5e6f')
    expect(Object.keys(event).slice(0, 5)).toEqual(['eventId', 'eventType', 'source', 'timestamp', 'version'])
  })

  it('does not share objects with the input', () => {
    const input = { ...sampleEvent('UserProfileUpdated'), profileData: { nickname: 'a' } }
    const event = ok(normalizeEvent(input)) as { profileData: Record<string, unknown> }
    event.profileData.nickname = 'changed'
    expect(input.profileData.nickname).toBe('a')
  })
})

describe('record keys', () => {
  it('is the userId as a string on every type, so 123 and "123" co-partition', () => {
    for (const type of EVENT_TYPES) {
      const event = sampleEvent(type, { userId: 77 })
      expect(recordKeyFor(event)).toBe('77')
      expect(recordKeyFor(sampleEvent(type, { userId: '77' }))).toBe('77')
    }
  })

  it('throws DEVTRIP_INVALID_EVENT for something without a usable userId', () => {
    expect(() => recordKeyFor({ userId: '' })).toThrow(/userId must not be empty/)
    try {
      recordKeyFor({} as { userId: number })
    } catch (error) {
      expect(isDevtripError(error, 'DEVTRIP_INVALID_EVENT')).toBe(true)
    }
    expect.assertions(2)
  })
})

describe('requireEvent', () => {
  it('returns the normalised event or throws DEVTRIP_INVALID_EVENT with every error in details', () => {
    expect(requireEvent(loggedOut(), { type: 'UserLoggedOut' }).eventType).toBe('UserLoggedOut')
    try {
      requireEvent({ userId: 0 }, { type: 'UserLoggedOut' })
      throw new Error('requireEvent accepted an invalid event')
    } catch (error) {
      expect(isDevtripError(error, 'DEVTRIP_INVALID_EVENT')).toBe(true)
      if (isDevtripError(error)) {
        expect(error.message).toMatch(/^invalid UserLoggedOut: \/userId must be a positive integer/)
        expect(error.details.errors).toEqual([{ pointer: '/userId', message: 'must be a positive integer, got 0' }])
      }
    }
  })
})
