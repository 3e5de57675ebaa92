/**
 * The verifier's model of the evaluation topology (docs/topologies.md "Evaluation": the state diagram, "Late,
 * duplicate and out-of-order events" and "Time"), for ONE user's mission attempts, independent of processors/.
 *
 * Time is event time: each attempt has at most one timer (start timeout, run timeout or retry due). Fed a user's
 * events in timestamp order, the model first lets every timer of the user that is due at or before the event's time
 * go off (in due-time, then attempt-id order), then applies the event, exactly as the topology's processor does with
 * its stream time on an in-order partition. Other users' records can only make a timer go off EARLIER in wall-clock
 * terms, never change what it produces (its outputs are stamped with the due time and named by the attempt), so
 * modelling a user alone is enough — provided the user's own events come in timestamp order and each user's
 * timeline ends after its last timer (the generator guarantees both).
 *
 * Outputs, each with an eventId derived from the attempt (model-ids.ts):
 *   EvaluationRetryRequested   (attempt, "EvaluationRetryRequested", retry)   → evaluation-events
 *   EvaluationRetryCompleted   (attempt, "EvaluationRetryCompleted", retry)   → evaluation-events
 *   MissionResultUpdated       (attempt, "MissionResultUpdated", revision)    → mission-results
 *   EvaluationReviewRequested  (attempt, "EvaluationReviewRequested", runs)   → evaluation-review
 */
import type { DevtripEvent } from '../../events'
import { backoffMs, type ChaosPolicies } from './chaos-policies'
import { namedEvaluationId, outputId } from './model-ids'
import type { Json } from './model-ticketing'

const SOURCE = 'devtrip-evaluation'
const MACHINE_TYPES = new Set(['MissionCompleted', 'EvaluationStarted', 'EvaluationCompleted', 'EvaluationFailed', 'EvaluationRetryRequested', 'EvaluationRetryCompleted'])

type Phase = 'awaiting-start' | 'running' | 'retry-scheduled' | 'completed' | 'needs-review'
type TimerKind = 'start-timeout' | 'run-timeout' | 'retry-due'
type Id = number | string

export type EvaluationOutputTopic = 'evaluation-events' | 'mission-results' | 'evaluation-review'
export interface EvaluationOutputRecord {
  readonly topic: EvaluationOutputTopic
  readonly value: Json
}

interface Failure { attempt: number, kind: string, reason: string, at: number, evaluationId: Id | null }
interface Outcome { evaluationId: Id, score: number, maxScore: number, feedback: string, details: unknown, evaluatedAt: number }

interface Attempt {
  readonly id: Id
  readonly userId: Id
  phase: Phase
  run: number
  timer: { kind: TimerKind, due: number } | null
  evaluationId: Id | null
  originalEvaluationId: Id | null
  missionId: Id | null
  missionTitle: string | null
  missionCompletedAt: number | null
  missionSeen: boolean
  failures: Failure[]
  outcome: Outcome | null
  revision: number
  reviewed: boolean
}

export function isEvaluationEvent (event: DevtripEvent): boolean {
  return MACHINE_TYPES.has(event.eventType)
}

export class EvaluationModel {
  private readonly attempts = new Map<string, Attempt>()

  constructor (private readonly policies: ChaosPolicies) {}

  /** Lets time pass to `now`, then applies `event`; returns every output in the order the topology emits them. */
  apply (event: DevtripEvent): EvaluationOutputRecord[] {
    if (!isEvaluationEvent(event)) return []
    const out: EvaluationOutputRecord[] = []
    this.advance(event.timestamp, out)
    const e = event as DevtripEvent & { missionAttemptId: Id }
    const key = String(e.missionAttemptId)
    let a = this.attempts.get(key)
    const isRetryEvent = event.eventType === 'EvaluationRetryRequested' || event.eventType === 'EvaluationRetryCompleted'
    // retry events (ours coming back, or anyone else's) never act: they are only counted by the topology
    if (isRetryEvent) return out
    const created = a === undefined
    if (a === undefined) {
      a = {
        id: e.missionAttemptId, userId: event.userId, phase: 'awaiting-start', run: 1, timer: null, evaluationId: null, originalEvaluationId: null,
        missionId: null, missionTitle: null, missionCompletedAt: null, missionSeen: false, failures: [], outcome: null, revision: 0, reviewed: false
      }
      this.attempts.set(key, a)
    }
    const final = a.phase === 'completed' || a.phase === 'needs-review'
    switch (event.eventType) {
      case 'MissionCompleted':
        if (a.missionSeen) break
        a.missionSeen = true
        a.missionId = event.missionId
        a.missionTitle = event.missionTitle ?? null
        a.missionCompletedAt = event.timestamp
        if (created) a.timer = { kind: 'start-timeout', due: event.timestamp + this.policies.evaluation.startTimeoutMs }
        else if (a.phase === 'completed' && a.outcome !== null) {
          a.revision += 1
          out.push(this.result(a, event.timestamp))
        }
        break
      case 'EvaluationStarted': {
        const late = a.phase === 'retry-scheduled' || final || this.failedBefore(a, event.evaluationId) ||
          (a.phase === 'running' && String(a.evaluationId) === String(event.evaluationId))
        if (late) break
        if (a.missionId === null && event.missionId !== undefined) a.missionId = event.missionId
        a.evaluationId = event.evaluationId
        if (a.run === 1 && a.originalEvaluationId === null) a.originalEvaluationId = event.evaluationId
        a.phase = 'running'
        a.timer = { kind: 'run-timeout', due: event.timestamp + this.policies.evaluation.runTimeoutMs }
        break
      }
      case 'EvaluationFailed':
        if (a.phase === 'retry-scheduled' || final || this.failedBefore(a, event.evaluationId)) break
        if (a.run === 1 && a.originalEvaluationId === null) a.originalEvaluationId = event.evaluationId
        this.fail(a, 'evaluation-failed', event.failureReason, event.timestamp, event.evaluationId, out)
        break
      case 'EvaluationCompleted': {
        if (a.phase === 'completed') break
        const afterReview = a.phase === 'needs-review'
        if (a.missionId === null && event.missionId !== undefined) a.missionId = event.missionId
        if (a.missionTitle === null && event.missionTitle !== undefined) a.missionTitle = event.missionTitle
        if (a.originalEvaluationId === null) a.originalEvaluationId = event.evaluationId
        const maxScore = event.maxScore ?? 100
        a.outcome = { evaluationId: event.evaluationId, score: event.score, maxScore, feedback: event.feedback, details: event.details ?? null, evaluatedAt: event.timestamp }
        a.evaluationId = event.evaluationId
        a.phase = 'completed'
        a.timer = null
        a.revision += 1
        out.push(this.result(a, event.timestamp))
        if (a.run > 1 && !afterReview) out.push(this.retryCompleted(a, a.run - 1, event.evaluationId, event.score, maxScore, false, event.timestamp))
        break
      }
    }
    // the processor fires what its stream time passed after the record; on an in-order partition that is the record's time
    this.advance(event.timestamp, out)
    return out
  }

  /** Timers still set (the verifier expects none at the end of a user's timeline). */
  pendingTimers (): number {
    let n = 0
    for (const a of this.attempts.values()) if (a.timer !== null) n++
    return n
  }

  private failedBefore (a: Attempt, evaluationId: Id): boolean {
    return a.failures.some((f) => f.evaluationId !== null && String(f.evaluationId) === String(evaluationId))
  }

  /** Every timer of this user due at or before `now`, earliest first (ties: attempt id), each possibly setting the next. */
  private advance (now: number, out: EvaluationOutputRecord[]): void {
    for (;;) {
      let next: Attempt | undefined
      for (const a of this.attempts.values()) {
        if (a.timer === null || a.timer.due > now) continue
        if (next === undefined || a.timer.due < next.timer!.due || (a.timer.due === next.timer!.due && String(a.id) < String(next.id))) next = a
      }
      if (next === undefined) return
      this.ring(next, out)
    }
  }

  private ring (a: Attempt, out: EvaluationOutputRecord[]): void {
    const { kind, due } = a.timer!
    a.timer = null
    if (kind === 'retry-due') {
      const retry = a.run
      const evaluationId = namedEvaluationId(a.id, retry + 1)
      out.push(this.retryRequested(a, retry, evaluationId, due))
      a.run = retry + 1
      a.evaluationId = evaluationId
      a.phase = 'awaiting-start'
      a.timer = { kind: 'start-timeout', due: due + this.policies.evaluation.startTimeoutMs }
      return
    }
    this.fail(a, kind, kind, due, a.evaluationId, out)
  }

  private fail (a: Attempt, kind: string, reason: string, at: number, evaluationId: Id | null, out: EvaluationOutputRecord[]): void {
    a.failures = [...a.failures, { attempt: a.run, kind, reason, at, evaluationId }]
    if (a.run < this.policies.evaluation.maxAttempts) {
      a.phase = 'retry-scheduled'
      a.timer = { kind: 'retry-due', due: at + backoffMs(this.policies, a.run) }
      return
    }
    a.phase = 'needs-review'
    a.reviewed = true
    a.timer = null
    const last = evaluationId ?? a.evaluationId ?? namedEvaluationId(a.id, a.run)
    out.push(this.retryCompleted(a, a.run - 1, last, 0, 100, true, at))
    out.push({
      topic: 'evaluation-review',
      value: {
        eventId: outputId(String(a.id), 'EvaluationReviewRequested', a.run),
        eventType: 'EvaluationReviewRequested',
        source: SOURCE,
        timestamp: at,
        version: '1.0',
        userId: a.userId,
        missionAttemptId: a.id,
        missionId: a.missionId,
        missionTitle: a.missionTitle,
        missionCompletedAt: a.missionCompletedAt,
        attempts: a.run,
        failures: a.failures,
        lastEvaluationId: last,
        originalEvaluationId: this.original(a),
        reason: 'retries-exhausted'
      }
    })
  }

  private original (a: Attempt): Id {
    return a.originalEvaluationId ?? namedEvaluationId(a.id, 1)
  }

  private retryRequested (a: Attempt, retry: number, evaluationId: Id, at: number): EvaluationOutputRecord {
    return {
      topic: 'evaluation-events',
      value: {
        eventId: outputId(String(a.id), 'EvaluationRetryRequested', retry),
        eventType: 'EvaluationRetryRequested',
        source: SOURCE,
        timestamp: at,
        version: '1.0',
        evaluationId,
        originalEvaluationId: this.original(a),
        retryAttempt: retry,
        userId: a.userId,
        missionAttemptId: a.id
      }
    }
  }

  private retryCompleted (a: Attempt, retry: number, evaluationId: Id, finalScore: number, maxScore: number, needsHumanReview: boolean, at: number): EvaluationOutputRecord {
    const original = this.original(a)
    return {
      topic: 'evaluation-events',
      value: {
        eventId: outputId(String(a.id), 'EvaluationRetryCompleted', retry),
        eventType: 'EvaluationRetryCompleted',
        source: SOURCE,
        timestamp: at,
        version: '1.0',
        evaluationId,
        retryAttempt: retry,
        finalScore,
        maxScore,
        needsHumanReview,
        userId: a.userId,
        missionAttemptId: a.id,
        // the catalog forbids a retry naming itself as its original
        ...(String(original) === String(evaluationId) ? {} : { originalEvaluationId: original })
      }
    }
  }

  private result (a: Attempt, at: number): EvaluationOutputRecord {
    const o = a.outcome!
    const maxScore = o.maxScore > 0 ? o.maxScore : 100
    return {
      topic: 'mission-results',
      value: {
        eventId: outputId(String(a.id), 'MissionResultUpdated', a.revision),
        eventType: 'MissionResultUpdated',
        source: SOURCE,
        timestamp: at,
        version: '1.0',
        revision: a.revision,
        userId: a.userId,
        missionAttemptId: a.id,
        missionId: a.missionId,
        missionTitle: a.missionTitle,
        evaluationId: o.evaluationId,
        originalEvaluationId: a.originalEvaluationId,
        score: o.score,
        maxScore,
        scorePercent: Math.round(o.score / maxScore * 10_000) / 100,
        feedback: o.feedback,
        details: o.details,
        attempts: a.run,
        failures: a.failures,
        missionCompletedAt: a.missionCompletedAt,
        evaluatedAt: o.evaluatedAt,
        timeToResultMs: a.missionCompletedAt === null ? null : o.evaluatedAt - a.missionCompletedAt,
        afterHumanReview: a.reviewed
      }
    }
  }
}
