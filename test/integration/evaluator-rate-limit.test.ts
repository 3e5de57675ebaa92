/**
 * The queue-wide rate limiter: with a budget of 3 evaluations per minute, two worker instances' worth of slots
 * (concurrency 4, twice) and 7 submissions, exactly 3 LLM calls happen in the window and the other 4 jobs wait.
 * The count is the assertion; time only bounds how long the test waits to see that nothing more happens.
 */
import { sampleEvent } from '../../events'
import { EvaluatorService, evaluationJobId } from '../../evaluator'
import { FakeOpenAIServer } from '../support/fake-openai-server'
import { EvaluatorKit, waitFor } from './evaluator-kit'

jest.setTimeout(120_000)

const kit = new EvaluatorKit('rate')
let fake: FakeOpenAIServer
const services: EvaluatorService[] = []
const quiet = (): void => {}

beforeAll(async () => { fake = await FakeOpenAIServer.start() })
afterAll(async () => {
  for (const s of services) await s.stop()
  await fake.close()
  await kit.close()
})

test('3 per minute across two worker instances: 3 calls, 4 jobs held back', async () => {
  const prefix = kit.topicPrefix('budget')
  const topics = await kit.createTopics(prefix)
  const input = kit.serviceInput(prefix, {
    provider: 'openai', openaiApiKey: 'sk-test', openaiBaseUrl: fake.baseUrl, model: 'fake-model', openaiMaxRetries: 0,
    concurrency: 4, rateLimit: { max: 3, durationMs: 60_000 }
  })
  // one instance with the intake and workers, one with workers only: the limit is the queue's, not a process's
  services.push(await EvaluatorService.start(input, { log: quiet }))
  services.push(await EvaluatorService.start(input, { intake: false, log: quiet }))

  const events = Array.from({ length: 7 }, (_, i) => sampleEvent('MissionCompleted', {
    missionAttemptId: `${kit.run}-rate-${i}`, userId: 200 + i, code: `module.exports = ${i}`, language: 'javascript', timestamp: Date.now()
  }, i + 1))
  await kit.produce(topics['mission-events']!, events)

  const queue = services[0]!.queue
  await waitFor('7 jobs in the queue', async () => {
    const counts = await queue.getJobCounts('wait', 'prioritized', 'delayed', 'active', 'completed', 'failed')
    return Object.values(counts).reduce((a, b) => a + b, 0) === 7 ? true : undefined
  })
  await waitFor('3 completed jobs', async () => ((await queue.getJobCounts('completed')).completed === 3 ? true : undefined))
  // both instances keep polling for jobs; a further 3 s shows the budget holds (no job starts, no call is made)
  await new Promise((resolve) => setTimeout(resolve, 3000))

  expect(fake.requests).toHaveLength(3)
  const counts = await queue.getJobCounts('wait', 'prioritized', 'delayed', 'active', 'completed', 'failed')
  expect(counts.completed).toBe(3)
  expect(counts.active).toBe(0)
  expect(counts.failed).toBe(0)
  expect(counts.wait + counts.prioritized + counts.delayed).toBe(4)
  // which jobs ran is BullMQ's business; that every submission has exactly one job is ours
  const ids = (await queue.getJobs(['wait', 'prioritized', 'delayed', 'completed'])).map((j) => j.id).sort()
  expect(ids).toEqual(events.map((e) => evaluationJobId(e.missionAttemptId, 1)).sort())
})
