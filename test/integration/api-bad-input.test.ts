/**
 * Bad input against the real broker and Redis, over loopback HTTP: each case gets its 4xx status and error
 * code, and NO topic's end offset moves (high watermarks read with read_uncommitted, so even an aborted
 * transactional write would show).
 */
import { randomUUID } from 'node:crypto'
import { gzipSync } from 'node:zlib'
import { createSampleGenerator, type EventType } from '../../events'
import { createKafkaClients, type KafkaAdmin } from '../../streams/kafka'
import {
  bearer, brokersFromEnv, createDomainTopics, endOffsets, http, redisUrlFromEnv, runId, settled, startApi, type HttpResult, type RunningApi
} from './api-harness'

jest.setTimeout(120_000)

const brokers = brokersFromEnv()
const prefix = `apib-${runId()}-`
const MAX_BODY = 64 * 1024
const MAX_EVENTS = 50
let admin: KafkaAdmin
let topics: string[]
let api: RunningApi
/** an event accepted in beforeAll, whose id the conflict case reuses */
let accepted: Record<string, unknown>

let seed = 70_000
function sample (type: EventType, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...createSampleGenerator(seed++).event(type), eventId: randomUUID(), ...overrides } as Record<string, unknown>
}
function without (event: Record<string, unknown>, field: string): Record<string, unknown> {
  const copy = { ...event }
  delete copy[field]
  return copy
}

interface Case {
  name: string
  status: number
  code: string
  /** JSON body (serialized), a raw string, or raw bytes */
  body?: unknown
  raw?: string | Uint8Array
  path?: string
  token?: string | null
  headers?: Record<string, string>
  /** further checks on the answer */
  check?: (r: HttpResult) => void
}

const json = { 'content-type': 'application/json' }
const invalid = (pointer: string, index = 0) => (r: HttpResult): void => {
  expect(r.json.error.details.errors).toEqual(expect.arrayContaining([expect.objectContaining({ index, pointer })]))
}

const cases: Case[] = [
  // the body is not events at all
  { name: 'malformed JSON', raw: '{"eventType": "UserLoggedOut", "userId": ', status: 400, code: 'DEVTRIP_API_BAD_REQUEST' },
  { name: 'truncated array', raw: '[{"eventType":"UserLoggedOut","userId":1}', status: 400, code: 'DEVTRIP_API_BAD_REQUEST' },
  { name: 'trailing garbage after JSON', raw: '{"eventType":"UserLoggedOut","userId":1} x', status: 400, code: 'DEVTRIP_API_BAD_REQUEST' },
  { name: 'empty body', raw: '', status: 400, code: 'DEVTRIP_API_BAD_REQUEST' },
  { name: 'JSON null', raw: 'null', status: 400, code: 'DEVTRIP_API_BAD_REQUEST' },
  { name: 'JSON number', raw: '12', status: 400, code: 'DEVTRIP_API_BAD_REQUEST' },
  { name: 'JSON string', raw: '"UserLoggedOut"', status: 400, code: 'DEVTRIP_API_BAD_REQUEST' },
  { name: 'empty array', body: [], status: 400, code: 'DEVTRIP_API_BAD_REQUEST' },
  { name: 'array holding a number', body: [7], status: 400, code: 'DEVTRIP_INVALID_EVENT', check: invalid('') },
  { name: 'array of arrays', body: [[{ eventType: 'UserLoggedOut', userId: 1 }]], status: 400, code: 'DEVTRIP_INVALID_EVENT', check: invalid('') },
  { name: '__proto__ key', raw: '{"eventType":"UserLoggedOut","userId":1,"__proto__":{"polluted":true}}', status: 400, code: 'DEVTRIP_API_BAD_REQUEST' },
  // the type
  { name: 'missing eventType', body: without(sample('UserLoggedOut'), 'eventType'), status: 400, code: 'DEVTRIP_INVALID_EVENT', check: invalid('/eventType') },
  { name: 'unknown eventType', body: sample('UserLoggedOut', { eventType: 'UserTeleported' }), status: 400, code: 'DEVTRIP_INVALID_EVENT', check: invalid('/eventType') },
  { name: 'eventType in the wrong case', body: sample('UserLoggedOut', { eventType: 'userloggedout' }), status: 400, code: 'DEVTRIP_INVALID_EVENT', check: invalid('/eventType') },
  { name: 'eventType of the wrong JSON type', body: sample('UserLoggedOut', { eventType: 42 }), status: 400, code: 'DEVTRIP_INVALID_EVENT', check: invalid('/eventType') },
  { name: 'unknown type in the eventType query', body: without(sample('UserLoggedOut'), 'eventType'), path: '/v1/topics/auth-events/events?eventType=Nope', status: 400, code: 'DEVTRIP_INVALID_EVENT', check: invalid('/eventType') },
  // fields
  { name: 'missing userId', body: without(sample('UserLoggedOut'), 'userId'), status: 400, code: 'DEVTRIP_INVALID_EVENT', check: invalid('/userId') },
  { name: 'negative userId', body: sample('UserLoggedOut', { userId: -3 }), status: 400, code: 'DEVTRIP_INVALID_EVENT', check: invalid('/userId') },
  { name: 'fractional userId', body: sample('UserLoggedOut', { userId: 1.5 }), status: 400, code: 'DEVTRIP_INVALID_EVENT', check: invalid('/userId') },
  { name: 'userId with surrounding spaces', body: sample('UserLoggedOut', { userId: ' 12' }), status: 400, code: 'DEVTRIP_INVALID_EVENT', check: invalid('/userId') },
  { name: 'userId beyond 2^53', raw: JSON.stringify(sample('UserLoggedOut')).replace(/"userId":[^,}]+/, '"userId":9007199254740993'), status: 400, code: 'DEVTRIP_INVALID_EVENT', check: invalid('/userId') },
  { name: 'userId as an object', body: sample('UserLoggedOut', { userId: { id: 1 } }), status: 400, code: 'DEVTRIP_INVALID_EVENT', check: invalid('/userId') },
  { name: 'invalid email', body: sample('UserSignedUp', { email: 'not-an-email' }), status: 400, code: 'DEVTRIP_INVALID_EVENT', check: invalid('/email') },
  { name: 'invalid IP address', body: sample('UserLoggedIn', { ipAddress: '999.1.1.1' }), status: 400, code: 'DEVTRIP_INVALID_EVENT', check: invalid('/ipAddress') },
  { name: 'zero payment amount', body: sample('PaymentCompleted', { amount: 0 }), status: 400, code: 'DEVTRIP_INVALID_EVENT', check: invalid('/amount') },
  { name: 'amount as a string', body: sample('PaymentCompleted', { amount: '29000' }), status: 400, code: 'DEVTRIP_INVALID_EVENT', check: invalid('/amount') },
  { name: 'lower-case currency', body: sample('PaymentCompleted', { currency: 'krw' }), status: 400, code: 'DEVTRIP_INVALID_EVENT', check: invalid('/currency') },
  { name: 'score above maxScore', body: sample('EvaluationCompleted', { score: 120, maxScore: 100 }), status: 400, code: 'DEVTRIP_INVALID_EVENT', check: invalid('/score') },
  { name: 'detail score out of range', body: sample('EvaluationCompleted', { details: { syntax: 90, logic: 101 } }), status: 400, code: 'DEVTRIP_INVALID_EVENT', check: invalid('/details/logic') },
  { name: 'plan change to the same plan', body: sample('PlanUpgraded', { fromPlan: 'PRO', toPlan: 'PRO' }), status: 400, code: 'DEVTRIP_INVALID_EVENT', check: invalid('/toPlan') },
  { name: 'code that is not a string', body: sample('MissionCompleted', { code: 42 }), status: 400, code: 'DEVTRIP_INVALID_EVENT', check: invalid('/code') },
  { name: 'empty string in resourcesCleaned', body: sample('ResourceCleanupCompleted', { resourcesCleaned: ['pod', ''] }), status: 400, code: 'DEVTRIP_INVALID_EVENT', check: invalid('/resourcesCleaned/1') },
  { name: 'version 2', body: sample('UserLoggedOut', { version: '2.0' }), status: 400, code: 'DEVTRIP_INVALID_EVENT', check: invalid('/version') },
  { name: 'eventId that is not a UUID', body: sample('UserLoggedOut', { eventId: 'evt-1' }), status: 400, code: 'DEVTRIP_INVALID_EVENT', check: invalid('/eventId') },
  { name: 'unparseable timestamp', body: sample('UserLoggedOut', { timestamp: 'yesterday' }), status: 400, code: 'DEVTRIP_INVALID_EVENT', check: invalid('/timestamp') },
  { name: 'timestamp a day in the future', body: sample('UserLoggedOut', { timestamp: Date.now() + 86_400_000 }), status: 400, code: 'DEVTRIP_INVALID_EVENT', check: invalid('/timestamp') },
  { name: 'empty source', body: sample('UserLoggedOut', { source: '' }), status: 400, code: 'DEVTRIP_INVALID_EVENT', check: invalid('/source') },
  // batches: all or nothing
  { name: 'one bad event among good ones', body: [sample('UserLoggedOut'), sample('UserLoggedOut'), sample('UserLoggedOut', { userId: 0 })], status: 400, code: 'DEVTRIP_INVALID_EVENT', check: invalid('/userId', 2) },
  { name: 'the same eventId twice in one batch', body: (() => { const a = sample('UserLoggedOut'); return [a, { ...sample('UserLoggedOut'), eventId: a.eventId }] })(), status: 400, code: 'DEVTRIP_INVALID_EVENT', check: invalid('/eventId', 1) },
  { name: 'an accepted eventId reused for other content', body: () => ({ ...accepted, userId: 4242 }), status: 409, code: 'DEVTRIP_API_IDEMPOTENCY_CONFLICT' },
  // topics
  { name: 'event of another topic on a topic route', body: [sample('MissionStarted')], path: '/v1/topics/auth-events/events', status: 400, code: 'DEVTRIP_INVALID_EVENT', check: invalid('/eventType') },
  { name: 'unknown topic', body: sample('UserLoggedOut'), path: '/v1/topics/no-such-topic/events', status: 404, code: 'DEVTRIP_UNKNOWN_TOPIC' },
  { name: 'pipeline topic that takes no events', body: sample('UserLoggedOut'), path: '/v1/topics/ticket-ledger/events', status: 404, code: 'DEVTRIP_UNKNOWN_TOPIC' },
  // authentication and scopes
  { name: 'no token', body: sample('UserLoggedOut'), token: null, status: 401, code: 'DEVTRIP_API_UNAUTHORIZED' },
  { name: 'unknown token', body: sample('UserLoggedOut'), token: null, headers: { authorization: 'Bearer dts_not-a-real-token' }, status: 401, code: 'DEVTRIP_API_UNAUTHORIZED' },
  { name: 'Basic instead of Bearer', body: sample('UserLoggedOut'), token: null, headers: { authorization: 'Basic YWRtaW46YWRtaW4=' }, status: 401, code: 'DEVTRIP_API_UNAUTHORIZED' },
  { name: 'token outside its scope (any-type route)', body: [sample('MissionStarted'), sample('UserLoggedOut')], token: 'mission-service', status: 403, code: 'DEVTRIP_API_FORBIDDEN' },
  { name: 'token outside its scope (topic route)', body: sample('UserLoggedOut'), token: 'payment-service', path: '/v1/topics/auth-events/events', status: 403, code: 'DEVTRIP_API_FORBIDDEN' },
  { name: 'read-only token posting', body: sample('UserLoggedOut'), token: 'reader', status: 403, code: 'DEVTRIP_API_FORBIDDEN' },
  // size and encoding
  { name: 'body over the size limit', body: [sample('MissionCompleted', { code: 'x'.repeat(MAX_BODY) })], status: 413, code: 'DEVTRIP_API_PAYLOAD_TOO_LARGE' },
  { name: 'more events than allowed', body: Array.from({ length: MAX_EVENTS + 1 }, () => sample('UserLoggedOut')), status: 413, code: 'DEVTRIP_API_PAYLOAD_TOO_LARGE' },
  { name: 'gzip bomb', raw: gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20)), headers: { 'content-encoding': 'gzip' }, status: 413, code: 'DEVTRIP_API_PAYLOAD_TOO_LARGE' },
  { name: 'gzip body that is not gzip', raw: JSON.stringify(sample('UserLoggedOut')), headers: { 'content-encoding': 'gzip' }, status: 400, code: 'DEVTRIP_API_BAD_REQUEST' },
  { name: 'brotli encoding', raw: JSON.stringify(sample('UserLoggedOut')), headers: { 'content-encoding': 'br' }, status: 415, code: 'DEVTRIP_API_UNSUPPORTED_MEDIA_TYPE' },
  { name: 'text/plain body', raw: JSON.stringify(sample('UserLoggedOut')), headers: { 'content-type': 'text/plain' }, status: 415, code: 'DEVTRIP_API_UNSUPPORTED_MEDIA_TYPE' },
  { name: 'form-encoded body', raw: 'eventType=UserLoggedOut&userId=1', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415, code: 'DEVTRIP_API_UNSUPPORTED_MEDIA_TYPE' }
]

beforeAll(async () => {
  admin = createKafkaClients({ brokers }).createAdmin()
  topics = await createDomainTopics(admin, prefix)
  api = await startApi({
    brokers,
    redisUrl: redisUrlFromEnv(),
    config: { topicPrefix: prefix, maxBodyBytes: MAX_BODY, maxEventsPerRequest: MAX_EVENTS, maxFutureSkewMs: 60_000, rateLimit: { requestsPerSecond: 1000, burst: 1000 } }
  })
  accepted = sample('UserLoggedOut')
  const r = await http(api.url + '/v1/events', { headers: { ...bearer('admin'), ...json }, body: JSON.stringify(accepted) })
  if (r.status !== 202) throw new Error(`setup post failed: ${r.text}`)
  await settled(admin, topics)
})

afterAll(async () => {
  await api?.close()
  await admin?.deleteTopics(topics ?? []).catch(() => undefined)
  await admin?.close()
})

test('the suite has at least 40 cases', () => {
  expect(cases.length).toBeGreaterThanOrEqual(40)
})

test.each(cases.map((c) => [c.name, c] as const))('%s → the right 4xx, and no end offset moves', async (_name, c) => {
  const before = await endOffsets(admin, topics)
  const body = c.raw ?? JSON.stringify(typeof c.body === 'function' ? (c.body as () => unknown)() : c.body)
  const headers: Record<string, string> = { ...json, ...(c.token === null ? {} : bearer(c.token ?? 'admin')), ...(c.headers ?? {}) }
  const r = await http(api.url + (c.path ?? '/v1/events'), { headers, body })
  expect({ status: r.status, code: r.json?.error?.code }).toEqual({ status: c.status, code: c.code })
  expect(r.json.error.requestId).toBe(r.headers.get('x-request-id'))
  c.check?.(r)
  expect(await endOffsets(admin, topics)).toEqual(before)
})

test('over the rate limit → 429 with Retry-After, and no end offset moves', async () => {
  const limited = await startApi({ brokers, redisUrl: redisUrlFromEnv(), config: { topicPrefix: prefix, rateLimit: { requestsPerSecond: 0.2, burst: 1 } } })
  try {
    const first = await http(limited.url + '/v1/events', { headers: { ...json, ...bearer('auth-service') }, body: '[]' })
    expect(first.status).toBe(400) // counted, and refused for its body
    const before = await endOffsets(admin, topics)
    const r = await http(limited.url + '/v1/events', { headers: { ...json, ...bearer('auth-service') }, body: JSON.stringify(sample('UserLoggedOut')) })
    expect([r.status, r.json.error.code]).toEqual([429, 'DEVTRIP_API_RATE_LIMITED'])
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(await endOffsets(admin, topics)).toEqual(before)
  } finally {
    await limited.close()
  }
})
