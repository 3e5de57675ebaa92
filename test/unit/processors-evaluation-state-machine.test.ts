import { isDevtripError, normalizeEvent, sampleEvent, type EventByType } from '../../events'
import { evaluationIdFor, retryRequestedEventId, type EvaluationOutput } from '../../processors/evaluation-outputs'
import {
  advanceEvaluation,
  reduceEvaluation,
  type AttemptState,
  type EvaluationMachineEvent
} from '../../processors/evaluation-state-machine'
import { derivedEventId } from '../../processors/derived-ids'
import { resolvePolicies, type Policies } from '../../processors/policies'

const policies = resolvePolicies()
const T = 1_705_312_500_000
const S = 1000
const MIN = 60 * S
const ATTEMPT = 'attempt_789'
let seed = 900

type MachineType = EvaluationMachineEvent['eventType']
function ev<K extends MachineType> (type: K, at: number, fields: Partial<EventByType[K]> & Record<string, unknown> = {}): EventByType[K] {
  return sampleEvent(type, { userId: 123, missionAttemptId: ATTEMPT, timestamp: at, ...fields }, seed++) as EventByType[K]
}
const missionCompleted = (at: number): EventByType['MissionCompleted'] =>
  ev('MissionCompleted', at, { missionId: 'mission_1', missionTitle: 'First mission', completedAt: at })

/** Drives one attempt's machine the way the processor does and records every output. */
class Harness {
  state: AttemptState | undefined
  outputs: EvaluationOutput[] = []
  constructor (readonly p: Policies = policies) {}
  send (event: EvaluationMachineEvent): EvaluationOutput[] {
    const result = reduceEvaluation(this.state, event, this.p)
    this.state = result.state
    this.outputs.push(...result.outputs)
    return [...result.outputs]
  }

  advance (now: number): EvaluationOutput[] {
    const result = advanceEvaluation(this.state!, now, this.p)
    this.state = result.state
    this.outputs.push(...result.outputs)
    return [...result.outputs]
  }

  kinds (): string[] {
    return this.outputs.map((o) => o.kind === 'evaluation-event' ? o.value.eventType : o.value.eventType)
  }
}

function value<T> (output: EvaluationOutput | undefined): T {
  return output!.value as unknown as T
}

describe('evaluation state machine', () => {
  test('MissionCompleted → awaiting start, start deadline 2 min later in event time', () => {
    const h = new Harness()
    expect(h.send(missionCompleted(T))).toEqual([])
    expect(h.state).toMatchObject({ phase: 'awaiting-start', attempt: 1, deadline: T + 2 * MIN, deadlineKind: 'start-timeout', missionCompletedAt: T, userId: 123 })
  })

  test('the happy path: started, completed → MissionResultUpdated joined with the mission; no retry events', () => {
    const h = new Harness()
    h.send(missionCompleted(T))
    h.send(ev('EvaluationStarted', T + 5 * S, { evaluationId: 'eval_1' }))
    expect(h.state).toMatchObject({ phase: 'running', deadline: T + 5 * S + 5 * MIN, deadlineKind: 'run-timeout', evaluationId: 'eval_1', originalEvaluationId: 'eval_1' })
    const completed = ev('EvaluationCompleted', T + 65 * S, { evaluationId: 'eval_1', score: 85, maxScore: 100, feedback: 'good', details: { syntax: 95, logic: 80 } })
    const out = h.send(completed)
    expect(out).toHaveLength(1)
    expect(out[0]!.kind).toBe('mission-result')
    expect(value(out[0])).toEqual({
      eventId: derivedEventId(ATTEMPT, 'MissionResultUpdated', 1),
      eventType: 'MissionResultUpdated',
      source: 'devtrip-evaluation',
      timestamp: T + 65 * S,
      version: '1.0',
      revision: 1,
      userId: 123,
      missionAttemptId: ATTEMPT,
      missionId: 'mission_1',
      missionTitle: 'First mission',
      evaluationId: 'eval_1',
      originalEvaluationId: 'eval_1',
      score: 85,
      maxScore: 100,
      scorePercent: 85,
      feedback: 'good',
      details: { syntax: 95, logic: 80 },
      attempts: 1,
      failures: [],
      missionCompletedAt: T,
      evaluatedAt: T + 65 * S,
      timeToResultMs: 65 * S,
      afterHumanReview: false
    })
    expect(h.state).toMatchObject({ phase: 'completed', deadline: null })
    // nothing is due any more, ever
    expect(h.advance(T + 365 * 24 * 60 * MIN)).toEqual([])
  })

  test('no EvaluationStarted within 2 min → start-timeout; retry 1 requested 30 s later', () => {
    const h = new Harness()
    h.send(missionCompleted(T))
    expect(h.advance(T + 2 * MIN - 1)).toEqual([])
    expect(h.advance(T + 2 * MIN)).toEqual([])
    expect(h.state).toMatchObject({ phase: 'retry-scheduled', deadline: T + 2 * MIN + 30 * S, deadlineKind: 'retry-due' })
    expect(h.state!.failures).toEqual([{ attempt: 1, kind: 'start-timeout', reason: 'start-timeout', at: T + 2 * MIN, evaluationId: null }])
    expect(h.advance(T + 2 * MIN + 30 * S - 1)).toEqual([])
    const out = h.advance(T + 2 * MIN + 30 * S)
    expect(out).toHaveLength(1)
    const retry = value<EventByType['EvaluationRetryRequested']>(out[0])
    expect(retry).toEqual({
      eventId: retryRequestedEventId(ATTEMPT, 1),
      eventType: 'EvaluationRetryRequested',
      source: 'devtrip-evaluation',
      timestamp: T + 2 * MIN + 30 * S,
      version: '1.0',
      evaluationId: evaluationIdFor(ATTEMPT, 2),
      originalEvaluationId: evaluationIdFor(ATTEMPT, 1),
      retryAttempt: 1,
      userId: 123,
      missionAttemptId: ATTEMPT
    })
    expect(normalizeEvent(retry).ok).toBe(true)
    expect(h.state).toMatchObject({ phase: 'awaiting-start', attempt: 2, deadline: T + 4 * MIN + 30 * S, deadlineKind: 'start-timeout' })
  })

  test('EvaluationStarted with no outcome within 5 min → run-timeout', () => {
    const h = new Harness()
    h.send(missionCompleted(T))
    h.send(ev('EvaluationStarted', T + 10 * S, { evaluationId: 'e1' }))
    expect(h.advance(T + 10 * S + 5 * MIN - 1)).toEqual([])
    h.advance(T + 10 * S + 5 * MIN)
    expect(h.state!.failures).toEqual([{ attempt: 1, kind: 'run-timeout', reason: 'run-timeout', at: T + 10 * S + 5 * MIN, evaluationId: 'e1' }])
    expect(h.state).toMatchObject({ phase: 'retry-scheduled', deadline: T + 10 * S + 5 * MIN + 30 * S })
  })

  test('backoff doubles: retry 1 after 30 s, retry 2 after 60 s; the third failure goes to human review', () => {
    const h = new Harness()
    h.send(missionCompleted(T))
    h.send(ev('EvaluationStarted', T + S, { evaluationId: 'e1' }))
    h.send(ev('EvaluationFailed', T + 2 * S, { evaluationId: 'e1', failureReason: 'MODEL_TIMEOUT' }))
    expect(h.state).toMatchObject({ deadline: T + 2 * S + 30 * S })
    h.advance(T + 32 * S)
    h.send(ev('EvaluationStarted', T + 40 * S, { evaluationId: 'e2' }))
    h.send(ev('EvaluationFailed', T + 50 * S, { evaluationId: 'e2', failureReason: 'RATE_LIMITED' }))
    expect(h.state).toMatchObject({ phase: 'retry-scheduled', deadline: T + 50 * S + 60 * S })
    expect(h.advance(T + 110 * S - 1)).toEqual([])
    const second = h.advance(T + 110 * S)
    expect(value<EventByType['EvaluationRetryRequested']>(second[0])).toMatchObject({ retryAttempt: 2, timestamp: T + 110 * S, originalEvaluationId: 'e1', evaluationId: evaluationIdFor(ATTEMPT, 3) })
    h.send(ev('EvaluationStarted', T + 120 * S, { evaluationId: 'e3' }))
    const review = h.send(ev('EvaluationFailed', T + 130 * S, { evaluationId: 'e3', failureReason: 'INVALID_RESPONSE' }))
    expect(h.kinds()).toEqual(['EvaluationRetryRequested', 'EvaluationRetryRequested', 'EvaluationRetryCompleted', 'EvaluationReviewRequested'])
    const completed = value<EventByType['EvaluationRetryCompleted']>(review[0])
    expect(completed).toMatchObject({ needsHumanReview: true, retryAttempt: 2, finalScore: 0, evaluationId: 'e3', originalEvaluationId: 'e1', timestamp: T + 130 * S })
    expect(normalizeEvent(completed).ok).toBe(true)
    expect(review[1]!.kind).toBe('review')
    expect(value(review[1])).toMatchObject({
      eventType: 'EvaluationReviewRequested', attempts: 3, lastEvaluationId: 'e3', originalEvaluationId: 'e1', reason: 'retries-exhausted', missionId: 'mission_1'
    })
    expect(value<{ failures: Array<{ reason: string }> }>(review[1]).failures.map((f) => f.reason)).toEqual(['MODEL_TIMEOUT', 'RATE_LIMITED', 'INVALID_RESPONSE'])
    expect(h.state).toMatchObject({ phase: 'needs-review', deadline: null, reviewRequested: true })
  })

  test('timeouts count as failures towards the limit too', () => {
    const h = new Harness()
    h.send(missionCompleted(T))
    // nothing ever starts: timeout, retry, timeout, retry, timeout → review, all from one advance
    h.advance(T + 60 * MIN)
    expect(h.kinds()).toEqual(['EvaluationRetryRequested', 'EvaluationRetryRequested', 'EvaluationRetryCompleted', 'EvaluationReviewRequested'])
    const times = h.outputs.map((o) => o.value.timestamp)
    // timeout at 2:00, retry 1 at 2:30, timeout at 4:30, retry 2 at 5:30, timeout at 7:30 → review
    expect(times).toEqual([T + 150 * S, T + 330 * S, T + 450 * S, T + 450 * S])
    expect(h.state!.failures.map((f) => [f.kind, f.at])).toEqual([['start-timeout', T + 120 * S], ['start-timeout', T + 270 * S], ['start-timeout', T + 450 * S]])
  })

  test('the outcome does not depend on how time is advanced (one jump or many small steps)', () => {
    const mission = missionCompleted(T)
    const jump = new Harness()
    jump.send(mission)
    jump.advance(T + 60 * MIN)
    const steps = new Harness()
    steps.send(mission)
    for (let t = T; t <= T + 60 * MIN; t += 7 * S) steps.advance(t)
    expect(steps.outputs).toEqual(jump.outputs)
    expect(steps.state).toEqual(jump.state)
  })

  test('a retry that succeeds emits EvaluationRetryCompleted with its finalScore', () => {
    const h = new Harness()
    h.send(missionCompleted(T))
    h.send(ev('EvaluationStarted', T + S, { evaluationId: 'e1' }))
    h.send(ev('EvaluationFailed', T + 2 * S, { evaluationId: 'e1' }))
    h.advance(T + 32 * S)
    h.send(ev('EvaluationStarted', T + 40 * S, { evaluationId: 'e2' }))
    const out = h.send(ev('EvaluationCompleted', T + 70 * S, { evaluationId: 'e2', score: 72, maxScore: 80 }))
    expect(out.map((o) => o.kind)).toEqual(['mission-result', 'evaluation-event'])
    expect(value(out[0])).toMatchObject({ score: 72, maxScore: 80, scorePercent: 90, attempts: 2, evaluationId: 'e2', originalEvaluationId: 'e1', timeToResultMs: 70 * S })
    const done = value<EventByType['EvaluationRetryCompleted']>(out[1])
    expect(done).toMatchObject({ needsHumanReview: false, finalScore: 72, maxScore: 80, retryAttempt: 1, evaluationId: 'e2', originalEvaluationId: 'e1' })
    expect(normalizeEvent(done).ok).toBe(true)
  })

  test('an event after its deadline is judged late by its own time: a start after 2 min is a timeout first', () => {
    const h = new Harness()
    h.send(missionCompleted(T))
    const out = h.send(ev('EvaluationStarted', T + 3 * MIN, { evaluationId: 'slow' }))
    // the start-timeout fired at 2:00 and retry 1 became due at 2:30, both before this start
    expect(out.map((o) => o.value.eventType)).toEqual(['EvaluationRetryRequested'])
    expect(h.state).toMatchObject({ attempt: 2, phase: 'running', evaluationId: 'slow', startedAt: T + 3 * MIN })
  })

  test('an event exactly at the deadline is too late; one just before is in time', () => {
    const inTime = new Harness()
    inTime.send(missionCompleted(T))
    inTime.send(ev('EvaluationStarted', T + 2 * MIN - 1, { evaluationId: 'e' }))
    expect(inTime.state).toMatchObject({ phase: 'running', attempt: 1 })
    const late = new Harness()
    late.send(missionCompleted(T))
    late.send(ev('EvaluationStarted', T + 2 * MIN, { evaluationId: 'e' }))
    expect(late.state!.failures).toHaveLength(1)
  })

  test('late news about a run that already failed or timed out is ignored', () => {
    const h = new Harness()
    h.send(missionCompleted(T))
    h.send(ev('EvaluationStarted', T + S, { evaluationId: 'e1' }))
    h.advance(T + S + 5 * MIN) // run timeout of e1
    expect(h.send(ev('EvaluationFailed', T + S + 5 * MIN + 10 * S, { evaluationId: 'e1' }))).toEqual([])
    expect(h.state).toMatchObject({ phase: 'retry-scheduled', lateEvents: 1 })
    h.advance(T + 6 * MIN) // retry 1 requested at 5:31
    expect(h.send(ev('EvaluationStarted', T + 6 * MIN + S, { evaluationId: 'e1' }))).toEqual([])
    expect(h.send(ev('EvaluationFailed', T + 6 * MIN + 2 * S, { evaluationId: 'e1' }))).toEqual([])
    expect(h.state).toMatchObject({ phase: 'awaiting-start', attempt: 2, lateEvents: 3 })
    expect(h.state!.failures).toHaveLength(1)
  })

  test('a late completion during the backoff is accepted and cancels the pending retry', () => {
    const h = new Harness()
    h.send(missionCompleted(T))
    h.send(ev('EvaluationStarted', T + S, { evaluationId: 'e1' }))
    h.advance(T + S + 5 * MIN)
    const out = h.send(ev('EvaluationCompleted', T + S + 5 * MIN + 5 * S, { evaluationId: 'e1', score: 60 }))
    expect(out.map((o) => o.kind)).toEqual(['mission-result'])
    expect(value(out[0])).toMatchObject({ score: 60, attempts: 1, failures: [expect.objectContaining({ kind: 'run-timeout' })] })
    expect(h.state).toMatchObject({ phase: 'completed', deadline: null })
    expect(h.advance(T + 60 * MIN)).toEqual([])
  })

  test('the first score wins; a second completion (another eventId) is a late duplicate', () => {
    const h = new Harness()
    h.send(missionCompleted(T))
    h.send(ev('EvaluationCompleted', T + 10 * S, { evaluationId: 'e1', score: 50 }))
    expect(h.send(ev('EvaluationCompleted', T + 20 * S, { evaluationId: 'e1', score: 99 }))).toEqual([])
    expect(h.send(ev('EvaluationStarted', T + 30 * S, { evaluationId: 'e9' }))).toEqual([])
    expect(h.send(ev('EvaluationFailed', T + 40 * S, { evaluationId: 'e9' }))).toEqual([])
    expect(h.state).toMatchObject({ phase: 'completed', lateEvents: 3 })
    expect(h.state!.outcome!.score).toBe(50)
    expect(h.send(missionCompleted(T + 50 * S))).toEqual([])
    expect(h.state!.lateEvents).toBe(4)
  })

  test('out of order: the evaluation before its MissionCompleted → result now, joined revision when the mission arrives', () => {
    const h = new Harness()
    h.send(ev('EvaluationStarted', T + 5 * S, { evaluationId: 'e1' }))
    const first = h.send(ev('EvaluationCompleted', T + 60 * S, { evaluationId: 'e1', score: 90, missionId: 'mission_1' }))
    expect(value(first[0])).toMatchObject({ revision: 1, missionCompletedAt: null, timeToResultMs: null, missionId: 'mission_1' })
    const second = h.send(missionCompleted(T))
    expect(second).toHaveLength(1)
    expect(value(second[0])).toMatchObject({
      eventId: derivedEventId(ATTEMPT, 'MissionResultUpdated', 2), revision: 2, missionCompletedAt: T, timeToResultMs: 60 * S, missionTitle: 'First mission', score: 90, timestamp: T
    })
    // no start deadline was scheduled for an attempt already evaluated
    expect(h.state).toMatchObject({ phase: 'completed', deadline: null })
  })

  test('a failure before anything else is known starts the retry cycle', () => {
    const h = new Harness()
    h.send(ev('EvaluationFailed', T, { evaluationId: 'e1' }))
    expect(h.state).toMatchObject({ phase: 'retry-scheduled', originalEvaluationId: 'e1', deadline: T + 30 * S, missionCompletedAt: null })
  })

  test('a completion after human review still publishes the result (afterHumanReview), without another retry event', () => {
    const h = new Harness()
    h.send(missionCompleted(T))
    h.advance(T + 60 * MIN)
    const before = h.outputs.length
    const out = h.send(ev('EvaluationCompleted', T + 61 * MIN, { evaluationId: 'late', score: 70 }))
    expect(out.map((o) => o.kind)).toEqual(['mission-result'])
    expect(value(out[0])).toMatchObject({ afterHumanReview: true, attempts: 3, score: 70 })
    expect(h.outputs).toHaveLength(before + 1)
  })

  test('our own retry events coming back are echoes: nothing changes; other producers\' retry events are only counted', () => {
    const h = new Harness()
    h.send(missionCompleted(T))
    h.advance(T + 2 * MIN + 30 * S)
    const ours = h.outputs[0]!.value as EventByType['EvaluationRetryRequested']
    const before = h.state
    expect(h.send(ours)).toEqual([])
    expect(h.state).toEqual(before)
    const foreign = ev('EvaluationRetryRequested', T + 3 * MIN, { retryAttempt: 1, evaluationId: 'x2', originalEvaluationId: 'x1' })
    expect(h.send(foreign)).toEqual([])
    expect(h.state).toMatchObject({ foreignRetryEvents: 1, attempt: 2, phase: 'awaiting-start' })
    // a retry event for an unknown attempt creates nothing
    expect(reduceEvaluation(undefined, ev('EvaluationRetryCompleted', T), policies)).toEqual({ state: undefined, outputs: [] })
  })

  test('an attempt id reused by another user is refused (DEVTRIP_INVALID_EVENT)', () => {
    const h = new Harness()
    h.send(missionCompleted(T))
    let error: unknown
    try {
      h.send(ev('EvaluationStarted', T + S, { userId: 999 }))
    } catch (e) { error = e }
    expect(isDevtripError(error, 'DEVTRIP_INVALID_EVENT')).toBe(true)
    expect((error as Error).message).toContain('belongs to user 123')
  })

  test('maxAttempts and backoff are policies', () => {
    const h = new Harness(resolvePolicies({ evaluation: { maxAttempts: 2, backoffBaseMs: 5000, startTimeoutMs: 10_000 } }))
    h.send(missionCompleted(T))
    h.advance(T + 10 * MIN)
    // timeout at 10 s, retry at 15 s, timeout at 25 s → review (2 runs)
    expect(h.outputs.map((o) => [o.value.eventType, o.value.timestamp])).toEqual([
      ['EvaluationRetryRequested', T + 15 * S], ['EvaluationRetryCompleted', T + 25 * S], ['EvaluationReviewRequested', T + 25 * S]
    ])
  })

  test('replaying the same events gives identical outputs and ids', () => {
    const events = [
      missionCompleted(T),
      ev('EvaluationStarted', T + 4 * MIN, { evaluationId: 'e2' }),
      ev('EvaluationCompleted', T + 5 * MIN, { evaluationId: 'e2', score: 40 })
    ] as const
    const script = (h: Harness): void => {
      h.send(events[0])
      h.advance(T + 3 * MIN)
      h.send(events[1])
      h.send(events[2])
    }
    const a = new Harness()
    script(a)
    const b = new Harness()
    script(b)
    expect(b.outputs.map((o) => o.value.eventId)).toEqual(a.outputs.map((o) => o.value.eventId))
    expect(b.outputs.map((o) => o.value)).toEqual(a.outputs.map((o) => o.value))
  })

  test('reduce and advance never mutate the state they are given', () => {
    const h = new Harness()
    h.send(missionCompleted(T))
    const snapshot = structuredClone(h.state)
    reduceEvaluation(h.state, ev('EvaluationFailed', T + S), policies)
    advanceEvaluation(h.state!, T + 60 * MIN, policies)
    expect(h.state).toEqual(snapshot)
  })
})
