/**
 * The chaos verifier's model (cli/chaos/model*.ts): small hand-checked scenarios, its id derivation against the
 * pipeline's, and — the strongest check that the model says what the topologies do — a generated workload run through
 * the three real topologies under the TopologyTestDriver and judged by the verifier: nothing missing, nothing extra,
 * every record equal to the model's.
 */
import { CHAOS_POLICIES, type ChaosPolicies } from '../../cli/chaos/chaos-policies'
import { encodeRecord, generateWorkload, SEQ_HEADER, type WorkloadRecord } from '../../cli/chaos/generator'
import { modelUser } from '../../cli/chaos/model'
import { namedEvaluationId, outputId } from '../../cli/chaos/model-ids'
import { OutputVerifier, type CheckedTopic } from '../../cli/chaos/verifier'
import { normalizeEvent, type DevtripEvent, type EventType } from '../../events'
import { derivedEventId, evaluationIdFor, resolvePolicies } from '../../processors'
import { DLQ_HEADERS, TopologyTestDriver, type Header } from '../../streams'
import { TOPOLOGIES } from '../../topologies'

const USER = 42
const T = Date.UTC(2024, 0, 1, 9)
let n = 0

/** a normalised event of `type` for USER at time `at` */
function ev (type: EventType, at: number, fields: Record<string, unknown> = {}): DevtripEvent {
  const id = (++n).toString(16).padStart(12, '0')
  const result = normalizeEvent({ eventId: `00000000-0000-4000-8000-${id}`, eventType: type, timestamp: at, userId: USER, ...fields }, { type })
  if (!result.ok) throw new Error(JSON.stringify(result.errors))
  return result.event
}

const mission = (attempt: string): Record<string, unknown> => ({ missionAttemptId: attempt, missionId: 'm1', code: 'x' })

describe('model ids', () => {
  test('the independent derivation gives the pipeline\'s ids', () => {
    expect(outputId('0b6f5f2e-3c1d-4e8a-9a57-2f0d1c9e7b42', 'TicketDeducted')).toBe(derivedEventId('0b6f5f2e-3c1d-4e8a-9a57-2f0d1c9e7b42', 'TicketDeducted'))
    expect(outputId('attempt-1', 'EvaluationRetryRequested', 2)).toBe(derivedEventId('attempt-1', 'EvaluationRetryRequested', 2))
    expect(namedEvaluationId('attempt-1', 3)).toBe(evaluationIdFor('attempt-1', 3))
    expect(outputId('a', 'b')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  })
})

describe('ticketing model', () => {
  test('sign-up, a PRO purchase with its plan event, missions until the balance runs out, one settlement per attempt', () => {
    const policies: ChaosPolicies = { ...CHAOS_POLICIES, plans: { ...CHAOS_POLICIES.plans, FREE: { grant: 1, evaluationCost: 1 } } }
    const events = [
      ev('UserSignedUp', T, { email: 'a@b.dev', ipAddress: '10.0.0.1' }),
      ev('MissionCompleted', T + 1000, mission('a1')),
      ev('MissionCompleted', T + 2000, mission('a2')),
      ev('PaymentCompleted', T + 3000, { paymentId: 'p1', amount: 29000, planType: 'pro' }),
      ev('PlanUpgraded', T + 3500, { fromPlan: 'FREE', toPlan: 'PRO' }),
      ev('PaymentCompleted', T + 4000, { paymentId: 'p1', amount: 29000, planType: 'PRO' }),
      ev('EvaluationCompleted', T + 5000, { evaluationId: 'e1', missionAttemptId: 'a1', score: 50, feedback: '' }),
      ev('EvaluationCompleted', T + 6000, { evaluationId: 'e1b', missionAttemptId: 'a1', score: 60, feedback: '' })
    ]
    const m = modelUser(USER, events, policies)
    expect(m.ledger.map((e) => [e.eventType, e.delta, e.balanceAfter, e.plan])).toEqual([
      ['AccountOpened', 1, 1, 'FREE'],
      ['TicketDeducted', -1, 0, 'FREE'],
      ['TicketDeductionRejected', 0, 0, 'FREE'],
      ['TicketsGranted', 100, 100, 'PRO'],
      ['PlanChanged', 0, 100, 'PRO'],
      ['EvaluationCostSettled', 0, 100, 'PRO']
    ])
    expect(m.ledger[5]).toMatchObject({ evaluationCost: 2, missionAttemptId: 'a1', eventId: outputId(events[6]!.eventId, 'EvaluationCostSettled') })
    // the re-sent payment and the second evaluation of a1 change nothing: no balance row for them
    expect(m.balances).toHaveLength(6)
    expect(m.balances[5]).toMatchObject({ balance: 100, granted: 101, deducted: 1, rejected: 1, paymentsCompleted: 1, evaluationsSettled: 1, evaluationCost: 2, revision: 6, openedBy: 'signup' })
  })

  test('a payment before the sign-up opens the account implicitly; the sign-up only records its time', () => {
    const events = [ev('PaymentCompleted', T, { paymentId: 'p9', amount: 9900, planType: 'BASIC' }), ev('UserSignedUp', T + 1000, { email: 'a@b.dev', ipAddress: '10.0.0.1' })]
    const m = modelUser(USER, events, CHAOS_POLICIES)
    expect(m.ledger.map((e) => [e.eventType, e.delta, e.causeEventId, e.implicit])).toEqual([
      ['AccountOpened', 3, events[0]!.eventId, true],
      ['TicketsGranted', 30, events[0]!.eventId, undefined]
    ])
    expect(m.balances[1]).toMatchObject({ balance: 33, openedBy: 'implicit', signedUpAt: T + 1000, revision: 2 })
  })
})

describe('evaluation model', () => {
  test('no start within 2 min: a timeout at exactly t + 120 s, the retry 30 s later naming run 2, then a late success', () => {
    const mc = ev('MissionCompleted', T, mission('att'))
    const started = ev('EvaluationStarted', T + 155_000, { evaluationId: 'ev-2', missionAttemptId: 'att' })
    const done = ev('EvaluationCompleted', T + 170_000, { evaluationId: 'ev-2', missionAttemptId: 'att', score: 18, maxScore: 20, feedback: 'ok' })
    const m = modelUser(USER, [mc, started, done], CHAOS_POLICIES)
    expect(m.evaluation.map((o) => [o.topic, o.value.eventType, o.value.timestamp])).toEqual([
      ['evaluation-events', 'EvaluationRetryRequested', T + 150_000],
      ['mission-results', 'MissionResultUpdated', T + 170_000],
      ['evaluation-events', 'EvaluationRetryCompleted', T + 170_000]
    ])
    expect(m.evaluation[0]!.value).toMatchObject({ retryAttempt: 1, evaluationId: namedEvaluationId('att', 2), originalEvaluationId: namedEvaluationId('att', 1), eventId: outputId('att', 'EvaluationRetryRequested', 1) })
    expect(m.evaluation[1]!.value).toMatchObject({
      revision: 1, attempts: 2, score: 18, maxScore: 20, scorePercent: 90, timeToResultMs: 170_000, afterHumanReview: false,
      failures: [{ attempt: 1, kind: 'start-timeout', reason: 'start-timeout', at: T + 120_000, evaluationId: null }]
    })
    expect(m.evaluation[2]!.value).toMatchObject({ retryAttempt: 1, needsHumanReview: false, finalScore: 18, evaluationId: 'ev-2' })
    expect(m.pendingTimers).toBe(0)
  })

  test('three failed runs go to review; an event stamped at its deadline is too late', () => {
    const mc = ev('MissionCompleted', T, mission('bad'))
    const events = [
      mc,
      ev('EvaluationStarted', T + 1000, { evaluationId: 'r1', missionAttemptId: 'bad' }),
      ev('EvaluationFailed', T + 2000, { evaluationId: 'r1', missionAttemptId: 'bad', failureReason: 'RATE_LIMITED' }),
      // retry 1 due at T + 32 s; its start deadline is T + 152 s and this start comes exactly then
      ev('EvaluationStarted', T + 152_000, { evaluationId: 'r2', missionAttemptId: 'bad' }),
      // retry 2 due at T + 152 s + 60 s; run 3 starts and runs out its 5 minutes
      ev('EvaluationStarted', T + 213_000, { evaluationId: 'r3', missionAttemptId: 'bad' }),
      ev('UserLoggedIn', T + 600_000, { email: 'a@b.dev', ipAddress: '10.0.0.1', userAgent: 'x' }),
      ev('MissionCompleted', T + 700_000, mission('next'))
    ]
    const m = modelUser(USER, events, CHAOS_POLICIES)
    const review = m.evaluation.find((o) => o.topic === 'evaluation-review')!.value
    expect(review).toMatchObject({
      attempts: 3, lastEvaluationId: 'r3', originalEvaluationId: 'r1', reason: 'retries-exhausted', timestamp: T + 513_000,
      failures: [
        { attempt: 1, kind: 'evaluation-failed', reason: 'RATE_LIMITED', at: T + 2000, evaluationId: 'r1' },
        { attempt: 2, kind: 'start-timeout', at: T + 152_000, evaluationId: namedEvaluationId('bad', 2) },
        { attempt: 3, kind: 'run-timeout', at: T + 513_000, evaluationId: 'r3' }
      ]
    })
    expect(m.evaluation.filter((o) => o.value.eventType === 'EvaluationRetryCompleted').map((o) => o.value)).toEqual([
      expect.objectContaining({ retryAttempt: 2, needsHumanReview: true, finalScore: 0, evaluationId: 'r3' })
    ])
    // the new mission's start deadline is still pending: nothing after it set it off
    expect(m.pendingTimers).toBe(1)
  })

  test('a result before the mission completion is published again, joined, when the completion arrives', () => {
    const events = [
      ev('EvaluationStarted', T, { evaluationId: 'x1', missionAttemptId: 'late' }),
      ev('EvaluationCompleted', T + 5000, { evaluationId: 'x1', missionAttemptId: 'late', score: 70, feedback: '' }),
      ev('MissionCompleted', T + 9000, { ...mission('late'), missionTitle: 'Title' })
    ]
    const m = modelUser(USER, events, CHAOS_POLICIES)
    expect(m.evaluation.map((o) => [o.value.revision, o.value.missionCompletedAt, o.value.timeToResultMs, o.value.missionTitle])).toEqual([
      [1, null, null, null],
      [2, T + 9000, -4000, 'Title']
    ])
  })
})

describe('user-stats model', () => {
  test('the final row counts the evaluation topology\'s retry events too; own rows are compared without them', () => {
    const events = [ev('MissionCompleted', T, mission('s')), ev('EvaluationStarted', T + 160_000, { evaluationId: 'z', missionAttemptId: 's' })]
    const m = modelUser(USER, events, CHAOS_POLICIES)
    expect(m.ownStats.map((r) => r.revision)).toEqual([1, 2])
    expect(m.echoStatIds).toEqual([{ eventId: outputId(outputId('s', 'EvaluationRetryRequested', 1), 'UserStatsUpdated'), causeEventId: outputId('s', 'EvaluationRetryRequested', 1) }])
    expect(m.finalStats).toMatchObject({ revision: 3, evaluations: { retried: 1, started: 1 }, missions: { completed: 1 }, lastEventAt: T + 160_000 })
    expect(m.finalStatsCauses).toEqual([events[1]!.eventId, outputId('s', 'EvaluationRetryRequested', 1)])
  })
})

function headerValue (headers: readonly Header[], name: string): string | undefined {
  for (let i = headers.length - 1; i >= 0; i--) if (headers[i]![0] === name) return headers[i]![1].toString('utf8')
  return undefined
}

describe('the model against the real topologies', () => {
  test('a generated workload through the three topologies (TopologyTestDriver) is exactly what the verifier expects', async () => {
    const workload = generateWorkload({ events: 3000, users: 25, seed: 11 })
    const policies = resolvePolicies(CHAOS_POLICIES as unknown as Record<string, unknown>)
    const verifier = new OutputVerifier(workload, CHAOS_POLICIES)
    const drivers = Object.fromEntries(Object.values(TOPOLOGIES).map((def) => [def.name, {
      def,
      driver: new TopologyTestDriver(def.build(policies, { storeKind: 'in-memory' }), { applicationId: def.applicationId, partitions: 1, errorHandling: def.errorHandling })
    }]))
    const pipe = async (name: string, r: WorkloadRecord | { topic: string, key: string, value: Buffer, headers: Header[], timestamp: number }): Promise<void> => {
      const { def, driver } = drivers[name]!
      if (!(def.sourceTopics as readonly string[]).includes(r.topic)) return
      const encoded = 'seq' in r ? encodeRecord(r) : r
      await driver.pipe(r.topic, Buffer.from(r.key), encoded.value, r.timestamp, encoded.headers)
    }
    try {
      for (const r of workload.records) await pipe('evaluation', r)
      // the evaluation topology's own events go back to evaluation-events, where the other two read them as well
      const written = drivers.evaluation!.driver.producedRecords('evaluation-events').filter((r) => headerValue(r.headers, SEQ_HEADER) === undefined)
      const echoes = written.map((r) => ({ topic: 'evaluation-events', key: r.key!.toString(), value: r.value!, headers: [...r.headers], timestamp: r.timestamp }))
      const merged = [...workload.records, ...echoes].sort((a, b) => a.timestamp - b.timestamp)
      for (const r of merged) {
        await pipe('ticketing', r)
        await pipe('user-stats', r)
      }
      const outputs: Array<[string, CheckedTopic]> = [['ticketing', 'ticket-ledger'], ['ticketing', 'ticket-balances'], ['user-stats', 'user-stats'], ['evaluation', 'mission-results'], ['evaluation', 'evaluation-review']]
      for (const [name, topic] of outputs) {
        for (const r of drivers[name]!.driver.producedRecords(topic)) verifier.output(topic, r.key!.toString(), JSON.parse(r.value!.toString()) as Record<string, unknown>)
      }
      for (const r of written) verifier.output('evaluation-events', r.key!.toString(), JSON.parse(r.value!.toString()) as Record<string, unknown>)
      for (const { def, driver } of Object.values(drivers)) {
        for (const dlq of def.dlqTopics) {
          for (const r of driver.producedRecords(dlq)) verifier.deadLetter(dlq, Number(headerValue(r.headers, SEQ_HEADER)), headerValue(r.headers, DLQ_HEADERS.applicationId))
        }
      }
    } finally {
      for (const { driver } of Object.values(drivers)) await driver.close()
    }
    const result = verifier.finish()
    expect(result.examples).toEqual([])
    expect(result).toMatchObject({ missing: 0, duplicates: 0, unexpected: 0, mismatches: 0, finalBalanceMismatches: 0, finalStatsMismatches: 0, dlqMissing: 0, dlqUnexpected: 0, pendingTimers: 0 })
    expect(result.actualOutputs).toBe(result.expectedOutputs)
    expect(result.dlqActual).toBe(result.dlqExpected)
    expect(result.dlqExpected).toBeGreaterThan(workload.counts.poison)
  }, 120_000)
})
