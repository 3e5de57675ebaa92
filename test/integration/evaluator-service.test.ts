/**
 * The evaluator end to end on the real broker and Redis, with the loopback fake OpenAI server: MissionCompleted →
 * job → EvaluationStarted + EvaluationCompleted/Failed on evaluation-events; redelivery makes no second job; retry
 * requests run the next attempt on the stored code; every failure reason; the offline evaluator.
 */
import { sampleEvent, type DevtripEvent, type EventByType } from '../../events'
import { evaluationIdFor, retryRequestedEventId } from '../../processors'
import {
  ANSWER_SCHEMA, ANSWER_SCHEMA_NAME, EvaluatorService, emittedEventId, evaluateOffline, evaluationJobId, type EvaluatorConfigInput
} from '../../evaluator'
import { FakeOpenAIServer, type FakeMode } from '../support/fake-openai-server'
import { EvaluatorKit, ofAttempt, waitFor, type ReadEvent } from './evaluator-kit'

jest.setTimeout(120_000)

const kit = new EvaluatorKit('svc')
const prefix = kit.topicPrefix('main')
let topics: Record<string, string>
let fake: FakeOpenAIServer
let service: EvaluatorService
let input: EvaluatorConfigInput
const quiet = (): void => {}

const MODES: readonly FakeMode[] = ['malformed', 'wrong-shape', 'rate-limited', 'server-error', 'slow', 'hold']

beforeAll(async () => {
  topics = await kit.createTopics(prefix)
  fake = await FakeOpenAIServer.start()
  fake.slowMs = 10_000
  // requests run in parallel, so the mode is chosen by a marker in the submitted code
  fake.modeFor = (body) => {
    const prompt = String(body?.messages?.[1]?.content ?? '')
    return MODES.find((m) => prompt.includes(`MODE:${m}`))
  }
  input = kit.serviceInput(prefix, {
    provider: 'openai', openaiApiKey: 'sk-integration', openaiBaseUrl: fake.baseUrl, model: 'fake-model', openaiMaxRetries: 0, jobTimeoutMs: 2000, concurrency: 4
  })
  service = await EvaluatorService.start(input, { log: quiet })
})

afterAll(async () => {
  await service?.stop()
  fake?.release()
  await fake?.close()
  await kit.close()
})

/** the types the evaluator emits (retry requests share the topic) */
const EMITTED = ['EvaluationStarted', 'EvaluationCompleted', 'EvaluationFailed']

let seq = 0
/** MissionCompleted records produced so far (redeliveries included) */
let produced = 0
async function produceMissions (events: DevtripEvent[]): Promise<void> {
  await kit.produce(topics['mission-events']!, events)
  produced += events.length
}

function missionCompleted (code: string, extra: Record<string, unknown> = {}): EventByType['MissionCompleted'] {
  seq += 1
  return sampleEvent('MissionCompleted', {
    // now, not the samples' 2024: the topics keep a week, and event time matters to the topology downstream
    missionAttemptId: `${kit.run}-attempt-${seq}`, userId: 100 + seq, missionId: `mission_${seq}`, missionTitle: `Mission ${seq}`, language: 'javascript', code, timestamp: Date.now(), ...extra
  }, seq)
}

async function outcomesOf (attemptId: string, count = 1): Promise<ReadEvent[]> {
  const events = await kit.readUntil(topics['evaluation-events']!, (all) =>
    ofAttempt(all, attemptId).filter((e) => e.value.eventType === 'EvaluationCompleted' || e.value.eventType === 'EvaluationFailed').length >= count)
  return ofAttempt(events, attemptId).filter((e) => EMITTED.includes(e.value.eventType))
}

test('a MissionCompleted is evaluated by the OpenAI client with the JSON schema format; Started and Completed are emitted', async () => {
  const event = missionCompleted('function add (a, b) { return a + b }')
  const attemptId = String(event.missionAttemptId)
  await produceMissions([event])
  const events = await outcomesOf(attemptId)
  const jobId = evaluationJobId(attemptId, 1)

  expect(events.map((e) => e.value.eventType)).toEqual(['EvaluationStarted', 'EvaluationCompleted'])
  const [started, completed] = events
  expect(started!.value).toMatchObject({
    eventId: emittedEventId(jobId, 'EvaluationStarted'), source: 'ai-evaluation-service', version: '1.0',
    evaluationId: evaluationIdFor(attemptId, 1), missionAttemptId: attemptId, userId: event.userId, missionId: event.missionId, attempt: 1, evaluator: 'openai:fake-model'
  })
  expect(completed!.value).toMatchObject({
    eventId: emittedEventId(jobId, 'EvaluationCompleted'), evaluationId: evaluationIdFor(attemptId, 1), score: 85, maxScore: 100,
    feedback: fake.answer.feedback, details: fake.answer.details, missionTitle: event.missionTitle, missionId: event.missionId, evaluator: 'openai:fake-model'
  })
  for (const e of events) {
    expect(e.key).toBe(String(event.userId))
    expect(e.headers).toEqual({ eventId: e.value.eventId, eventType: e.value.eventType, source: 'ai-evaluation-service', timestamp: new Date(e.value.timestamp).toISOString(), version: '1.0' })
  }

  const request = fake.requests.find((r) => String(r.body.messages[1].content).includes('function add (a, b)'))!
  expect(request.headers.authorization).toBe('Bearer sk-integration')
  expect(request.body.model).toBe('fake-model')
  expect(request.body.response_format).toEqual({ type: 'json_schema', json_schema: { name: ANSWER_SCHEMA_NAME, schema: ANSWER_SCHEMA, strict: true } })
  const prompt = request.body.messages[1].content as string
  expect(prompt).toContain(`Mission: ${String(event.missionTitle)}`)
  expect(prompt).toContain('Language: javascript')
  expect(prompt).toContain('function add (a, b) { return a + b }')
})

test('a redelivered MissionCompleted makes no second job: the same record again, and a second intake group replaying the topic', async () => {
  const event = missionCompleted('const twice = (x) => x * 2')
  const attemptId = String(event.missionAttemptId)
  await produceMissions([event, event])
  await outcomesOf(attemptId)
  await produceMissions([event])

  // a second intake (its own group, so it reads the whole topic from the start) feeding the same queue
  const replay = await EvaluatorService.start({ ...input, groupId: `${input.groupId!}-replay` }, { workers: false, log: quiet })
  try {
    await waitFor('the replaying intake to read the whole topic', () => (replay.intake!.stats.missionCompleted >= produced ? true : undefined))
  } finally {
    await replay.stop()
  }
  await waitFor('the first intake to read the third copy', () => (service.intake!.stats.missionCompleted >= produced ? true : undefined))

  const jobs = await service.queue.getJobs(['completed', 'active', 'wait', 'delayed', 'failed'])
  expect(jobs.filter((j) => j.id === evaluationJobId(attemptId, 1))).toHaveLength(1)
  expect(jobs.filter((j) => String(j.data.missionAttemptId) === attemptId)).toHaveLength(1)
  expect(fake.requests.filter((r) => String(r.body.messages[1].content).includes('const twice'))).toHaveLength(1)
  expect((await outcomesOf(attemptId)).map((e) => e.value.eventType)).toEqual(['EvaluationStarted', 'EvaluationCompleted'])
})

test.each([
  ['malformed', 'invalid-output'],
  ['wrong-shape', 'invalid-output'],
  ['rate-limited', 'rate-limited'],
  ['server-error', 'provider-error'],
  ['slow', 'timeout']
] as const)('an answer of mode %s is EvaluationFailed(%s)', async (mode, reason) => {
  const event = missionCompleted(`// MODE:${mode}\nmodule.exports = 1`)
  const attemptId = String(event.missionAttemptId)
  await produceMissions([event])
  const events = await outcomesOf(attemptId)
  expect(events.map((e) => e.value.eventType)).toEqual(['EvaluationStarted', 'EvaluationFailed'])
  expect(events[1]!.value).toMatchObject({
    eventId: emittedEventId(evaluationJobId(attemptId, 1), 'EvaluationFailed'), failureReason: reason, evaluationId: evaluationIdFor(attemptId, 1), evaluator: 'openai:fake-model'
  })
  expect(typeof events[1]!.value.failureDetail).toBe('string')
})

test('a retry request of the topology runs the next attempt on the stored code with the evaluationId it names; a foreign one is not obeyed', async () => {
  const event = missionCompleted('// MODE:server-error\nconst retried = true')
  const attemptId = String(event.missionAttemptId)
  await produceMissions([event])
  await outcomesOf(attemptId)

  const retryId = evaluationIdFor(attemptId, 2)
  const retry = sampleEvent('EvaluationRetryRequested', {
    eventId: retryRequestedEventId(attemptId, 1), evaluationId: retryId, originalEvaluationId: evaluationIdFor(attemptId, 1),
    retryAttempt: 1, userId: event.userId, missionAttemptId: attemptId, timestamp: Date.now()
  })
  const foreign = sampleEvent('EvaluationRetryRequested', {
    evaluationId: evaluationIdFor(attemptId, 3), originalEvaluationId: evaluationIdFor(attemptId, 1), retryAttempt: 2, userId: event.userId, missionAttemptId: attemptId, timestamp: Date.now()
  })
  const before = fake.requests.length
  // run 1 failed; the provider "recovers" for run 2 of this code
  const byMarker = fake.modeFor!
  fake.modeFor = (body) => (String(body?.messages?.[1]?.content ?? '').includes('const retried') ? 'good' : byMarker(body))
  await kit.produce(topics['evaluation-events']!, [foreign, retry])
  const events = await outcomesOf(attemptId, 2)
  expect(events.map((e) => [e.value.eventType, e.value.attempt])).toEqual([
    ['EvaluationStarted', 1], ['EvaluationFailed', 1], ['EvaluationStarted', 2], ['EvaluationCompleted', 2]
  ])
  expect(events[3]!.value).toMatchObject({ evaluationId: retryId, eventId: emittedEventId(evaluationJobId(attemptId, 2), 'EvaluationCompleted'), score: 85 })
  const retryPrompt = fake.requests.slice(before).map((r) => String(r.body.messages[1].content))
  expect(retryPrompt).toHaveLength(1)
  expect(retryPrompt[0]).toContain('const retried = true')
  expect(await service.queue.getJob(evaluationJobId(attemptId, 3))).toBeUndefined()
  expect(service.intake!.stats.foreignRetries).toBeGreaterThanOrEqual(1)
})

test('attempt ids with ":" and "#" make valid BullMQ job ids', async () => {
  const event = missionCompleted('const ok = 1\nmodule.exports = ok', { missionAttemptId: `${kit.run}:weird#id` })
  await produceMissions([event])
  const events = await outcomesOf(`${kit.run}:weird#id`)
  expect(events.map((e) => e.value.eventType)).toEqual(['EvaluationStarted', 'EvaluationCompleted'])
  expect(await service.queue.getJob(`${kit.run}%3Aweird%23id#1`)).toBeDefined()
})

test('without a key the offline evaluator scores, and says so in every event', async () => {
  const offlinePrefix = kit.topicPrefix('offline')
  const offlineTopics = await kit.createTopics(offlinePrefix)
  const offline = await EvaluatorService.start(kit.serviceInput(offlinePrefix), { log: quiet })
  try {
    expect(offline.evaluator.name).toBe('offline-heuristic/1')
    const code = 'var total = 0\nfunction add (a, b) { if (a == b) { console.log(a) } return a + b }\nmodule.exports = add\n'
    const event = missionCompleted(code)
    await kit.produce(offlineTopics['mission-events']!, [event])
    const all = await kit.readUntil(offlineTopics['evaluation-events']!, (evs) => evs.some((e) => e.value.eventType === 'EvaluationCompleted'))
    const events = ofAttempt(all, String(event.missionAttemptId))
    expect(events.map((e) => [e.value.eventType, e.value.evaluator])).toEqual([['EvaluationStarted', 'offline-heuristic/1'], ['EvaluationCompleted', 'offline-heuristic/1']])
    const expected = evaluateOffline({ missionTitle: String(event.missionTitle), language: 'javascript', code })
    expect(expected.outcome).toBe('completed')
    expect(events[1]!.value).toMatchObject(expected.outcome === 'completed' ? { score: expected.score, details: expected.details, feedback: expected.feedback } : {})
  } finally {
    await offline.stop()
  }
})
