/**
 * Evaluator configuration: options > environment > defaults, blank variables are unset, the provider choice,
 * every problem reported, the result frozen.
 */
import { EVALUATOR_DEFAULTS, evaluatorInputFromEnv, resolveEvaluatorConfig } from '../../evaluator'

const BASE = { brokers: ['127.0.0.1:19092'], redisUrl: 'redis://127.0.0.1:16379' }

test('defaults: offline without a key, the documented values', () => {
  const config = resolveEvaluatorConfig(BASE, {})
  expect(config).toMatchObject({
    provider: 'offline',
    openaiApiKey: undefined,
    missionTopic: 'mission-events',
    evaluationTopic: 'evaluation-events',
    groupId: 'devtrip-evaluator',
    queueName: 'devtrip-evaluations',
    concurrency: EVALUATOR_DEFAULTS.concurrency,
    rateLimit: { max: 60, durationMs: 60_000 },
    openaiBaseUrl: 'https://api.openai.com/v1',
    model: 'gpt-4o-mini'
  })
  expect(Object.isFrozen(config)).toBe(true)
  expect(Object.isFrozen(config.rateLimit)).toBe(true)
  expect(Object.isFrozen(config.brokers)).toBe(true)
})

test('empty or blank environment variables count as unset', () => {
  const env = { OPENAI_API_KEY: '', OPENAI_BASE_URL: '   ', EVALUATOR_MODEL: '', EVALUATOR_CONCURRENCY: ' ', EVALUATOR_PROVIDER: '' }
  expect(evaluatorInputFromEnv(env)).toEqual({})
  const config = resolveEvaluatorConfig(BASE, env)
  expect(config.provider).toBe('offline')
  expect(config.openaiBaseUrl).toBe('https://api.openai.com/v1')
  expect(config.model).toBe('gpt-4o-mini')
})

test('a key selects the OpenAI-compatible evaluator; the environment configures it', () => {
  const config = resolveEvaluatorConfig(BASE, {
    OPENAI_API_KEY: 'sk-abc', OPENAI_BASE_URL: 'http://127.0.0.1:8000/v1', EVALUATOR_MODEL: 'qwen2.5-coder', EVALUATOR_CONCURRENCY: '8', EVALUATOR_RATE_PER_MINUTE: '30', EVALUATOR_JOB_TIMEOUT_MS: '45000'
  })
  expect(config).toMatchObject({
    provider: 'openai', openaiApiKey: 'sk-abc', openaiBaseUrl: 'http://127.0.0.1:8000/v1', model: 'qwen2.5-coder', concurrency: 8, rateLimit: { max: 30, durationMs: 60_000 }, jobTimeoutMs: 45_000
  })
  expect(resolveEvaluatorConfig(BASE, { OPENAI_API_KEY: 'sk-abc', EVALUATOR_PROVIDER: 'offline' }).provider).toBe('offline')
})

test('options win over the environment; undefined and blank options count as not given', () => {
  const env = { EVALUATOR_CONCURRENCY: '8', EVALUATOR_MODEL: 'env-model', KAFKA_BROKERS: '10.0.0.1:9092' }
  const config = resolveEvaluatorConfig({ ...BASE, concurrency: 2, model: ' ', queueName: undefined }, env)
  expect(config.concurrency).toBe(2)
  expect(config.model).toBe('env-model')
  expect(config.brokers).toEqual(['127.0.0.1:19092'])
  expect(config.queueName).toBe('devtrip-evaluations')
  expect(resolveEvaluatorConfig({ redisUrl: BASE.redisUrl }, env).brokers).toEqual(['10.0.0.1:9092'])
})

test('provider openai without a key is refused with the reason', () => {
  expect(() => resolveEvaluatorConfig({ ...BASE, provider: 'openai' }, {})).toThrow(/provider is "openai" but no API key is configured/)
})

test('every problem is reported, by pointer or variable name', () => {
  let message = ''
  try { resolveEvaluatorConfig({ ...BASE, concurrency: 0, queueName: 'a:b', rateLimit: { max: 0, durationMs: 1000 } }, {}) } catch (error) { message = (error as Error).message }
  expect(message).toMatch(/^invalid evaluator configuration: /)
  for (const problem of ['/concurrency must be >= 1', '/queueName must match pattern', '/rateLimit/max must be >= 1']) expect(message).toContain(problem)
  expect(() => resolveEvaluatorConfig(BASE, { EVALUATOR_CONCURRENCY: 'four', EVALUATOR_JOB_TIMEOUT_MS: '1.5s' }))
    .toThrow(/EVALUATOR_CONCURRENCY must be a whole number, got "four".*EVALUATOR_JOB_TIMEOUT_MS must be a whole number/)
  expect(() => resolveEvaluatorConfig({ redisUrl: BASE.redisUrl }, {})).toThrow(/must have required property 'brokers'/)
  expect(() => resolveEvaluatorConfig({ ...BASE, redisUrl: 'localhost:6379' }, {})).toThrow(/\/redisUrl must match/)
  expect(() => resolveEvaluatorConfig({ ...BASE, unknown: 1 } as never, {})).toThrow(/must NOT have additional properties/)
})
