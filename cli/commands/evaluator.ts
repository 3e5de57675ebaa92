/**
 * `devtrip-streams evaluator …`: the AI evaluation service (docs/evaluator.md).
 *   evaluator [--concurrency N] [--rate-per-minute R] …   run the intake and the workers until SIGTERM / SIGINT
 *   evaluator score <file> [--language L] [--title T]    evaluate one file with the configured evaluator, print the verdict
 *
 * Shutdown: the first SIGTERM or SIGINT stops consuming, lets running jobs finish for up to --shutdown-grace-ms
 * and exits 0; a second one exits at once (1).
 */
import { readFileSync } from 'node:fs'
import { extname } from 'node:path'
import type { Command } from 'commander'
import { isDevtripError } from '../../events/errors'
import { createCodeEvaluator, EvaluatorService, resolveEvaluatorConfig, type EvaluatorConfigInput, type EvaluatorProvider } from '../../evaluator'
import { resolveBrokers, resolveRedisUrl, resolveTopicPrefix, TOPIC_PREFIX_ENV, kafkaClientOption, resolveKafkaClient } from '../connection'
import { CliError, EXIT_FAILURE, EXIT_USAGE, printJson, printLine } from '../output'

const PREFIX_ENV = TOPIC_PREFIX_ENV

interface RunFlags {
  brokers?: string
  client?: string
  redisUrl?: string
  concurrency?: string
  ratePerMinute?: string
  jobTimeoutMs?: string
  provider?: string
  model?: string
  topicPrefix?: string
  queue?: string
  groupId?: string
  keyPrefix?: string
  intake: boolean
  workers: boolean
  shutdownGraceMs?: string
  lockDurationMs?: string
  stalledIntervalMs?: string
}

interface ScoreFlags {
  language?: string
  title?: string
  provider?: string
  model?: string
  jobTimeoutMs?: string
  json?: boolean
}

function positiveInt (value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined
  if (!/^[1-9][0-9]{0,8}$/.test(value.trim())) throw new CliError(`${flag} must be a positive integer, got ${JSON.stringify(value)}`, `e.g. ${flag} 4`, EXIT_USAGE)
  return Number(value.trim())
}

function nonNegativeInt (value: string | undefined, flag: string): number | undefined {
  return value?.trim() === '0' ? 0 : positiveInt(value, flag)
}

function provider (value: string | undefined): EvaluatorProvider | undefined {
  if (value === undefined) return undefined
  if (value !== 'auto' && value !== 'openai' && value !== 'offline') throw new CliError(`--provider must be auto, openai or offline, got ${JSON.stringify(value)}`, 'auto uses OpenAI when OPENAI_API_KEY is set, else the offline evaluator', EXIT_USAGE)
  return value
}

function topicPrefix (flags: RunFlags): string {
  const prefix = resolveTopicPrefix(flags.topicPrefix)
  if (!/^[A-Za-z0-9._-]*$/.test(prefix)) throw new CliError(`invalid topic prefix ${JSON.stringify(prefix)}`, 'a prefix may only contain letters, digits, ".", "_" and "-"', EXIT_USAGE)
  return prefix
}

/** Configuration problems are usage errors (exit 2) with the schema's own message. */
function configError (error: unknown): never {
  if (isDevtripError(error, 'DEVTRIP_INVALID_OPTIONS')) throw new CliError(error.message, 'see docs/evaluator.md for the settings and their ranges', EXIT_USAGE)
  throw error
}

async function runService (flags: RunFlags): Promise<void> {
  if (!flags.intake && !flags.workers) throw new CliError('--no-intake and --no-workers together leave nothing to run', 'drop one of them', EXIT_USAGE)
  const prefix = topicPrefix(flags)
  const perMinute = positiveInt(flags.ratePerMinute, '--rate-per-minute')
  const input: EvaluatorConfigInput = {
    brokers: resolveBrokers(flags.brokers),
    client: resolveKafkaClient(flags.client),
    redisUrl: resolveRedisUrl(flags.redisUrl),
    concurrency: positiveInt(flags.concurrency, '--concurrency'),
    rateLimit: perMinute === undefined ? undefined : { max: perMinute, durationMs: 60_000 },
    jobTimeoutMs: positiveInt(flags.jobTimeoutMs, '--job-timeout-ms'),
    provider: provider(flags.provider),
    model: flags.model,
    missionTopic: `${prefix}mission-events`,
    evaluationTopic: `${prefix}evaluation-events`,
    queueName: flags.queue,
    groupId: flags.groupId,
    keyPrefix: flags.keyPrefix,
    shutdownGraceMs: nonNegativeInt(flags.shutdownGraceMs, '--shutdown-grace-ms'),
    lockDurationMs: positiveInt(flags.lockDurationMs, '--lock-duration-ms'),
    stalledIntervalMs: positiveInt(flags.stalledIntervalMs, '--stalled-interval-ms')
  }
  for (const key of Object.keys(input) as Array<keyof EvaluatorConfigInput>) if (input[key] === undefined) delete input[key]
  try { resolveEvaluatorConfig(input) } catch (error) { configError(error) }

  const service = await EvaluatorService.start(input, { intake: flags.intake, workers: flags.workers })
  let signals = 0
  const stopped = new Promise<number>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      signals += 1
      if (signals > 1) {
        process.stderr.write(`evaluator: second ${signal}, exiting without waiting\n`)
        process.exit(EXIT_FAILURE)
      }
      process.stderr.write(`evaluator: ${signal} received, stopping (running jobs get up to ${service.config.shutdownGraceMs} ms)\n`)
      service.stop().then(() => resolve(0), () => resolve(EXIT_FAILURE))
    }
    process.on('SIGTERM', onSignal)
    process.on('SIGINT', onSignal)
    service.intakeDone.catch((error: unknown) => {
      process.stderr.write(`error: the evaluator intake stopped: ${(error as Error).message}\n  → check the broker and the group ${service.config.groupId}, then restart\n`)
      service.stop().then(() => resolve(EXIT_FAILURE), () => resolve(EXIT_FAILURE))
    })
  })
  process.exitCode = await stopped
}

const LANGUAGE_BY_EXTENSION: Readonly<Record<string, string>> = {
  '.js': 'javascript', '.mjs': 'javascript', '.cjs': 'javascript', '.jsx': 'jsx', '.ts': 'typescript', '.mts': 'typescript', '.cts': 'typescript', '.tsx': 'tsx',
  '.py': 'python', '.java': 'java', '.go': 'go', '.rb': 'ruby', '.rs': 'rust', '.c': 'c', '.cpp': 'cpp', '.cs': 'csharp', '.kt': 'kotlin'
}

async function scoreFile (file: string, flags: ScoreFlags): Promise<void> {
  let config
  try {
    // only the evaluator settings matter here; Kafka and Redis are not used
    config = resolveEvaluatorConfig({ brokers: ['unused:9092'], redisUrl: 'redis://unused:6379', provider: provider(flags.provider), model: flags.model, jobTimeoutMs: positiveInt(flags.jobTimeoutMs, '--job-timeout-ms') })
  } catch (error) { configError(error) }
  let code: string
  try {
    code = readFileSync(file, 'utf8')
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`, 'give the path of a source file', EXIT_USAGE)
  }
  const evaluator = createCodeEvaluator(config)
  const language = flags.language ?? LANGUAGE_BY_EXTENSION[extname(file).toLowerCase()] ?? null
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), config.jobTimeoutMs)
  const verdict = await evaluator.evaluate({ missionTitle: flags.title ?? null, language, code }, controller.signal).finally(() => clearTimeout(timer))
  if (flags.json === true) {
    printJson({ evaluator: evaluator.name, language, ...verdict })
  } else if (verdict.outcome === 'completed') {
    printLine(`${evaluator.name}: score ${verdict.score}/${verdict.maxScore}  ${Object.entries(verdict.details).map(([k, v]) => `${k} ${String(v)}`).join('  ')}`)
    printLine(verdict.feedback)
  } else {
    printLine(`${evaluator.name}: evaluation failed (${verdict.failureReason}): ${verdict.message}`)
  }
  if (verdict.outcome === 'failed') process.exitCode = EXIT_FAILURE
}

export function register (program: Command): void {
  const evaluator = program
    .command('evaluator')
    .description('the AI evaluation service: MissionCompleted / EvaluationRetryRequested → BullMQ jobs → EvaluationStarted/Completed/Failed')
    .option('--concurrency <n>', 'jobs this process runs at once (EVALUATOR_CONCURRENCY, default 4)')
    .option('--rate-per-minute <r>', 'evaluations started per minute across all workers of the queue (EVALUATOR_RATE_PER_MINUTE, default 60)')
    .option('--job-timeout-ms <ms>', 'longest evaluation before EvaluationFailed(timeout) (EVALUATOR_JOB_TIMEOUT_MS, default 120000)')
    .option('--provider <p>', 'auto | openai | offline (EVALUATOR_PROVIDER, default auto: openai when OPENAI_API_KEY is set)')
    .option('--model <name>', 'model name for the OpenAI-compatible API (EVALUATOR_MODEL, default gpt-4o-mini)')
    .option('--brokers <list>', 'Kafka brokers host:port,… (else KAFKA_BROKERS, else infra.env)')
    .addOption(kafkaClientOption())
    .option('--redis-url <url>', 'Redis URL (else REDIS_URL, else infra.env)')
    .option('--topic-prefix <prefix>', `prefix of mission-events and evaluation-events (else ${PREFIX_ENV})`)
    .option('--queue <name>', 'BullMQ queue name (EVALUATOR_QUEUE, default devtrip-evaluations)')
    .option('--group-id <id>', 'consumer group of the intake (EVALUATOR_GROUP_ID, default devtrip-evaluator)')
    .option('--key-prefix <prefix>', 'Redis key prefix (default devtrip)')
    .option('--no-intake', 'run workers only (scale workers apart from the intake)')
    .option('--no-workers', 'run the intake only')
    .option('--shutdown-grace-ms <ms>', 'on SIGTERM, how long running jobs may take to finish (default 30000)')
    .option('--lock-duration-ms <ms>', 'BullMQ job lock; a crashed worker\'s job is re-run after about this long (default 30000)')
    .option('--stalled-interval-ms <ms>', 'how often workers look for stalled jobs (default 30000)')
    .action(async (flags: RunFlags) => { await runService(flags) })

  // --provider, --model and --job-timeout-ms are the parent's options (commander gives them to `evaluator`
  // wherever they appear), read here with optsWithGlobals()
  evaluator
    .command('score <file>')
    .description('evaluate one source file with the configured evaluator and print the verdict (exit 1 when the evaluation failed)')
    .option('--language <name>', 'language of the file (default: from the extension)')
    .option('--title <text>', 'mission title given to the evaluator')
    .option('--json', 'print the verdict as JSON')
    .configureHelp({ showGlobalOptions: true })
    .action(async (file: string, _flags: ScoreFlags, command: Command) => { await scoreFile(file, command.optsWithGlobals<ScoreFlags>()) })
}
