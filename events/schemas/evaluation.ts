/**
 * evaluation-events: the five types the AI Evaluation service produces (seed §2.5, example §5.4).
 * The two retry types gain userId and missionAttemptId (docs/events.md): without them a retry could be
 * neither keyed by user nor tied to the attempt whose evaluation it repeats.
 */
import { F, defineEvent, sameId, type EventCheck, type EventDefinition, type EventShape, type Id } from './common'
import { pointerOf, type EventError } from '../event-error'

/** Per-criterion scores of §5.4, each 0–100. */
export interface EvaluationDetails {
  syntax?: number
  logic?: number
  performance?: number
  bestPractices?: number
  [criterion: string]: number | undefined
}

export type EvaluationStartedEvent = EventShape<'EvaluationStarted', {
  evaluationId: Id
  missionAttemptId: Id
  userId: Id
  missionId?: Id
}>

export type EvaluationCompletedEvent = EventShape<'EvaluationCompleted', {
  evaluationId: Id
  missionAttemptId: Id
  userId: Id
  score: number
  feedback: string
  /** the score's scale; 100 when absent */
  maxScore?: number
  details?: EvaluationDetails
  email?: string
  missionId?: Id
  missionTitle?: string
}>

export type EvaluationFailedEvent = EventShape<'EvaluationFailed', {
  evaluationId: Id
  missionAttemptId: Id
  userId: Id
  failureReason: string
}>

export type EvaluationRetryRequestedEvent = EventShape<'EvaluationRetryRequested', {
  evaluationId: Id
  originalEvaluationId: Id
  /** 1 = first retry */
  retryAttempt: number
  /** added by this catalog (keying) */
  userId: Id
  /** added by this catalog (the attempt whose evaluation is retried) */
  missionAttemptId: Id
}>

export type EvaluationRetryCompletedEvent = EventShape<'EvaluationRetryCompleted', {
  evaluationId: Id
  retryAttempt: number
  finalScore: number
  needsHumanReview: boolean
  /** added by this catalog (keying) */
  userId: Id
  /** added by this catalog (the attempt whose evaluation is retried) */
  missionAttemptId: Id
  originalEvaluationId?: Id
  maxScore?: number
}>

/** The scale when an event does not name one (§5.4 says maxScore 100). */
export const DEFAULT_MAX_SCORE = 100

const AUTH = 'auth-service' as const
const UM = 'user-management-service' as const
const PAY = 'payment-service' as const
const MISSION = 'mission-service' as const

const criterion = { type: 'number', minimum: 0, maximum: 100 }
const details = {
  type: 'object',
  properties: { syntax: criterion, logic: criterion, performance: criterion, bestPractices: criterion },
  // further criteria may be added by the evaluator, but they are scores too
  additionalProperties: criterion
}
const maxScore = { type: 'number', exclusiveMinimum: 0 }
const retryAttempt = { type: 'integer', minimum: 1 }

/** A score above its own scale is a producer bug that would corrupt averages downstream. */
function scoreWithinScale (field: 'score' | 'finalScore'): EventCheck {
  return (body) => {
    const scale = typeof body.maxScore === 'number' ? body.maxScore : DEFAULT_MAX_SCORE
    const score = body[field] as number
    return score > scale
      ? [{ pointer: pointerOf(field), message: `must be at most maxScore (${scale}), got ${score}` }]
      : []
  }
}

function retryOfAnotherEvaluation (body: Readonly<Record<string, unknown>>): EventError[] {
  return body.originalEvaluationId !== undefined && sameId(body.evaluationId, body.originalEvaluationId)
    ? [{ pointer: pointerOf('originalEvaluationId'), message: 'must differ from evaluationId: a retry is a new evaluation of the same attempt' }]
    : []
}

export const EVALUATION_EVENT_DEFINITIONS: readonly EventDefinition[] = [
  defineEvent('EvaluationStarted', {
    description: 'The AI evaluation of a mission attempt started (automatic).',
    producer: 'ai-evaluation-service',
    consumers: [AUTH, MISSION],
    required: { evaluationId: F.id, missionAttemptId: F.id, userId: F.id },
    optional: { missionId: F.id }
  }),
  defineEvent('EvaluationCompleted', {
    description: 'The AI evaluation of a mission attempt finished with a score (automatic).',
    producer: 'ai-evaluation-service',
    consumers: [MISSION, AUTH, UM, PAY],
    required: { evaluationId: F.id, missionAttemptId: F.id, userId: F.id, score: F.nonNegative, feedback: F.string },
    optional: { maxScore, details, email: F.email, missionId: F.id, missionTitle: F.text },
    check: scoreWithinScale('score')
  }),
  defineEvent('EvaluationFailed', {
    description: 'The AI evaluation of a mission attempt failed (automatic).',
    producer: 'ai-evaluation-service',
    consumers: [AUTH, MISSION],
    required: { evaluationId: F.id, missionAttemptId: F.id, userId: F.id, failureReason: F.text }
  }),
  defineEvent('EvaluationRetryRequested', {
    description: 'A failed or doubtful evaluation is to be run again (automatic).',
    producer: 'ai-evaluation-service',
    consumers: [AUTH],
    required: { evaluationId: F.id, originalEvaluationId: F.id, retryAttempt, userId: F.id, missionAttemptId: F.id },
    added: ['userId', 'missionAttemptId'],
    check: retryOfAnotherEvaluation
  }),
  defineEvent('EvaluationRetryCompleted', {
    description: 'A retried evaluation finished (automatic); needsHumanReview routes it to evaluation-review.',
    producer: 'ai-evaluation-service',
    consumers: [AUTH, MISSION],
    required: {
      evaluationId: F.id,
      retryAttempt,
      finalScore: F.nonNegative,
      needsHumanReview: F.boolean,
      userId: F.id,
      missionAttemptId: F.id
    },
    optional: { originalEvaluationId: F.id, maxScore },
    added: ['userId', 'missionAttemptId'],
    check: (body) => [...scoreWithinScale('finalScore')(body), ...retryOfAnotherEvaluation(body)]
  })
]
