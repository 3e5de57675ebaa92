/**
 * `devtrip-streams bench ingest`: throughput and latency of the ingest API (POST /v1/events) at acks=all,
 * with batches of 1 and of 100 events per request, driven by autocannon over loopback.
 *
 * What runs: the real API (buildApiServer) in this process, on the real broker and Redis, producing to the six
 * domain topics behind a run-unique prefix (created here, deleted afterwards); every request carries new
 * eventIds (fresh UUIDs per request), so every event is produced — none is an idempotent hit. Rate limiting is
 * off; idempotency records are kept 10 minutes under a run-unique Redis prefix, so the shared Redis is not
 * filled for a week.
 *
 * Reported per batch size: requests/s and events/s (202 answers only), latency p50/p99 per request as
 * autocannon measured it (from sending the request to the whole response: the broker's commit included), and
 * the number of non-202 answers (must be 0 for a valid run). The client and the server share the machine's
 * cores, which the figures include.
 *
 * bench/ does not import cli/: brokers and Redis come from the flags or KAFKA_BROKERS / REDIS_URL.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { cpus } from 'node:os'
import type { Command } from 'commander'
import autocannon from 'autocannon'
import { Redis } from 'ioredis'
import { createSampleGenerator, DEFAULT_PARTITIONS, DevtripError, DOMAIN_TOPICS, type EventType } from '../events'
import { createKafkaClients, KAFKA_ADAPTERS, parseKafkaAdapterName, type KafkaAdapterName } from '../streams/kafka'
import { buildApiServer, hashToken } from '../api'

export interface IngestBenchOptions {
  readonly brokers: readonly string[]
  /** the Kafka client adapter behind the API (default platformatic) */
  readonly client?: KafkaAdapterName
  readonly redisUrl: string
  /** seconds each batch size is driven for */
  readonly durationSeconds: number
  readonly connections: number
  readonly batchSizes: readonly number[]
  /** transactional producers in the API's pool */
  readonly poolSize: number
}

export interface IngestBenchResult {
  readonly batchSize: number
  readonly connections: number
  readonly durationSeconds: number
  readonly requests: number
  readonly requestsPerSecond: number
  readonly eventsPerSecond: number
  readonly latencyMs: { readonly p50: number, readonly p99: number, readonly max: number }
  readonly non2xx: number
  readonly errors: number
}

export interface IngestBenchReport {
  readonly command: string
  readonly startedAt: string
  readonly node: string
  readonly cpus: number
  readonly options: Omit<IngestBenchOptions, 'brokers' | 'redisUrl'>
  readonly results: readonly IngestBenchResult[]
}

const TYPES: readonly EventType[] = ['UserLoggedIn', 'PaymentCompleted', 'MissionStarted', 'EvaluationCompleted', 'UserProfileUpdated', 'MissionCompleted']

/**
 * A body of `size` events as a template: the events are built once (so JSON work stays out of the client's
 * hot loop) and only their eventIds are replaced per request.
 */
function bodyTemplate (size: number): string[] {
  const generator = createSampleGenerator(7)
  const marker = '__EVENT_ID__'
  const events = Array.from({ length: size }, (_, i) => ({ ...generator.event(TYPES[i % TYPES.length]!), eventId: marker }))
  return JSON.stringify(events).split(`"${marker}"`)
}

function fillIds (parts: readonly string[]): string {
  let body = parts[0]!
  for (let i = 1; i < parts.length; i++) body += `"${randomUUID()}"` + parts[i]!
  return body
}

export async function runIngestBench (options: IngestBenchOptions, progress: (line: string) => void = () => {}): Promise<IngestBenchResult[]> {
  const run = randomBytes(4).toString('hex')
  const prefix = `bench-ingest-${run}-`
  const kafka = createKafkaClients({ brokers: options.brokers, clientId: 'bench-ingest' }, options.client)
  const admin = kafka.createAdmin()
  const topics = DOMAIN_TOPICS.map((t) => prefix + t)
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 1 })
  const token = `bench-${randomBytes(16).toString('hex')}`
  const results: IngestBenchResult[] = []
  try {
    await admin.createTopics(topics.map((name) => ({ name, partitions: DEFAULT_PARTITIONS, replicationFactor: 1 })))
    const app = await buildApiServer({
      tokens: { tokens: [{ name: 'bench', sha256: hashToken(token), scopes: ['admin'] }] },
      kafka,
      redis,
      logger: false,
      config: {
        topicPrefix: prefix,
        rateLimit: { requestsPerSecond: 0 },
        maxEventsPerRequest: Math.max(1000, ...options.batchSizes),
        idempotency: { keyPrefix: `bench-ingest:${run}:`, retentionMs: 600_000 },
        producer: { poolSize: options.poolSize, transactionalIdPrefix: `bench-ingest-${run}` }
      }
    })
    try {
      const url = await app.listen({ host: '127.0.0.1', port: 0 })
      for (const batchSize of options.batchSizes) {
        const template = bodyTemplate(batchSize)
        // warm-up: producers initialised, connections and metadata cached, JIT warmed
        for (let i = 0; i < 20; i++) {
          const r = await fetch(url + '/v1/events', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: fillIds(template) })
          if (r.status !== 202) throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `bench ingest: the warm-up post was answered ${r.status}: ${await r.text()}`)
        }
        progress(`bench ingest: batches of ${batchSize}, ${options.connections} connections, ${options.durationSeconds} s`)
        const result = await autocannon({
          url: url + '/v1/events',
          connections: options.connections,
          duration: options.durationSeconds,
          requests: [{
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            setupRequest: (request) => ({ ...request, body: fillIds(template) })
          }]
        })
        const ok = result['2xx']
        results.push({
          batchSize,
          connections: options.connections,
          durationSeconds: result.duration,
          requests: ok,
          requestsPerSecond: Math.round(ok / result.duration),
          eventsPerSecond: Math.round((ok * batchSize) / result.duration),
          latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
          non2xx: result.non2xx,
          errors: result.errors
        })
      }
    } finally {
      await app.close()
    }
  } finally {
    await admin.deleteTopics(topics).catch(() => undefined)
    await admin.close().catch(() => undefined)
    await redis.quit().catch(() => redis.disconnect())
  }
  return results
}

function positiveInteger (value: string, flag: string): number {
  if (!/^[0-9]+$/.test(value) || Number(value) < 1) {
    throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `${flag} must be a whole number ≥ 1, got "${value}"`, { details: { hint: `e.g. ${flag} 10` } })
  }
  return Number(value)
}

function required (value: string | undefined, env: string, flag: string): string {
  const v = value ?? process.env[env]
  if (v === undefined || v.trim() === '') {
    throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `bench ingest needs ${flag} or ${env}`, {
      details: { hint: 'run `devtrip-streams infra up` and export the KAFKA_BROKERS / REDIS_URL it prints' }
    })
  }
  return v.trim()
}

interface IngestFlags {
  duration: string
  connections: string
  batches: string
  poolSize: string
  brokers?: string
  client?: string
  redisUrl?: string
  json?: boolean
}

export function registerBench (bench: Command): void {
  bench.command('ingest')
    .description('events/s and p50/p99 latency of POST /v1/events at acks=all, batches of 1 and 100 (autocannon on loopback)')
    .option('--duration <seconds>', 'how long each batch size is driven', '15')
    .option('--connections <n>', 'concurrent HTTP connections', '16')
    .option('--batches <list>', 'events per request, comma-separated', '1,100')
    .option('--pool-size <n>', 'transactional producers in the API', '8')
    .option('--brokers <list>', 'Kafka brokers (default KAFKA_BROKERS)')
    .option('--client <name>', `Kafka client adapter: ${KAFKA_ADAPTERS.join(' | ')} (default: $KAFKA_CLIENT, else platformatic)`)
    .option('--redis-url <url>', 'Redis (default REDIS_URL)')
    .option('--json', 'print the report as JSON')
    .action(async (flags: IngestFlags) => {
      const options: IngestBenchOptions = {
        brokers: required(flags.brokers, 'KAFKA_BROKERS', '--brokers').split(',').map((b) => b.trim()).filter((b) => b !== ''),
        client: parseKafkaAdapterName(flags.client ?? process.env.KAFKA_CLIENT ?? 'platformatic'),
        redisUrl: required(flags.redisUrl, 'REDIS_URL', '--redis-url'),
        durationSeconds: positiveInteger(flags.duration, '--duration'),
        connections: positiveInteger(flags.connections, '--connections'),
        batchSizes: flags.batches.split(',').map((b) => positiveInteger(b.trim(), '--batches')),
        poolSize: positiveInteger(flags.poolSize, '--pool-size')
      }
      const startedAt = new Date().toISOString()
      const results = await runIngestBench(options, (line) => process.stderr.write(line + '\n'))
      const report: IngestBenchReport = {
        command: `devtrip-streams bench ingest --duration ${options.durationSeconds} --connections ${options.connections} --batches ${options.batchSizes.join(',')} --pool-size ${options.poolSize}`,
        startedAt,
        node: process.version,
        cpus: cpus().length,
        options: { durationSeconds: options.durationSeconds, connections: options.connections, batchSizes: options.batchSizes, poolSize: options.poolSize },
        results
      }
      if (flags.json === true) {
        process.stdout.write(JSON.stringify(report, null, 2) + '\n')
      } else {
        for (const r of results) {
          process.stdout.write(`batch ${String(r.batchSize).padStart(3)}: ${r.eventsPerSecond} events/s (${r.requestsPerSecond} req/s), ` +
            `p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, max ${r.latencyMs.max} ms, non-202 ${r.non2xx}, errors ${r.errors}\n`)
        }
      }
      if (results.some((r) => r.non2xx > 0 || r.errors > 0)) {
        process.stderr.write('error: some requests were not answered 202: the figures are not valid\n')
        process.exitCode = 1
      }
    })
}
