/**
 * Evaluation jobs: their ids, their data, and the ids of the events a job emits.
 *
 * Job id = `<missionAttemptId>#<attempt>` where attempt is the evaluation run: 1 for the run a MissionCompleted
 * starts, retryAttempt + 1 for the run an EvaluationRetryRequested asks for (so retry 1 is run 2, as the
 * evaluation topology counts). BullMQ adds a job only if no job with its id exists, so a redelivered event (same
 * attempt id, same run) never makes a second job while the first is retained.
 *
 * Why `#` and not `:`: BullMQ 6 rejects custom ids containing ':' (its key separator). The missionAttemptId is
 * written with encodeURIComponent, which escapes '#' and ':' themselves, so the id is unambiguous (the last '#'
 * separates the run) and an ordinary id reads as expected: attempt "attempt_42", run 2 → "attempt_42#2".
 */
import { DevtripError, type Id } from '../events'
import { derivedEventId } from '../processors'

/** The evaluation events a job emits. */
export type EmittedEventType = 'EvaluationStarted' | 'EvaluationCompleted' | 'EvaluationFailed'

/** What the intake puts into a job: ids only. The submitted code is read from the submission store at run time. */
export interface EvaluationJobData {
  readonly missionAttemptId: Id
  readonly userId: Id
  readonly missionId: Id | null
  /** the evaluation run, 1-based */
  readonly attempt: number
  /** the evaluationId this run reports (the topology's id for run 1, the retry request's id after that) */
  readonly evaluationId: Id
  readonly originalEvaluationId: Id | null
  /** the event that asked for this run */
  readonly causeEventId: string
  readonly causeEventType: 'MissionCompleted' | 'EvaluationRetryRequested'
  /** event time of the cause (epoch ms) */
  readonly requestedAt: number
}

/** BullMQ's job name (one kind of job per queue; the name shows in the dashboard). */
export const EVALUATION_JOB_NAME = 'evaluate'

const ID_PART = /^(.+)#([1-9][0-9]{0,5})$/

export function evaluationJobId (missionAttemptId: Id, attempt: number): string {
  if (!Number.isInteger(attempt) || attempt < 1) {
    throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `an evaluation run is a positive integer, got ${attempt}`)
  }
  return `${encodeURIComponent(String(missionAttemptId))}#${attempt}`
}

/** The inverse of evaluationJobId (the attempt id comes back as a string: 42 and "42" are the same key). */
export function parseEvaluationJobId (jobId: string): { missionAttemptId: string, attempt: number } {
  const match = ID_PART.exec(jobId)
  if (match === null || match[1]!.includes('#')) {
    throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `not an evaluation job id: ${JSON.stringify(jobId)} (expected <missionAttemptId>#<run>)`)
  }
  return { missionAttemptId: decodeURIComponent(match[1]!), attempt: Number(match[2]) }
}

/**
 * The eventId of an event a job emits: a UUIDv5 (processors/derived-ids.ts) of the job id (which holds the run)
 * and the event type. A job re-run after a crash therefore emits the same ids, and a consumer deduplicating by
 * eventId sees a re-sent event as the duplicate it is.
 */
export function emittedEventId (jobId: string, type: EmittedEventType): string {
  return derivedEventId('ai-evaluation-service', jobId, type)
}
