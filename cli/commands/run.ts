/**
 * `devtrip-streams run <ticketing|user-stats|evaluation|all>`: runs DevTrip topologies on the broker, exactly-once,
 * each with its registry definition's dead-letter handling and the policies of `loadPolicies()` (DEVTRIP_POLICIES).
 *
 *   run all                              the three topologies in this process (three StreamsApps, one metrics registry)
 *   run all --instances 3                three child processes of this command, each with its own state directory
 *                                        (<state-dir>/instance-<i>), supervised: restarted when they die; one
 *                                        aggregated /metrics
 *   --json-events                        machine-readable progress on stdout, one JSON object per line (the chaos
 *                                        orchestrator reads them): started, state, running, restored, committed,
 *                                        aborted, rebalance, error, stopped
 *
 * Interactive queries: each process serves its stores on --application-server (default 127.0.0.1, a free port) and
 * advertises that address to the groups, so the API's query routes find the instance holding a key (docs/api.md).
 * Prometheus metrics on --metrics-port (default $METRICS_PORT, else 9464; --no-metrics turns it off). SIGTERM or
 * SIGINT closes every app cleanly (final commit, stores flushed, group left) and exits 0; an app that fails (state
 * ERROR) closes the others and exits 1, so a supervisor restarts the process.
 */
import { subscribe } from 'node:diagnostics_channel'
import type { Server } from 'node:http'
import { join } from 'node:path'
import type { Command } from 'commander'
import { collectDefaultMetrics, Registry } from 'prom-client'
import { isDevtripError } from '../../events/errors'
import { loadPolicies } from '../../processors'
import { StreamsApp, type AppState, type StreamsConfigInput } from '../../streams'
import type { KafkaAdapterName } from '../../streams/kafka'
import { DOMAIN_TOPICS } from '../../events'
import { OUTPUT_TOPICS, TOPOLOGIES, TOPOLOGY_NAMES, type TopologyDefinition, type TopologyName } from '../../topologies'
import { superviseInstances } from '../chaos/instance-supervisor'
import { closeServer, registrySource, serveMetrics } from '../chaos/metrics-http'
import { parseListenAddress, serveQueries, type ListenAddress } from '../chaos/query-endpoint'
import { resolveBrokers, resolveTopicPrefix, TOPIC_PREFIX_ENV, kafkaClientOption, resolveKafkaClient } from '../connection'
import { integerFlag } from '../flags'
import { infraLocalDir } from '../infra'
import { CliError, EXIT_USAGE, printLine } from '../output'

export const DEFAULT_METRICS_PORT = 9464
const PREFIX_ENV = TOPIC_PREFIX_ENV
/**
 * Default maxTaskIdleMs of `run`: a task waits up to 10 s for a partition that may hold older records (unfetched,
 * behind an open transaction, or not fetched yet) before it processes its other partitions past it. The evaluation topology decides timeouts by event time across
 * mission-events and evaluation-events, so processing one of them far ahead of the other after a restart would judge
 * evaluations against the wrong clock (docs/topologies.md, "Time"). The engine's own default (0) never waits.
 */
export const DEFAULT_MAX_TASK_IDLE_MS = 10_000
/** where `run` serves interactive queries unless told: loopback, a free port per process */
export const DEFAULT_APPLICATION_SERVER = '127.0.0.1:0'

export interface RunFlags {
  instances?: string
  stateDir?: string
  commitIntervalMs?: string
  metricsPort?: string
  metrics: boolean
  metricsHost?: string
  brokers?: string
  client?: string
  jsonEvents?: boolean
  maxTaskIdleMs?: string
  sessionTimeoutMs?: string
  topicPrefix?: string
  producerBatchRecords?: string
  /** host:port, or false for --no-application-server */
  applicationServer?: string | false
}

/** The resolved settings of one `run` (shared with the supervisor, which passes them on to its children). */
export interface RunSettings {
  readonly names: readonly TopologyName[]
  readonly target: string
  readonly instances: number
  readonly stateDir: string
  readonly commitIntervalMs: number | undefined
  readonly maxTaskIdleMs: number
  readonly sessionTimeoutMs: number | undefined
  /** records a task collects before handing them to the producer inside the open transaction (engine default 5000) */
  readonly producerBatchRecords: number | undefined
  /** undefined: no metrics endpoint */
  readonly metricsPort: number | undefined
  readonly metricsHost: string
  readonly brokers: readonly string[]
  /** the Kafka client adapter every app (and every child instance) uses */
  readonly client: KafkaAdapterName
  readonly jsonEvents: boolean
  /** put in front of every topic name AND every application id (so also of changelogs and consumer groups) */
  readonly topicPrefix: string
  /** where the interactive-query endpoint listens and what the apps advertise (port 0: a free one); undefined: none */
  readonly applicationServer: ListenAddress | undefined
}

function topicPrefix (flag: string | undefined): string {
  const prefix = resolveTopicPrefix(flag)
  if (!/^[A-Za-z0-9._-]*$/.test(prefix)) throw new CliError(`invalid topic prefix ${JSON.stringify(prefix)}`, 'a prefix may only contain letters, digits, ".", "_" and "-"', EXIT_USAGE)
  return prefix
}

export function resolveRunSettings (target: string, flags: RunFlags): RunSettings {
  if (target !== 'all' && !(TOPOLOGY_NAMES as readonly string[]).includes(target)) {
    throw new CliError(`unknown topology ${JSON.stringify(target)}`, `run one of: ${TOPOLOGY_NAMES.join(', ')}, or all`, EXIT_USAGE)
  }
  const envPort = process.env.METRICS_PORT?.trim()
  const port = flags.metrics ? (integerFlag(flags.metricsPort ?? (envPort === '' ? undefined : envPort), flags.metricsPort === undefined ? 'METRICS_PORT' : '--metrics-port', 1, 65535) ?? DEFAULT_METRICS_PORT) : undefined
  return Object.freeze({
    names: target === 'all' ? TOPOLOGY_NAMES : [target as TopologyName],
    target,
    instances: integerFlag(flags.instances, '--instances', 1, 64) ?? 1,
    stateDir: flags.stateDir ?? join(infraLocalDir(), 'state'),
    commitIntervalMs: integerFlag(flags.commitIntervalMs, '--commit-interval-ms', 1, 600_000),
    maxTaskIdleMs: integerFlag(flags.maxTaskIdleMs, '--max-task-idle-ms', 0, 600_000, 1) ?? DEFAULT_MAX_TASK_IDLE_MS,
    sessionTimeoutMs: integerFlag(flags.sessionTimeoutMs, '--session-timeout-ms', 6000, 300_000),
    producerBatchRecords: integerFlag(flags.producerBatchRecords, '--producer-batch-records', 1, 1_000_000),
    metricsPort: port,
    metricsHost: flags.metricsHost ?? '0.0.0.0',
    brokers: resolveBrokers(flags.brokers),
    client: resolveKafkaClient(flags.client),
    jsonEvents: flags.jsonEvents === true,
    topicPrefix: topicPrefix(flags.topicPrefix),
    applicationServer: flags.applicationServer === false ? undefined : parseListenAddress(flags.applicationServer ?? DEFAULT_APPLICATION_SERVER)
  })
}

/** One JSON progress line on stdout (`--json-events`); bigints as numbers (offsets stay far below 2^53). */
function emitEvent (event: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(JSON.stringify({ event, ...fields }, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)) + '\n')
}

interface RunningApp {
  readonly definition: TopologyDefinition
  readonly app: StreamsApp
}

function streamsConfig (definition: TopologyDefinition, settings: RunSettings, applicationServer: string | undefined): StreamsConfigInput {
  const handling = definition.errorHandling
  return {
    applicationId: settings.topicPrefix + definition.applicationId,
    ...(applicationServer === undefined ? {} : { applicationServer }),
    bootstrapServers: [...settings.brokers],
    client: settings.client,
    processingGuarantee: 'exactly-once',
    stateDir: settings.stateDir,
    maxTaskIdleMs: settings.maxTaskIdleMs,
    ...(settings.commitIntervalMs === undefined ? {} : { commitIntervalMs: settings.commitIntervalMs }),
    ...(settings.producerBatchRecords === undefined ? {} : { producerBatchRecords: settings.producerBatchRecords }),
    ...(settings.sessionTimeoutMs === undefined ? {} : { sessionTimeoutMs: settings.sessionTimeoutMs, heartbeatIntervalMs: Math.max(100, Math.floor(settings.sessionTimeoutMs / 5)) }),
    ...(typeof handling.deserialization === 'string' ? { deserializationExceptionHandler: handling.deserialization } : {}),
    ...(typeof handling.processing === 'string' ? { processingExceptionHandler: handling.processing } : {}),
    ...(typeof handling.production === 'string' ? { productionExceptionHandler: handling.production } : {}),
    ...(handling.dlqTopicSuffix === undefined ? {} : { dlqTopicSuffix: handling.dlqTopicSuffix })
  }
}

/** Turns the engine's diagnostics channels into `--json-events` lines for the apps of this process. */
function reportDiagnostics (apps: readonly RunningApp[]): void {
  const nameOf = new Map(apps.map((a) => [a.app.config.applicationId, a.definition.name]))
  const ours = (message: unknown): string | undefined => nameOf.get((message as { applicationId?: string }).applicationId ?? '')
  subscribe('devtrip-streams:restore', (message) => {
    const app = ours(message)
    const m = message as { taskId: string, store: string, partition: number, startOffset: bigint, endOffset: bigint, restoredRecords: number }
    if (app !== undefined) emitEvent('restored', { app, taskId: m.taskId, store: m.store, partition: m.partition, records: m.restoredRecords, startOffset: m.startOffset, endOffset: m.endOffset })
  })
  subscribe('devtrip-streams:commit', (message) => {
    const app = ours(message)
    if (app === undefined) return
    const m = message as { aborted?: boolean, reason?: string, tasks?: string[], checkpointedTasks?: string[], records?: number, durationMs?: number }
    if (m.aborted === true) emitEvent('aborted', { app, reason: m.reason })
    else emitEvent('committed', { app, reason: m.reason, tasks: m.tasks, checkpointedTasks: m.checkpointedTasks, records: m.records, durationMs: Math.round(m.durationMs ?? 0) })
  })
  subscribe('devtrip-streams:rebalance', (message) => {
    const app = ours(message)
    const m = message as { phase: string, partitions: unknown[] }
    if (app !== undefined) emitEvent('rebalance', { app, phase: m.phase, partitions: m.partitions.length })
  })
}

/** Runs the topologies in this process until a signal (exit 0 after a clean close) or a failed app (exit 1). */
async function runInProcess (settings: RunSettings): Promise<void> {
  const policies = loadPolicies()
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  // first the query endpoint: the apps advertise the address it really listens on (a free port when asked for 0)
  const queries = settings.applicationServer === undefined ? undefined : await serveQueries(settings.applicationServer)
  const apps: RunningApp[] = settings.names.map((name) => {
    const definition = TOPOLOGIES[name]
    const topics = Object.fromEntries([...DOMAIN_TOPICS, ...OUTPUT_TOPICS].map((t) => [t, settings.topicPrefix + t]))
    const topology = definition.build(policies, { storeKind: 'persistent', ...(settings.topicPrefix === '' ? {} : { topics }) })
    const app = new StreamsApp(topology, streamsConfig(definition, settings, queries?.applicationServer), { metricsRegistry: registry, errorHandling: definition.errorHandling })
    queries?.apps.set(app.config.applicationId, app)
    return { definition, app }
  })
  if (settings.jsonEvents) reportDiagnostics(apps)

  let server: Server | undefined
  let stopping: Promise<void> | undefined
  let failed = false
  /** until start() resolved, a failing app is handled by the start path (one error line with a hint) */
  let started = false
  const states = new Map<string, AppState>()
  let allRunning = false

  const stop = async (reason: string): Promise<void> => {
    stopping ??= (async () => {
      if (settings.jsonEvents) emitEvent('stopping', { reason })
      await Promise.all(apps.map(async ({ app }) => { await app.close({ timeoutMs: 30_000 }).catch(() => undefined) }))
      await closeServer(server)
      await queries?.close().catch(() => undefined)
      const clean = !failed && apps.every(({ app }) => app.state === 'NOT_RUNNING')
      if (settings.jsonEvents) emitEvent('stopped', { clean, reason })
      else process.stderr.write(`devtrip-streams run: stopped (${reason})${clean ? '' : ' — not cleanly, see the errors above'}\n`)
      process.exit(clean ? 0 : 1)
    })()
    await stopping
  }

  for (const { definition, app } of apps) {
    app.onStateChange((to, from) => {
      states.set(definition.name, to)
      if (settings.jsonEvents) {
        emitEvent('state', { app: definition.name, from, to })
        if (to === 'RUNNING') emitEvent('running', { app: definition.name })
      }
      const everyoneRunning = apps.every((a) => states.get(a.definition.name) === 'RUNNING')
      if (everyoneRunning && !allRunning) {
        if (settings.jsonEvents) emitEvent('running', { apps: settings.names })
        else printLine(`running: ${settings.names.join(', ')} — exactly-once, state in ${settings.stateDir}` +
          `${settings.metricsPort === undefined ? '' : `, metrics on http://${settings.metricsHost}:${settings.metricsPort}/metrics`}` +
          `${queries === undefined ? '' : `, queries on http://${queries.applicationServer}/v1/instance`} (SIGTERM or Ctrl-C stops)`)
      }
      allRunning = everyoneRunning
      if (to === 'ERROR' && started && stopping === undefined) {
        failed = true
        if (settings.jsonEvents) emitEvent('error', { app: definition.name, message: `${definition.name} failed (state ERROR); closing the others` })
        void stop(`${definition.name} failed`)
      }
    })
  }
  process.once('SIGTERM', () => { void stop('SIGTERM') })
  process.once('SIGINT', () => { void stop('SIGINT') })

  if (settings.metricsPort !== undefined) {
    try {
      server = await serveMetrics(registrySource(registry), settings.metricsPort, settings.metricsHost)
    } catch (error) {
      throw new CliError(`cannot serve metrics on ${settings.metricsHost}:${settings.metricsPort}: ${(error as Error).message}`,
        'pick another --metrics-port (or METRICS_PORT), or pass --no-metrics')
    }
  }
  if (settings.jsonEvents) emitEvent('started', { pid: process.pid, apps: settings.names, stateDir: settings.stateDir, metricsPort: settings.metricsPort ?? null, applicationServer: queries?.applicationServer ?? null })
  try {
    await Promise.all(apps.map(async ({ app }) => { await app.start() }))
    started = true
    // an app that failed while the others were still starting
    const broken = apps.find(({ app }) => app.state === 'ERROR')
    if (broken !== undefined) {
      failed = true
      await stop(`${broken.definition.name} failed`)
    }
  } catch (error) {
    failed = true
    await Promise.all(apps.map(async ({ app }) => { await app.close({ timeoutMs: 5000 }).catch(() => undefined) }))
    await closeServer(server)
    await queries?.close().catch(() => undefined)
    if (isDevtripError(error, 'DEVTRIP_UNKNOWN_TOPIC')) {
      throw new CliError(error.message, `create the DevTrip topics first: bin/devtrip-streams topics apply${settings.topicPrefix === '' ? '' : ` --prefix ${settings.topicPrefix}`}`)
    }
    throw error
  }
  // the apps run on the event loop until stop() exits the process
  await new Promise<never>(() => {})
}

async function run (target: string, flags: RunFlags): Promise<void> {
  const settings = resolveRunSettings(target, flags)
  if (settings.instances > 1) {
    await superviseInstances(settings)
    return
  }
  await runInProcess(settings)
}

export function register (program: Command): void {
  program.command('run')
    .description('run DevTrip topologies (ticketing, user-stats, evaluation or all) exactly-once on the broker until SIGTERM')
    .argument('<topology>', `${TOPOLOGY_NAMES.join(' | ')} | all`)
    .option('--instances <n>', 'run N child processes, each with its own state directory, and supervise them', '1')
    .option('--state-dir <dir>', 'where state stores live (default: <.local>/state, or $DEVTRIP_LOCAL_DIR/state)')
    .option('--commit-interval-ms <ms>', 'how often tasks commit their transaction (default: the engine\'s, 100 ms under exactly-once)')
    .option('--max-task-idle-ms <ms>', `how long a task waits for a partition that may hold older records (unfetched, behind an open transaction, or not fetched yet) before processing past it (default ${DEFAULT_MAX_TASK_IDLE_MS})`)
    .option('--producer-batch-records <n>', 'records collected before they are sent inside the open transaction (default: the engine\'s, 5000; the rest goes at commit)')
    .option('--session-timeout-ms <ms>', 'consumer group session timeout: how soon a dead instance\'s partitions move (default: the engine\'s, 45000)')
    .option('--metrics-port <port>', `serve Prometheus /metrics on this port (default: $METRICS_PORT, else ${DEFAULT_METRICS_PORT})`)
    .option('--metrics-host <host>', 'address the metrics endpoint listens on', '0.0.0.0')
    .option('--no-metrics', 'do not serve /metrics')
    .option('--brokers <list>', 'bootstrap brokers host:port[,host:port] (default: $KAFKA_BROKERS, else .local/infra.env)')
    .addOption(kafkaClientOption())
    .option('--topic-prefix <prefix>', `prefix of every topic name and application id, as \`topics apply --prefix\` (default: $${PREFIX_ENV}, else none)`)
    .option('--application-server <host:port>', `serve this process's stores to the API's query routes here, and advertise it to the group (default ${DEFAULT_APPLICATION_SERVER}: a free port; with --instances N, port P gives the children P … P+N-1)`)
    .option('--no-application-server', 'serve no queries (the API\'s query routes then answer 503 for this process\'s partitions)')
    .option('--json-events', 'print progress as JSON lines on stdout: started, state, running, restored, committed, aborted, rebalance, error, stopped')
    .action(run)
}
