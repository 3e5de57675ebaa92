/**
 * The ingest API on the real broker and Redis (KAFKA_BROKERS / REDIS_URL from the jest global setup),
 * over loopback HTTP, producing to the six domain topics behind a run-unique prefix:
 *   - a posted batch appears on its topics, keyed by userId, with the envelope headers, at the reported offsets;
 *   - a repeated eventId produces nothing (end offsets do not move), also when posted concurrently;
 *   - the seed's §8.2 example calls, adapted to these routes, work;
 *   - `devtrip-streams api` starts, serves with its dev tokens and stops cleanly on SIGTERM.
 */
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { createSampleGenerator, type EventType } from '../../events'
import { createKafkaClients, type KafkaAdmin, type KafkaClientFactory } from '../../streams/kafka'
import { partitionForKey } from '../../streams/partitioner'
import {
  bearer, brokersFromEnv, createDomainTopics, endOffsets, headerOf, http, readCommitted, redisUrlFromEnv, runId, settled, startApi, type RunningApi
} from './api-harness'

jest.setTimeout(180_000)

const brokers = brokersFromEnv()
const prefix = `apii-${runId()}-`
let kafka: KafkaClientFactory
let admin: KafkaAdmin
let topics: string[]
let api: RunningApi

let seed = 50_000
function sample (type: EventType, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...createSampleGenerator(seed++).event(type), eventId: randomUUID(), ...overrides } as Record<string, unknown>
}

function post (body: unknown, token: string, path = '/v1/events', headers: Record<string, string> = {}): ReturnType<typeof http> {
  return http(api.url + path, { headers: { ...bearer(token), 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) })
}

beforeAll(async () => {
  kafka = createKafkaClients({ brokers })
  admin = kafka.createAdmin()
  topics = await createDomainTopics(admin, prefix)
  api = await startApi({ brokers, redisUrl: redisUrlFromEnv(), config: { topicPrefix: prefix } })
})

afterAll(async () => {
  await api?.close()
  await admin?.deleteTopics(topics ?? []).catch(() => undefined)
  await admin?.close()
})

test('/readyz: the broker with every prefixed topic, and Redis, answer', async () => {
  const r = await http(api.url + '/readyz', { method: 'GET' })
  expect(r.status).toBe(200)
  expect(r.json).toMatchObject({ status: 'ready', checks: { kafka: { ok: true }, redis: { ok: true } } })
})

test('a posted batch appears on its topics with key, headers and value, at the offsets the 202 reported', async () => {
  const events = [
    sample('UserSignedUp', { userId: 101 }), sample('UserProfileUpdated', { userId: 101 }), sample('PaymentCompleted', { userId: 102 }),
    sample('PlanUpgraded', { userId: 102 }), sample('MissionStarted', { userId: '103' }), sample('EvaluationStarted', { userId: 104 })
  ]
  const before = await endOffsets(admin, topics)
  const r = await post(events, 'admin')
  expect(r.status).toBe(202)
  expect(r.json.accepted).toBe(6)
  const records = await readCommitted(kafka, admin, topics)
  for (const [i, result] of (r.json.results as Array<Record<string, any>>).entries()) {
    const event = events[i]!
    expect(result.topic).toBe(prefix + { 0: 'auth-events', 1: 'user-events', 2: 'payment-events', 3: 'subscription-events', 4: 'mission-events', 5: 'evaluation-events' }[i])
    expect(result.partition).toBe(partitionForKey(Buffer.from(String(event.userId)), 6))
    const record = records.find((rec) => rec.topic === result.topic && rec.partition === result.partition && rec.offset === BigInt(result.offset))
    expect(record).toBeDefined()
    expect(record!.key!.toString()).toBe(String(event.userId))
    expect(JSON.parse(record!.value!.toString())).toEqual(event)
    expect(headerOf(record!, 'eventId')).toBe(event.eventId)
    expect(headerOf(record!, 'eventType')).toBe(event.eventType)
    expect(headerOf(record!, 'source')).toBe(event.source)
    expect(headerOf(record!, 'timestamp')).toBe(new Date(event.timestamp as number).toISOString())
    expect(headerOf(record!, 'version')).toBe('1.0')
    expect(record!.timestamp).toBe(event.timestamp)
  }
  const after = await endOffsets(admin, topics)
  const grown = Object.keys(after).filter((k) => after[k] !== before[k])
  // six records on six partitions, plus the transaction's commit marker on each
  expect(grown).toHaveLength(6)
  for (const k of grown) expect(BigInt(after[k]!) - BigInt(before[k]!)).toBe(2n)
})

test('a repeated eventId produces nothing new: the first result comes back and no end offset moves', async () => {
  const event = sample('MissionCompleted', { userId: 200 })
  const first = await post(event, 'mission-service')
  expect(first.status).toBe(202)
  // the first post's commit markers are written after EndTxn returns: let them land before taking the offsets
  await settled(admin, topics)
  const before = await endOffsets(admin, topics)
  for (let i = 0; i < 3; i++) {
    const again = await post(event, 'mission-service')
    expect(again.status).toBe(202)
    expect(again.json).toMatchObject({ accepted: 0, duplicates: 1 })
    expect(again.json.results[0]).toEqual({ ...first.json.results[0], duplicate: true })
  }
  // also through the topic route, and gzip-compressed
  const viaTopic = await http(`${api.url}/v1/topics/mission-events/events`, {
    headers: { ...bearer('mission-service'), 'content-type': 'application/json', 'content-encoding': 'gzip' },
    body: gzipSync(JSON.stringify([event]))
  })
  expect(viaTopic.json.results[0].duplicate).toBe(true)
  expect(await endOffsets(admin, topics)).toEqual(before)
})

test('the same new event posted by eight clients at once is produced exactly once', async () => {
  const event = sample('PaymentCompleted', { userId: 300 })
  const answers = await Promise.all(Array.from({ length: 8 }, () => post(event, 'payment-service')))
  const statuses = answers.map((a) => a.status)
  expect(statuses.every((s) => s === 202 || s === 409)).toBe(true)
  expect(answers.filter((a) => a.status === 202 && a.json.results[0].duplicate === false)).toHaveLength(1)
  for (const a of answers.filter((x) => x.status === 409)) expect(a.headers.get('retry-after')).toBe('1')
  // the ones told to wait get the first result when they retry
  const retry = await post(event, 'payment-service')
  expect(retry.json.results[0].duplicate).toBe(true)
  const records = await readCommitted(kafka, admin, [prefix + 'payment-events'])
  expect(records.filter((r) => headerOf(r, 'eventId') === event.eventId)).toHaveLength(1)
})

test('the seed §8.2 example calls, adapted to these routes', async () => {
  // 1. sign-up: the auth service reports the new user (the §5.2 payload, without an eventType, typed by the query)
  const signup = await post({ userId: 9001, authUserId: 'auth_user_9001', email: 'test@devtrip.com', ipAddress: '127.0.0.1' },
    'auth-service', '/v1/topics/auth-events/events?eventType=UserSignedUp')
  expect(signup.status).toBe(202)
  // 2. mission completion: POST /api/missions/1/complete {"code": "console.log(\"Hello, DevTrip!\");", "language": "javascript"}
  const mission = await post({
    eventType: 'mission.completed', missionId: 1, missionAttemptId: `attempt_${runId()}`, userId: 9001,
    code: 'console.log("Hello, DevTrip!");', language: 'javascript', completedAt: Date.now()
  }, 'mission-service', '/v1/topics/mission-events/events')
  expect(mission.status).toBe(202)
  // 3. Toss payment confirmation: {"paymentKey": "test_key", "orderId": "order_123", "amount": 29000}
  const payment = await post({ eventType: 'PaymentCompleted', paymentId: 'test_key', orderId: 'order_123', amount: 29000, currency: 'KRW', planType: 'PRO', userId: 9001 },
    'payment-service', '/v1/topics/payment-events/events')
  expect(payment.status).toBe(202)

  const records = await readCommitted(kafka, admin, topics)
  const byId = (id: string): Record<string, unknown> => JSON.parse(records.find((r) => headerOf(r, 'eventId') === id)!.value!.toString())
  expect(byId(signup.json.results[0].eventId)).toMatchObject({ eventType: 'UserSignedUp', email: 'test@devtrip.com', source: 'auth-service' })
  expect(byId(mission.json.results[0].eventId)).toMatchObject({ eventType: 'MissionCompleted', code: 'console.log("Hello, DevTrip!");', language: 'javascript' })
  expect(byId(payment.json.results[0].eventId)).toMatchObject({ eventType: 'PaymentCompleted', orderId: 'order_123', amount: 29000 })
  // all three are user 9001's: the same partition number on their three topics (co-partitioning)
  expect(new Set([signup, mission, payment].map((r) => r.json.results[0].partition)).size).toBe(1)
})

test('readyz is 503 when the ingest topics do not exist', async () => {
  const other = await startApi({ brokers, redisUrl: redisUrlFromEnv(), config: { topicPrefix: `absent-${runId()}-`, readinessTimeoutMs: 5000 } })
  try {
    const r = await http(other.url + '/readyz', { method: 'GET' })
    expect(r.status).toBe(503)
    expect(r.json.error.details.checks.kafka.ok).toBe(false)
    expect(r.json.error.details.checks.kafka.error.code).toBe('DEVTRIP_UNKNOWN_TOPIC')
  } finally {
    await other.close()
  }
})

test('`devtrip-streams api` serves with generated dev tokens and exits 0 on SIGTERM', async () => {
  const local = mkdtempSync(join(tmpdir(), 'devtrip-api-cli-'))
  try {
    const child = spawn(process.execPath, [join(__dirname, '..', '..', 'bin', 'devtrip-streams'), 'api', '--port', '0', '--topic-prefix', prefix, '--log-level', 'warn'], {
      env: { ...process.env, KAFKA_BROKERS: brokers.join(','), REDIS_URL: redisUrlFromEnv(), DEVTRIP_LOCAL_DIR: local, DEVTRIP_API_TOKENS: '' },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    const deadline = Date.now() + 150_000
    while (!/listening on (http:\/\/\S+) /.test(stderr)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`api did not start: ${stderr}`)
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    const url = /listening on (http:\/\/\S+) /.exec(stderr)![1]!
    const file = join(local, 'api-tokens.json')
    expect(stderr).toContain(file)
    const secrets = JSON.parse(readFileSync(file, 'utf8')).secrets as Record<string, string>
    for (const secret of Object.values(secrets)) expect(stderr).not.toContain(secret)
    const event = sample('UserLoggedOut', { userId: 404 })
    const r = await http(url + '/v1/events', { headers: { authorization: `Bearer ${secrets['auth-service']}`, 'content-type': 'application/json' }, body: JSON.stringify(event) })
    expect(r.status).toBe(202)
    expect(r.json.results[0].topic).toBe(prefix + 'auth-events')
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
    expect(stderr).toContain('SIGTERM: finishing in-flight requests')
  } finally {
    rmSync(local, { recursive: true, force: true })
  }
})
