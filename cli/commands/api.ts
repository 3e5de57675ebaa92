/**
 * `devtrip-streams api`: runs the ingest HTTP API (api/, docs/api.md) until SIGTERM or SIGINT, then stops
 * taking requests, finishes the ones in flight (their transactions included) and exits 0.
 *
 * Brokers and Redis come from --brokers / --redis-url, KAFKA_BROKERS / REDIS_URL or `infra up`'s infra.env
 * (cli/connection.ts). Tokens come from --tokens-file or DEVTRIP_API_TOKENS; with neither, development
 * tokens are generated once into <local dir>/api-tokens.json (mode 600) and reused — the path is printed,
 * the tokens never are. Human-readable lines go to stderr; stdout carries the JSON log.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Command } from 'commander'
import { Redis } from 'ioredis'
import {
  buildApiServer, createRemoteQueries, DEV_TOKENS_FILE_NAME, ensureDevTokens, loadTokenConfig, RedisIdempotencyStore, resolveApiConfig, TOKENS_ENV,
  type ApiConfigInput, type LogLevel, type TokenConfig
} from '../../api'
import { createKafkaClients } from '../../streams/kafka'
import { StreamsOverview } from '../../streams/tools'
import { openDashboardQueues } from '../../evaluator'
import { resolveBrokers, resolveRedisUrl, resolveTopicPrefix, TOPIC_PREFIX_ENV, kafkaClientOption, resolveKafkaClient } from '../connection'
import { infraLocalDir } from '../infra'
import { CliError, EXIT_USAGE } from '../output'

const PREFIX_ENV = TOPIC_PREFIX_ENV
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

interface ApiFlags {
  port?: string
  host?: string
  brokers?: string
  client?: string
  redisUrl?: string
  tokensFile?: string
  topicPrefix?: string
  config?: string
  logLevel?: string
  /** commander's --no-queries */
  queries: boolean
  queryAppPrefix?: string
  queryTimeoutMs?: string
}

function say (line: string): void {
  process.stderr.write(line + '\n')
}

function parsePort (value: string): number {
  if (!/^[0-9]{1,5}$/.test(value) || Number(value) > 65535) throw new CliError(`--port must be a port number (0–65535), got "${value}"`, 'e.g. --port 8088 (0 picks a free port)', EXIT_USAGE)
  return Number(value)
}

function readConfigFile (path: string): ApiConfigInput {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new CliError(`cannot read the config file ${path}: ${(error as Error).message}`, 'pass a JSON file with the fields of docs/api.md "Configuration"', EXIT_USAGE)
  }
  try {
    return JSON.parse(text) as ApiConfigInput
  } catch (error) {
    throw new CliError(`the config file ${path} is not JSON: ${(error as Error).message}`, 'fix the JSON', EXIT_USAGE)
  }
}

/** Flags override the config file; the file overrides the defaults. */
function configFrom (flags: ApiFlags): ApiConfigInput {
  const base = flags.config === undefined ? {} : readConfigFile(flags.config)
  if (flags.logLevel !== undefined && !(LOG_LEVELS as readonly string[]).includes(flags.logLevel)) {
    throw new CliError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got "${flags.logLevel}"`, 'e.g. --log-level warn', EXIT_USAGE)
  }
  const prefix = resolveTopicPrefix(flags.topicPrefix)
  if (flags.queryTimeoutMs !== undefined && !/^[0-9]{3,5}$/.test(flags.queryTimeoutMs)) {
    throw new CliError(`--query-timeout-ms must be a whole number of milliseconds (100–60000), got "${flags.queryTimeoutMs}"`, 'e.g. --query-timeout-ms 3000', EXIT_USAGE)
  }
  const queries = {
    ...(base.queries ?? {}),
    ...(flags.queryAppPrefix === undefined ? {} : { applicationIdPrefix: flags.queryAppPrefix }),
    ...(flags.queryTimeoutMs === undefined ? {} : { timeoutMs: Number(flags.queryTimeoutMs) })
  }
  return {
    ...base,
    ...(flags.port === undefined ? {} : { port: parsePort(flags.port) }),
    ...(flags.host === undefined ? {} : { host: flags.host }),
    ...(prefix === '' ? {} : { topicPrefix: prefix }),
    ...(flags.logLevel === undefined ? {} : { logLevel: flags.logLevel as LogLevel }),
    ...(Object.keys(queries).length === 0 ? {} : { queries })
  }
}

function tokensFrom (flags: ApiFlags): TokenConfig {
  const configured = loadTokenConfig(flags.tokensFile)
  if (configured !== undefined) {
    if (configured.tokens.length === 0) say('warning: the token config holds no tokens: every authenticated route will answer 401')
    return configured
  }
  const dev = ensureDevTokens(join(infraLocalDir(), DEV_TOKENS_FILE_NAME))
  say(`no token config (--tokens-file / ${TOKENS_ENV}): using development tokens ${dev.created ? 'generated into' : 'from'} ${dev.file} (mode 600)`)
  say(`  holders: ${dev.config.tokens.map((t) => `${t.name} [${t.scopes.join(', ')}]`).join('; ')}`)
  say(`  a token: node -p 'require("${dev.file}").secrets["mission-service"]'`)
  return dev.config
}

async function runApi (flags: ApiFlags): Promise<void> {
  const input = configFrom(flags)
  // validate before connecting anywhere, so a bad option fails at once with exit 2
  let config
  try {
    config = resolveApiConfig(input)
  } catch (error) {
    throw new CliError((error as Error).message, 'see the configuration table in docs/api.md', EXIT_USAGE)
  }
  const brokers = resolveBrokers(flags.brokers)
  const redisUrl = resolveRedisUrl(flags.redisUrl)
  const tokens = tokensFrom(flags)

  // commands fail fast while Redis is away (503 to the client) instead of queueing without bound
  const redis = new Redis(redisUrl, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 5000 })
  redis.on('error', () => { /* reported through failing commands and /readyz; ioredis reconnects by itself */ })
  await redis.connect().catch((error: unknown) => say(`warning: Redis at ${redisUrl} is not reachable yet (${(error as Error).message}); ingest answers 503 until it is`))

  const kafka = createKafkaClients({ brokers, clientId: 'devtrip-api', requestTimeoutMs: 10_000, operationTimeoutMs: 15_000 }, resolveKafkaClient(flags.client))
  // the query routes ask the `run` instances that hold the keys; they find them through the topologies' groups
  const queryAdmin = flags.queries ? kafka.createAdmin() : undefined
  const queries = queryAdmin === undefined
    ? undefined
    : createRemoteQueries({
      admin: queryAdmin,
      topicPrefix: config.topicPrefix,
      applicationIdPrefix: config.queries.applicationIdPrefix ?? config.topicPrefix,
      timeoutMs: config.queries.timeoutMs,
      metadataCacheMs: config.queries.metadataCacheMs,
      retryAfterSeconds: config.producer.retryAfterSeconds
    })
  // /v1/lag, its SSE stream and /dashboard read the cluster through this; it samples only while someone looks
  const lag = new StreamsOverview(kafka, { dlqPrefix: config.topicPrefix })
  // bull-board at /admin/queues shows the evaluator's BullMQ queue (admin scope)
  const dashboardQueues = openDashboardQueues(redisUrl)
  const app = await buildApiServer({
    config: input,
    tokens,
    kafka,
    idempotency: new RedisIdempotencyStore(redis, { keyPrefix: config.idempotency.keyPrefix, ownsClient: true }),
    lag,
    ...(queries === undefined ? {} : { queries }),
    extras: { adminQueues: dashboardQueues.queues }
  })

  const address = await app.listen({ host: config.host, port: config.port })
  say(`devtrip-streams api listening on ${address} (brokers ${brokers.join(',')}, Redis ${redisUrl}${config.topicPrefix === '' ? '' : `, topic prefix "${config.topicPrefix}"`}); docs at ${address}/docs`)

  await new Promise<void>((resolve) => {
    let stopping = false
    const stop = (signal: string): void => {
      if (stopping) return
      stopping = true
      say(`${signal}: finishing in-flight requests, then stopping`)
      app.close().then(async () => {
        // the server closes what it was handed only where it owns it: the lag sampler and the queue connections are ours
        queries?.close()
        await Promise.allSettled([lag.close(), dashboardQueues.close(), queryAdmin?.close()])
        say('stopped')
        resolve()
      }, (error: unknown) => {
        say(`error while stopping: ${(error as Error).message}`)
        process.exitCode = 1
        resolve()
      })
    }
    process.once('SIGTERM', () => stop('SIGTERM'))
    process.once('SIGINT', () => stop('SIGINT'))
  })
}

export function register (program: Command): void {
  program.command('api')
    .description('run the ingest HTTP API (POST /v1/events …; see docs/api.md) until SIGTERM/SIGINT')
    .option('--port <port>', 'TCP port, 0 picks a free one (default 8088)')
    .option('--host <host>', 'address to listen on (default 127.0.0.1)')
    .option('--brokers <list>', 'Kafka bootstrap brokers host:port,… (default: KAFKA_BROKERS or infra.env)')
    .addOption(kafkaClientOption())
    .option('--redis-url <url>', 'Redis for idempotency (default: REDIS_URL or infra.env)')
    .option('--tokens-file <file>', `token config (hashes and scopes; default: ${TOKENS_ENV}, else generated dev tokens)`)
    .option('--topic-prefix <prefix>', `put this before every catalog topic name (default: ${PREFIX_ENV})`)
    .option('--config <file>', 'JSON file with further settings (limits, rate limit, idempotency, producer)')
    .option('--log-level <level>', `log level: ${LOG_LEVELS.join(', ')}`)
    .option('--query-app-prefix <prefix>', 'before the topologies\' application ids whose instances answer the query routes (default: the topic prefix, as `run` does)')
    .option('--query-timeout-ms <ms>', 'how long one request to a `run` instance may take (default 3000)')
    .option('--no-queries', 'serve no queries: the query routes answer 503')
    .addHelpText('after', '\nExamples:\n  devtrip-streams api --port 8088\n  devtrip-streams api --tokens-file /etc/devtrip/api-tokens.json --host 0.0.0.0\n')
    .action(async (flags: ApiFlags) => runApi(flags))
}
