/**
 * The evaluator's configuration: explicit options over environment variables over defaults, checked by ONE
 * compiled JSON Schema, then frozen. docs/evaluator.md has the table of every field, its variable and default
 * (a unit test keeps the two in step).
 *
 * Environment variables that are set but empty count as unset: deployment templates often render a missing
 * secret as `OPENAI_API_KEY=`, and that must mean "no key" (offline evaluator), not "a key that is the empty
 * string" (every request failing with 401).
 */
import Ajv from 'ajv'
import { DevtripError } from '../events/errors'

export type EvaluatorProvider = 'auto' | 'openai' | 'offline'

export interface RateLimit {
  /** evaluations started per window, across every worker of the queue */
  readonly max: number
  readonly durationMs: number
}

export interface EvaluatorConfigInput {
  brokers?: readonly string[]
  redisUrl?: string
  /** physical topic names (tests rename them); events are still validated against the logical topics */
  missionTopic?: string
  evaluationTopic?: string
  groupId?: string
  queueName?: string
  /** BullMQ key prefix and the prefix of the evaluator's own Redis keys */
  keyPrefix?: string
  /** jobs one worker process runs at once */
  concurrency?: number
  rateLimit?: RateLimit
  /** the longest one evaluation may take; longer is EvaluationFailed(timeout) */
  jobTimeoutMs?: number
  /** BullMQ lock: a job whose worker stops renewing it for this long is stalled and re-run */
  lockDurationMs?: number
  stalledIntervalMs?: number
  maxStalledCount?: number
  /** BullMQ attempts for infrastructure failures (Kafka or Redis unreachable), never for evaluation outcomes */
  jobAttempts?: number
  /** how long finished jobs and stored submissions are kept: the window in which a redelivered event is recognised */
  retentionMs?: number
  /** on SIGTERM, how long running jobs may take to finish before the workers are closed by force */
  shutdownGraceMs?: number
  pollWaitMs?: number
  provider?: EvaluatorProvider
  openaiBaseUrl?: string
  openaiApiKey?: string
  model?: string
  /** transport-level retries inside the openai client (connection errors, 429, 5xx) */
  openaiMaxRetries?: number
  clientId?: string
  /** the Kafka client adapter (streams/kafka): platformatic, kafkajs or rdkafka */
  client?: 'platformatic' | 'kafkajs' | 'rdkafka'
}

export interface EvaluatorConfig {
  readonly brokers: readonly string[]
  readonly redisUrl: string
  readonly missionTopic: string
  readonly evaluationTopic: string
  readonly groupId: string
  readonly queueName: string
  readonly keyPrefix: string
  readonly concurrency: number
  readonly rateLimit: RateLimit
  readonly jobTimeoutMs: number
  readonly lockDurationMs: number
  readonly stalledIntervalMs: number
  readonly maxStalledCount: number
  readonly jobAttempts: number
  readonly retentionMs: number
  readonly shutdownGraceMs: number
  readonly pollWaitMs: number
  /** never 'auto' once resolved: auto becomes openai when a key is configured, else offline */
  readonly provider: 'openai' | 'offline'
  readonly openaiBaseUrl: string
  readonly openaiApiKey: string | undefined
  readonly model: string
  readonly openaiMaxRetries: number
  readonly clientId: string
  readonly client: 'platformatic' | 'kafkajs' | 'rdkafka'
}

const DAY_MS = 24 * 60 * 60 * 1000

/** Defaults; docs/evaluator.md explains each. */
export const EVALUATOR_DEFAULTS = Object.freeze({
  missionTopic: 'mission-events',
  evaluationTopic: 'evaluation-events',
  groupId: 'devtrip-evaluator',
  queueName: 'devtrip-evaluations',
  keyPrefix: 'devtrip',
  concurrency: 4,
  rateLimit: Object.freeze({ max: 60, durationMs: 60_000 }),
  // well under the evaluation topology's runTimeoutMs (5 min), so our own timeout is what the user sees
  jobTimeoutMs: 120_000,
  lockDurationMs: 30_000,
  stalledIntervalMs: 30_000,
  maxStalledCount: 2,
  jobAttempts: 5,
  // one day more than the domain topics' retention (7 days): a record still on the topic always finds its job
  retentionMs: 8 * DAY_MS,
  shutdownGraceMs: 30_000,
  pollWaitMs: 500,
  provider: 'auto' as EvaluatorProvider,
  openaiBaseUrl: 'https://api.openai.com/v1',
  model: 'gpt-4o-mini',
  openaiMaxRetries: 2,
  clientId: 'devtrip-evaluator',
  client: 'platformatic'
})

/** Which environment variable feeds which field (docs/evaluator.md lists the same). */
export const EVALUATOR_ENV: Readonly<Record<string, keyof EvaluatorConfigInput | 'ratePerMinute'>> = Object.freeze({
  KAFKA_BROKERS: 'brokers',
  KAFKA_CLIENT: 'client',
  REDIS_URL: 'redisUrl',
  OPENAI_BASE_URL: 'openaiBaseUrl',
  OPENAI_API_KEY: 'openaiApiKey',
  EVALUATOR_MODEL: 'model',
  EVALUATOR_PROVIDER: 'provider',
  EVALUATOR_CONCURRENCY: 'concurrency',
  EVALUATOR_RATE_PER_MINUTE: 'ratePerMinute',
  EVALUATOR_JOB_TIMEOUT_MS: 'jobTimeoutMs',
  EVALUATOR_QUEUE: 'queueName',
  EVALUATOR_GROUP_ID: 'groupId',
  EVALUATOR_OPENAI_MAX_RETRIES: 'openaiMaxRetries'
})

const topicName = { type: 'string', pattern: '^[A-Za-z0-9._-]{1,249}$' }
const positiveMs = { type: 'integer', minimum: 1, maximum: 365 * DAY_MS }

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['brokers', 'redisUrl'],
  properties: {
    brokers: { type: 'array', minItems: 1, items: { type: 'string', pattern: '^[^\\s:]+:[0-9]{1,5}$' } },
    redisUrl: { type: 'string', pattern: '^rediss?://\\S+$' },
    missionTopic: topicName,
    evaluationTopic: topicName,
    groupId: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,200}$' },
    // BullMQ forbids ':' in queue names (it separates key parts)
    queueName: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,100}$' },
    keyPrefix: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,100}$' },
    concurrency: { type: 'integer', minimum: 1, maximum: 1000 },
    rateLimit: {
      type: 'object',
      additionalProperties: false,
      required: ['max', 'durationMs'],
      properties: { max: { type: 'integer', minimum: 1, maximum: 1_000_000 }, durationMs: positiveMs }
    },
    jobTimeoutMs: { type: 'integer', minimum: 100, maximum: DAY_MS },
    lockDurationMs: { type: 'integer', minimum: 500, maximum: DAY_MS },
    stalledIntervalMs: { type: 'integer', minimum: 100, maximum: DAY_MS },
    maxStalledCount: { type: 'integer', minimum: 0, maximum: 100 },
    jobAttempts: { type: 'integer', minimum: 1, maximum: 100 },
    retentionMs: positiveMs,
    shutdownGraceMs: { type: 'integer', minimum: 0, maximum: DAY_MS },
    pollWaitMs: { type: 'integer', minimum: 1, maximum: 60_000 },
    provider: { enum: ['auto', 'openai', 'offline'] },
    openaiBaseUrl: { type: 'string', pattern: '^https?://\\S+$' },
    openaiApiKey: { type: 'string', minLength: 1 },
    model: { type: 'string', minLength: 1, maxLength: 200 },
    openaiMaxRetries: { type: 'integer', minimum: 0, maximum: 10 },
    clientId: { type: 'string', minLength: 1 },
    client: { enum: ['platformatic', 'kafkajs', 'rdkafka'] }
  }
} as const

/** the schema itself, for the docs completeness test */
export const EVALUATOR_CONFIG_SCHEMA = schema

const validate = new Ajv({ allErrors: true, strict: true }).compile(schema)

function invalid (problems: string[]): DevtripError {
  return new DevtripError('DEVTRIP_INVALID_OPTIONS', `invalid evaluator configuration: ${problems.join('; ')}`, {
    details: { problems, hint: 'see docs/evaluator.md for every setting, its environment variable and its range' }
  })
}

/** An environment value, or undefined when the variable is missing or blank. */
export function envValue (env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim()
  return value === undefined || value === '' ? undefined : value
}

function envInt (env: NodeJS.ProcessEnv, name: string, problems: string[]): number | undefined {
  const value = envValue(env, name)
  if (value === undefined) return undefined
  if (!/^[0-9]{1,12}$/.test(value)) {
    problems.push(`${name} must be a whole number, got ${JSON.stringify(value)}`)
    return undefined
  }
  return Number(value)
}

/** Reads the variables of EVALUATOR_ENV; blank ones are unset, malformed numbers are reported, not ignored. */
export function evaluatorInputFromEnv (env: NodeJS.ProcessEnv = process.env): EvaluatorConfigInput {
  const problems: string[] = []
  const input: { [K in keyof EvaluatorConfigInput]: EvaluatorConfigInput[K] } = {}
  const brokers = envValue(env, 'KAFKA_BROKERS')
  if (brokers !== undefined) input.brokers = brokers.split(',').map((b) => b.trim()).filter((b) => b !== '')
  input.redisUrl = envValue(env, 'REDIS_URL')
  input.client = envValue(env, 'KAFKA_CLIENT') as EvaluatorConfigInput['client']
  input.openaiBaseUrl = envValue(env, 'OPENAI_BASE_URL')
  input.openaiApiKey = envValue(env, 'OPENAI_API_KEY')
  input.model = envValue(env, 'EVALUATOR_MODEL')
  input.provider = envValue(env, 'EVALUATOR_PROVIDER') as EvaluatorProvider | undefined
  input.queueName = envValue(env, 'EVALUATOR_QUEUE')
  input.groupId = envValue(env, 'EVALUATOR_GROUP_ID')
  input.concurrency = envInt(env, 'EVALUATOR_CONCURRENCY', problems)
  input.jobTimeoutMs = envInt(env, 'EVALUATOR_JOB_TIMEOUT_MS', problems)
  input.openaiMaxRetries = envInt(env, 'EVALUATOR_OPENAI_MAX_RETRIES', problems)
  const perMinute = envInt(env, 'EVALUATOR_RATE_PER_MINUTE', problems)
  if (perMinute !== undefined) input.rateLimit = { max: perMinute, durationMs: 60_000 }
  if (problems.length > 0) throw invalid(problems)
  for (const key of Object.keys(input) as Array<keyof EvaluatorConfigInput>) if (input[key] === undefined) delete input[key]
  return input
}

/**
 * Options win over the environment, which wins over the defaults. Undefined and blank-string options count as
 * not given. Throws DEVTRIP_INVALID_OPTIONS naming every problem by JSON pointer.
 */
export function resolveEvaluatorConfig (options: EvaluatorConfigInput = {}, env: NodeJS.ProcessEnv = process.env): EvaluatorConfig {
  const given: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(options ?? {})) {
    if (value === undefined || (typeof value === 'string' && value.trim() === '')) continue
    given[key] = typeof value === 'string' ? value.trim() : value
  }
  const merged: Record<string, unknown> = JSON.parse(JSON.stringify({ ...EVALUATOR_DEFAULTS, ...evaluatorInputFromEnv(env), ...given }))
  if (!validate(merged)) {
    throw invalid((validate.errors ?? []).map((e) => `${e.instancePath === '' ? '/' : e.instancePath} ${e.message ?? 'is invalid'}`))
  }
  const provider = merged.provider as EvaluatorProvider
  const apiKey = merged.openaiApiKey as string | undefined
  if (provider === 'openai' && apiKey === undefined) {
    throw invalid(['/provider is "openai" but no API key is configured (set OPENAI_API_KEY; an OpenAI-compatible server without keys accepts any value)'])
  }
  return Object.freeze({
    ...merged,
    provider: provider === 'auto' ? (apiKey === undefined ? 'offline' : 'openai') : provider,
    openaiApiKey: apiKey,
    brokers: Object.freeze([...(merged.brokers as string[])]),
    rateLimit: Object.freeze({ ...(merged.rateLimit as RateLimit) })
  }) as EvaluatorConfig
}
