/**
 * The whole evaluation loop on the real broker and Redis: the evaluator (with the fake OpenAI server) and the
 * evaluation topology (in a StreamsApp) side by side on the same topics.
 *
 *   MissionCompleted → EvaluationStarted(run 1) → EvaluationFailed(invalid-output)
 *     → [topology: backoff] EvaluationRetryRequested(retryAttempt 1) → EvaluationStarted(run 2)
 *     → EvaluationCompleted → [topology] EvaluationRetryCompleted + MissionResultUpdated on mission-results
 *
 * The policies shorten the backoff and the idle rule (docs/topologies.md, "Time") so the retry is due within
 * seconds of wall-clock time.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sampleEvent } from '../../events'
import { evaluationIdFor, resolvePolicies, retryCompletedEventId, retryRequestedEventId } from '../../processors'
import { StreamsApp } from '../../streams'
import { TOPOLOGIES } from '../../topologies'
import { EvaluatorService, emittedEventId, evaluationJobId } from '../../evaluator'
import { FakeOpenAIServer } from '../support/fake-openai-server'
import { EvaluatorKit, ofAttempt } from './evaluator-kit'

jest.setTimeout(180_000)

const kit = new EvaluatorKit('loop')
const prefix = kit.topicPrefix('full')
let fake: FakeOpenAIServer
let evaluator: EvaluatorService | undefined
let app: StreamsApp | undefined
let stateDir: string

beforeAll(async () => {
  fake = await FakeOpenAIServer.start()
  stateDir = mkdtempSync(join(tmpdir(), 'devtrip-evaluator-loop-'))
})

afterAll(async () => {
  await evaluator?.stop()
  await app?.close({ timeoutMs: 30_000 })
  await fake.close()
  await kit.close()
  rmSync(stateDir, { recursive: true, force: true })
})

test('mission completed → started → failed → retry requested → completed → mission result updated', async () => {
  const topics = await kit.createTopics(prefix, ['mission-events', 'evaluation-events', 'mission-results', 'evaluation-review'])
  const definition = TOPOLOGIES.evaluation
  const policies = resolvePolicies({
    evaluation: { backoffBaseMs: 1000, startTimeoutMs: 120_000, runTimeoutMs: 120_000, checkIntervalMs: 100, idleAdvance: { enabled: true, afterMs: 1000 } }
  })
  const topology = definition.build(policies, { storeKind: 'in-memory', topics })
  const handling = definition.errorHandling
  app = new StreamsApp(topology, {
    applicationId: `${prefix}${definition.applicationId}`,
    bootstrapServers: [...kit.brokers],
    processingGuarantee: 'exactly-once',
    commitIntervalMs: 100,
    stateDir,
    deserializationExceptionHandler: handling.deserialization as 'dlq',
    processingExceptionHandler: handling.processing as 'dlq',
    productionExceptionHandler: handling.production as 'dlq'
  }, { errorHandling: handling })
  await app.start()
  await app.waitForState('RUNNING', 90_000)

  // run 1 gets a malformed answer, every later request a good one
  fake.script(['malformed'])
  fake.mode = 'good'
  evaluator = await EvaluatorService.start(kit.serviceInput(prefix, {
    provider: 'openai', openaiApiKey: 'sk-loop', openaiBaseUrl: fake.baseUrl, model: 'fake-model', openaiMaxRetries: 0
  }), { log: () => {} })

  const attemptId = `${kit.run}-loop`
  const now = Date.now()
  const completed = sampleEvent('MissionCompleted', {
    missionAttemptId: attemptId, userId: 321, missionId: 'mission_loop', missionTitle: 'Loop', language: 'javascript',
    code: 'const loop = (n) => n + 1\nmodule.exports = loop', timestamp: now
  })
  await kit.produce(topics['mission-events']!, [completed])

  const results = await kit.readUntil(topics['mission-results']!, (evs) => ofAttempt(evs, attemptId).length >= 1, 120_000)
  const evaluation = ofAttempt(await kit.readUntil(topics['evaluation-events']!, (evs) => ofAttempt(evs, attemptId, 'EvaluationRetryCompleted').length >= 1, 60_000), attemptId)

  expect(evaluation.map((e) => [e.value.eventType, e.value.evaluationId])).toEqual([
    ['EvaluationStarted', evaluationIdFor(attemptId, 1)],
    ['EvaluationFailed', evaluationIdFor(attemptId, 1)],
    ['EvaluationRetryRequested', evaluationIdFor(attemptId, 2)],
    ['EvaluationStarted', evaluationIdFor(attemptId, 2)],
    ['EvaluationCompleted', evaluationIdFor(attemptId, 2)],
    ['EvaluationRetryCompleted', evaluationIdFor(attemptId, 2)]
  ])
  expect(evaluation.map((e) => e.value.eventId)).toEqual([
    emittedEventId(evaluationJobId(attemptId, 1), 'EvaluationStarted'),
    emittedEventId(evaluationJobId(attemptId, 1), 'EvaluationFailed'),
    retryRequestedEventId(attemptId, 1),
    emittedEventId(evaluationJobId(attemptId, 2), 'EvaluationStarted'),
    emittedEventId(evaluationJobId(attemptId, 2), 'EvaluationCompleted'),
    retryCompletedEventId(attemptId, 1)
  ])
  expect(evaluation[1]!.value.failureReason).toBe('invalid-output')
  expect(evaluation[5]!.value).toMatchObject({ needsHumanReview: false, finalScore: 85, retryAttempt: 1 })

  const result = ofAttempt(results, attemptId)
  expect(result).toHaveLength(1)
  expect(result[0]!.value).toMatchObject({
    eventType: 'MissionResultUpdated',
    missionAttemptId: attemptId,
    userId: 321,
    missionId: 'mission_loop',
    missionTitle: 'Loop',
    evaluationId: evaluationIdFor(attemptId, 2),
    score: 85,
    maxScore: 100,
    feedback: fake.answer.feedback,
    details: fake.answer.details,
    attempts: 2,
    failures: [expect.objectContaining({ attempt: 1, kind: 'evaluation-failed', reason: 'invalid-output', evaluationId: evaluationIdFor(attemptId, 1) })],
    missionCompletedAt: now,
    afterHumanReview: false
  })
  expect(fake.requests.map((r) => r.mode)).toEqual(['malformed', 'good'])
})
