/**
 * The OpenAI-compatible evaluator against the loopback fake server: what the openai client really sends (the
 * JSON-schema response format, the prompt with title, language and code, model, key), and how each kind of answer
 * becomes a verdict (valid, clamped, malformed, wrong shape, 429, 5xx, slow).
 */
import { ANSWER_SCHEMA, ANSWER_SCHEMA_NAME, OpenAIEvaluator, buildMessages, verdictFromAnswer, type OpenAIEvaluatorOptions } from '../../evaluator'
import { FakeOpenAIServer } from '../support/fake-openai-server'

jest.setTimeout(30_000)

let fake: FakeOpenAIServer

beforeAll(async () => { fake = await FakeOpenAIServer.start() })
afterAll(async () => { await fake.close() })
beforeEach(() => {
  fake.mode = 'good'
  fake.requests.length = 0
  fake.answer = { score: 85, feedback: 'Clear code; consider empty input.', details: { syntax: 90, logic: 85, performance: 80, bestPractices: 85 } }
})

function evaluator (overrides: Partial<OpenAIEvaluatorOptions> = {}): OpenAIEvaluator {
  return new OpenAIEvaluator({ baseUrl: fake.baseUrl, apiKey: 'sk-test-key', model: 'fake-model-1', maxRetries: 0, timeoutMs: 10_000, ...overrides })
}

const INPUT = { missionTitle: 'Two Sum', language: 'javascript', code: 'const twoSum = (a, t) => {\n  // ```not a fence end\n  return []\n}' }
const signal = (): AbortSignal => new AbortController().signal

test('sends one chat completion with the strict JSON-schema response format and the prompt content', async () => {
  const verdict = await evaluator().evaluate(INPUT, signal())
  expect(verdict).toEqual({ outcome: 'completed', score: 85, maxScore: 100, feedback: 'Clear code; consider empty input.', details: { syntax: 90, logic: 85, performance: 80, bestPractices: 85 } })
  expect(fake.requests).toHaveLength(1)
  const [request] = fake.requests
  expect(request!.path).toBe('/v1/chat/completions')
  expect(request!.headers.authorization).toBe('Bearer sk-test-key')
  expect(request!.body.model).toBe('fake-model-1')
  expect(request!.body.temperature).toBe(0)
  expect(request!.body.response_format).toEqual({ type: 'json_schema', json_schema: { name: ANSWER_SCHEMA_NAME, schema: ANSWER_SCHEMA, strict: true } })
  const messages = request!.body.messages as Array<{ role: string, content: string }>
  expect(messages.map((m) => m.role)).toEqual(['system', 'user'])
  expect(messages[1]!.content).toContain('Mission: Two Sum')
  expect(messages[1]!.content).toContain('Language: javascript')
  expect(messages[1]!.content).toContain(INPUT.code)
  // the code holds three backticks, so the fence is longer and the code cannot end it
  expect(messages[1]!.content).toContain('````javascript\n')
  expect(messages).toEqual(buildMessages(INPUT))
})

test('the answer schema is strict-mode shaped: every property required, no additional properties', () => {
  expect(ANSWER_SCHEMA.additionalProperties).toBe(false)
  expect([...ANSWER_SCHEMA.required].sort()).toEqual(Object.keys(ANSWER_SCHEMA.properties).sort())
  const details = ANSWER_SCHEMA.properties.details
  expect(details.additionalProperties).toBe(false)
  expect([...details.required].sort()).toEqual(Object.keys(details.properties).sort())
})

test('numbers outside 0–100 are clamped, not rejected', async () => {
  fake.answer = { score: 104.5, feedback: '  Great.  ', details: { syntax: 120, logic: -3, performance: 50.555, bestPractices: 100 } }
  expect(await evaluator().evaluate(INPUT, signal())).toEqual({
    outcome: 'completed', score: 100, maxScore: 100, feedback: 'Great.', details: { syntax: 100, logic: 0, performance: 50.56, bestPractices: 100 }
  })
})

test.each([
  ['content that is not JSON', 'malformed', /not JSON/],
  ['JSON that breaks the schema', 'wrong-shape', /does not match the schema: \/score must be number|does not match the schema: \(answer\) must have required property/]
] as const)('%s is invalid-output', async (_name, mode, message) => {
  fake.mode = mode
  const verdict = await evaluator().evaluate(INPUT, signal())
  expect(verdict).toMatchObject({ outcome: 'failed', failureReason: 'invalid-output' })
  expect((verdict as { message: string }).message).toMatch(message)
})

test('empty feedback and a missing criterion are invalid-output (a score is never guessed)', async () => {
  fake.answer = { score: 80, feedback: '   ', details: { syntax: 1, logic: 1, performance: 1, bestPractices: 1 } }
  expect(await evaluator().evaluate(INPUT, signal())).toMatchObject({ outcome: 'failed', failureReason: 'invalid-output' })
  fake.answer = { score: 80, feedback: 'ok', details: { syntax: 1, logic: 1, performance: 1 } }
  expect(await evaluator().evaluate(INPUT, signal())).toMatchObject({ outcome: 'failed', failureReason: 'invalid-output', message: expect.stringContaining('bestPractices') })
})

test('429 is rate-limited, after the client\'s own transport retries', async () => {
  fake.mode = 'rate-limited'
  const verdict = await evaluator({ maxRetries: 2 }).evaluate(INPUT, signal())
  expect(verdict).toMatchObject({ outcome: 'failed', failureReason: 'rate-limited' })
  expect(fake.requests).toHaveLength(3)
})

test('a 429 followed by a good answer is retried by the client and succeeds', async () => {
  fake.script(['rate-limited'])
  expect(await evaluator({ maxRetries: 1 }).evaluate(INPUT, signal())).toMatchObject({ outcome: 'completed', score: 85 })
  expect(fake.requests.map((r) => r.mode)).toEqual(['rate-limited', 'good'])
})

test('a 500 is provider-error', async () => {
  fake.mode = 'server-error'
  expect(await evaluator().evaluate(INPUT, signal())).toMatchObject({ outcome: 'failed', failureReason: 'provider-error', message: expect.stringContaining('HTTP 500') })
})

test('nobody listening is provider-error', async () => {
  const closed = await FakeOpenAIServer.start()
  const url = closed.baseUrl
  await closed.close()
  expect(await evaluator({ baseUrl: url }).evaluate(INPUT, signal())).toMatchObject({ outcome: 'failed', failureReason: 'provider-error' })
})

test('a slow answer is timeout: the caller\'s signal, or the evaluator\'s own timeout', async () => {
  fake.mode = 'slow'
  fake.slowMs = 5_000
  const controller = new AbortController()
  setTimeout(() => controller.abort(), 200)
  expect(await evaluator().evaluate(INPUT, controller.signal)).toMatchObject({ outcome: 'failed', failureReason: 'timeout' })
  expect(await evaluator({ timeoutMs: 200 }).evaluate(INPUT, signal())).toMatchObject({ outcome: 'failed', failureReason: 'timeout' })
})

test('verdictFromAnswer: no content, a refusal-free valid answer, long feedback cut', () => {
  expect(verdictFromAnswer(null)).toMatchObject({ outcome: 'failed', failureReason: 'invalid-output' })
  const long = verdictFromAnswer(JSON.stringify({ score: 1, feedback: 'x'.repeat(5000), details: { syntax: 1, logic: 1, performance: 1, bestPractices: 1 } }))
  expect(long.outcome === 'completed' && long.feedback.length).toBe(4000)
})
