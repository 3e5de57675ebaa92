/**
 * The catalog events a job emits, and the Kafka records that carry them.
 *
 * Each event is checked by normalizeEvent() before it leaves (our own output must be a valid catalog event; a
 * failure here is a bug, thrown as DEVTRIP_PROCESSING). The record is keyed by userId (events/keys.ts), carries
 * the §5.1 envelope in the value and as headers (envelopeToHeaders), and its timestamp is the event's.
 *
 * Beyond the catalog fields every event carries `evaluator` (which evaluator produced it: "openai:<model>" or
 * "offline-heuristic/1") and `attempt` (the run); EvaluationFailed adds `failureDetail` (one sentence for
 * people). The catalog accepts additional fields, so consumers that do not know them are unaffected.
 */
import { DevtripError, envelopeToHeaders, normalizeEvent, recordKeyFor, type DevtripEvent, type EventByType } from '../events'
import type { ProducerRecord } from '../streams/kafka'
import { emittedEventId, type EmittedEventType, type EvaluationJobData } from './jobs'
import type { StoredSubmission } from './submissions'
import type { EvaluationVerdict } from './verdict'

export const EVALUATOR_SOURCE = 'ai-evaluation-service'
const VERSION = '1.0'

export type EmittedEvent = EventByType['EvaluationStarted'] | EventByType['EvaluationCompleted'] | EventByType['EvaluationFailed']

function validated<T extends EmittedEventType> (type: T, body: Record<string, unknown>): EventByType[T] {
  const result = normalizeEvent(body, { type, topic: 'evaluation-events' })
  if (!result.ok) {
    throw new DevtripError('DEVTRIP_PROCESSING', `the evaluator built an invalid ${type}: ${result.errors.map((e) => `${e.pointer} ${e.message}`).join('; ')}`, {
      details: { errors: result.errors }
    })
  }
  return result.event as EventByType[T]
}

function envelope (jobId: string, type: EmittedEventType, at: number): Record<string, unknown> {
  return { eventId: emittedEventId(jobId, type), eventType: type, source: EVALUATOR_SOURCE, timestamp: at, version: VERSION }
}

/** The mission of the attempt: a retry request does not name it, the stored submission does. */
function missionIdOf (job: EvaluationJobData, submission: StoredSubmission | null): Record<string, unknown> {
  const missionId = job.missionId ?? submission?.missionId ?? null
  return missionId === null ? {} : { missionId }
}

export function startedEvent (jobId: string, job: EvaluationJobData, submission: StoredSubmission | null, evaluator: string, at: number): EventByType['EvaluationStarted'] {
  return validated('EvaluationStarted', {
    ...envelope(jobId, 'EvaluationStarted', at),
    evaluationId: job.evaluationId,
    missionAttemptId: job.missionAttemptId,
    userId: job.userId,
    ...missionIdOf(job, submission),
    attempt: job.attempt,
    evaluator
  })
}

/** EvaluationCompleted or EvaluationFailed for a verdict (submission is null when none was stored). */
export function outcomeEvent (jobId: string, job: EvaluationJobData, submission: StoredSubmission | null, verdict: EvaluationVerdict, evaluator: string, at: number): EventByType['EvaluationCompleted'] | EventByType['EvaluationFailed'] {
  const ids = { evaluationId: job.evaluationId, missionAttemptId: job.missionAttemptId, userId: job.userId }
  if (verdict.outcome === 'failed') {
    return validated('EvaluationFailed', {
      ...envelope(jobId, 'EvaluationFailed', at),
      ...ids,
      failureReason: verdict.failureReason,
      failureDetail: verdict.message,
      attempt: job.attempt,
      evaluator
    })
  }
  return validated('EvaluationCompleted', {
    ...envelope(jobId, 'EvaluationCompleted', at),
    ...ids,
    score: verdict.score,
    maxScore: verdict.maxScore,
    feedback: verdict.feedback,
    details: verdict.details,
    ...missionIdOf(job, submission),
    ...(submission?.missionTitle == null ? {} : { missionTitle: submission.missionTitle }),
    ...(submission?.email == null ? {} : { email: submission.email }),
    attempt: job.attempt,
    evaluator
  })
}

/** The Kafka record of an emitted event (value = the JSON event, envelope also in headers, key = userId). */
export function eventRecord (topic: string, event: DevtripEvent): ProducerRecord {
  const headers = Object.entries(envelopeToHeaders(event)).map(([name, value]) => [name, Buffer.from(value, 'utf8')] as const)
  return {
    topic,
    key: Buffer.from(recordKeyFor(event as { userId: string | number }), 'utf8'),
    value: Buffer.from(JSON.stringify(event), 'utf8'),
    headers,
    timestamp: event.timestamp
  }
}
