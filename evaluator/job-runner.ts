/**
 * What one evaluation job does, independent of BullMQ (the worker adapts a BullMQ job to JobHandle):
 *
 *   1. EvaluationStarted   built, saved in the job's progress, produced, marked sent
 *   2. evaluate            the stored submission, bounded by jobTimeoutMs (AbortSignal + a race)
 *   3. the outcome         EvaluationCompleted or EvaluationFailed: built, saved, produced, marked sent
 *
 * Crash safety: every event is saved in the job (Redis) BEFORE it is produced, and the job is re-run by BullMQ
 * when its worker dies (stalled job). A re-run re-sends a saved-but-unconfirmed event byte for byte and skips a
 * confirmed one, so it never produces a second distinct event: the same eventId can reach the topic twice only
 * when the worker died between Kafka's acknowledgement and the progress write, and then both copies are
 * identical. Above all, an evaluation that finished is never run again (an LLM would answer differently).
 *
 * Failures of the evaluation itself are events, not job failures. A job only fails (and BullMQ retries it,
 * `jobAttempts` times with backoff) when Kafka or Redis cannot be reached.
 */
import { DevtripError } from '../events'
import type { ProducerRecord } from '../streams/kafka'
import { eventRecord, outcomeEvent, startedEvent, type EmittedEvent } from './emitted-events'
import { evaluationJobId, type EvaluationJobData } from './jobs'
import type { StoredSubmission } from './submissions'
import { failed, type CodeEvaluator, type EvaluationVerdict, type FailureReason } from './verdict'

/** What the runner keeps in the job between steps (BullMQ job progress; also visible in the dashboard). */
export interface JobProgress {
  readonly started?: EmittedEvent
  readonly startedSent?: boolean
  readonly outcome?: EmittedEvent
  readonly outcomeSent?: boolean
}

export interface JobHandle {
  readonly id: string
  readonly data: EvaluationJobData
  /** the progress saved by an earlier run of this job, if any */
  readonly progress: JobProgress
  saveProgress (progress: JobProgress): Promise<void>
}

export interface JobRunnerDeps {
  readonly evaluator: CodeEvaluator
  readonly loadSubmission: (missionAttemptId: EvaluationJobData['missionAttemptId']) => Promise<StoredSubmission | null>
  readonly send: (records: readonly ProducerRecord[]) => Promise<unknown>
  /** whether a job with this id exists (a later run of the same attempt supersedes this one) */
  readonly jobExists: (jobId: string) => Promise<boolean>
  readonly evaluationTopic: string
  readonly jobTimeoutMs: number
  /** aborted when the worker shuts down and its grace period is over: a running evaluation is abandoned */
  readonly shutdown?: AbortSignal
  readonly now?: () => number
}

export interface JobResult {
  readonly outcome: 'completed' | 'failed' | 'superseded'
  readonly evaluator: string
  readonly eventIds: readonly string[]
  readonly score?: number
  readonly failureReason?: FailureReason
  /** events this run re-sent from a previous run's progress instead of building them */
  readonly resent: number
}

/**
 * Evaluates, but never for longer than timeoutMs: a late evaluator is abandoned and reported as `timeout`.
 * When `shutdown` aborts first, the evaluation is abandoned WITHOUT a verdict: this throws DEVTRIP_CLOSED, the
 * job fails this attempt, and BullMQ runs it again (on another worker) after its backoff.
 */
export async function evaluateWithTimeout (evaluator: CodeEvaluator, submission: StoredSubmission, timeoutMs: number, shutdown?: AbortSignal): Promise<EvaluationVerdict> {
  const controller = new AbortController()
  let timer: NodeJS.Timeout | undefined
  let onShutdown: (() => void) | undefined
  const timeout = new Promise<EvaluationVerdict>((resolve) => {
    timer = setTimeout(() => {
      controller.abort(new DevtripError('DEVTRIP_TIMEOUT', `evaluation exceeded ${timeoutMs} ms`))
      resolve(failed('timeout', `the evaluation took longer than the job timeout (${timeoutMs} ms)`))
    }, timeoutMs)
  })
  const abandoned = new Promise<never>((_resolve, reject) => {
    onShutdown = () => {
      const error = new DevtripError('DEVTRIP_CLOSED', 'the worker shut down before the evaluation finished; the job runs again', { canRetry: true })
      controller.abort(error)
      reject(error)
    }
    if (shutdown?.aborted === true) onShutdown()
    else shutdown?.addEventListener('abort', onShutdown, { once: true })
  })
  abandoned.catch(() => undefined)
  try {
    const input = { missionTitle: submission.missionTitle, language: submission.language, code: submission.code }
    return await Promise.race([
      evaluator.evaluate(input, controller.signal).catch((error: unknown) => failed('provider-error', `the evaluator threw: ${error instanceof Error ? error.message : String(error)}`)),
      timeout,
      abandoned
    ])
  } finally {
    clearTimeout(timer)
    if (onShutdown !== undefined) shutdown?.removeEventListener('abort', onShutdown)
  }
}

export async function runEvaluationJob (job: JobHandle, deps: JobRunnerDeps): Promise<JobResult> {
  const now = deps.now ?? Date.now
  let progress: JobProgress = { ...job.progress }
  let resent = 0
  const evaluatorName = deps.evaluator.name

  const emit = async (event: EmittedEvent, sentField: 'startedSent' | 'outcomeSent'): Promise<void> => {
    await deps.send([eventRecord(deps.evaluationTopic, event)])
    progress = { ...progress, [sentField]: true }
    await job.saveProgress(progress)
  }

  // read once, and only when an event still has to be built from it
  let submission: StoredSubmission | null | undefined
  const loadSubmission = async (): Promise<StoredSubmission | null> => {
    if (submission === undefined) submission = await deps.loadSubmission(job.data.missionAttemptId)
    return submission
  }

  if (progress.started === undefined) {
    // a later run of this attempt was requested (the topology gave up on this one): running this one would only
    // produce events the topology ignores as late, and spend an LLM call
    if (await deps.jobExists(evaluationJobId(job.data.missionAttemptId, job.data.attempt + 1))) {
      return { outcome: 'superseded', evaluator: evaluatorName, eventIds: [], resent: 0 }
    }
    progress = { started: startedEvent(job.id, job.data, await loadSubmission(), evaluatorName, now()) }
    await job.saveProgress(progress)
    await emit(progress.started!, 'startedSent')
  } else if (progress.startedSent !== true) {
    resent += 1
    await emit(progress.started, 'startedSent')
  }

  if (progress.outcome === undefined) {
    const stored = await loadSubmission()
    const verdict = stored === null
      ? failed('submission-missing', `no stored submission for mission attempt ${String(job.data.missionAttemptId)} (its MissionCompleted was never seen, or is older than the retention)`)
      : await evaluateWithTimeout(deps.evaluator, stored, deps.jobTimeoutMs, deps.shutdown)
    progress = { ...progress, outcome: outcomeEvent(job.id, job.data, stored, verdict, evaluatorName, now()) }
    await job.saveProgress(progress)
    await emit(progress.outcome!, 'outcomeSent')
  } else if (progress.outcomeSent !== true) {
    resent += 1
    await emit(progress.outcome, 'outcomeSent')
  }

  const outcome = progress.outcome!
  const eventIds = [progress.started!.eventId, outcome.eventId]
  return outcome.eventType === 'EvaluationCompleted'
    ? { outcome: 'completed', evaluator: evaluatorName, eventIds, score: outcome.score, resent }
    : { outcome: 'failed', evaluator: evaluatorName, eventIds, failureReason: (outcome as { failureReason: FailureReason }).failureReason, resent }
}
