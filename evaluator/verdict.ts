/**
 * What an evaluator is and what it answers. Two implementations exist: the OpenAI-compatible one
 * (openai-evaluator.ts) and the deterministic offline one (offline/offline-evaluator.ts).
 */

/** The four criteria of seed §5.4, each 0–100. */
export interface CriteriaScores {
  syntax: number
  logic: number
  performance: number
  bestPractices: number
}

export const CRITERIA = ['syntax', 'logic', 'performance', 'bestPractices'] as const
export type Criterion = (typeof CRITERIA)[number]

/**
 * Why an evaluation produced no score (EvaluationFailed.failureReason):
 *   timeout            the evaluation took longer than jobTimeoutMs
 *   rate-limited       the provider answered 429 (after the client's own retries)
 *   invalid-output     the provider answered, but not with a valid evaluation (bad JSON, missing fields, refusal)
 *   provider-error     anything else from the provider or the network (5xx, 401, connection refused)
 *   submission-missing no stored code for the attempt (a retry for an attempt whose MissionCompleted is unknown)
 */
export const FAILURE_REASONS = ['timeout', 'rate-limited', 'invalid-output', 'provider-error', 'submission-missing'] as const
export type FailureReason = (typeof FAILURE_REASONS)[number]

export type EvaluationVerdict =
  | {
    readonly outcome: 'completed'
    readonly score: number
    readonly maxScore: number
    readonly feedback: string
    /** a criterion the evaluator could not judge is absent (the generic offline fallback judges two) */
    readonly details: Partial<CriteriaScores>
  }
  | {
    readonly outcome: 'failed'
    readonly failureReason: FailureReason
    /** one sentence for people (logs, the event's failureDetail) */
    readonly message: string
  }

/** What an evaluator reads: the submission as the MissionCompleted event gave it. */
export interface EvaluationInput {
  readonly missionTitle: string | null
  readonly language: string | null
  readonly code: string
}

export interface CodeEvaluator {
  /** written into every emitted event's `evaluator` field, e.g. "openai:gpt-4o-mini" or "offline-heuristic/1" */
  readonly name: string
  /**
   * Never throws for an evaluation problem: every outcome is a verdict. `signal` aborts when the job's time is
   * up; an evaluator should stop its work then (the caller reports `timeout` either way).
   */
  evaluate (input: EvaluationInput, signal: AbortSignal): Promise<EvaluationVerdict>
}

export function failed (failureReason: FailureReason, message: string): EvaluationVerdict {
  return { outcome: 'failed', failureReason, message }
}

/** Clamps into [min, max]; rounds to 2 decimals so scores print cleanly. */
export function clampScore (value: number, min: number, max: number): number {
  return Math.round(Math.min(max, Math.max(min, value)) * 100) / 100
}
