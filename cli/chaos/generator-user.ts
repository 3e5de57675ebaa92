/**
 * One user's life in the chaos workload: a timeline of events with strictly increasing timestamps across all six
 * domain topics, built from episodes — sign-up, logins, password resets, teams, profile edits, payments with plan
 * changes, and missions whose evaluations the generator plays out as the AI evaluator would, including the ones it
 * deliberately lets fail or time out and the retries the evaluation topology then asks for.
 *
 * Timing rules that keep the outcome a function of timestamps alone (model-evaluation.ts relies on them):
 *   - an event meant to beat a deadline comes at most 10 s (starts) or 60 s (results) into a window of 120 s / 300 s,
 *     so a task that processes a few seconds of other records ahead of this user cannot make the deadline pass first;
 *   - an event meant to come after a deadline (the evaluator's start of a retried run) comes 1–10 s after it;
 *   - every flow is finished — completed, or sent to review — before the next mission starts, and the timeline
 *     ends with an evaluated mission, whose events come after every earlier deadline: so the user's own events fire
 *     every timer, and nothing is left for the idle rule;
 *   - after an event on evaluation-events, the user's next event on another topic comes at least SETTLE_MS later:
 *     evaluation-events is also written transactionally by the evaluation topology, and until that transaction
 *     commits the evaluator's events are invisible to read_committed readers (feeder.ts explains why that matters).
 */
import { EVENT_TOPIC, type EventType } from '../../events'
import { backoffMs, type ChaosPolicies } from './chaos-policies'
import { namedEvaluationId } from './model-ids'
import type { Random } from './random'

/** An event before normalisation: its type, its time and its payload (the envelope is added later). */
export interface DraftEvent {
  readonly type: EventType
  readonly timestamp: number
  readonly fields: Record<string, unknown>
  /** a stand-alone event that may be dropped or added to reach the exact event count */
  readonly filler: boolean
}

type RunOutcome = 'ok' | 'fail' | 'start-timeout' | 'run-timeout'

/** How a mission's evaluation goes. */
export type EvaluationScenario =
  | 'ok' | 'fail-then-ok' | 'start-timeout-then-ok' | 'run-timeout-then-ok' | 'two-failures-then-ok' | 'exhausted' | 'exhausted-then-human'
  | 'evaluation-first' | 'late-mission' | 'second-completion' | 'foreign-retry' | 'mission-resent'

const SCENARIOS: ReadonlyArray<readonly [EvaluationScenario, number]> = [
  ['ok', 52], ['fail-then-ok', 8], ['start-timeout-then-ok', 6], ['run-timeout-then-ok', 4], ['two-failures-then-ok', 4],
  ['exhausted', 5], ['exhausted-then-human', 3], ['evaluation-first', 4], ['late-mission', 3], ['second-completion', 4],
  ['foreign-retry', 3], ['mission-resent', 4]
]

const SECOND = 1000
/** event time between a user's evaluation event and the user's next event on another topic */
export const SETTLE_MS = 30 * SECOND
const AGENTS = ['Mozilla/5.0 (X11; Linux x86_64)', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4)', 'DevTripApp/2.3 (iOS 17)', 'DevTripApp/2.3 (Android 14)']
const LANGUAGES = ['javascript', 'typescript', 'python', 'java', 'go']
const MISSION_TITLES = ['Build a REST API', 'Kafka consumer basics', 'Fix the flaky test', 'Rate limiter', 'Cache invalidation', 'Binary search tree']
const PRICES: Readonly<Record<string, number>> = { BASIC: 9900, PRO: 29000, TEAM: 99000 }

export class UserTimeline {
  readonly events: DraftEvent[] = []
  private clock: number
  private plan: string
  private missions = 0
  private payments = 0
  private teams = 0
  private lastPaymentId: string | undefined
  private lastEvaluationEvent = -Infinity
  private readonly email: string

  constructor (readonly userId: number, start: number, private readonly random: Random, private readonly policies: ChaosPolicies) {
    this.clock = start
    this.plan = policies.defaultPlan
    this.email = `user${userId}@devtrip.dev`
  }

  get now (): number {
    return this.clock
  }

  /** Emits `type` a random 1–12 s (or the given range) after the previous event. */
  emit (type: EventType, fields: Record<string, unknown>, minGapMs = SECOND, maxGapMs = 12 * SECOND, filler = false): number {
    return this.emitAt(this.clock + this.random.int(minGapMs, maxGapMs), type, fields, filler)
  }

  private emitAt (timestamp: number, type: EventType, fields: Record<string, unknown>, filler = false): number {
    // strictly increasing per user: the model orders a user's events by timestamp and must find the same order
    let at = Math.max(timestamp, this.clock + 1)
    if (EVENT_TOPIC[type] === 'evaluation-events') this.lastEvaluationEvent = at
    else at = Math.max(at, this.lastEvaluationEvent + SETTLE_MS)
    this.clock = at
    this.events.push({ type, timestamp: at, fields: { userId: this.userId, ...fields }, filler })
    return at
  }

  /** Lets time pass to `until` (exclusive of events), sometimes with a login in between, as users do while waiting. */
  private waitUntil (until: number): void {
    if (until - this.clock > 40 * SECOND && this.random.chance(0.5)) {
      this.emitAt(this.random.int(this.clock + SECOND, until - 20 * SECOND), 'UserLoggedIn', this.loginFields(), true)
    }
    this.clock = Math.max(this.clock, until)
  }

  private loginFields (): Record<string, unknown> {
    return { email: this.email, ipAddress: `10.${this.random.int(0, 255)}.${this.random.int(0, 255)}.${this.random.int(1, 254)}`, userAgent: this.random.pick(AGENTS) }
  }

  signUp (): void {
    this.emit('UserSignedUp', { email: this.email, ipAddress: `172.16.${this.random.int(0, 255)}.${this.random.int(1, 254)}` })
  }

  /** one standalone event that can be added or dropped freely (a login or a profile edit) */
  filler (): void {
    if (this.random.chance(0.7)) this.emit('UserLoggedIn', this.loginFields(), 2 * SECOND, 20 * SECOND, true)
    else this.emit('UserProfileUpdated', { profileData: { nickname: `dev${this.userId}`, bio: this.random.pick(['hello', 'learning Kafka', 'streams!']) } }, 2 * SECOND, 20 * SECOND, true)
  }

  /** a session; both events stand alone (any subset is a valid history), so they are fillers */
  login (): void {
    this.emit('UserLoggedIn', this.loginFields(), 2 * SECOND, 20 * SECOND, true)
    if (this.random.chance(0.6)) this.emit('UserLoggedOut', {}, 30 * SECOND, 120 * SECOND, true)
  }

  passwordReset (): void {
    this.emit('PasswordResetRequested', { email: this.email, ipAddress: `10.1.${this.random.int(0, 255)}.${this.random.int(1, 254)}` })
    this.emit('PasswordChanged', {}, 10 * SECOND, 90 * SECOND)
  }

  lock (): void {
    this.emit('AccountLocked', { reason: this.random.pick(['TOO_MANY_FAILED_LOGINS', 'SUSPICIOUS_ACTIVITY']) })
  }

  team (): void {
    const teamId = `team-${this.userId}-${++this.teams}`
    if (this.random.chance(0.5)) this.emit('TeamCreated', { teamId, creatorId: this.userId, teamName: `Team ${this.userId}.${this.teams}` })
    const joined = this.random.chance(0.5) ? teamId : `team-shared-${this.random.int(1, 40)}`
    // one join reported by both services (auth and user management): the stats count it once, by team id
    this.emit('TeamMemberAdded', { teamId: joined, role: this.random.pick(['MEMBER', 'ADMIN']) })
    if (this.random.chance(0.7)) this.emit('UserTeamJoined', { teamId: joined })
  }

  profile (): void {
    this.emit('UserProfileUpdated', { profileData: { nickname: `dev${this.userId}`, bio: this.random.pick(['', 'hello', 'backend developer']) } }, 2 * SECOND, 20 * SECOND, true)
  }

  /** A Toss purchase (seed §3.3): PaymentCompleted, and PlanUpgraded when the plan changes. */
  purchase (planOverride?: string): void {
    const plan = planOverride ?? this.random.weighted([['BASIC', 6], ['PRO', 4]] as const)
    const paymentId = `pay-${this.userId}-${++this.payments}`
    // producers are not consistent about case; the rules match plan names case-insensitively
    const planType = this.random.chance(0.15) ? plan.toLowerCase() : plan
    this.emit('PaymentCompleted', { paymentId, amount: PRICES[plan] ?? 9900, planType, currency: 'KRW', orderId: `order-${this.userId}-${this.payments}` })
    if (this.policies.plans[plan] !== undefined) this.lastPaymentId = paymentId
    if (plan !== this.plan) {
      this.emit('PlanUpgraded', { fromPlan: this.plan, toPlan: plan }, SECOND, 5 * SECOND)
      if (this.policies.plans[plan] !== undefined) this.plan = plan
    }
  }

  failedPayment (): void {
    const paymentId = `pay-${this.userId}-${++this.payments}`
    this.emit('PaymentFailed', { paymentId, failureReason: this.random.pick(['CARD_DECLINED', 'INSUFFICIENT_FUNDS', 'TIMEOUT']), amount: 29000, planType: 'PRO', currency: 'KRW' })
    if (this.random.chance(0.5)) this.purchase()
  }

  downgrade (): void {
    if (this.plan === this.policies.defaultPlan) return this.login()
    const to = this.plan === 'PRO' && this.random.chance(0.5) ? 'BASIC' : this.policies.defaultPlan
    this.emit('PlanDowngraded', { fromPlan: this.plan, toPlan: to })
    this.plan = to
  }

  /** A plan the policies do not know: recorded as rejected, nothing granted. */
  unknownPlan (): void {
    this.purchase('TEAM')
  }

  /** The same payment published again under a new eventId: tickets are granted once per paymentId. */
  paymentResent (): void {
    if (this.lastPaymentId === undefined) return this.purchase()
    this.emit('PaymentCompleted', { paymentId: this.lastPaymentId, amount: 9900, planType: 'BASIC', currency: 'KRW' })
  }

  /** A mission from start to evaluated result, its evaluation played out as `scenario` says. */
  mission (scenario: EvaluationScenario = this.random.weighted(SCENARIOS)): EvaluationScenario {
    const n = ++this.missions
    const attempt = `attempt-${this.userId}-${n}`
    const missionId = `mission-${this.random.int(1, 60)}`
    const missionTitle = this.random.pick(MISSION_TITLES)
    const ids = { missionId, missionAttemptId: attempt }
    this.emit('MissionStarted', { ...ids, missionTitle })
    if (this.random.chance(0.3)) {
      const paused = this.emit('MissionPaused', { ...ids, pauseReason: this.random.pick(['USER_REQUEST', 'BREAK', 'NETWORK']) }, 20 * SECOND, 120 * SECOND)
      const pause = this.random.int(20 * SECOND, 180 * SECOND)
      this.emitAt(paused + pause, 'MissionResumed', { ...ids, pauseDuration: pause })
    }
    if (this.random.chance(0.1)) this.emit('ResourceProvisioningFailed', { missionId, failureReason: this.random.pick(['IMAGE_PULL_BACKOFF', 'QUOTA_EXCEEDED']), retryAttempt: 0 })
    const completed = { ...ids, missionTitle, code: 'function solve(input) { return input.trim(); }', language: this.random.pick(LANGUAGES), executionTime: this.random.int(10, 5000), email: this.email }
    this.evaluate(scenario, attempt, completed)
    this.emit('ResourceCleanupCompleted', { missionId, missionAttemptId: attempt, cleanupTrigger: 'MISSION_COMPLETED', resourcesCleaned: ['pod', 'service'] })
    return scenario
  }

  private evaluate (scenario: EvaluationScenario, attempt: string, completed: Record<string, unknown>): void {
    const evalId = (run: number): string => (run > 1 && this.random.chance(0.5) ? namedEvaluationId(attempt, run) : `eval-${attempt}-${run}`)
    switch (scenario) {
      case 'evaluation-first': {
        // the evaluator reports before the mission service: the attempt starts from the evaluation
        this.emit('EvaluationStarted', { evaluationId: evalId(1), missionAttemptId: attempt })
        this.emit('MissionCompleted', completed, SECOND, 5 * SECOND)
        this.complete(attempt, evalId(1))
        return
      }
      case 'late-mission': {
        this.emit('EvaluationStarted', { evaluationId: evalId(1), missionAttemptId: attempt })
        this.complete(attempt, evalId(1))
        this.emit('MissionCompleted', completed, SECOND, 10 * SECOND)
        return
      }
      default:
    }
    const mc = this.emit('MissionCompleted', completed)
    const plans: Partial<Record<EvaluationScenario, RunOutcome[]>> = {
      'fail-then-ok': ['fail', 'ok'],
      'start-timeout-then-ok': ['start-timeout', 'ok'],
      'run-timeout-then-ok': ['run-timeout', 'ok'],
      'two-failures-then-ok': [this.random.pick(['fail', 'start-timeout'] as const), this.random.pick(['fail', 'run-timeout'] as const), 'ok'],
      exhausted: this.failures(),
      'exhausted-then-human': this.failures()
    }
    const runs = plans[scenario] ?? ['ok']
    let windowOpens = mc
    let lastId = ''
    for (let run = 1; run <= runs.length; run++) {
      const outcome = runs[run - 1]!
      let failedAt: number
      if (outcome === 'start-timeout') {
        failedAt = windowOpens + this.policies.evaluation.startTimeoutMs
      } else {
        lastId = evalId(run)
        const started = this.emitAt(windowOpens + this.random.int(SECOND, 10 * SECOND), 'EvaluationStarted', { evaluationId: lastId, missionAttemptId: attempt })
        if (outcome === 'ok') {
          this.complete(attempt, lastId)
          break
        }
        failedAt = outcome === 'fail'
          ? this.emit('EvaluationFailed', { evaluationId: lastId, missionAttemptId: attempt, failureReason: this.random.pick(['MODEL_TIMEOUT', 'RATE_LIMITED', 'INVALID_RESPONSE']) }, 5 * SECOND, 60 * SECOND)
          : started + this.policies.evaluation.runTimeoutMs
      }
      if (run >= this.policies.evaluation.maxAttempts) {
        this.waitUntil(failedAt)
        break
      }
      windowOpens = failedAt + backoffMs(this.policies, run)
      this.waitUntil(windowOpens)
    }
    if (scenario === 'exhausted-then-human') {
      // a person reviewed it and the evaluation was finally produced: a result after review
      this.complete(attempt, lastId === '' ? `eval-${attempt}-human` : lastId, 10 * SECOND, 120 * SECOND)
    } else if (scenario === 'second-completion') {
      this.complete(attempt, `eval-${attempt}-again`, SECOND, 10 * SECOND)
    } else if (scenario === 'foreign-retry') {
      // retry events from another producer: the topology counts them and decides retries itself
      const foreign = { evaluationId: `eval-${attempt}-foreign`, originalEvaluationId: lastId, retryAttempt: 1, missionAttemptId: attempt, source: 'ops-console' }
      this.emit('EvaluationRetryRequested', foreign)
      this.emit('EvaluationRetryCompleted', { ...foreign, finalScore: this.random.int(0, 100), maxScore: 100, needsHumanReview: this.random.chance(0.3) })
    } else if (scenario === 'mission-resent') {
      this.emit('MissionCompleted', completed, SECOND, 10 * SECOND)
    }
  }

  /** maxAttempts failures, each a failed run, a start timeout or a run timeout */
  private failures (): RunOutcome[] {
    return Array.from({ length: this.policies.evaluation.maxAttempts }, () => this.random.pick(['fail', 'start-timeout', 'run-timeout'] as const))
  }

  private complete (attempt: string, evaluationId: string, minGapMs = 5 * SECOND, maxGapMs = 60 * SECOND): void {
    const score = this.random.int(0, 20)
    const scale = this.random.chance(0.8) ? 100 : 20
    this.emit('EvaluationCompleted', {
      evaluationId,
      missionAttemptId: attempt,
      score: scale === 100 ? score * 5 : score,
      maxScore: scale,
      feedback: this.random.pick(['Clear structure; add error handling.', 'Correct, but slow on large inputs.', 'Needs tests.']),
      details: { syntax: this.random.int(40, 100), logic: this.random.int(0, 100), performance: this.random.int(0, 100), bestPractices: this.random.int(0, 100) }
    }, minGapMs, maxGapMs)
  }
}
