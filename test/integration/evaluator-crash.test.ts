/**
 * A worker killed in the middle of a job: `bin/devtrip-streams evaluator --no-intake` runs in a child process, the
 * fake OpenAI server holds its request, the child gets SIGKILL. BullMQ's stalled-job check hands the job to
 * another worker, which re-runs it — and the output topic holds every event once: the EvaluationStarted the dead
 * worker had confirmed is not sent again, and the EvaluationCompleted carries the id the job always had.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { sampleEvent } from '../../events'
import { EvaluatorService, emittedEventId, evaluationJobId, type JobResult } from '../../evaluator'
import { FakeOpenAIServer } from '../support/fake-openai-server'
import { EvaluatorKit, ofAttempt, waitFor } from './evaluator-kit'

jest.setTimeout(180_000)

const root = join(__dirname, '..', '..')
const kit = new EvaluatorKit('crash')
const prefix = kit.topicPrefix('kill')
let fake: FakeOpenAIServer
const services: EvaluatorService[] = []
let child: ChildProcess | undefined
const quiet = (): void => {}

beforeAll(async () => {
  fake = await FakeOpenAIServer.start()
})

afterAll(async () => {
  if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  for (const s of services) await s.stop()
  fake.release()
  await fake.close()
  await kit.close()
})

/** Starts the CLI's worker-only evaluator; resolves once it logged "ready". */
async function startChildWorker (input: ReturnType<EvaluatorKit['serviceInput']>, topicPrefix = prefix, extra: string[] = []): Promise<{ child: ChildProcess, stderr: () => string }> {
  const args = [
    join(root, 'bin', 'devtrip-streams'), 'evaluator', '--no-intake',
    '--topic-prefix', topicPrefix, '--queue', input.queueName!, '--key-prefix', input.keyPrefix!,
    '--provider', 'openai', '--model', 'fake-model', '--concurrency', '1',
    '--lock-duration-ms', '2000', '--stalled-interval-ms', '1000', ...extra
  ]
  const proc = spawn(process.execPath, args, {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, KAFKA_BROKERS: kit.brokers.join(','), REDIS_URL: kit.redisUrl, OPENAI_API_KEY: 'sk-child', OPENAI_BASE_URL: fake.baseUrl, EVALUATOR_OPENAI_MAX_RETRIES: '0' }
  })
  let err = ''
  proc.stderr!.on('data', (chunk: Buffer) => { err += chunk.toString('utf8') })
  proc.stdout!.resume()
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the child evaluator did not get ready in 150 s; stderr:\n${err}`)), 150_000)
    const check = (): void => { if (err.includes('evaluator: ready')) { clearTimeout(timer); resolve() } }
    proc.stderr!.on('data', check)
    proc.once('exit', (code, signal) => { clearTimeout(timer); reject(new Error(`the child evaluator exited (${String(code ?? signal)}) before it was ready; stderr:\n${err}`)) })
  })
  return { child: proc, stderr: () => err }
}

test('SIGKILL while the provider holds the request: the job is re-run elsewhere and no event is duplicated', async () => {
  const topics = await kit.createTopics(prefix)
  const input = kit.serviceInput(prefix, { provider: 'openai', openaiApiKey: 'sk-test', openaiBaseUrl: fake.baseUrl, model: 'fake-model' })
  services.push(await EvaluatorService.start(input, { workers: false, log: quiet }))

  fake.mode = 'hold'
  const started = await startChildWorker(input)
  child = started.child

  const event = sampleEvent('MissionCompleted', { missionAttemptId: `${kit.run}-crash`, userId: 77, code: 'const crashSafe = 1\nmodule.exports = crashSafe', language: 'javascript', missionTitle: 'Crash', timestamp: Date.now() })
  const attemptId = String(event.missionAttemptId)
  const jobId = evaluationJobId(attemptId, 1)
  await kit.produce(topics['mission-events']!, [event])

  // the child has sent EvaluationStarted and is waiting for the model
  await fake.waitForRequests(1, 60_000)
  await kit.readUntil(topics['evaluation-events']!, (evs) => ofAttempt(evs, attemptId, 'EvaluationStarted').length === 1)
  const exited = new Promise((resolve) => child!.once('exit', resolve))
  child.kill('SIGKILL')
  await exited
  expect(child.signalCode).toBe('SIGKILL')

  // another worker (the provider answers again now) finds the job stalled once the dead worker's lock expires
  fake.mode = 'good'
  services.push(await EvaluatorService.start({ ...input, lockDurationMs: 2000, stalledIntervalMs: 500 }, { intake: false, log: quiet }))
  const events = ofAttempt(await kit.readUntil(topics['evaluation-events']!, (evs) => ofAttempt(evs, attemptId, 'EvaluationCompleted').length >= 1), attemptId)

  expect(events.map((e) => e.value.eventType)).toEqual(['EvaluationStarted', 'EvaluationCompleted'])
  expect(events.map((e) => e.value.eventId)).toEqual([emittedEventId(jobId, 'EvaluationStarted'), emittedEventId(jobId, 'EvaluationCompleted')])
  expect(fake.requests).toHaveLength(2)
  expect(fake.requests.map((r) => r.mode)).toEqual(['hold', 'good'])

  // the worker marks the job completed just after its last event was acknowledged
  await waitFor('the job to be completed', async () => (await services[0]!.queue.getJobState(jobId) === 'completed' ? true : undefined))
  const job = (await services[0]!.queue.getJob(jobId))!
  expect(job.stalledCounter).toBe(1)
  const result = job.returnvalue as JobResult
  expect(result).toMatchObject({ outcome: 'completed', resent: 0, eventIds: [emittedEventId(jobId, 'EvaluationStarted'), emittedEventId(jobId, 'EvaluationCompleted')] })

  // nothing else arrives later (read a little past the Completed)
  const later = await kit.readUntil(topics['evaluation-events']!, (evs) => evs.length >= events.length, 5000)
  expect(ofAttempt(later, attemptId)).toHaveLength(2)
})

test('SIGTERM lets the running job finish before the worker exits 0; past --shutdown-grace-ms the evaluation is abandoned and the job retried', async () => {
  const termPrefix = kit.topicPrefix('term')
  const topics = await kit.createTopics(termPrefix)
  const input = kit.serviceInput(termPrefix, { provider: 'openai', openaiApiKey: 'sk-test', openaiBaseUrl: fake.baseUrl, model: 'fake-model' })
  services.push(await EvaluatorService.start(input, { workers: false, log: quiet }))
  fake.mode = 'hold'
  const before = fake.requests.length

  // graceful: the held evaluation is answered after SIGTERM, and its outcome still goes out
  const graceful = await startChildWorker(input, termPrefix, ['--shutdown-grace-ms', '60000'])
  child = graceful.child
  const first = sampleEvent('MissionCompleted', { missionAttemptId: `${kit.run}-term-1`, userId: 78, code: 'module.exports = 1', language: 'javascript', timestamp: Date.now() })
  await kit.produce(topics['mission-events']!, [first])
  await fake.waitForRequests(before + 1, 60_000)
  const exit1 = new Promise<number | null>((resolve) => graceful.child.once('exit', (code) => resolve(code)))
  graceful.child.kill('SIGTERM')
  await waitFor('the child to log the SIGTERM', () => (graceful.stderr().includes('SIGTERM received') ? true : undefined))
  expect(graceful.child.exitCode).toBeNull()
  fake.release()
  expect(await exit1).toBe(0)
  const events = ofAttempt(await kit.readUntil(topics['evaluation-events']!, (evs) => ofAttempt(evs, `${kit.run}-term-1`, 'EvaluationCompleted').length === 1), `${kit.run}-term-1`)
  expect(events.map((e) => e.value.eventType)).toEqual(['EvaluationStarted', 'EvaluationCompleted'])
  expect(graceful.stderr()).toContain('evaluator: stopped')

  // bounded: nobody answers, so after the grace period the evaluation is abandoned without an outcome, the
  // worker still exits 0, and the job is retried (BullMQ backoff) by the next worker, which does not re-send Started
  const bounded = await startChildWorker(input, termPrefix, ['--shutdown-grace-ms', '500'])
  child = bounded.child
  const secondId = `${kit.run}-term-2`
  const second = sampleEvent('MissionCompleted', { missionAttemptId: secondId, userId: 79, code: 'module.exports = 2', language: 'javascript', timestamp: Date.now() })
  await kit.produce(topics['mission-events']!, [second])
  await fake.waitForRequests(before + 2, 60_000)
  const exit2 = new Promise<number | null>((resolve) => bounded.child.once('exit', (code) => resolve(code)))
  bounded.child.kill('SIGTERM')
  expect(await exit2).toBe(0)
  expect(bounded.stderr()).toContain('were abandoned; their jobs run again after the retry backoff')
  const queue = services.at(-1)!.queue
  const abandoned = (await queue.getJob(evaluationJobId(secondId, 1)))!
  expect(['delayed', 'waiting']).toContain(await abandoned.getState())
  expect(abandoned.attemptsMade).toBe(1)
  expect(abandoned.failedReason).toMatch(/the worker shut down before the evaluation finished/)

  fake.mode = 'good'
  services.push(await EvaluatorService.start({ ...input }, { intake: false, log: quiet }))
  const all = await kit.readUntil(topics['evaluation-events']!, (evs) => ofAttempt(evs, secondId, 'EvaluationCompleted').length === 1)
  expect(ofAttempt(all, secondId).map((e) => e.value.eventType)).toEqual(['EvaluationStarted', 'EvaluationCompleted'])
})
