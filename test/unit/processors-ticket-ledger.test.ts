import { sampleEvent, type DevtripEvent, type EventByType, type EventType } from '../../events'
import { derivedEventId } from '../../processors/derived-ids'
import { resolvePolicies } from '../../processors/policies'
import {
  reduceTicketLedger,
  type LedgerEntry,
  type TicketAccount,
  type TicketBalance
} from '../../processors/ticket-ledger-reducer'

const policies = resolvePolicies()
const T0 = 1_705_312_200_000
let seed = 100

/** a valid normalised event of user 7, its own eventId, at T0 + offset seconds */
function ev<T extends EventType> (type: T, offsetS: number, fields: Partial<EventByType[T]> & Record<string, unknown> = {}): EventByType[T] {
  return sampleEvent(type, { userId: 7, timestamp: T0 + offsetS * 1000, ...fields }, seed++)
}

/** Runs events through the reducer, collecting every ledger entry and the last balance. */
function run (events: DevtripEvent[], start?: TicketAccount, p = policies): { state: TicketAccount | undefined, entries: LedgerEntry[], balances: TicketBalance[] } {
  let state = start
  const entries: LedgerEntry[] = []
  const balances: TicketBalance[] = []
  for (const event of events) {
    const result = reduceTicketLedger(state, event, p)
    state = result.state
    for (const o of result.outputs) {
      if (o.kind === 'ledger-entry') entries.push(o.value)
      else balances.push(o.value)
    }
  }
  return { state, entries, balances }
}

describe('ticket ledger reducer', () => {
  test('UserSignedUp opens the account on FREE with FREE\'s grant', () => {
    const signup = ev('UserSignedUp', 0)
    const { state, entries, balances } = run([signup])
    expect(state).toMatchObject({ plan: 'FREE', balance: 3, granted: 3, openedBy: 'signup', signedUpAt: signup.timestamp, revision: 1 })
    expect(entries).toEqual([expect.objectContaining({
      eventType: 'AccountOpened', delta: 3, balanceAfter: 3, plan: 'FREE', implicit: false,
      causeEventId: signup.eventId, causeEventType: 'UserSignedUp', userId: 7, timestamp: signup.timestamp, source: 'devtrip-ticketing'
    })])
    expect(balances).toHaveLength(1)
    expect(balances[0]).toMatchObject({ eventType: 'TicketBalanceUpdated', plan: 'FREE', balance: 3, granted: 3, deducted: 0, rejected: 0, evaluationCost: 0 })
  })

  test('entry and balance ids derive from the cause event (a replay yields the same ids)', () => {
    const signup = ev('UserSignedUp', 0)
    const first = run([signup])
    const again = run([signup])
    expect(first.entries[0]!.eventId).toBe(derivedEventId(signup.eventId, 'AccountOpened'))
    expect(first.balances[0]!.eventId).toBe(derivedEventId(signup.eventId, 'TicketBalanceUpdated'))
    expect(again).toEqual(first)
  })

  test('PaymentCompleted sets the plan and adds that plan\'s grant, once per paymentId', () => {
    const pay = ev('PaymentCompleted', 10, { planType: 'PRO', paymentId: 'pay_1', amount: 29000 })
    const sameIdAgain = ev('PaymentCompleted', 20, { planType: 'PRO', paymentId: 'pay_1', amount: 29000 })
    const { state, entries } = run([ev('UserSignedUp', 0), pay, sameIdAgain])
    expect(state).toMatchObject({ plan: 'PRO', balance: 103, granted: 103, paymentsCompleted: 1 })
    expect(entries.map((e) => e.eventType)).toEqual(['AccountOpened', 'TicketsGranted'])
    expect(entries[1]).toMatchObject({ delta: 100, balanceAfter: 103, paymentId: 'pay_1', amount: 29000, toPlan: 'PRO', causeEventId: pay.eventId })
  })

  test('two payments add two grants; plan names match in any case', () => {
    const { state } = run([ev('UserSignedUp', 0), ev('PaymentCompleted', 1, { planType: 'basic', paymentId: 'p1' }), ev('PaymentCompleted', 2, { planType: 'Pro', paymentId: 'p2' })])
    expect(state).toMatchObject({ plan: 'PRO', balance: 133, paymentsCompleted: 2 })
  })

  test('PaymentFailed is recorded and leaves the balance alone', () => {
    const failed = ev('PaymentFailed', 5, { failureReason: 'CARD_DECLINED', paymentId: 'p9' })
    const { state, entries } = run([ev('UserSignedUp', 0), failed])
    expect(state).toMatchObject({ balance: 3, paymentsFailed: 1, plan: 'FREE' })
    expect(entries[1]).toMatchObject({ eventType: 'PaymentFailedRecorded', delta: 0, balanceAfter: 3, reason: 'CARD_DECLINED', paymentId: 'p9' })
  })

  test('PlanUpgraded/PlanDowngraded change the plan and never move tickets (one purchase publishes payment AND upgrade)', () => {
    const { state, entries } = run([
      ev('UserSignedUp', 0),
      ev('PaymentCompleted', 1, { planType: 'PRO', paymentId: 'p1' }),
      ev('PlanUpgraded', 1, { fromPlan: 'FREE', toPlan: 'PRO' }),
      ev('PlanDowngraded', 2, { fromPlan: 'PRO', toPlan: 'BASIC' })
    ])
    expect(state).toMatchObject({ plan: 'BASIC', balance: 103, granted: 103 })
    expect(entries.slice(2)).toEqual([
      expect.objectContaining({ eventType: 'PlanChanged', delta: 0, fromPlan: 'PRO', toPlan: 'PRO', balanceAfter: 103 }),
      expect.objectContaining({ eventType: 'PlanChanged', delta: 0, fromPlan: 'PRO', toPlan: 'BASIC', plan: 'BASIC' })
    ])
  })

  test('an upgrade arriving before its payment gives the same balance', () => {
    const a = run([ev('UserSignedUp', 0), ev('PaymentCompleted', 1, { planType: 'PRO', paymentId: 'p1' }), ev('PlanUpgraded', 2, { fromPlan: 'FREE', toPlan: 'PRO' })])
    const b = run([ev('UserSignedUp', 0), ev('PlanUpgraded', 2, { fromPlan: 'FREE', toPlan: 'PRO' }), ev('PaymentCompleted', 1, { planType: 'PRO', paymentId: 'p1' })])
    expect(b.state).toMatchObject({ plan: a.state!.plan, balance: a.state!.balance })
  })

  test('unknown plans are refused with reason unknown-plan and change nothing', () => {
    const { state, entries } = run([
      ev('UserSignedUp', 0),
      ev('PaymentCompleted', 1, { planType: 'TEAM', paymentId: 'p1' }),
      ev('PaymentCompleted', 2, { planType: 'TEAM', paymentId: 'p1' }),
      ev('PlanUpgraded', 3, { fromPlan: 'FREE', toPlan: 'TEAM' })
    ])
    expect(state).toMatchObject({ plan: 'FREE', balance: 3, paymentsCompleted: 0 })
    expect(entries.slice(1).map((e) => [e.eventType, e.reason])).toEqual([['GrantRejected', 'unknown-plan'], ['PlanChangeRejected', 'unknown-plan']])
    // a policy that knows the plan accepts it
    const withTeam = resolvePolicies({ plans: { TEAM: { grant: 500, evaluationCost: 3 } } })
    expect(run([ev('UserSignedUp', 0), ev('PaymentCompleted', 1, { planType: 'team', paymentId: 'p1' })], undefined, withTeam).state).toMatchObject({ plan: 'TEAM', balance: 503 })
  })

  test('MissionCompleted deducts one ticket exactly once per missionAttemptId', () => {
    const m = ev('MissionCompleted', 10, { missionAttemptId: 'a1', missionId: 'm1' })
    const resent = ev('MissionCompleted', 11, { missionAttemptId: 'a1', missionId: 'm1' })
    const { state, entries } = run([ev('UserSignedUp', 0), m, resent, ev('MissionCompleted', 12, { missionAttemptId: 'a2' })])
    expect(state).toMatchObject({ balance: 1, deducted: 2, rejected: 0 })
    expect(entries.filter((e) => e.eventType === 'TicketDeducted').map((e) => [e.missionAttemptId, e.delta, e.balanceAfter]))
      .toEqual([['a1', -1, 2], ['a2', -1, 1]])
    expect(entries[1]!.eventId).toBe(derivedEventId(m.eventId, 'TicketDeducted'))
  })

  test('a deduction at balance 0 is rejected (insufficient-balance), once per attempt, balance never negative', () => {
    const events = [ev('UserSignedUp', 0), ...[1, 2, 3, 4].map((i) => ev('MissionCompleted', i, { missionAttemptId: `a${i}` }))]
    const { state, entries } = run([...events, ev('MissionCompleted', 9, { missionAttemptId: 'a4' })])
    expect(state).toMatchObject({ balance: 0, deducted: 3, rejected: 1 })
    const last = entries[entries.length - 1]!
    expect(last).toMatchObject({ eventType: 'TicketDeductionRejected', reason: 'insufficient-balance', delta: 0, balanceAfter: 0, missionAttemptId: 'a4' })
    expect(entries.filter((e) => e.eventType === 'TicketDeductionRejected')).toHaveLength(1)
  })

  test('the decision for an attempt is final: a payment after a rejection does not deduct it later', () => {
    const events = [ev('UserSignedUp', 0), ...[1, 2, 3, 4].map((i) => ev('MissionCompleted', i, { missionAttemptId: `a${i}` })),
      ev('PaymentCompleted', 5, { planType: 'BASIC', paymentId: 'p1' }), ev('MissionCompleted', 6, { missionAttemptId: 'a4' })]
    expect(run(events).state).toMatchObject({ balance: 30, deducted: 3, rejected: 1 })
  })

  test('tickets.perMission is a policy', () => {
    const two = resolvePolicies({ tickets: { perMission: 2 } })
    const { state, entries } = run([ev('UserSignedUp', 0), ev('MissionCompleted', 1, { missionAttemptId: 'a' }), ev('MissionCompleted', 2, { missionAttemptId: 'b' })], undefined, two)
    expect(state).toMatchObject({ balance: 1, deducted: 2, rejected: 1 })
    expect(entries[1]).toMatchObject({ delta: -2 })
  })

  test('EvaluationCompleted settles the current plan\'s evaluation cost once per missionAttemptId', () => {
    const { state, entries } = run([
      ev('UserSignedUp', 0),
      ev('EvaluationCompleted', 1, { missionAttemptId: 'a1' }),
      ev('EvaluationCompleted', 2, { missionAttemptId: 'a1' }), // a retried evaluation is not billed again
      ev('PaymentCompleted', 3, { planType: 'PRO', paymentId: 'p' }),
      ev('EvaluationCompleted', 4, { missionAttemptId: 'a2' })
    ])
    expect(state).toMatchObject({ evaluationCost: 1 + 2, evaluationsSettled: 2, balance: 103 })
    expect(entries.filter((e) => e.eventType === 'EvaluationCostSettled').map((e) => [e.missionAttemptId, e.evaluationCost, e.delta]))
      .toEqual([['a1', 1, 0], ['a2', 2, 0]])
  })

  test('an event before signup opens the account implicitly with the signup grant; the later signup adds nothing', () => {
    const pay = ev('PaymentCompleted', 1, { planType: 'PRO', paymentId: 'p1' })
    const signup = ev('UserSignedUp', 5)
    const { state, entries, balances } = run([pay, signup])
    expect(entries.map((e) => [e.eventType, e.implicit ?? null, e.causeEventId])).toEqual([
      ['AccountOpened', true, pay.eventId],
      ['TicketsGranted', null, pay.eventId]
    ])
    expect(state).toMatchObject({ balance: 103, openedBy: 'implicit', signedUpAt: signup.timestamp, openedAt: pay.timestamp })
    // the signup still updates the balance row (signedUpAt), without a ledger entry
    expect(balances).toHaveLength(2)
    expect(balances[1]).toMatchObject({ signedUpAt: signup.timestamp, balance: 103, causeEventId: signup.eventId })
    // the same result as signup first
    expect(run([signup, pay]).state).toMatchObject({ balance: 103, plan: 'PRO' })
  })

  test('a mission before signup is paid from the implicit grant', () => {
    const { state, entries } = run([ev('MissionCompleted', 0, { missionAttemptId: 'x' })])
    expect(state).toMatchObject({ balance: 2, deducted: 1, openedBy: 'implicit' })
    expect(entries.map((e) => e.eventType)).toEqual(['AccountOpened', 'TicketDeducted'])
  })

  test('a second signup (another eventId) changes nothing and emits nothing', () => {
    const first = run([ev('UserSignedUp', 0)])
    const result = reduceTicketLedger(first.state, ev('UserSignedUp', 3), policies)
    expect(result.outputs).toEqual([])
    expect(result.state).toBe(first.state)
  })

  test('event types the ledger does not use are ignored, even before an account exists', () => {
    for (const type of ['UserLoggedIn', 'MissionStarted', 'EvaluationStarted', 'EvaluationFailed'] as const) {
      expect(reduceTicketLedger(undefined, ev(type, 0), policies)).toEqual({ state: undefined, outputs: [] })
    }
  })

  test('the balance row keeps the newest ledger.entriesPerUser entries', () => {
    const few = resolvePolicies({ ledger: { entriesPerUser: 2 } })
    const { state, balances } = run([ev('UserSignedUp', 0), ...[1, 2, 3].map((i) => ev('MissionCompleted', i, { missionAttemptId: `a${i}` }))], undefined, few)
    expect(state!.recentEntries.map((e) => e.missionAttemptId)).toEqual(['a2', 'a3'])
    expect(balances[balances.length - 1]!.recentEntries).toHaveLength(2)
    const none = resolvePolicies({ ledger: { entriesPerUser: 0 } })
    expect(run([ev('UserSignedUp', 0)], undefined, none).state!.recentEntries).toEqual([])
  })

  test('the reducer never mutates the state it is given', () => {
    const { state } = run([ev('UserSignedUp', 0)])
    const frozen = structuredClone(state)
    reduceTicketLedger(state, ev('MissionCompleted', 1, { missionAttemptId: 'z' }), policies)
    expect(state).toEqual(frozen)
  })

  test('an account is refused an event of another user', () => {
    const { state } = run([ev('UserSignedUp', 0)])
    expect(() => reduceTicketLedger(state, sampleEvent('PaymentFailed', { userId: 8 }), policies)).toThrow(/account of user 7 was given an event of user 8/)
  })
})
