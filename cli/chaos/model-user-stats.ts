/**
 * The verifier's model of the user statistics (docs/topologies.md "User stats"), for ONE user, independent of
 * processors/. Every valid event of the six domain topics — the user's own and the retry events the evaluation
 * topology writes back to evaluation-events — adds one revision and one UserStatsUpdated row.
 *
 * Counts are sums, so they do not depend on the order events arrive in; "last …" fields follow event time
 * (a later-processed event with an equal time wins). The evaluation topology's retry events reach the user-stats
 * topology whenever that topology wrote them, so the verifier compares rows caused by the user's own events only on
 * the fields those retry events cannot touch (see ECHO_FIELDS), and the final row in full.
 */
import type { DevtripEvent } from '../../events'
import type { ChaosPolicies } from './chaos-policies'
import { outputId } from './model-ids'
import type { Json } from './model-ticketing'

const DIMENSIONS = ['syntax', 'logic', 'performance', 'bestPractices'] as const

interface Average { count: number, sum: number, average: number | null }

const twoDecimals = (n: number): number => Math.round(n * 100) / 100
const newer = (at: number, last: number | null): boolean => last === null || at >= last
const emptyAverage = (): Average => ({ count: 0, sum: 0, average: null })
const add = (a: Average, value: number): Average => ({ count: a.count + 1, sum: a.sum + value, average: twoDecimals((a.sum + value) / (a.count + 1)) })

/**
 * Fields of a row that the evaluation topology's retry events change, so a row caused by one of the user's own
 * events may or may not include them yet: the revision, the newest event time (and the row's timestamp, which is
 * it) and the three retry counters.
 */
export const ECHO_FIELDS = ['revision', 'lastEventAt', 'timestamp', 'evaluations.retried', 'evaluations.retriesCompleted', 'evaluations.needsHumanReview'] as const

export class UserStatsModel {
  private state: Json | undefined
  private lastCause = ''

  constructor (private readonly userId: number | string, private readonly policies: ChaosPolicies) {}

  /** Applies one event and returns the row it produces. */
  apply (event: DevtripEvent): Json {
    const at = event.timestamp
    const s = this.state ?? this.empty(at)
    const logins = s.logins as Json
    const teams = s.teams as { created: number, joined: number, createdTeamIds: string[], joinedTeamIds: string[] }
    const missions = { ...(s.missions as Record<string, number>) }
    const ev = { ...(s.evaluations as Json) } as Json & { details: Record<string, Average>, score: Average, bestScore: number | null }
    const next: Json = { ...s, missions, evaluations: ev }
    const subscription = (plan: string | undefined, status: string): void => {
      const current = s.subscription as { plan: string, status: string, since: number | null }
      if (!newer(at, current.since)) return
      next.subscription = { plan: plan === undefined ? current.plan : plan.trim().toUpperCase(), status, since: at }
    }
    const withTeam = (ids: string[], id: unknown): string[] => (ids.includes(String(id)) ? ids : [...ids, String(id)])
    switch (event.eventType) {
      case 'UserSignedUp': next.signedUpAt = s.signedUpAt === null ? at : Math.min(s.signedUpAt as number, at); break
      case 'UserLoggedIn':
        next.logins = newer(at, logins.lastAt as number | null)
          ? { count: (logins.count as number) + 1, lastAt: at, lastIp: event.ipAddress, lastUserAgent: event.userAgent }
          : { ...logins, count: (logins.count as number) + 1 }
        break
      case 'UserLoggedOut': {
        const logouts = s.logouts as { count: number, lastAt: number | null }
        next.logouts = { count: logouts.count + 1, lastAt: newer(at, logouts.lastAt) ? at : logouts.lastAt }
        break
      }
      case 'PasswordResetRequested': next.passwordResetsRequested = (s.passwordResetsRequested as number) + 1; break
      case 'PasswordChanged': next.passwordChanges = (s.passwordChanges as number) + 1; break
      case 'AccountLocked': {
        const lock = s.accountLock as { count: number, lastAt: number | null }
        next.accountLock = newer(at, lock.lastAt)
          ? { locked: true, count: lock.count + 1, lastAt: at, reason: event.reason }
          : { ...lock, locked: true, count: lock.count + 1 }
        break
      }
      case 'TeamCreated': {
        const createdTeamIds = withTeam(teams.createdTeamIds, event.teamId)
        next.teams = { ...teams, createdTeamIds, created: createdTeamIds.length }
        break
      }
      case 'TeamMemberAdded':
      case 'UserTeamJoined': {
        const joinedTeamIds = withTeam(teams.joinedTeamIds, event.teamId)
        next.teams = { ...teams, joinedTeamIds, joined: joinedTeamIds.length }
        break
      }
      case 'UserProfileUpdated': {
        const p = s.profileUpdates as { count: number, lastAt: number | null }
        next.profileUpdates = { count: p.count + 1, lastAt: newer(at, p.lastAt) ? at : p.lastAt }
        break
      }
      case 'PaymentCompleted': {
        const payments = s.payments as { completed: number, failed: number, completedAmountByCurrency: Record<string, number> }
        const currency = event.currency ?? 'unspecified'
        const amounts = { ...payments.completedAmountByCurrency, [currency]: (payments.completedAmountByCurrency[currency] ?? 0) + event.amount }
        next.payments = { ...payments, completed: payments.completed + 1, completedAmountByCurrency: amounts }
        subscription(event.planType, 'active')
        break
      }
      case 'PaymentFailed': {
        const payments = s.payments as Json
        next.payments = { ...payments, failed: (payments.failed as number) + 1 }
        subscription(undefined, 'payment-failed')
        break
      }
      case 'PlanUpgraded': subscription(event.toPlan, 'active'); break
      case 'PlanDowngraded': subscription(event.toPlan, 'downgraded'); break
      case 'MissionStarted': missions.started! += 1; break
      case 'MissionPaused': missions.paused! += 1; break
      case 'MissionResumed': missions.resumed! += 1; missions.totalPauseDurationMs! += event.pauseDuration; break
      case 'MissionCompleted': missions.completed! += 1; break
      case 'ResourceProvisioningFailed': missions.provisioningFailures! += 1; break
      case 'ResourceCleanupCompleted': missions.resourceCleanups! += 1; break
      case 'EvaluationStarted': ev.started = (ev.started as number) + 1; break
      case 'EvaluationCompleted': {
        const percent = event.score / (event.maxScore ?? 100) * 100
        ev.completed = (ev.completed as number) + 1
        ev.score = add(ev.score, percent)
        ev.bestScore = ev.bestScore === null ? twoDecimals(percent) : Math.max(ev.bestScore, twoDecimals(percent))
        const details = { ...ev.details }
        for (const d of DIMENSIONS) {
          const value = event.details?.[d]
          if (typeof value === 'number') details[d] = add(details[d]!, value)
        }
        ev.details = details
        break
      }
      case 'EvaluationFailed': ev.failed = (ev.failed as number) + 1; break
      case 'EvaluationRetryRequested': ev.retried = (ev.retried as number) + 1; break
      case 'EvaluationRetryCompleted':
        ev.retriesCompleted = (ev.retriesCompleted as number) + 1
        if (event.needsHumanReview) ev.needsHumanReview = (ev.needsHumanReview as number) + 1
        break
    }
    next.firstEventAt = Math.min(s.firstEventAt as number, at)
    next.lastEventAt = Math.max(s.lastEventAt as number, at)
    next.revision = (s.revision as number) + 1
    this.state = next
    this.lastCause = event.eventId
    return this.row()
  }

  /** The row for the current state (what the last apply produced). */
  row (): Json {
    const s = this.state as Json
    return {
      eventId: outputId(this.lastCause, 'UserStatsUpdated'),
      eventType: 'UserStatsUpdated',
      source: 'devtrip-user-stats',
      timestamp: s.lastEventAt,
      version: '1.0',
      causeEventId: this.lastCause,
      ...s
    }
  }

  private empty (at: number): Json {
    return {
      userId: this.userId,
      signedUpAt: null,
      firstEventAt: at,
      lastEventAt: at,
      revision: 0,
      logins: { count: 0, lastAt: null, lastIp: null, lastUserAgent: null },
      logouts: { count: 0, lastAt: null },
      passwordResetsRequested: 0,
      passwordChanges: 0,
      accountLock: { locked: false, count: 0, lastAt: null, reason: null },
      teams: { created: 0, joined: 0, createdTeamIds: [], joinedTeamIds: [] },
      profileUpdates: { count: 0, lastAt: null },
      subscription: { plan: this.policies.defaultPlan, status: 'none', since: null },
      payments: { completed: 0, failed: 0, completedAmountByCurrency: {} },
      missions: { started: 0, paused: 0, resumed: 0, completed: 0, totalPauseDurationMs: 0, provisioningFailures: 0, resourceCleanups: 0 },
      evaluations: {
        started: 0,
        completed: 0,
        failed: 0,
        retried: 0,
        retriesCompleted: 0,
        needsHumanReview: 0,
        score: emptyAverage(),
        bestScore: null,
        details: Object.fromEntries(DIMENSIONS.map((d) => [d, emptyAverage()]))
      }
    }
  }
}

/** A row without the fields the evaluation topology's retry events may or may not have touched yet. */
export function withoutEchoFields (row: Json): Json {
  const copy: Json = { ...row, evaluations: { ...(row.evaluations as Json) } }
  for (const path of ECHO_FIELDS) {
    const [head, tail] = path.split('.') as [string, string | undefined]
    if (tail === undefined) delete copy[head]
    else delete (copy[head] as Json)[tail]
  }
  return copy
}
