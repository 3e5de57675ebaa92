/**
 * User statistics as a pure reducer: (stats | undefined, event, policies) → { state, outputs }.
 *
 * Every one of the 25 event types counts for something, so every valid event on the six domain topics changes the
 * user's row and produces one `user-stats` record (revision + 1, eventId derived from the cause event).
 * "Last …" fields follow event time, not arrival: an older login arriving late is counted but does not replace a
 * newer last IP. Team counts are distinct team ids, because one join may arrive twice — as UserTeamJoined
 * (user-events) and as TeamMemberAdded (auth-events). Scores are kept as percentages of their event's maxScore so
 * that evaluations on different scales average meaningfully.
 */
import { DEFAULT_MAX_SCORE, DevtripError, type DevtripEvent, type Id } from '../events'
import { derivedEventId } from './derived-ids'
import { planKey, type Policies } from './policies'

export const USER_STATS_SOURCE = 'devtrip-user-stats'
export const USER_STATS_RECORD_VERSION = '1.0'
export const DETAIL_DIMENSIONS = ['syntax', 'logic', 'performance', 'bestPractices'] as const
export type DetailDimension = (typeof DETAIL_DIMENSIONS)[number]

/** last subscription-relevant event: none yet, paid or upgraded, last payment failed, downgraded */
export type SubscriptionStatus = 'none' | 'active' | 'payment-failed' | 'downgraded'

export interface RunningAverage {
  readonly count: number
  readonly sum: number
  /** sum / count rounded to 2 decimals; null before the first value */
  readonly average: number | null
}

export interface UserStats {
  readonly userId: Id
  readonly signedUpAt: number | null
  readonly firstEventAt: number
  readonly lastEventAt: number
  /** events applied; the record's revision */
  readonly revision: number
  readonly lastCauseEventId: string
  readonly logins: { readonly count: number, readonly lastAt: number | null, readonly lastIp: string | null, readonly lastUserAgent: string | null }
  readonly logouts: { readonly count: number, readonly lastAt: number | null }
  readonly passwordResetsRequested: number
  readonly passwordChanges: number
  readonly accountLock: { readonly locked: boolean, readonly count: number, readonly lastAt: number | null, readonly reason: string | null }
  readonly teams: { readonly created: number, readonly joined: number, readonly createdTeamIds: readonly string[], readonly joinedTeamIds: readonly string[] }
  readonly profileUpdates: { readonly count: number, readonly lastAt: number | null }
  readonly subscription: { readonly plan: string, readonly status: SubscriptionStatus, readonly since: number | null }
  readonly payments: { readonly completed: number, readonly failed: number, readonly completedAmountByCurrency: { readonly [currency: string]: number } }
  readonly missions: {
    readonly started: number
    readonly paused: number
    readonly resumed: number
    readonly completed: number
    readonly totalPauseDurationMs: number
    readonly provisioningFailures: number
    readonly resourceCleanups: number
  }
  readonly evaluations: {
    readonly started: number
    readonly completed: number
    readonly failed: number
    /** EvaluationRetryRequested events */
    readonly retried: number
    readonly retriesCompleted: number
    readonly needsHumanReview: number
    /** percent of maxScore */
    readonly score: RunningAverage
    readonly bestScore: number | null
    readonly details: { readonly [D in DetailDimension]: RunningAverage }
  }
}

/** One record on the compacted `user-stats` table (key: userId). */
export type UserStatsRecord = {
  readonly eventId: string
  readonly eventType: 'UserStatsUpdated'
  readonly source: typeof USER_STATS_SOURCE
  readonly timestamp: number
  readonly version: typeof USER_STATS_RECORD_VERSION
  readonly causeEventId: string
} & Omit<UserStats, 'lastCauseEventId'>

export interface UserStatsResult {
  readonly state: UserStats
  readonly outputs: readonly UserStatsRecord[]
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends object ? (T[K] extends readonly unknown[] ? T[K] : Mutable<T[K]>) : T[K] }

const EMPTY_AVERAGE: RunningAverage = Object.freeze({ count: 0, sum: 0, average: null })

function round2 (value: number): number {
  return Math.round(value * 100) / 100
}

function addTo (average: RunningAverage, value: number): RunningAverage {
  const count = average.count + 1
  const sum = average.sum + value
  return { count, sum, average: round2(sum / count) }
}

export function emptyUserStats (userId: Id, at: number, policies: Policies): UserStats {
  return {
    userId,
    signedUpAt: null,
    firstEventAt: at,
    lastEventAt: at,
    revision: 0,
    lastCauseEventId: '',
    logins: { count: 0, lastAt: null, lastIp: null, lastUserAgent: null },
    logouts: { count: 0, lastAt: null },
    passwordResetsRequested: 0,
    passwordChanges: 0,
    accountLock: { locked: false, count: 0, lastAt: null, reason: null },
    teams: { created: 0, joined: 0, createdTeamIds: [], joinedTeamIds: [] },
    profileUpdates: { count: 0, lastAt: null },
    subscription: { plan: policies.defaultPlan, status: 'none', since: null },
    payments: { completed: 0, failed: 0, completedAmountByCurrency: {} },
    missions: { started: 0, paused: 0, resumed: 0, completed: 0, totalPauseDurationMs: 0, provisioningFailures: 0, resourceCleanups: 0 },
    evaluations: {
      started: 0,
      completed: 0,
      failed: 0,
      retried: 0,
      retriesCompleted: 0,
      needsHumanReview: 0,
      score: EMPTY_AVERAGE,
      bestScore: null,
      details: { syntax: EMPTY_AVERAGE, logic: EMPTY_AVERAGE, performance: EMPTY_AVERAGE, bestPractices: EMPTY_AVERAGE }
    }
  }
}

/** true when `at` is at least as new as `last` (ties: the later-processed event wins, deterministically) */
function isNewest (at: number, last: number | null): boolean {
  return last === null || at >= last
}

function withId (ids: readonly string[], id: Id): readonly string[] {
  const key = String(id)
  return ids.includes(key) ? ids : [...ids, key]
}

/** A subscription change follows event time too: an older plan event arriving late does not win. */
function subscribe (s: Mutable<UserStats>, at: number, plan: string | undefined, status: SubscriptionStatus): void {
  if (!isNewest(at, s.subscription.since)) return
  s.subscription = { plan: plan === undefined ? s.subscription.plan : planKey(plan), status, since: at }
}

function apply (s: Mutable<UserStats>, event: DevtripEvent): void {
  const at = event.timestamp
  switch (event.eventType) {
    case 'UserSignedUp':
      s.signedUpAt = s.signedUpAt === null ? at : Math.min(s.signedUpAt, at)
      break
    case 'UserLoggedIn':
      s.logins = isNewest(at, s.logins.lastAt)
        ? { count: s.logins.count + 1, lastAt: at, lastIp: event.ipAddress, lastUserAgent: event.userAgent }
        : { ...s.logins, count: s.logins.count + 1 }
      break
    case 'UserLoggedOut':
      s.logouts = { count: s.logouts.count + 1, lastAt: isNewest(at, s.logouts.lastAt) ? at : s.logouts.lastAt }
      break
    case 'PasswordResetRequested': s.passwordResetsRequested += 1; break
    case 'PasswordChanged': s.passwordChanges += 1; break
    case 'AccountLocked':
      s.accountLock = isNewest(at, s.accountLock.lastAt)
        ? { locked: true, count: s.accountLock.count + 1, lastAt: at, reason: event.reason }
        : { ...s.accountLock, locked: true, count: s.accountLock.count + 1 }
      break
    case 'TeamCreated': {
      const createdTeamIds = withId(s.teams.createdTeamIds, event.teamId)
      s.teams = { ...s.teams, createdTeamIds, created: createdTeamIds.length }
      break
    }
    case 'TeamMemberAdded':
    case 'UserTeamJoined': {
      const joinedTeamIds = withId(s.teams.joinedTeamIds, event.teamId)
      s.teams = { ...s.teams, joinedTeamIds, joined: joinedTeamIds.length }
      break
    }
    case 'UserProfileUpdated':
      s.profileUpdates = { count: s.profileUpdates.count + 1, lastAt: isNewest(at, s.profileUpdates.lastAt) ? at : s.profileUpdates.lastAt }
      break
    case 'PaymentCompleted': {
      const currency = event.currency ?? 'unspecified'
      const byCurrency = s.payments.completedAmountByCurrency
      s.payments = { ...s.payments, completed: s.payments.completed + 1, completedAmountByCurrency: { ...byCurrency, [currency]: (byCurrency[currency] ?? 0) + event.amount } }
      subscribe(s, at, event.planType, 'active')
      break
    }
    case 'PaymentFailed':
      s.payments = { ...s.payments, failed: s.payments.failed + 1 }
      subscribe(s, at, undefined, 'payment-failed')
      break
    case 'PlanUpgraded': subscribe(s, at, event.toPlan, 'active'); break
    case 'PlanDowngraded': subscribe(s, at, event.toPlan, 'downgraded'); break
    case 'MissionStarted': s.missions.started += 1; break
    case 'MissionPaused': s.missions.paused += 1; break
    case 'MissionResumed':
      s.missions.resumed += 1
      s.missions.totalPauseDurationMs += event.pauseDuration
      break
    case 'MissionCompleted': s.missions.completed += 1; break
    case 'ResourceProvisioningFailed': s.missions.provisioningFailures += 1; break
    case 'ResourceCleanupCompleted': s.missions.resourceCleanups += 1; break
    case 'EvaluationStarted': s.evaluations.started += 1; break
    case 'EvaluationCompleted': {
      const e = s.evaluations
      // the sum keeps full precision; only what is shown (average, best) is rounded
      const percent = event.score / (event.maxScore ?? DEFAULT_MAX_SCORE) * 100
      e.completed += 1
      e.score = addTo(e.score, percent)
      e.bestScore = e.bestScore === null ? round2(percent) : Math.max(e.bestScore, round2(percent))
      const details = { ...e.details }
      for (const dimension of DETAIL_DIMENSIONS) {
        const value = event.details?.[dimension]
        if (typeof value === 'number') details[dimension] = addTo(details[dimension], value)
      }
      e.details = details
      break
    }
    case 'EvaluationFailed': s.evaluations.failed += 1; break
    case 'EvaluationRetryRequested': s.evaluations.retried += 1; break
    case 'EvaluationRetryCompleted':
      s.evaluations.retriesCompleted += 1
      if (event.needsHumanReview) s.evaluations.needsHumanReview += 1
      break
    default: {
      const unreachable: never = event
      throw new DevtripError('DEVTRIP_PROCESSING', `user stats: no rule for event type ${(unreachable as DevtripEvent).eventType}`)
    }
  }
}

function copyForUpdate (stats: UserStats): Mutable<UserStats> {
  return { ...stats, missions: { ...stats.missions }, evaluations: { ...stats.evaluations } } as Mutable<UserStats>
}

export function userStatsRecordOf (stats: UserStats): UserStatsRecord {
  const { lastCauseEventId, ...rest } = stats
  return {
    eventId: derivedEventId(lastCauseEventId, 'UserStatsUpdated'),
    eventType: 'UserStatsUpdated',
    source: USER_STATS_SOURCE,
    timestamp: stats.lastEventAt,
    version: USER_STATS_RECORD_VERSION,
    causeEventId: lastCauseEventId,
    ...rest
  }
}

/** Applies one normalised event (deduplicated by eventId before, in the processor) and emits the new row. */
export function reduceUserStats (state: UserStats | undefined, event: DevtripEvent, policies: Policies): UserStatsResult {
  if (state !== undefined && String(state.userId) !== String(event.userId)) {
    throw new DevtripError('DEVTRIP_PROCESSING', `user stats: the row of user ${String(state.userId)} was given an event of user ${String(event.userId)}`)
  }
  const draft = copyForUpdate(state ?? emptyUserStats(event.userId, event.timestamp, policies))
  apply(draft, event)
  draft.firstEventAt = Math.min(draft.firstEventAt, event.timestamp)
  draft.lastEventAt = Math.max(draft.lastEventAt, event.timestamp)
  draft.revision += 1
  draft.lastCauseEventId = event.eventId
  return { state: draft, outputs: [userStatsRecordOf(draft)] }
}
