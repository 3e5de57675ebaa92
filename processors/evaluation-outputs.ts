/**
 * The records the evaluation state machine emits, built from an attempt's state. Pure functions; every id derives
 * from (missionAttemptId, kind, number) so a replay after a crash rebuilds the same records with the same ids.
 *
 *   EvaluationRetryRequested / EvaluationRetryCompleted → evaluation-events (catalog events, validated here)
 *   MissionResultUpdated                                → mission-results
 *   EvaluationReviewRequested                           → evaluation-review
 */
import { DEFAULT_MAX_SCORE, DevtripError, normalizeEvent, type EvaluationDetails, type EventByType, type Id } from '../events'
import { derivedEventId } from './derived-ids'

export const EVALUATION_SOURCE = 'devtrip-evaluation'
export const EVALUATION_RECORD_VERSION = '1.0'

export type FailureKind = 'evaluation-failed' | 'start-timeout' | 'run-timeout'

export interface EvaluationFailure {
  /** the run (1-based) that failed */
  readonly attempt: number
  readonly kind: FailureKind
  /** the evaluator's failureReason, or the timeout kind */
  readonly reason: string
  /** event time of the failure: the EvaluationFailed timestamp, or the deadline that passed */
  readonly at: number
  readonly evaluationId: Id | null
}

/** The evaluation's outcome as MissionResultUpdated reports it. */
export interface EvaluationOutcome {
  readonly evaluationId: Id
  readonly score: number
  readonly maxScore: number
  readonly feedback: string
  readonly details: EvaluationDetails | null
  readonly evaluatedAt: number
  readonly causeEventId: string
}

/** The part of an attempt's state the builders read (the full state is in evaluation-state-machine.ts). */
export interface AttemptFacts {
  readonly missionAttemptId: Id
  readonly userId: Id
  readonly missionId: Id | null
  readonly missionTitle: string | null
  readonly missionCompletedAt: number | null
  readonly attempt: number
  readonly evaluationId: Id | null
  readonly originalEvaluationId: Id | null
  readonly failures: readonly EvaluationFailure[]
  readonly outcome: EvaluationOutcome | null
  readonly resultRevision: number
  readonly reviewRequested: boolean
}

export interface MissionResultUpdated {
  readonly eventId: string
  readonly eventType: 'MissionResultUpdated'
  readonly source: typeof EVALUATION_SOURCE
  readonly timestamp: number
  readonly version: typeof EVALUATION_RECORD_VERSION
  /** 1 for the first result of the attempt; +1 when a late MissionCompleted completes the join */
  readonly revision: number
  readonly userId: Id
  readonly missionAttemptId: Id
  readonly missionId: Id | null
  readonly missionTitle: string | null
  readonly evaluationId: Id
  readonly originalEvaluationId: Id | null
  readonly score: number
  readonly maxScore: number
  /** score as a percentage of maxScore, 2 decimals */
  readonly scorePercent: number
  readonly feedback: string
  readonly details: EvaluationDetails | null
  /** evaluation runs requested for the attempt, the successful one included */
  readonly attempts: number
  readonly failures: readonly EvaluationFailure[]
  readonly missionCompletedAt: number | null
  readonly evaluatedAt: number
  /** evaluatedAt − missionCompletedAt; null while the MissionCompleted event is unknown */
  readonly timeToResultMs: number | null
  /** the attempt had been sent to human review before this result arrived */
  readonly afterHumanReview: boolean
}

export interface EvaluationReviewRequested {
  readonly eventId: string
  readonly eventType: 'EvaluationReviewRequested'
  readonly source: typeof EVALUATION_SOURCE
  readonly timestamp: number
  readonly version: typeof EVALUATION_RECORD_VERSION
  readonly userId: Id
  readonly missionAttemptId: Id
  readonly missionId: Id | null
  readonly missionTitle: string | null
  readonly missionCompletedAt: number | null
  readonly attempts: number
  readonly failures: readonly EvaluationFailure[]
  readonly lastEvaluationId: Id
  readonly originalEvaluationId: Id
  readonly reason: 'retries-exhausted'
}

export type EvaluationOutput =
  | { readonly kind: 'evaluation-event', readonly value: EventByType['EvaluationRetryRequested'] | EventByType['EvaluationRetryCompleted'] }
  | { readonly kind: 'mission-result', readonly value: MissionResultUpdated }
  | { readonly kind: 'review', readonly value: EvaluationReviewRequested }

/** The id this topology gives run `attempt` of an attempt's evaluation when the evaluator has not named it. */
export function evaluationIdFor (missionAttemptId: Id, attempt: number): string {
  return derivedEventId(String(missionAttemptId), 'evaluation', attempt)
}

export function retryRequestedEventId (missionAttemptId: Id, retryAttempt: number): string {
  return derivedEventId(String(missionAttemptId), 'EvaluationRetryRequested', retryAttempt)
}

export function retryCompletedEventId (missionAttemptId: Id, retryAttempt: number): string {
  return derivedEventId(String(missionAttemptId), 'EvaluationRetryCompleted', retryAttempt)
}

/** Our own catalog events must be valid catalog events; a failure here is a bug in this file, not bad input. */
function validated<T extends 'EvaluationRetryRequested' | 'EvaluationRetryCompleted'> (type: T, body: EventByType[T]): EventByType[T] {
  const result = normalizeEvent(body, { type })
  if (!result.ok) {
    throw new DevtripError('DEVTRIP_PROCESSING', `evaluation state machine built an invalid ${type}: ${result.errors.map((e) => `${e.pointer} ${e.message}`).join('; ')}`, {
      details: { errors: result.errors }
    })
  }
  return result.event as EventByType[T]
}

function originalOf (facts: AttemptFacts): Id {
  return facts.originalEvaluationId ?? evaluationIdFor(facts.missionAttemptId, 1)
}

/** Retry `retryAttempt` (= run retryAttempt + 1) of the attempt, requested at event time `at`. */
export function retryRequested (facts: AttemptFacts, retryAttempt: number, newEvaluationId: Id, at: number): EvaluationOutput {
  return {
    kind: 'evaluation-event',
    value: validated('EvaluationRetryRequested', {
      eventId: retryRequestedEventId(facts.missionAttemptId, retryAttempt),
      eventType: 'EvaluationRetryRequested',
      source: EVALUATION_SOURCE,
      timestamp: at,
      version: EVALUATION_RECORD_VERSION,
      evaluationId: newEvaluationId,
      originalEvaluationId: originalOf(facts),
      retryAttempt,
      userId: facts.userId,
      missionAttemptId: facts.missionAttemptId
    })
  }
}

/** The end of a retried evaluation: a score (needsHumanReview false) or exhausted retries (true, finalScore 0). */
export function retryCompleted (facts: AttemptFacts, retryAttempt: number, evaluationId: Id, finalScore: number, maxScore: number, needsHumanReview: boolean, at: number): EvaluationOutput {
  const original = originalOf(facts)
  return {
    kind: 'evaluation-event',
    value: validated('EvaluationRetryCompleted', {
      eventId: retryCompletedEventId(facts.missionAttemptId, retryAttempt),
      eventType: 'EvaluationRetryCompleted',
      source: EVALUATION_SOURCE,
      timestamp: at,
      version: EVALUATION_RECORD_VERSION,
      evaluationId,
      retryAttempt,
      finalScore,
      maxScore,
      needsHumanReview,
      userId: facts.userId,
      missionAttemptId: facts.missionAttemptId,
      // the catalog forbids originalEvaluationId = evaluationId (an evaluator may reuse its id for a retry)
      ...(String(original) === String(evaluationId) ? {} : { originalEvaluationId: original })
    })
  }
}

export function reviewRequested (facts: AttemptFacts, lastEvaluationId: Id, at: number): EvaluationOutput {
  return {
    kind: 'review',
    value: {
      eventId: derivedEventId(String(facts.missionAttemptId), 'EvaluationReviewRequested', facts.attempt),
      eventType: 'EvaluationReviewRequested',
      source: EVALUATION_SOURCE,
      timestamp: at,
      version: EVALUATION_RECORD_VERSION,
      userId: facts.userId,
      missionAttemptId: facts.missionAttemptId,
      missionId: facts.missionId,
      missionTitle: facts.missionTitle,
      missionCompletedAt: facts.missionCompletedAt,
      attempts: facts.attempt,
      failures: facts.failures,
      lastEvaluationId,
      originalEvaluationId: originalOf(facts),
      reason: 'retries-exhausted'
    }
  }
}

/** MissionResultUpdated for the attempt's outcome; `at` is the time of the event that caused this revision. */
export function missionResult (facts: AttemptFacts, outcome: EvaluationOutcome, at: number): EvaluationOutput {
  const maxScore = outcome.maxScore > 0 ? outcome.maxScore : DEFAULT_MAX_SCORE
  return {
    kind: 'mission-result',
    value: {
      eventId: derivedEventId(String(facts.missionAttemptId), 'MissionResultUpdated', facts.resultRevision),
      eventType: 'MissionResultUpdated',
      source: EVALUATION_SOURCE,
      timestamp: at,
      version: EVALUATION_RECORD_VERSION,
      revision: facts.resultRevision,
      userId: facts.userId,
      missionAttemptId: facts.missionAttemptId,
      missionId: facts.missionId,
      missionTitle: facts.missionTitle,
      evaluationId: outcome.evaluationId,
      originalEvaluationId: facts.originalEvaluationId,
      score: outcome.score,
      maxScore,
      scorePercent: Math.round(outcome.score / maxScore * 10_000) / 100,
      feedback: outcome.feedback,
      details: outcome.details,
      attempts: facts.attempt,
      failures: facts.failures,
      missionCompletedAt: facts.missionCompletedAt,
      evaluatedAt: outcome.evaluatedAt,
      timeToResultMs: facts.missionCompletedAt === null ? null : outcome.evaluatedAt - facts.missionCompletedAt,
      afterHumanReview: facts.reviewRequested
    }
  }
}
