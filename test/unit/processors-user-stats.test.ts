import { EVENT_TYPES, sampleEvent, type DevtripEvent, type EventByType, type EventType } from '../../events'
import { derivedEventId } from '../../processors/derived-ids'
import { resolvePolicies } from '../../processors/policies'
import { emptyUserStats, reduceUserStats, type UserStats, type UserStatsRecord } from '../../processors/user-stats-reducer'

const policies = resolvePolicies()
const T0 = 1_705_312_200_000
let seed = 500

function ev<T extends EventType> (type: T, offsetS: number, fields: Partial<EventByType[T]> & Record<string, unknown> = {}): EventByType[T] {
  return sampleEvent(type, { userId: 42, timestamp: T0 + offsetS * 1000, ...fields }, seed++)
}

function run (events: DevtripEvent[]): { state: UserStats, records: UserStatsRecord[] } {
  let state: UserStats | undefined
  const records: UserStatsRecord[] = []
  for (const event of events) {
    const result = reduceUserStats(state, event, policies)
    state = result.state
    records.push(...result.outputs)
  }
  return { state: state!, records }
}

describe('user stats reducer', () => {
  test('signup, logins (count, last at/ip/agent by event time), logouts', () => {
    const { state } = run([
      ev('UserSignedUp', 0),
      ev('UserLoggedIn', 10, { ipAddress: '10.0.0.1', userAgent: 'A' }),
      ev('UserLoggedIn', 30, { ipAddress: '10.0.0.3', userAgent: 'C' }),
      ev('UserLoggedIn', 20, { ipAddress: '10.0.0.2', userAgent: 'B' }), // late: counted, not "last"
      ev('UserLoggedOut', 40)
    ])
    expect(state.signedUpAt).toBe(T0)
    expect(state.logins).toEqual({ count: 3, lastAt: T0 + 30_000, lastIp: '10.0.0.3', lastUserAgent: 'C' })
    expect(state.logouts).toEqual({ count: 1, lastAt: T0 + 40_000 })
  })

  test('passwords, account lock with reason, profile updates', () => {
    const { state } = run([
      ev('PasswordResetRequested', 1), ev('PasswordResetRequested', 2), ev('PasswordChanged', 3),
      ev('AccountLocked', 5, { reason: 'TOO_MANY_FAILED_LOGINS' }), ev('AccountLocked', 4, { reason: 'OLDER' }),
      ev('UserProfileUpdated', 6), ev('UserProfileUpdated', 7)
    ])
    expect(state.passwordResetsRequested).toBe(2)
    expect(state.passwordChanges).toBe(1)
    expect(state.accountLock).toEqual({ locked: true, count: 2, lastAt: T0 + 5000, reason: 'TOO_MANY_FAILED_LOGINS' })
    expect(state.profileUpdates).toEqual({ count: 2, lastAt: T0 + 7000 })
  })

  test('teams are distinct ids: one join reported on two topics counts once', () => {
    const { state } = run([
      ev('TeamCreated', 1, { teamId: 't1', creatorId: 42 }),
      ev('UserTeamJoined', 2, { teamId: 't2' }),
      ev('TeamMemberAdded', 2, { teamId: 't2' }),
      ev('TeamMemberAdded', 3, { teamId: 't3' })
    ])
    expect(state.teams).toMatchObject({ created: 1, joined: 2, createdTeamIds: ['t1'], joinedTeamIds: ['t2', 't3'] })
  })

  test('plan and subscription status follow the newest subscription event', () => {
    const paid = run([ev('PaymentCompleted', 1, { planType: 'pro', amount: 29000, currency: 'KRW' })]).state
    expect(paid.subscription).toEqual({ plan: 'PRO', status: 'active', since: T0 + 1000 })
    expect(paid.payments).toEqual({ completed: 1, failed: 0, completedAmountByCurrency: { KRW: 29000 } })

    const { state } = run([
      ev('PaymentCompleted', 1, { planType: 'BASIC', amount: 9900, currency: 'KRW' }),
      ev('PlanUpgraded', 2, { fromPlan: 'BASIC', toPlan: 'PRO' }),
      ev('PaymentFailed', 3),
      ev('PlanDowngraded', 5, { fromPlan: 'PRO', toPlan: 'BASIC' }),
      ev('PaymentCompleted', 4, { planType: 'PRO', amount: 29000, currency: 'KRW' }) // older than the downgrade
    ])
    expect(state.subscription).toEqual({ plan: 'BASIC', status: 'downgraded', since: T0 + 5000 })
    expect(state.payments).toEqual({ completed: 2, failed: 1, completedAmountByCurrency: { KRW: 38900 } })
    expect(run([ev('PaymentFailed', 1)]).state.subscription).toEqual({ plan: 'FREE', status: 'payment-failed', since: T0 + 1000 })
    expect(run([ev('UserLoggedIn', 1)]).state.subscription).toEqual({ plan: 'FREE', status: 'none', since: null })
  })

  test('missions: started, paused, resumed, completed, total pause duration, resource events', () => {
    const { state } = run([
      ev('MissionStarted', 1), ev('MissionPaused', 2), ev('MissionResumed', 3, { pauseDuration: 60_000 }),
      ev('MissionPaused', 4), ev('MissionResumed', 5, { pauseDuration: 1_500 }), ev('MissionCompleted', 6),
      ev('ResourceProvisioningFailed', 7), ev('ResourceCleanupCompleted', 8)
    ])
    expect(state.missions).toEqual({ started: 1, paused: 2, resumed: 2, completed: 1, totalPauseDurationMs: 61_500, provisioningFailures: 1, resourceCleanups: 1 })
  })

  test('evaluations: counts, average and best score as percent of maxScore, per-dimension averages', () => {
    const { state } = run([
      ev('EvaluationStarted', 1),
      ev('EvaluationCompleted', 2, { score: 80, maxScore: 100, details: { syntax: 90, logic: 70, performance: 80, bestPractices: 60 } }),
      ev('EvaluationCompleted', 3, { score: 45, maxScore: 50, details: { syntax: 100, logic: 80 } }),
      ev('EvaluationCompleted', 4, { score: 55, maxScore: undefined, details: undefined }),
      ev('EvaluationFailed', 5),
      ev('EvaluationRetryRequested', 6),
      ev('EvaluationRetryCompleted', 7, { needsHumanReview: true, finalScore: 0 }),
      ev('EvaluationRetryCompleted', 8, { needsHumanReview: false, finalScore: 70 })
    ])
    const e = state.evaluations
    expect(e).toMatchObject({ started: 1, completed: 3, failed: 1, retried: 1, retriesCompleted: 2, needsHumanReview: 1, bestScore: 90 })
    // 80 %, 90 %, 55 % → 75 %
    expect(e.score).toMatchObject({ count: 3, average: 75 })
    expect(e.score.sum).toBeCloseTo(225, 9)
    expect(e.details.syntax).toEqual({ count: 2, sum: 190, average: 95 })
    expect(e.details.logic).toEqual({ count: 2, sum: 150, average: 75 })
    expect(e.details.performance).toEqual({ count: 1, sum: 80, average: 80 })
    expect(e.details.bestPractices).toEqual({ count: 1, sum: 60, average: 60 })
  })

  test('averages are rounded to 2 decimals', () => {
    const { state } = run([ev('EvaluationCompleted', 1, { score: 1, maxScore: 3 }), ev('EvaluationCompleted', 2, { score: 100, maxScore: 100 })])
    expect(state.evaluations.score.average).toBe(66.67)
    expect(state.evaluations.bestScore).toBe(100)
  })

  test('one record per event, with a deterministic eventId and a growing revision', () => {
    const a = ev('UserSignedUp', 0)
    const b = ev('UserLoggedIn', 5)
    const { records } = run([a, b])
    expect(records.map((r) => [r.revision, r.eventId, r.causeEventId])).toEqual([
      [1, derivedEventId(a.eventId, 'UserStatsUpdated'), a.eventId],
      [2, derivedEventId(b.eventId, 'UserStatsUpdated'), b.eventId]
    ])
    expect(records[1]).toMatchObject({ eventType: 'UserStatsUpdated', source: 'devtrip-user-stats', version: '1.0', userId: 42, timestamp: b.timestamp })
    expect(records[1]).not.toHaveProperty('lastCauseEventId')
    expect(run([a, b]).records).toEqual(records)
  })

  test('first/last event time follow event time whatever the arrival order', () => {
    const { state, records } = run([ev('UserLoggedIn', 50), ev('UserSignedUp', 0)])
    expect(state).toMatchObject({ firstEventAt: T0, lastEventAt: T0 + 50_000, signedUpAt: T0 })
    expect(records[1]!.timestamp).toBe(T0 + 50_000)
  })

  test('every one of the 25 event types is counted somewhere', () => {
    const bookkeeping = ['revision', 'firstEventAt', 'lastEventAt', 'lastCauseEventId']
    const withoutBookkeeping = (s: UserStats): Record<string, unknown> => Object.fromEntries(Object.entries(s).filter(([k]) => !bookkeeping.includes(k)))
    const empty = withoutBookkeeping(emptyUserStats(42, T0, policies))
    for (const type of EVENT_TYPES) {
      const { state } = run([ev(type, 1)])
      expect(state.revision).toBe(1)
      expect({ type, stats: withoutBookkeeping(state) }).not.toEqual({ type, stats: empty })
    }
  })

  test('the reducer does not mutate its input and refuses another user\'s event', () => {
    const { state } = run([ev('MissionStarted', 1)])
    const copy = structuredClone(state)
    reduceUserStats(state, ev('MissionStarted', 2), policies)
    reduceUserStats(state, ev('EvaluationCompleted', 2), policies)
    expect(state).toEqual(copy)
    expect(() => reduceUserStats(state, sampleEvent('MissionStarted', { userId: 1 }), policies)).toThrow(/row of user 42 was given an event of user 1/)
  })
})
