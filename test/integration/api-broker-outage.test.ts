/**
 * The broker goes away while clients post, and comes back. On a broker of this test's own (started in a
 * temp directory with startKafka; the shared dev broker is never touched) and the shared Redis:
 *   - while it is down, posts get 503 with Retry-After (never a 202);
 *   - once it is back, posts succeed again, and re-posting the refused requests (same eventIds) succeeds;
 *   - nothing that got a 202 is missing from the topics, and an event refused with "nothing written" is
 *     not there twice after its retry.
 */
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startKafka, stopKafka, type KafkaBroker } from '../../cli/infra'
import { createSampleGenerator, type EventType } from '../../events'
import { createKafkaClients, type KafkaAdmin, type KafkaClientFactory } from '../../streams/kafka'
import { bearer, createDomainTopics, headerOf, http, readCommitted, redisUrlFromEnv, runId, startApi, type HttpResult, type RunningApi } from './api-harness'

jest.setTimeout(480_000)

const TYPES: EventType[] = ['UserLoggedIn', 'PaymentCompleted', 'MissionStarted', 'EvaluationStarted', 'UserProfileUpdated', 'PlanUpgraded']
const prefix = `apio-${runId()}-`
let dataDir: string
let broker: KafkaBroker
let kafka: KafkaClientFactory
let admin: KafkaAdmin
let topics: string[]
let api: RunningApi

interface Attempt {
  body: Array<Record<string, unknown>>
  result: HttpResult
  at: number
}

let seed = 90_000
function batch (): Array<Record<string, unknown>> {
  const size = 1 + (seed % 3)
  return Array.from({ length: size }, () => ({ ...createSampleGenerator(seed++).event(TYPES[seed % TYPES.length]!), eventId: randomUUID() }) as Record<string, unknown>)
}

async function post (body: unknown): Promise<HttpResult> {
  return http(api.url + '/v1/events', { headers: { ...bearer('admin'), 'content-type': 'application/json' }, body: JSON.stringify(body) })
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'devtrip-api-outage-'))
  broker = await startKafka({ dataDir, heapMax: '384m', heapMin: '128m' })
  kafka = createKafkaClients({ brokers: [broker.brokers] })
  admin = kafka.createAdmin()
  topics = await createDomainTopics(admin, prefix)
  api = await startApi({
    brokers: [broker.brokers],
    redisUrl: redisUrlFromEnv(),
    config: {
      topicPrefix: prefix,
      producer: { produceTimeoutMs: 4000, retryAfterSeconds: 1, transactionTimeoutMs: 10_000 },
      idempotency: { pendingTtlMs: 15_000 }
    },
    connection: { requestTimeoutMs: 3000, connectTimeoutMs: 1000, operationTimeoutMs: 5000 }
  })
}, 240_000)

afterAll(async () => {
  await api?.close()
  await admin?.close().catch(() => undefined)
  if (dataDir !== undefined) {
    await stopKafka(dataDir, { wipe: true, graceMs: 10_000 }).catch(() => undefined)
    rmSync(dataDir, { recursive: true, force: true })
  }
})

test('broker stopped → 503 with Retry-After; restarted → posts succeed; nothing that got a 202 is missing', async () => {
  const attempts: Attempt[] = []
  let running = true
  // one client posting new batches back to back for the whole test (bounded by the test's own phases)
  const client = (async () => {
    while (running) {
      const body = batch()
      attempts.push({ body, result: await post(body), at: Date.now() })
      await sleep(50)
    }
  })()

  const waitFor = async (what: string, condition: () => boolean, timeoutMs: number): Promise<void> => {
    const deadline = Date.now() + timeoutMs
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms (statuses so far: ${attempts.map((a) => a.result.status).join(',')})`)
      await sleep(100)
    }
  }

  await waitFor('five accepted batches', () => attempts.filter((a) => a.result.status === 202).length >= 5, 60_000)

  await stopKafka(broker, { graceMs: 20_000 })
  const stoppedAt = Date.now()
  await waitFor('three refusals after the stop', () => attempts.filter((a) => a.at > stoppedAt && a.result.status === 503).length >= 3, 60_000)
  const ready = await http(api.url + '/readyz', { method: 'GET' })
  expect(ready.status).toBe(503)
  expect(ready.json.error.details.checks.kafka.ok).toBe(false)

  broker = await startKafka({ dataDir })
  const restartedAt = Date.now()
  await waitFor('an accepted batch after the restart', () => attempts.some((a) => a.at > restartedAt && a.result.status === 202), 120_000)
  running = false
  await client

  // while the broker was away nothing was accepted, and every refusal says when to come back
  const whileDown = attempts.filter((a) => a.at > stoppedAt + 1000 && a.at < restartedAt - 1000)
  expect(whileDown.length).toBeGreaterThan(0)
  expect(whileDown.every((a) => a.result.status === 503)).toBe(true)
  const refused = attempts.filter((a) => a.result.status !== 202)
  for (const a of refused) {
    expect(a.result.status).toBe(503)
    expect(a.result.json.error.code).toBe('DEVTRIP_API_UNAVAILABLE')
    expect(Number(a.result.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
  }

  // clients retry what was refused, with the same eventIds, until it is accepted
  const retried: Attempt[] = []
  for (const a of refused) {
    const deadline = Date.now() + 60_000
    for (;;) {
      const result = await post(a.body)
      if (result.status === 202) {
        retried.push({ body: a.body, result, at: Date.now() })
        break
      }
      expect([409, 503]).toContain(result.status)
      if (Date.now() > deadline) throw new Error(`a refused batch was still refused after 60 s: ${result.text}`)
      await sleep(Number(result.headers.get('retry-after') ?? '1') * 1000)
    }
  }

  // transactions left open by the outage end when the coordinator times them out (the API's 60 s transaction timeout)
  const records = await readCommitted(kafka, admin, topics, 90_000)
  const seen = new Map<string, number>()
  for (const r of records) seen.set(headerOf(r, 'eventId')!, (seen.get(headerOf(r, 'eventId')!) ?? 0) + 1)
  const acceptedFirstTime = attempts.filter((a) => a.result.status === 202).flatMap((a) => a.body.map((e) => String(e.eventId)))
  const acceptedOnRetry = retried.flatMap((a) => a.body.map((e) => String(e.eventId)))
  // nothing that got a 202 is missing; events never refused are there exactly once
  for (const id of [...acceptedFirstTime, ...acceptedOnRetry]) expect(seen.get(id) ?? 0).toBeGreaterThanOrEqual(1)
  for (const id of acceptedFirstTime) expect(seen.get(id)).toBe(1)
  // a refusal whose outcome was known ("not-written"), or decided later by the publish still in flight
  // ("pending"), is written exactly once in the end; only an unconfirmed commit ("unknown") may repeat
  const outcomes = refused.map((a) => a.result.json.error.details.outcome as string)
  expect(outcomes.every((o) => ['not-written', 'pending', 'unknown'].includes(o))).toBe(true)
  const decided = refused.filter((a) => a.result.json.error.details.outcome !== 'unknown')
  for (const id of decided.flatMap((a) => a.body.map((e) => String(e.eventId)))) expect(seen.get(id)).toBe(1)
  // and nothing was written that nobody was told about: every record is an event some request carried
  const posted = new Set(attempts.flatMap((a) => a.body.map((e) => String(e.eventId))))
  for (const id of seen.keys()) expect(posted.has(id)).toBe(true)
})
