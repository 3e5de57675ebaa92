/**
 * The evaluation of one mission attempt as a pure state machine (docs/topologies.md has the diagram):
 *
 *   reduceEvaluation(state | undefined, event, policies) → { state, outputs }   an input event
 *   advanceEvaluation(state, now, policies)             → { state, outputs }   time passing
 *
 * Time is EVENT time only. Every deadline is computed from event timestamps (MissionCompleted + startTimeout,
 * EvaluationStarted + runTimeout, failure + backoff) and fires when the caller's `now` reaches it (now ≥ deadline);
 * every output is stamped with the event time of the transition that made it (the deadline, or the input event),
 * never with the clock. An input event first advances its attempt to the event's own time, so an event arriving
 * after its deadline is judged late whatever else the task has seen: the outcome of an attempt is a function of
 * its events' timestamps alone, which is what makes replays and an independent model agree.
 *
 * Runs are numbered from 1; run k failing (EvaluationFailed, or a timeout) schedules retry k at
 * failure + backoffBase × multiplier^(k−1) while k < maxAttempts, and sends the attempt to human review otherwise.
 */
import { DEFAULT_MAX_SCORE, DevtripError, type DevtripEvent, type EventByType, type Id } from '../events'
import {
  evaluationIdFor,
  missionResult,
  retryCompleted,
  retryCompletedEventId,
  retryRequested,
  retryRequestedEventId,
  reviewRequested,
  type AttemptFacts,
  type EvaluationFailure,
  type EvaluationOutcome,
  type EvaluationOutput,
  type FailureKind
} from './evaluation-outputs'
import { retryBackoffMs, type Policies } from './policies'

export type AttemptPhase = 'awaiting-start' | 'running' | 'retry-scheduled' | 'completed' | 'needs-review'
export type DeadlineKind = 'start-timeout' | 'run-timeout' | 'retry-due'

/** The state of one mission attempt's evaluation, kept in the `evaluation-attempts` store (key: missionAttemptId). */
export interface AttemptState extends AttemptFacts {
  readonly phase: AttemptPhase
  /** event time at which the pending transition happens; null in the final phases */
  readonly deadline: number | null
  readonly deadlineKind: DeadlineKind | null
  /** start of the current run (EvaluationStarted time) */
  readonly startedAt: number | null
  readonly missionCompletedEventId: string | null
  readonly createdAt: number
  readonly updatedAt: number
  /** events that arrived too late for the phase they were meant for, and were ignored */
  readonly lateEvents: number
  /** retry events another producer wrote to evaluation-events (this topology decides retries; they are only counted) */
  readonly foreignRetryEvents: number
}

export interface EvaluationResult {
  readonly state: AttemptState | undefined
  readonly outputs: readonly EvaluationOutput[]
}

/** Event types the state machine reads; the other mission/evaluation types are ignored. */
export const EVALUATION_MACHINE_EVENT_TYPES = Object.freeze([
  'MissionCompleted', 'EvaluationStarted', 'EvaluationCompleted', 'EvaluationFailed', 'EvaluationRetryRequested', 'EvaluationRetryCompleted'
] as const)
export type EvaluationMachineEvent = EventByType[(typeof EVALUATION_MACHINE_EVENT_TYPES)[number]]
const MACHINE_TYPES: ReadonlySet<string> = new Set(EVALUATION_MACHINE_EVENT_TYPES)

export function isEvaluationMachineEvent (event: DevtripEvent): event is EvaluationMachineEvent {
  return MACHINE_TYPES.has(event.eventType)
}

type Draft = { -readonly [K in keyof AttemptState]: AttemptState[K] }

interface Step {
  draft: Draft
  outputs: EvaluationOutput[]
}

function newState (event: EvaluationMachineEvent): Draft {
  return {
    missionAttemptId: event.missionAttemptId,
    userId: event.userId,
    missionId: null,
    missionTitle: null,
    missionCompletedAt: null,
    missionCompletedEventId: null,
    phase: 'awaiting-start',
    attempt: 1,
    evaluationId: null,
    originalEvaluationId: null,
    startedAt: null,
    deadline: null,
    deadlineKind: null,
    failures: [],
    outcome: null,
    resultRevision: 0,
    reviewRequested: false,
    createdAt: event.timestamp,
    updatedAt: event.timestamp,
    lateEvents: 0,
    foreignRetryEvents: 0
  }
}

function setDeadline (draft: Draft, kind: DeadlineKind | null, at: number | null): void {
  draft.deadlineKind = kind
  draft.deadline = at
}

/** Run `draft.attempt` failed at event time `at`: schedule the next retry or give up. */
function fail (step: Step, kind: FailureKind, reason: string, at: number, evaluationId: Id | null, policies: Policies): void {
  const d = step.draft
  const failure: EvaluationFailure = { attempt: d.attempt, kind, reason, at, evaluationId }
  d.failures = [...d.failures, failure]
  if (d.attempt < policies.evaluation.maxAttempts) {
    d.phase = 'retry-scheduled'
    setDeadline(d, 'retry-due', at + retryBackoffMs(policies, d.attempt))
    return
  }
  d.phase = 'needs-review'
  d.reviewRequested = true
  setDeadline(d, null, null)
  const lastEvaluationId = evaluationId ?? d.evaluationId ?? evaluationIdFor(d.missionAttemptId, d.attempt)
  step.outputs.push(retryCompleted(d, d.attempt - 1, lastEvaluationId, 0, DEFAULT_MAX_SCORE, true, at))
  step.outputs.push(reviewRequested(d, lastEvaluationId, at))
}

/** The pending deadline passed: its transition happens at the deadline's event time. */
function fire (step: Step, policies: Policies): void {
  const d = step.draft
  const at = d.deadline as number
  d.updatedAt = Math.max(d.updatedAt, at)
  switch (d.deadlineKind) {
    case 'start-timeout':
      fail(step, 'start-timeout', 'start-timeout', at, d.evaluationId, policies)
      break
    case 'run-timeout':
      fail(step, 'run-timeout', 'run-timeout', at, d.evaluationId, policies)
      break
    case 'retry-due': {
      const retry = d.attempt
      const evaluationId = evaluationIdFor(d.missionAttemptId, retry + 1)
      step.outputs.push(retryRequested(d, retry, evaluationId, at))
      d.attempt = retry + 1
      d.evaluationId = evaluationId
      d.startedAt = null
      d.phase = 'awaiting-start'
      setDeadline(d, 'start-timeout', at + policies.evaluation.startTimeoutMs)
      break
    }
    default:
      setDeadline(d, null, null)
  }
}

/** Fires every deadline with deadline ≤ now, in order (a timeout may make a retry due, which may time out …). */
function advance (step: Step, now: number, policies: Policies): void {
  // each firing moves the deadline strictly forward (every duration is ≥ 1 ms) or clears it, so this ends
  while (step.draft.deadline !== null && step.draft.deadline <= now) fire(step, policies)
}

function isFinal (phase: AttemptPhase): boolean {
  return phase === 'completed' || phase === 'needs-review'
}

/** An id of a run that already failed or timed out: events about it are late news. */
function isFailedRun (d: Draft, evaluationId: Id): boolean {
  return d.failures.some((f) => f.evaluationId !== null && String(f.evaluationId) === String(evaluationId))
}

function onMissionCompleted (step: Step, event: EventByType['MissionCompleted'], policies: Policies, created: boolean): void {
  const d = step.draft
  if (d.missionCompletedEventId !== null) { d.lateEvents += 1; return }
  d.missionId = event.missionId
  d.missionTitle = event.missionTitle ?? null
  d.missionCompletedAt = event.timestamp
  d.missionCompletedEventId = event.eventId
  if (created) {
    setDeadline(d, 'start-timeout', event.timestamp + policies.evaluation.startTimeoutMs)
    return
  }
  // the evaluation result came first: publish it again, now joined with the mission
  if (d.phase === 'completed' && d.outcome !== null) {
    d.resultRevision += 1
    step.outputs.push(missionResult(d, d.outcome, event.timestamp))
  }
}

function onStarted (step: Step, event: EventByType['EvaluationStarted'], policies: Policies): void {
  const d = step.draft
  const late = d.phase === 'retry-scheduled' || isFinal(d.phase) || isFailedRun(d, event.evaluationId) ||
    (d.phase === 'running' && String(d.evaluationId) === String(event.evaluationId))
  if (late) { d.lateEvents += 1; return }
  if (d.missionId === null && event.missionId !== undefined) d.missionId = event.missionId
  d.evaluationId = event.evaluationId
  if (d.attempt === 1 && d.originalEvaluationId === null) d.originalEvaluationId = event.evaluationId
  d.startedAt = event.timestamp
  d.phase = 'running'
  setDeadline(d, 'run-timeout', event.timestamp + policies.evaluation.runTimeoutMs)
}

function onFailed (step: Step, event: EventByType['EvaluationFailed'], policies: Policies): void {
  const d = step.draft
  if (d.phase === 'retry-scheduled' || isFinal(d.phase) || isFailedRun(d, event.evaluationId)) { d.lateEvents += 1; return }
  if (d.attempt === 1 && d.originalEvaluationId === null) d.originalEvaluationId = event.evaluationId
  fail(step, 'evaluation-failed', event.failureReason, event.timestamp, event.evaluationId, policies)
}

function onCompleted (step: Step, event: EventByType['EvaluationCompleted']): void {
  const d = step.draft
  // the first score wins; a second completion (another eventId) changes nothing
  if (d.phase === 'completed') { d.lateEvents += 1; return }
  const wasReview = d.phase === 'needs-review'
  if (d.missionId === null && event.missionId !== undefined) d.missionId = event.missionId
  if (d.missionTitle === null && event.missionTitle !== undefined) d.missionTitle = event.missionTitle
  if (d.originalEvaluationId === null) d.originalEvaluationId = event.evaluationId
  const outcome: EvaluationOutcome = {
    evaluationId: event.evaluationId,
    score: event.score,
    maxScore: event.maxScore ?? DEFAULT_MAX_SCORE,
    feedback: event.feedback,
    details: event.details ?? null,
    evaluatedAt: event.timestamp,
    causeEventId: event.eventId
  }
  d.outcome = outcome
  d.evaluationId = event.evaluationId
  d.phase = 'completed'
  setDeadline(d, null, null)
  d.resultRevision += 1
  step.outputs.push(missionResult(d, outcome, event.timestamp))
  // a retry was requested and this run succeeded: close the retry with its score (not after review: that was closed)
  if (d.attempt > 1 && !wasReview) {
    step.outputs.push(retryCompleted(d, d.attempt - 1, event.evaluationId, event.score, outcome.maxScore, false, event.timestamp))
  }
}

/**
 * Our own retry events come back through evaluation-events (the topology reads the topic it writes): recognised by
 * their derived eventId, they are echoes and change nothing. Retry events from anyone else are counted, not obeyed.
 */
function onRetryEvent (step: Step, event: EventByType['EvaluationRetryRequested'] | EventByType['EvaluationRetryCompleted']): void {
  const ours = event.eventType === 'EvaluationRetryRequested'
    ? retryRequestedEventId(event.missionAttemptId, event.retryAttempt)
    : retryCompletedEventId(event.missionAttemptId, event.retryAttempt)
  if (event.eventId !== ours) step.draft.foreignRetryEvents += 1
}

/** Whether an event would create an attempt's state; echoes and foreign retry events never do. */
function createsState (event: EvaluationMachineEvent): boolean {
  return event.eventType !== 'EvaluationRetryRequested' && event.eventType !== 'EvaluationRetryCompleted'
}

/** Throws unless `event` may be applied to `state` (same attempt, same user); reduceEvaluation checks it too. */
export function assertSameAttempt (state: AttemptState, event: EvaluationMachineEvent): void {
  if (String(state.missionAttemptId) !== String(event.missionAttemptId)) {
    throw new DevtripError('DEVTRIP_PROCESSING', `evaluation state machine: the state of attempt ${String(state.missionAttemptId)} was given an event of attempt ${String(event.missionAttemptId)}`)
  }
  if (String(state.userId) !== String(event.userId)) {
    throw new DevtripError('DEVTRIP_INVALID_EVENT', `missionAttemptId ${String(event.missionAttemptId)} belongs to user ${String(state.userId)}, but this ${event.eventType} says user ${String(event.userId)}`, {
      details: { missionAttemptId: event.missionAttemptId, userId: event.userId, hint: 'a mission attempt belongs to one user; fix the producer' }
    })
  }
}

/** Applies one input event (deduplicated by eventId before, in the processor). */
export function reduceEvaluation (state: AttemptState | undefined, event: EvaluationMachineEvent, policies: Policies): EvaluationResult {
  if (state === undefined && !createsState(event)) return { state, outputs: [] }
  if (state !== undefined) assertSameAttempt(state, event)
  const created = state === undefined
  const step: Step = { draft: created ? newState(event) : { ...state }, outputs: [] }
  // judge the event against its own time first: a start after the start deadline is a timeout, not a start
  if (!created) advance(step, event.timestamp, policies)
  switch (event.eventType) {
    case 'MissionCompleted': onMissionCompleted(step, event, policies, created); break
    case 'EvaluationStarted': onStarted(step, event, policies); break
    case 'EvaluationFailed': onFailed(step, event, policies); break
    case 'EvaluationCompleted': onCompleted(step, event); break
    default: onRetryEvent(step, event)
  }
  step.draft.updatedAt = Math.max(step.draft.updatedAt, event.timestamp)
  return { state: step.draft, outputs: step.outputs }
}

/** Lets event time pass: fires every transition due at or before `now`. */
export function advanceEvaluation (state: AttemptState, now: number, policies: Policies): EvaluationResult {
  if (state.deadline === null || state.deadline > now) return { state, outputs: [] }
  const step: Step = { draft: { ...state }, outputs: [] }
  advance(step, now, policies)
  return { state: step.draft, outputs: step.outputs }
}
