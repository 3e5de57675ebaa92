/**
 * The ingest routes through inject(), with Kafka and Redis replaced by the injected fakes (api-fakes.ts):
 * routing, keys, headers, validation with index + pointer, all-or-nothing, scopes, idempotency and the
 * 503 paths. What reaches Kafka is read back from the fake publisher's batches.
 */
import { randomUUID } from 'node:crypto'
import { gzipSync } from 'node:zlib'
import { createSampleGenerator, type EventType } from '../../events'
import { partitionForKey } from '../../streams/partitioner'
import { PublishError } from '../../api'
import { bearer, PARTITIONS, testServer, tokenOf, type TestServer } from './api-fakes'

let server: TestServer
afterEach(async () => { await server?.app.close() })

let seed = 1000
function sample (type: EventType, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...createSampleGenerator(seed++).event(type), eventId: randomUUID(), ...overrides } as Record<string, unknown>
}

async function post (body: unknown, token = 'admin', url = '/v1/events', headers: Record<string, string> = {}): Promise<{ status: number, json: any, headers: Record<string, unknown> }> {
  const r = await server.app.inject({
    method: 'POST', url, payload: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { ...bearer(token), 'content-type': 'application/json', ...headers }
  })
  return { status: r.statusCode, json: r.body === '' ? undefined : JSON.parse(r.body), headers: r.headers }
}

function header (record: { headers?: readonly (readonly [string, Buffer | null])[] }, name: string): string | undefined {
  return record.headers?.find(([n]) => n === name)?.[1]?.toString('utf8')
}

describe('POST /v1/events: events of any type', () => {
  test('each event goes to its catalog topic, keyed by userId, envelope in headers; 202 lists where each landed', async () => {
    server = await testServer()
    const events = [sample('UserSignedUp', { userId: 11 }), sample('PaymentCompleted', { userId: 12 }), sample('MissionCompleted', { userId: 13 }), sample('EvaluationFailed', { userId: '14' })]
    const r = await post(events)
    expect(r.status).toBe(202)
    expect(r.json.accepted).toBe(4)
    expect(r.json.duplicates).toBe(0)
    expect(r.json.results.map((x: any) => x.topic)).toEqual(['auth-events', 'payment-events', 'mission-events', 'evaluation-events'])
    expect(server.publisher.batches).toHaveLength(1) // one request, one transaction
    const records = server.publisher.records
    records.forEach((rec, i) => {
      const ev = events[i]!
      expect(rec.key!.toString()).toBe(String(ev.userId))
      expect(header(rec, 'eventId')).toBe(ev.eventId)
      expect(header(rec, 'eventType')).toBe(ev.eventType)
      expect(header(rec, 'source')).toBe(ev.source)
      expect(header(rec, 'version')).toBe('1.0')
      expect(header(rec, 'timestamp')).toBe(new Date(ev.timestamp as number).toISOString())
      expect(rec.timestamp).toBe(ev.timestamp)
      const value = JSON.parse(rec.value!.toString())
      expect(value).toEqual(ev)
      expect(r.json.results[i]).toEqual({
        index: i, eventId: ev.eventId, eventType: ev.eventType, topic: rec.topic,
        partition: partitionForKey(rec.key!, PARTITIONS), offset: '0', duplicate: false
      })
    })
  })

  test('a single object is one event; absent eventId and timestamp are filled in', async () => {
    server = await testServer()
    const before = Date.now()
    const r = await post({ eventType: 'UserLoggedOut', userId: 77 }, 'auth-service')
    expect(r.status).toBe(202)
    const value = JSON.parse(server.publisher.records[0]!.value!.toString())
    expect(value.eventId).toMatch(/^[0-9a-f-]{36}$/)
    expect(value.timestamp).toBeGreaterThanOrEqual(before)
    expect(value.timestamp).toBeLessThanOrEqual(Date.now())
    expect(value.source).toBe('auth-service')
    expect(r.json.results[0].eventId).toBe(value.eventId)
  })

  test('the seed §5.3 and §5.4 examples (dotted type aliases, completedAt as the time) are accepted as they are', async () => {
    server = await testServer()
    const missionCompleted = {
      eventType: 'mission.completed', missionAttemptId: 'attempt_789', userId: 123, authUserId: 'auth_user_123', email: 'user@devtrip.com',
      missionId: 'mission_1', missionTitle: '첫 번째 JavaScript 미션', code: "function hello() { return 'Hello, DevTrip!'; }",
      language: 'javascript', completedAt: 1705312500000, executionTime: 1500
    }
    const evaluationCompleted = {
      eventType: 'evaluation.completed', evaluationId: 'eval_999', missionAttemptId: 'attempt_789', userId: 123, authUserId: 'auth_user_123',
      email: 'user@devtrip.com', missionId: 'mission_1', missionTitle: '첫 번째 JavaScript 미션', score: 85, maxScore: 100,
      feedback: '우수한 구현입니다. 에러 핸들링을 추가하면 더 좋겠습니다.', details: { syntax: 95, logic: 80, performance: 85, bestPractices: 80 }, timestamp: 1705312800000
    }
    const r = await post([missionCompleted, evaluationCompleted])
    expect(r.status).toBe(202)
    expect(r.json.results.map((x: any) => x.eventType)).toEqual(['MissionCompleted', 'EvaluationCompleted'])
    const [mc, ec] = server.publisher.records.map((rec) => JSON.parse(rec.value!.toString()))
    expect(mc.timestamp).toBe(1705312500000)
    expect(ec.details).toEqual(evaluationCompleted.details)
  })

  test('invalid events: 400 with index, pointer and reason for each; nothing is produced (all or nothing)', async () => {
    server = await testServer()
    const good = sample('UserLoggedIn')
    const r = await post([good, { ...sample('PaymentCompleted'), amount: -5 }, { eventType: 'MissionStarted', userId: 3 }, 'not an event'])
    expect(r.status).toBe(400)
    expect(r.json.error.code).toBe('DEVTRIP_INVALID_EVENT')
    expect(r.json.error.message).toBe('3 of 4 events are invalid; nothing was produced')
    const errors = r.json.error.details.errors
    expect(errors).toEqual(expect.arrayContaining([
      { index: 1, pointer: '/amount', message: expect.stringContaining('must be > 0') },
      { index: 2, pointer: '/missionId', message: 'is required' },
      { index: 3, pointer: '', message: 'must be a JSON object (one event), got string' }
    ]))
    expect(errors.some((e: any) => e.index === 0)).toBe(false)
    expect(server.publisher.publishCalls).toBe(0)
    expect(server.store.size).toBe(0)
  })

  test('an unknown eventType and a missing one are reported at /eventType', async () => {
    server = await testServer()
    const r = await post([{ ...sample('UserLoggedOut'), eventType: 'UserTeleported' }, { userId: 1, timestamp: 1705312200000 }])
    expect(r.status).toBe(400)
    expect(r.json.error.details.errors.map((e: any) => [e.index, e.pointer])).toEqual([[0, '/eventType'], [1, '/eventType']])
  })

  test('the same eventId twice in one request is a 400 at the second event', async () => {
    server = await testServer()
    const a = sample('UserLoggedOut')
    const r = await post([a, { ...sample('UserLoggedOut'), eventId: a.eventId }])
    expect(r.status).toBe(400)
    expect(r.json.error.details.errors).toEqual([{ index: 1, pointer: '/eventId', message: expect.stringContaining('repeats the eventId of event 0') }])
  })

  test('a timestamp far in the future is refused (brokers refuse such record times)', async () => {
    server = await testServer({ maxFutureSkewMs: 60_000 })
    const r = await post(sample('UserLoggedOut', { timestamp: Date.now() + 3_600_000 }))
    expect(r.status).toBe(400)
    expect(r.json.error.details.errors[0].pointer).toBe('/timestamp')
    expect(r.json.error.details.errors[0].message).toMatch(/ahead of the server clock; at most 60000 ms/)
  })

  test('too many events is 413; an empty array and a non-event body are 400', async () => {
    server = await testServer({ maxEventsPerRequest: 3 })
    const four = [1, 2, 3, 4].map(() => sample('UserLoggedOut'))
    const r1 = await post(four)
    expect(r1.status).toBe(413)
    expect(r1.json.error).toMatchObject({ code: 'DEVTRIP_API_PAYLOAD_TOO_LARGE', details: { events: 4, maxEventsPerRequest: 3 } })
    const r2 = await post([])
    expect([r2.status, r2.json.error.code]).toEqual([400, 'DEVTRIP_API_BAD_REQUEST'])
    const r3 = await post('42')
    expect([r3.status, r3.json.error.message]).toEqual([400, 'the body must be an event object or an array of events, got number'])
    expect(server.publisher.publishCalls).toBe(0)
  })
})

describe('POST /v1/topics/:topic/events', () => {
  test('events of the topic are produced; the eventType query names the type of events without one (seed §5.2)', async () => {
    server = await testServer()
    const seed52 = { authUserId: 'auth_user_123', userId: 123, email: 'user@devtrip.com', ipAddress: '192.168.1.100', timestamp: 1705312200000 }
    const r = await post(seed52, 'auth-service', '/v1/topics/auth-events/events?eventType=UserSignedUp')
    expect(r.status).toBe(202)
    expect(r.json.results[0]).toMatchObject({ eventType: 'UserSignedUp', topic: 'auth-events' })
  })

  test('an event of another topic\'s type is a 400 naming /eventType', async () => {
    server = await testServer()
    const r = await post([sample('MissionStarted'), sample('UserLoggedOut')], 'mission-service', '/v1/topics/mission-events/events')
    expect(r.status).toBe(400)
    expect(r.json.error.details.errors).toEqual([{ index: 1, pointer: '/eventType', message: 'UserLoggedOut belongs on auth-events, not on mission-events' }])
    expect(server.publisher.publishCalls).toBe(0)
  })

  test('a topic that takes no events is 404; a topic outside the token\'s scopes is 403, before the body is read', async () => {
    server = await testServer()
    const r1 = await post(sample('UserLoggedOut'), 'admin', '/v1/topics/ticket-ledger/events')
    expect([r1.status, r1.json.error.code]).toEqual([404, 'DEVTRIP_UNKNOWN_TOPIC'])
    const r2 = await post('{not json', 'mission-service', '/v1/topics/auth-events/events')
    expect([r2.status, r2.json.error.code]).toEqual([403, 'DEVTRIP_API_FORBIDDEN'])
    expect(r2.json.error.details.topic).toBe('auth-events')
  })
})

describe('authentication and scopes', () => {
  test('no token, a malformed header and an unknown token are 401 with WWW-Authenticate', async () => {
    server = await testServer()
    const body = JSON.stringify(sample('UserLoggedOut'))
    const none = await server.app.inject({ method: 'POST', url: '/v1/events', headers: { 'content-type': 'application/json' }, payload: body })
    expect(none.statusCode).toBe(401)
    expect(none.headers['www-authenticate']).toBe('Bearer realm="devtrip-api"')
    const basic = await server.app.inject({ method: 'POST', url: '/v1/events', headers: { authorization: 'Basic dXNlcjpwYXNz', 'content-type': 'application/json' }, payload: body })
    expect(basic.statusCode).toBe(401)
    expect(basic.headers['www-authenticate']).toContain('error="invalid_request"')
    const wrong = await server.app.inject({ method: 'POST', url: '/v1/events', headers: { authorization: 'Bearer secret-nobody', 'content-type': 'application/json' }, payload: body })
    expect(wrong.statusCode).toBe(401)
    expect(wrong.headers['www-authenticate']).toContain('error="invalid_token"')
    expect(JSON.parse(wrong.body).error.code).toBe('DEVTRIP_API_UNAUTHORIZED')
    expect(server.publisher.publishCalls).toBe(0)
  })

  test('a service token may produce only to its topics; one forbidden event rejects the request with 403', async () => {
    server = await testServer()
    const ok = await post([sample('PaymentCompleted'), sample('PlanUpgraded')], 'payment-service')
    expect(ok.status).toBe(202)
    const mixed = await post([sample('PaymentFailed'), sample('MissionStarted')], 'payment-service')
    expect(mixed.status).toBe(403)
    expect(mixed.json.error.details.events).toEqual([{ index: 1, pointer: '/eventType', eventType: 'MissionStarted', topic: 'mission-events' }])
    expect(server.publisher.batches).toHaveLength(1)
  })

  test('a reader token cannot produce', async () => {
    server = await testServer()
    const r = await post(sample('UserLoggedOut'), 'reader')
    expect(r.status).toBe(403)
  })
})

describe('idempotency: eventId is the key', () => {
  test('posting the same event again returns the first result and produces nothing', async () => {
    server = await testServer()
    const ev = sample('MissionStarted')
    const first = await post(ev)
    const again = await post(ev)
    expect(again.status).toBe(202)
    expect(again.json).toMatchObject({ accepted: 0, duplicates: 1 })
    expect(again.json.results[0]).toEqual({ ...first.json.results[0], duplicate: true })
    expect(server.publisher.records).toHaveLength(1)
  })

  test('a retry without a timestamp (filled by the server at another time) is still the same event', async () => {
    server = await testServer()
    const ev = { eventType: 'UserLoggedOut', userId: 5, eventId: randomUUID() }
    const first = await post(ev)
    await new Promise((resolve) => setTimeout(resolve, 5))
    const again = await post(ev)
    expect(again.json.results[0]).toEqual({ ...first.json.results[0], duplicate: true })
  })

  test('new and already-accepted events in one request: only the new ones are produced', async () => {
    server = await testServer()
    const a = sample('UserLoggedOut')
    const b = sample('UserLoggedOut')
    await post(a)
    const r = await post([a, b])
    expect(r.json).toMatchObject({ accepted: 1, duplicates: 1 })
    expect(r.json.results.map((x: any) => x.duplicate)).toEqual([true, false])
    expect(server.publisher.batches.map((batch) => batch.length)).toEqual([1, 1])
  })

  test('an eventId reused for different content is a 409; nothing is produced', async () => {
    server = await testServer()
    const a = sample('UserLoggedOut')
    await post(a)
    const r = await post([sample('UserLoggedOut'), { ...a, userId: 999 }])
    expect(r.status).toBe(409)
    expect(r.json.error.code).toBe('DEVTRIP_API_IDEMPOTENCY_CONFLICT')
    expect(r.json.error.details.events).toEqual([{ index: 1, eventId: a.eventId, pointer: '/eventId' }])
    expect(r.headers['retry-after']).toBeUndefined()
    expect(server.publisher.records).toHaveLength(1)
  })

  test('two simultaneous posts of one event: one produces, the other gets 409 + Retry-After, then the first result', async () => {
    server = await testServer()
    const ev = sample('PaymentCompleted')
    server.publisher.next({ kind: 'hang' })
    const first = post(ev)
    await new Promise((resolve) => setTimeout(resolve, 20))
    const second = await post(ev)
    expect(second.status).toBe(409)
    expect(second.headers['retry-after']).toBe('1')
    server.publisher.releaseHung()
    const firstDone = await first
    expect(firstDone.status).toBe(202)
    const third = await post(ev)
    expect(third.json.results[0]).toEqual({ ...firstDone.json.results[0], duplicate: true })
    expect(server.publisher.records).toHaveLength(1)
  })
})

describe('durability: 503 instead of accepting and dropping', () => {
  test('a publish that wrote nothing: 503 with Retry-After; the eventIds are free again, so the retry produces', async () => {
    server = await testServer({ producer: { retryAfterSeconds: 3, transactionalIdPrefix: 't' } })
    server.publisher.next({ kind: 'fail', error: new PublishError('the broker is unavailable', 'not-written', 'broker-unavailable') })
    const ev = sample('MissionCompleted')
    const r = await post(ev)
    expect(r.status).toBe(503)
    expect(r.headers['retry-after']).toBe('3')
    expect(r.json.error).toMatchObject({ code: 'DEVTRIP_API_UNAVAILABLE', details: { reason: 'broker-unavailable', outcome: 'not-written' } })
    expect(server.store.size).toBe(0)
    const retry = await post(ev)
    expect(retry.status).toBe(202)
    expect(retry.json.accepted).toBe(1)
  })

  test('the producer buffer is full: 503', async () => {
    server = await testServer()
    server.publisher.next({ kind: 'fail', error: new PublishError('the producer buffer is full', 'not-written', 'buffer-full') })
    const r = await post(sample('UserLoggedOut'))
    expect(r.status).toBe(503)
    expect(r.json.error.details.reason).toBe('buffer-full')
  })

  test('a commit whose outcome is unknown keeps the eventIds reserved: a quick retry gets 409, not a second write', async () => {
    server = await testServer()
    server.publisher.next({ kind: 'fail', error: new PublishError('the commit was not confirmed', 'unknown', 'broker-unavailable') })
    const ev = sample('UserLoggedOut')
    const r = await post(ev)
    expect(r.status).toBe(503)
    expect(r.json.error.message).toContain('stay reserved')
    const retry = await post(ev)
    expect(retry.status).toBe(409)
    expect(server.publisher.records).toHaveLength(0)
  })

  test('a produce slower than produceTimeoutMs: 503; when it commits later, the retry reports it as a duplicate', async () => {
    server = await testServer({ producer: { produceTimeoutMs: 100, transactionalIdPrefix: 't' } })
    server.publisher.next({ kind: 'hang' })
    const ev = sample('UserLoggedOut')
    const r = await post(ev)
    expect(r.status).toBe(503)
    expect(r.json.error.details.reason).toBe('timeout')
    expect((await post(ev)).status).toBe(409) // still in flight
    server.publisher.releaseHung()
    await new Promise((resolve) => setTimeout(resolve, 10))
    const after = await post(ev)
    expect(after.status).toBe(202)
    expect(after.json).toMatchObject({ accepted: 0, duplicates: 1 })
    expect(server.publisher.records).toHaveLength(1)
  })

  test('a publish in flight keeps its eventIds reserved past pendingTtlMs (renewed), so a late commit is never doubled', async () => {
    server = await testServer({ producer: { produceTimeoutMs: 100, transactionTimeoutMs: 1000, transactionalIdPrefix: 't' }, idempotency: { pendingTtlMs: 1200 } })
    server.publisher.next({ kind: 'hang' })
    const ev = sample('PaymentCompleted')
    const r = await post(ev)
    expect([r.status, r.json.error.details.outcome]).toEqual([503, 'pending'])
    await new Promise((resolve) => setTimeout(resolve, 2500)) // twice the reservation's lifetime
    expect((await post(ev)).status).toBe(409)
    server.publisher.releaseHung()
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect((await post(ev)).json.results[0].duplicate).toBe(true)
    expect(server.publisher.records).toHaveLength(1)
  })

  test('the idempotency store failing: 503, nothing produced', async () => {
    server = await testServer()
    server.store.reserve = async () => { throw new Error('connect ECONNREFUSED 127.0.0.1:6379') }
    const r = await post(sample('UserLoggedOut'))
    expect(r.status).toBe(503)
    expect(r.json.error.message).toContain('idempotency store')
    expect(server.publisher.publishCalls).toBe(0)
  })
})

describe('bodies: JSON, gzip, limits', () => {
  test('a gzip body is accepted', async () => {
    server = await testServer()
    const events = [sample('UserLoggedOut'), sample('UserLoggedOut')]
    const r = await server.app.inject({
      method: 'POST', url: '/v1/events', payload: gzipSync(JSON.stringify(events)),
      headers: { ...bearer('admin'), 'content-type': 'application/json', 'content-encoding': 'gzip' }
    })
    expect(r.statusCode).toBe(202)
    expect(JSON.parse(r.body).accepted).toBe(2)
  })

  test('a gzip bomb (small compressed, huge decompressed) is 413', async () => {
    server = await testServer({ maxBodyBytes: 64 * 1024 })
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20))
    expect(bomb.length).toBeLessThan(64 * 1024)
    const r = await server.app.inject({
      method: 'POST', url: '/v1/events', payload: bomb,
      headers: { ...bearer('admin'), 'content-type': 'application/json', 'content-encoding': 'gzip' }
    })
    expect(r.statusCode).toBe(413)
    expect(JSON.parse(r.body).error.code).toBe('DEVTRIP_API_PAYLOAD_TOO_LARGE')
    expect(server.publisher.publishCalls).toBe(0)
  })

  test('gzip that is not gzip is 400; an unsupported encoding is 415', async () => {
    server = await testServer()
    const headers = { ...bearer('admin'), 'content-type': 'application/json' }
    const bad = await server.app.inject({ method: 'POST', url: '/v1/events', payload: 'definitely not gzip', headers: { ...headers, 'content-encoding': 'gzip' } })
    expect(bad.statusCode).toBe(400)
    expect(JSON.parse(bad.body).error.message).toMatch(/not valid gzip/)
    const br = await server.app.inject({ method: 'POST', url: '/v1/events', payload: '{}', headers: { ...headers, 'content-encoding': 'br' } })
    expect(br.statusCode).toBe(415)
  })

  test('an uncompressed body over maxBodyBytes is 413', async () => {
    server = await testServer({ maxBodyBytes: 4096 })
    const r = await post([sample('MissionCompleted', { code: 'x'.repeat(5000) })])
    expect(r.status).toBe(413)
    expect(r.json.error.details.maxBodyBytes).toBe(4096)
  })

  test('malformed JSON, an empty body, another media type and a __proto__ key are refused', async () => {
    server = await testServer()
    const malformed = await post('[{"eventType": "UserLoggedOut",', 'admin')
    expect([malformed.status, malformed.json.error.code]).toEqual([400, 'DEVTRIP_API_BAD_REQUEST'])
    expect(malformed.json.error.message).toMatch(/^the body is not valid JSON: /)
    const empty = await server.app.inject({ method: 'POST', url: '/v1/events', headers: { ...bearer('admin'), 'content-type': 'application/json' }, payload: '' })
    expect(empty.statusCode).toBe(400)
    const text = await server.app.inject({ method: 'POST', url: '/v1/events', headers: { ...bearer('admin'), 'content-type': 'text/plain' }, payload: 'hello' })
    expect([text.statusCode, JSON.parse(text.body).error.code]).toEqual([415, 'DEVTRIP_API_UNSUPPORTED_MEDIA_TYPE'])
    const proto = await post('{"eventType":"UserLoggedOut","userId":1,"__proto__":{"admin":true}}')
    expect(proto.status).toBe(400)
    expect(proto.json.error.message).toContain('"__proto__"')
    expect(server.publisher.publishCalls).toBe(0)
  })
})

describe('rate limit, request ids, logs', () => {
  test('a token over its rate gets 429 with Retry-After; other tokens are not affected', async () => {
    server = await testServer({ rateLimit: { requestsPerSecond: 0.5, burst: 2 } })
    const statuses = []
    for (let i = 0; i < 3; i++) statuses.push((await post(sample('UserLoggedOut'), 'auth-service')).status)
    expect(statuses).toEqual([202, 202, 429])
    const limited = await post(sample('UserLoggedOut'), 'auth-service')
    expect(limited.headers['retry-after']).toBe('2')
    expect(limited.json.error.code).toBe('DEVTRIP_API_RATE_LIMITED')
    expect((await post(sample('MissionStarted'), 'mission-service')).status).toBe(202)
  })

  test('x-request-id is honoured when sane, replaced when not, and is in the header, the error body and every log line', async () => {
    server = await testServer()
    const given = await server.app.inject({ method: 'POST', url: '/v1/events', headers: { 'x-request-id': 'client-req-42', 'content-type': 'application/json' }, payload: '{}' })
    expect(given.headers['x-request-id']).toBe('client-req-42')
    expect(JSON.parse(given.body).error.requestId).toBe('client-req-42')
    const insane = await server.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'a b\nc' } })
    expect(insane.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
    const lines = server.logs.map((l) => JSON.parse(l)).filter((l) => l.req !== undefined || l.res !== undefined)
    expect(lines.length).toBeGreaterThan(0)
    for (const line of lines) expect(typeof line.requestId).toBe('string')
    expect(lines.some((l) => l.requestId === 'client-req-42')).toBe(true)
  })

  test('no token ever appears in a log line', async () => {
    server = await testServer({}, { logger: { level: 'trace', stream: { write: (line: string) => { server.logs.push(line) } } } })
    await post(sample('UserLoggedOut'), 'auth-service')
    await post(sample('UserLoggedOut'), 'mission-service')
    await server.app.inject({ method: 'POST', url: '/v1/events', headers: { authorization: 'Bearer secret-nobody' }, payload: '{}' })
    const all = server.logs.join('\n')
    expect(server.logs.length).toBeGreaterThan(5)
    for (const secret of [tokenOf('auth-service'), tokenOf('mission-service'), 'secret-nobody']) expect(all).not.toContain(secret)
  })

  test('error bodies have one shape: { error: { code, message, requestId, details? } }', async () => {
    server = await testServer()
    const r = await server.app.inject({ method: 'GET', url: '/no/such/route' })
    expect(r.statusCode).toBe(404)
    const body = JSON.parse(r.body)
    expect(Object.keys(body)).toEqual(['error'])
    expect(body.error).toEqual({ code: 'DEVTRIP_API_NOT_FOUND', message: 'no route GET /no/such/route', requestId: r.headers['x-request-id'], details: { hint: 'GET /docs lists the routes' } })
  })
})
