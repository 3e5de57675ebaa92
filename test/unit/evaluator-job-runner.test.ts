/**
 * One evaluation job without Redis or Kafka: job ids, emitted events (valid catalog events with deterministic
 * ids, keyed by userId, envelope headers), the save-before-send order, re-runs after a crash at each step,
 * timeouts, a missing submission, a superseded run.
 */
import { normalizeEvent, type EventByType } from '../../events'
import {
  emittedEventId, evaluationJobId, parseEvaluationJobId, runEvaluationJob, type CodeEvaluator, type EvaluationJobData, type EvaluationVerdict,
  type JobHandle, type JobProgress, type JobRunnerDeps, type StoredSubmission
} from '../../evaluator'
import type { ProducerRecord } from '../../streams/kafka'

describe('job ids', () => {
  test('<missionAttemptId>#<run>, unambiguous for any id, and parsed back', () => {
    expect(evaluationJobId('attempt_42', 1)).toBe('attempt_42#1')
    expect(evaluationJobId(42, 3)).toBe('42#3')
    expect(evaluationJobId('a:b#c d', 2)).toBe('a%3Ab%23c%20d#2')
    for (const [id, run] of [['attempt_42', 1], ['a:b#c d', 2], ['ünïcode', 12]] as const) {
      expect(parseEvaluationJobId(evaluationJobId(id, run))).toEqual({ missionAttemptId: id, attempt: run })
    }
    expect(() => evaluationJobId('x', 0)).toThrow(/positive integer/)
    expect(() => parseEvaluationJobId('x:1')).toThrow(/not an evaluation job id/)
  })

  test('emitted event ids depend on the job (hence the run) and the type only', () => {
    const a = emittedEventId('att#1', 'EvaluationStarted')
    expect(emittedEventId('att#1', 'EvaluationStarted')).toBe(a)
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(new Set([a, emittedEventId('att#2', 'EvaluationStarted'), emittedEventId('att#1', 'EvaluationCompleted'), emittedEventId('att#1', 'EvaluationFailed')]).size).toBe(4)
  })
})

const JOB: EvaluationJobData = {
  missionAttemptId: 'att-1', userId: 7, missionId: 'mission_3', attempt: 1, evaluationId: 'eval-1', originalEvaluationId: null,
  causeEventId: '0b6f5f2e-3c1d-4e8a-9a57-2f0d1c9e7b42', causeEventType: 'MissionCompleted', requestedAt: 1_705_312_200_000
}
const SUBMISSION: StoredSubmission = {
  missionAttemptId: 'att-1', userId: 7, missionId: 'mission_3', code: 'const x = 1', language: 'javascript', missionTitle: 'Two Sum',
  email: 'u7@devtrip.dev', completedAt: 1_705_312_200_000, eventId: JOB.causeEventId
}
const SCORE: EvaluationVerdict = { outcome: 'completed', score: 85, maxScore: 100, feedback: 'Good.', details: { syntax: 90, logic: 85, performance: 80, bestPractices: 85 } }

class FakeJob implements JobHandle {
  readonly saved: JobProgress[] = []
  constructor (readonly progress: JobProgress = {}, readonly id = 'att-1#1', readonly data = JOB, private readonly log: string[] = []) {}
  async saveProgress (progress: JobProgress): Promise<void> {
    this.log.push(`save:${Object.keys(progress).join(',')}`)
    this.saved.push(structuredClone(progress))
  }
}

function deps (log: string[], overrides: Partial<JobRunnerDeps> & { verdict?: EvaluationVerdict } = {}): JobRunnerDeps & { sent: ProducerRecord[], calls: number } {
  const sent: ProducerRecord[] = []
  const state = { calls: 0 }
  const evaluator: CodeEvaluator = {
    name: 'test-evaluator/1',
    evaluate: async () => { state.calls += 1; return overrides.verdict ?? SCORE }
  }
  let clock = 1_705_312_300_000
  return Object.assign(state, {
    sent,
    evaluator,
    loadSubmission: async () => SUBMISSION,
    send: async (records: readonly ProducerRecord[]) => { log.push(`send:${JSON.parse(records[0]!.value!.toString()).eventType as string}`); sent.push(...records) },
    jobExists: async () => false,
    evaluationTopic: 'evaluation-events-test',
    jobTimeoutMs: 1000,
    now: () => (clock += 1000),
    ...overrides
  })
}

const valueOf = (r: ProducerRecord): Record<string, unknown> => JSON.parse(r.value!.toString()) as Record<string, unknown>

test('a job saves each event before sending it, and emits Started then Completed as valid catalog events', async () => {
  const log: string[] = []
  const d = deps(log)
  const result = await runEvaluationJob(new FakeJob({}, 'att-1#1', JOB, log), d)
  expect(log).toEqual(['save:started', 'send:EvaluationStarted', 'save:started,startedSent', 'save:started,startedSent,outcome', 'send:EvaluationCompleted', 'save:started,startedSent,outcome,outcomeSent'])
  expect(result).toEqual({ outcome: 'completed', evaluator: 'test-evaluator/1', score: 85, eventIds: [emittedEventId('att-1#1', 'EvaluationStarted'), emittedEventId('att-1#1', 'EvaluationCompleted')], resent: 0 })
  const [started, done] = d.sent.map(valueOf)
  expect(started).toEqual({
    eventId: emittedEventId('att-1#1', 'EvaluationStarted'), eventType: 'EvaluationStarted', source: 'ai-evaluation-service', timestamp: 1_705_312_301_000, version: '1.0',
    evaluationId: 'eval-1', missionAttemptId: 'att-1', userId: 7, missionId: 'mission_3', attempt: 1, evaluator: 'test-evaluator/1'
  })
  expect(done).toEqual({
    eventId: emittedEventId('att-1#1', 'EvaluationCompleted'), eventType: 'EvaluationCompleted', source: 'ai-evaluation-service', timestamp: 1_705_312_302_000, version: '1.0',
    evaluationId: 'eval-1', missionAttemptId: 'att-1', userId: 7, score: 85, maxScore: 100, feedback: 'Good.', details: SCORE.details,
    missionId: 'mission_3', missionTitle: 'Two Sum', email: 'u7@devtrip.dev', attempt: 1, evaluator: 'test-evaluator/1'
  })
  for (const record of d.sent) {
    expect(record.topic).toBe('evaluation-events-test')
    expect(record.key!.toString()).toBe('7')
    const headers = Object.fromEntries(record.headers!.map(([k, v]) => [k, v!.toString()]))
    const value = valueOf(record)
    expect(headers).toEqual({ eventId: value.eventId, eventType: value.eventType, source: 'ai-evaluation-service', timestamp: new Date(value.timestamp as number).toISOString(), version: '1.0' })
    expect(record.timestamp).toBe(value.timestamp)
    expect(normalizeEvent(value, { headers: record.headers!, topic: 'evaluation-events' }).ok).toBe(true)
  }
})

test('an evaluation failure is an EvaluationFailed event with the reason and a detail for people', async () => {
  const d = deps([], { verdict: { outcome: 'failed', failureReason: 'rate-limited', message: 'the provider answered 429' } })
  const result = await runEvaluationJob(new FakeJob(), d)
  expect(result).toMatchObject({ outcome: 'failed', failureReason: 'rate-limited' })
  expect(valueOf(d.sent[1]!)).toMatchObject({
    eventType: 'EvaluationFailed', eventId: emittedEventId('att-1#1', 'EvaluationFailed'), failureReason: 'rate-limited', failureDetail: 'the provider answered 429', evaluator: 'test-evaluator/1'
  })
})

test('re-run after a crash between saving and sending Started: the saved Started is re-sent byte for byte, then evaluated', async () => {
  const first = deps([])
  const crashed = new FakeJob()
  await expect(runEvaluationJob(crashed, { ...first, send: async () => { throw new Error('process killed') } })).rejects.toThrow('process killed')
  expect(crashed.saved).toHaveLength(1)

  const rerun = deps([])
  const result = await runEvaluationJob(new FakeJob(crashed.saved[0]), rerun)
  expect(result).toMatchObject({ outcome: 'completed', resent: 1 })
  expect(valueOf(rerun.sent[0]!)).toEqual(crashed.saved[0]!.started)
  expect(rerun.calls).toBe(1)
})

test('re-run after Started was confirmed: Started is not sent again', async () => {
  const first = new FakeJob()
  const d = deps([])
  await runEvaluationJob(first, d)
  const afterStarted = first.saved[1]! // {started, startedSent}
  const rerun = deps([])
  await runEvaluationJob(new FakeJob(afterStarted), rerun)
  expect(rerun.sent.map((r) => valueOf(r).eventType)).toEqual(['EvaluationCompleted'])
})

test('re-run after the outcome was saved: the evaluation is NOT run again, the saved outcome is re-sent unchanged', async () => {
  const first = new FakeJob()
  await runEvaluationJob(first, deps([]))
  const savedOutcome = first.saved[2]! // {started, startedSent, outcome}
  const rerun = deps([], { verdict: { ...SCORE, score: 12 } as EvaluationVerdict })
  const result = await runEvaluationJob(new FakeJob(savedOutcome), rerun)
  expect(rerun.calls).toBe(0)
  expect(result).toMatchObject({ outcome: 'completed', score: 85, resent: 1 })
  expect(rerun.sent.map(valueOf)).toEqual([savedOutcome.outcome])
  // and once that was confirmed too, a re-run sends nothing at all
  const done = deps([])
  await runEvaluationJob(new FakeJob(first.saved[3]), done)
  expect(done.sent).toEqual([])
})

test('an evaluator slower than the job timeout is abandoned: EvaluationFailed(timeout), and it was told to stop', async () => {
  let aborted = false
  const d = deps([], {
    jobTimeoutMs: 50,
    evaluator: {
      name: 'stuck/1',
      evaluate: async (_input, signal) => await new Promise<EvaluationVerdict>(() => { signal.addEventListener('abort', () => { aborted = true }) })
    }
  })
  const result = await runEvaluationJob(new FakeJob(), d)
  expect(result).toMatchObject({ outcome: 'failed', failureReason: 'timeout', evaluator: 'stuck/1' })
  expect(aborted).toBe(true)
})

test('an evaluator that throws is provider-error, not a crashed job', async () => {
  const d = deps([], { evaluator: { name: 'broken/1', evaluate: async () => { throw new Error('boom') } } })
  expect(await runEvaluationJob(new FakeJob(), d)).toMatchObject({ outcome: 'failed', failureReason: 'provider-error' })
  expect(valueOf(d.sent[1]!).failureDetail).toBe('the evaluator threw: boom')
})

test('no stored submission: EvaluationFailed(submission-missing), no evaluation', async () => {
  const d = deps([], { loadSubmission: async () => null })
  expect(await runEvaluationJob(new FakeJob(), d)).toMatchObject({ outcome: 'failed', failureReason: 'submission-missing' })
  expect(d.calls).toBe(0)
  const failedEvent = valueOf(d.sent[1]!) as unknown as EventByType['EvaluationFailed']
  expect(failedEvent).not.toHaveProperty('missionTitle')
})

test('a run superseded by a later run of the same attempt emits nothing and does not evaluate', async () => {
  const asked: string[] = []
  const d = deps([], { jobExists: async (id) => { asked.push(id); return true } })
  expect(await runEvaluationJob(new FakeJob(), d)).toEqual({ outcome: 'superseded', evaluator: 'test-evaluator/1', eventIds: [], resent: 0 })
  expect(asked).toEqual(['att-1#2'])
  expect(d.sent).toEqual([])
  expect(d.calls).toBe(0)
})

test('a shutdown past the grace period abandons the evaluation: no outcome, the job attempt fails (to be retried)', async () => {
  const shutdown = new AbortController()
  let told = false
  const d = deps([], {
    jobTimeoutMs: 60_000,
    shutdown: shutdown.signal,
    evaluator: {
      name: 'slow/1',
      evaluate: async (_input, signal) => await new Promise<EvaluationVerdict>(() => { signal.addEventListener('abort', () => { told = true }) })
    }
  })
  const job = new FakeJob()
  const running = runEvaluationJob(job, d)
  await new Promise((resolve) => setImmediate(resolve))
  shutdown.abort()
  await expect(running).rejects.toMatchObject({ code: 'DEVTRIP_CLOSED', canRetry: true })
  expect(told).toBe(true)
  expect(d.sent.map((r) => valueOf(r).eventType)).toEqual(['EvaluationStarted'])
  expect(job.saved.at(-1)).toEqual({ started: job.saved[0]!.started, startedSent: true })
})

test('a retry run (its request names no mission) takes missionId from the stored submission, read once', async () => {
  let loads = 0
  const retryJob: EvaluationJobData = { ...JOB, missionId: null, attempt: 2, evaluationId: 'eval-2', originalEvaluationId: 'eval-1', causeEventType: 'EvaluationRetryRequested' }
  const d = deps([], { loadSubmission: async () => { loads += 1; return SUBMISSION } })
  await runEvaluationJob(new FakeJob({}, 'att-1#2', retryJob), d)
  expect(d.sent.map((r) => [valueOf(r).eventType, valueOf(r).missionId, valueOf(r).attempt])).toEqual([
    ['EvaluationStarted', 'mission_3', 2], ['EvaluationCompleted', 'mission_3', 2]
  ])
  expect(loads).toBe(1)
})
