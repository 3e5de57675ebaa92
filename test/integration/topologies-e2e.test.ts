/**
 * The seed's three flows end to end on the real broker, through `devtrip-streams run all` (a child process, the
 * compiled-on-the-fly CLI) with its own topic prefix:
 *   §3.1 sign-up                     UserSignedUp (the §5.2 body, type in the header)
 *   §3.2 mission completion + AI     MissionCompleted (§5.3, alias mission.completed, completedAt as its time) →
 *                                    EvaluationStarted → EvaluationCompleted (§5.4), produced here as the evaluator would
 *   §3.3 payment and subscription    PaymentCompleted(PRO) + PlanUpgraded(FREE → PRO) for one purchase
 * and reads the ledger, the balances, the user statistics and the mission result back read_committed.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RunChild, type RunEvent } from '../../cli/chaos/child-process'
import { readCommitted } from '../../cli/chaos/topic-reader'
import { applyTopicCatalog } from '../../cli/commands/topics'
import { createKafkaClients, type ConsumedRecord, type KafkaAdmin, type KafkaClientFactory } from '../../streams/kafka'
import { kafkaBrokers } from '../support/infra-env'

const prefix = `e2e-${randomBytes(3).toString('hex')}-`
const USER = 123
// the seed's examples are from 2024; the topics keep 7 days (events/topics.ts), so the flows happen an hour ago instead
const T0 = Math.floor(Date.now() / 60_000) * 60_000 - 3_600_000

const ids = {
  signup: '0b6f5f2e-3c1d-4e8a-9a57-2f0d1c9e7b42',
  mission: '1c7a6b3f-4d2e-4f9b-8b68-3e1e2dae8c53',
  started: '2d8b7c4a-5e3f-4a0c-9c79-4f2f3ebf9d64',
  evaluated: '3e9c8d5b-6f4a-4b1d-8d8a-5a3a4fca0e75',
  payment: '4fad9e6c-7a5b-4c2e-9e9b-6b4b5adb1f86',
  upgrade: '5abeaf7d-8b6c-4d3f-8fac-7c5c6bec2a97'
}

let kafka: KafkaClientFactory
let admin: KafkaAdmin
let stateDir: string
let child: RunChild | undefined
const events: RunEvent[] = []

function record (topic: string, eventType: string, eventId: string, body: Record<string, unknown>, timestamp: number): { topic: string, key: Buffer, value: Buffer, timestamp: number, headers: Array<[string, Buffer]> } {
  return {
    topic: prefix + topic,
    key: Buffer.from(String(USER)),
    value: Buffer.from(JSON.stringify(body)),
    timestamp,
    // like the seed's Spring producers: the envelope in headers, the body as the service wrote it
    headers: [['eventId', Buffer.from(eventId)], ['eventType', Buffer.from(eventType)], ['version', Buffer.from('1.0')]]
  }
}

async function readAll (topic: string, expected: number, timeoutMs = 90_000): Promise<Array<{ record: ConsumedRecord, value: Record<string, unknown> }>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const out: Array<{ record: ConsumedRecord, value: Record<string, unknown> }> = []
    await readCommitted(kafka, admin, [prefix + topic], (r) => { out.push({ record: r, value: JSON.parse(r.value!.toString('utf8')) as Record<string, unknown> }) })
    if (out.length >= expected || Date.now() > deadline) return out
    await new Promise((resolve) => setTimeout(resolve, 1000))
  }
}

beforeAll(async () => {
  kafka = createKafkaClients({ brokers: kafkaBrokers(), clientId: 'topologies-e2e' })
  admin = kafka.createAdmin()
  const rows = await applyTopicCatalog(admin, { prefix, partitions: 2 })
  expect(rows.filter((r) => r.status !== 'created')).toEqual([])
  stateDir = mkdtempSync(join(tmpdir(), 'devtrip-e2e-'))

  // all six input events first: the pipeline then sees the whole history at once, as after an outage
  const producer = kafka.createProducer()
  try {
    await producer.send([
      record('auth-events', 'UserSignedUp', ids.signup, { authUserId: 'auth_user_123', userId: USER, email: 'user@devtrip.com', ipAddress: '192.168.1.100', timestamp: T0 }, T0),
      record('mission-events', 'MissionCompleted', ids.mission, {
        eventType: 'mission.completed', missionAttemptId: 'attempt_789', userId: USER, authUserId: 'auth_user_123', email: 'user@devtrip.com', missionId: 'mission_1',
        missionTitle: '첫 번째 JavaScript 미션', code: "function hello() { return 'Hello, DevTrip!'; }", language: 'javascript', completedAt: T0 + 300_000, executionTime: 1500
      }, T0 + 300_000),
      record('evaluation-events', 'EvaluationStarted', ids.started, { evaluationId: 'eval_999', missionAttemptId: 'attempt_789', userId: USER, timestamp: T0 + 360_000 }, T0 + 360_000),
      record('evaluation-events', 'EvaluationCompleted', ids.evaluated, {
        eventType: 'evaluation.completed', evaluationId: 'eval_999', missionAttemptId: 'attempt_789', userId: USER, authUserId: 'auth_user_123', email: 'user@devtrip.com',
        missionId: 'mission_1', missionTitle: '첫 번째 JavaScript 미션', score: 85, maxScore: 100, feedback: '우수한 구현입니다. 에러 핸들링을 추가하면 더 좋겠습니다.',
        details: { syntax: 95, logic: 80, performance: 85, bestPractices: 80 }, timestamp: T0 + 600_000
      }, T0 + 600_000),
      record('payment-events', 'PaymentCompleted', ids.payment, { paymentId: 'pay_1', userId: USER, amount: 29000, planType: 'PRO', currency: 'KRW', orderId: 'order_1', timestamp: T0 + 900_000 }, T0 + 900_000),
      record('subscription-events', 'PlanUpgraded', ids.upgrade, { userId: USER, fromPlan: 'FREE', toPlan: 'PRO', timestamp: T0 + 901_000 }, T0 + 901_000)
    ])
  } finally {
    await producer.close()
  }

  child = new RunChild({
    args: ['run', 'all', '--topic-prefix', prefix, '--state-dir', stateDir, '--no-metrics', '--json-events', '--brokers', kafkaBrokers().join(','), '--commit-interval-ms', '200'],
    onEvent: (e) => { events.push(e) }
  })
  const deadline = Date.now() + 90_000
  while (!events.some((e) => e.event === 'running' && Array.isArray(e.apps))) {
    if (!child.running) throw new Error(`run all exited early:\n${child.stderrTail.join('\n')}`)
    if (Date.now() > deadline) throw new Error(`run all did not report running within 90 s:\n${child.stderrTail.join('\n')}`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}, 150_000)

afterAll(async () => {
  await child?.stop(30_000)
  if (admin !== undefined) {
    const mine = (await admin.listTopics()).filter((t) => t.startsWith(prefix))
    await admin.deleteTopics(mine).catch(() => undefined)
    await admin.close()
  }
  if (stateDir !== undefined) rmSync(stateDir, { recursive: true, force: true })
}, 60_000)

test('§3.1 + §3.2 + §3.3: one ledger entry per effect, the final balance, exactly once', async () => {
  const ledger = await readAll('ticket-ledger', 5)
  expect(ledger.map((l) => [l.value.eventType, l.value.delta, l.value.balanceAfter, l.value.causeEventId])).toEqual([
    ['AccountOpened', 3, 3, ids.signup],
    ['TicketDeducted', -1, 2, ids.mission],
    ['EvaluationCostSettled', 0, 2, ids.evaluated],
    ['TicketsGranted', 100, 102, ids.payment],
    ['PlanChanged', 0, 102, ids.upgrade]
  ])
  expect(ledger.every((l) => l.record.key!.toString() === String(USER))).toBe(true)
  expect(ledger[2]!.value).toMatchObject({ evaluationCost: 1, missionAttemptId: 'attempt_789', missionId: 'mission_1' })
  expect(ledger[3]!.value).toMatchObject({ paymentId: 'pay_1', amount: 29000, currency: 'KRW', toPlan: 'PRO', plan: 'PRO' })
  expect(new Set(ledger.map((l) => l.value.eventId)).size).toBe(5)

  const balances = await readAll('ticket-balances', 5)
  expect(balances).toHaveLength(5)
  expect(balances[balances.length - 1]!.value).toMatchObject({
    eventType: 'TicketBalanceUpdated', userId: USER, plan: 'PRO', balance: 102, granted: 103, deducted: 1, rejected: 0,
    evaluationCost: 1, evaluationsSettled: 1, paymentsCompleted: 1, openedBy: 'signup', signedUpAt: T0, revision: 5, causeEventId: ids.upgrade
  })
}, 120_000)

test('§3.1–§3.3 in the user statistics: one row per event, the last one with everything', async () => {
  const stats = await readAll('user-stats', 6)
  expect(stats.map((s) => s.value.causeEventId)).toEqual([ids.signup, ids.mission, ids.started, ids.evaluated, ids.payment, ids.upgrade])
  expect(stats[5]!.value).toMatchObject({
    userId: USER,
    revision: 6,
    signedUpAt: T0,
    firstEventAt: T0,
    lastEventAt: T0 + 901_000,
    missions: { completed: 1 },
    evaluations: { started: 1, completed: 1, failed: 0, score: { count: 1, sum: 85, average: 85 }, bestScore: 85, details: { syntax: { count: 1, sum: 95, average: 95 } } },
    payments: { completed: 1, failed: 0, completedAmountByCurrency: { KRW: 29000 } },
    subscription: { plan: 'PRO', status: 'active', since: T0 + 901_000 }
  })
}, 120_000)

test('§3.2: the mission result joins the completion with its evaluation; no retry, no review', async () => {
  const results = await readAll('mission-results', 1)
  expect(results).toHaveLength(1)
  expect(results[0]!.value).toMatchObject({
    eventType: 'MissionResultUpdated', revision: 1, userId: USER, missionAttemptId: 'attempt_789', missionId: 'mission_1', missionTitle: '첫 번째 JavaScript 미션',
    evaluationId: 'eval_999', originalEvaluationId: 'eval_999', score: 85, maxScore: 100, scorePercent: 85, attempts: 1, failures: [],
    missionCompletedAt: T0 + 300_000, evaluatedAt: T0 + 600_000, timeToResultMs: 300_000, afterHumanReview: false, timestamp: T0 + 600_000
  })
  // the evaluation topology wrote nothing else: no retry events, no review, no dead letters anywhere
  const written = await readAll('evaluation-events', 2, 5000)
  expect(written.map((w) => w.record.headers.find(([k]) => k === 'eventType')?.[1]?.toString())).toEqual(['EvaluationStarted', 'EvaluationCompleted'])
  expect(await readAll('evaluation-review', 0, 0)).toEqual([])
  for (const topic of ['auth-events', 'mission-events', 'evaluation-events', 'payment-events', 'subscription-events']) {
    expect(await readAll(`${topic}.dlq`, 0, 0)).toEqual([])
  }
  expect(events.filter((e) => e.event === 'committed').length).toBeGreaterThan(0)
}, 120_000)

test('SIGTERM closes every app cleanly (exit 0)', async () => {
  const exit = await child!.stop(30_000)
  expect(exit).toEqual({ code: 0, signal: null })
  expect(events.filter((e) => e.event === 'stopped')).toEqual([expect.objectContaining({ clean: true, reason: 'SIGTERM' })])
  child = undefined
}, 60_000)
