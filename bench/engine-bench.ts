/**
 * The engine benchmark (`bin/devtrip-streams bench engine`): events/s and end-to-end latency of a stateful
 * count-by-key topology under exactly-once on the local broker, next to the ceiling Kafka's own perf tools reach
 * on the same machine in the same run. docs/benchmarks.md explains the method and holds the latest figures.
 *
 * Runs alternate ceiling, engine, ceiling, engine, … so that a machine getting slower or faster during the run
 * (other jobs, thermal limits, a growing broker log) affects both sides alike; the headline figures are medians
 * over the runs, and ratio = median engine events/s ÷ median ceiling events/s.
 *
 * The caller (cli/commands/bench.ts) resolves the brokers and the Kafka tools (java, classpath): bench/ may not
 * import cli/.
 */
import Ajv from 'ajv'
import { spawnSync } from 'node:child_process'
import { cpus, loadavg, platform, release, arch, totalmem } from 'node:os'
import { DevtripError } from '../events/errors'
import { runCeiling, type CeilingResult, type KafkaToolsEnv } from './ceiling'
import { runEngineOnce, type EngineRunResult } from './engine-run'
import { medianOrNull, round } from './stats'
import type { KafkaAdapterName } from '../streams/kafka'
import { WORKLOAD_OPTION_PROPERTIES, type WorkloadOptionsInput } from './workload-options'

export interface EngineBenchOptionsInput extends WorkloadOptionsInput {
  /** latency-phase input rate in events/s; default: half the first run's measured throughput */
  rate?: number | null
}

export type EngineBenchOptions = Readonly<Required<EngineBenchOptionsInput>>

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...WORKLOAD_OPTION_PROPERTIES,
    rate: { type: ['number', 'null'], exclusiveMinimum: 0, maximum: 10_000_000, default: null }
  }
} as const

const validate = new Ajv({ useDefaults: true, allErrors: true }).compile(schema)

/** Validates against the one schema, fills in the defaults, freezes. Bad input: DEVTRIP_INVALID_OPTIONS naming each field. */
export function resolveEngineBenchOptions (input: EngineBenchOptionsInput = {}): EngineBenchOptions {
  const copy = JSON.parse(JSON.stringify(input)) as Record<string, unknown>
  if (!validate(copy)) {
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath === '' ? '/' : e.instancePath} ${e.message ?? 'is invalid'}` +
      (e.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})` : ''))
    throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `invalid engine benchmark options: ${problems.join('; ')}`)
  }
  return Object.freeze(copy) as unknown as EngineBenchOptions
}

/** What the benchmark needs from its caller. */
export interface EngineBenchEnv {
  readonly brokers: readonly string[]
  /**
   * the Kafka client adapters the engine runs on (default [platformatic]); with several, each run measures every
   * one of them in turn (the order rotating from run to run), so they are compared side by side in one run
   */
  readonly clients?: readonly KafkaAdapterName[]
  /** java and the Kafka classpath; required when options.ceiling */
  readonly tools: KafkaToolsEnv | null
  /** the broker's Kafka version, for the report */
  readonly kafkaVersion?: string
  /** progress lines (the CLI writes them to stderr) */
  readonly onProgress?: (line: string) => void
}

export interface EngineBenchRun {
  readonly run: number
  readonly client: KafkaAdapterName
  /** the ceiling measured at the start of this run (shared by its clients) */
  readonly ceiling: CeilingResult | null
  readonly engine: EngineRunResult
  /** engine.eventsPerSec / ceiling.eventsPerSec of this run */
  readonly ratio: number | null
}

export interface MachineInfo {
  readonly cpus: number
  readonly cpuModel: string
  readonly totalMemoryBytes: number
  readonly node: string
  readonly v8: string
  readonly platform: string
  readonly kernel: string
  readonly arch: string
  /** 1/5/15-minute load averages: the machine is shared, so a busy neighbour shows here */
  readonly loadAverageAtStart: readonly number[]
  readonly loadAverageAtEnd?: readonly number[]
  readonly java: string | null
  readonly kafka: string | null
}

/** One client's figures: medians over its runs. */
export interface EngineBenchClientSummary {
  readonly client: KafkaAdapterName
  readonly eventsPerSec: number
  /** the latency phase's input rate this client ran at */
  readonly latencyRate: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly maxMs: number
  /** eventsPerSec / the median ceiling */
  readonly ratio: number | null
  /** eventsPerSec / the first client's eventsPerSec */
  readonly relativeToFirst: number
  /** median commits per run (both phases) */
  readonly commits: number
  /** output records read back and checked, summed over the runs */
  readonly outputRecordsVerified: number
}

export interface EngineBenchReport {
  /** medians over the runs (of the first client when several were measured; every client in `clients`) */
  readonly eventsPerSec: number
  readonly p50Ms: number
  readonly p99Ms: number
  /** the largest latency any run saw */
  readonly maxMs: number
  readonly ceilingEventsPerSec: number | null
  /** eventsPerSec / ceilingEventsPerSec */
  readonly ratio: number | null
  readonly clients: readonly EngineBenchClientSummary[]
  readonly runs: readonly EngineBenchRun[]
  readonly config: EngineBenchOptions & {
    readonly brokers: readonly string[]
    /** the first of `clients` */
    readonly client: KafkaAdapterName
    readonly clients: readonly KafkaAdapterName[]
    /** the latency-phase rate actually used (the first client's; each client's is in `clients`) */
    readonly latencyRate: number
    readonly processingGuarantee: 'exactly-once'
    readonly topology: string
    readonly method: Readonly<Record<string, string>>
  }
  readonly machine: MachineInfo
}

/** First line of `java -version` (which prints to stderr), or null when it cannot be run. */
function javaVersion (java: string): string | null {
  const result = spawnSync(java, ['-version'], { encoding: 'utf8', timeout: 30_000 })
  const line = `${result.stderr ?? ''}${result.stdout ?? ''}`.split('\n')[0]?.trim()
  return result.status === 0 && line !== undefined && line !== '' ? line : null
}

export function machineInfo (env: Pick<EngineBenchEnv, 'tools' | 'kafkaVersion'>): MachineInfo {
  const list = cpus()
  return {
    cpus: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    totalMemoryBytes: totalmem(),
    node: process.version,
    v8: process.versions.v8,
    platform: platform(),
    kernel: release(),
    arch: arch(),
    loadAverageAtStart: loadavg().map((l) => round(l, 2)),
    java: env.tools === null ? null : javaVersion(env.tools.java),
    kafka: env.kafkaVersion ?? null
  }
}

const METHOD = {
  throughput: 'N events pre-loaded into a fresh input topic; clock from the app\'s first committed transaction (start-up excluded, ' +
    'that transaction\'s records not counted) until the transaction holding input offset N is committed and visible (last stable ' +
    'offset = high watermark on every output partition)',
  latency: 'fixed input rate; record i scheduled at t0 + i/rate with that intended time in a header; latency = time a read_committed ' +
    'consumer of the output first returns its output − intended time (no coordinated omission); nearest-rank percentiles',
  ceiling: 'ProducerPerformance (acks=all, --throughput -1, same record count and value size), then ConsumerPerformance reading them ' +
    'back; ceiling = min(producer records/s, consumer fetch.nMsg.sec)',
  aggregation: 'runs alternate ceiling, engine; figures are medians over runs; ratio = median engine events/s / median ceiling events/s',
  clients: 'with several Kafka clients, each run measures the ceiling, then every client in turn, the order rotating by one from run to ' +
    'run; each client\'s latency phase runs at half its own first throughput (unless --rate), i.e. at the same relative load',
  check: 'after each engine run the output is read back read_committed: exactly one output per input, every key counting 1..n'
}

export async function runEngineBench (options: EngineBenchOptions, env: EngineBenchEnv): Promise<EngineBenchReport> {
  const say = env.onProgress ?? (() => {})
  if (options.ceiling && env.tools === null) {
    throw new DevtripError('DEVTRIP_INVALID_OPTIONS', 'the ceiling needs java and the Kafka classpath (EngineBenchEnv.tools)')
  }
  const machine = machineInfo(env)
  const clients = env.clients !== undefined && env.clients.length > 0 ? [...env.clients] : ['platformatic' as const]
  if (new Set(clients).size !== clients.length) throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `each Kafka client may be measured once per run, got ${clients.join(', ')}`)
  // one rate per client for all its runs (its first run's half throughput, unless --rate), so its runs' latencies
  // are comparable, and every client runs its latency phase at the same relative load
  const latencyRates = new Map<KafkaAdapterName, number>()
  const rateFor = (client: KafkaAdapterName) => (measured: number): number => {
    const rate = options.rate ?? latencyRates.get(client) ?? Math.max(1, Math.round(measured / 2))
    latencyRates.set(client, rate)
    return rate
  }
  const runs: EngineBenchRun[] = []
  for (let run = 1; run <= options.runs; run++) {
    let ceiling: CeilingResult | null = null
    if (options.ceiling) {
      say(`run ${run}/${options.runs}: ceiling`)
      ceiling = await runCeiling({
        brokers: env.brokers, records: options.events, recordSize: options.recordSize, partitions: options.partitions,
        tools: env.tools as KafkaToolsEnv, onProgress: (line) => { say(`run ${run}/${options.runs}: ${line}`) }
      })
    }
    const shift = (run - 1) % clients.length
    for (const client of [...clients.slice(shift), ...clients.slice(0, shift)]) {
      const label = clients.length === 1 ? `run ${run}/${options.runs}` : `run ${run}/${options.runs} ${client}`
      say(`${label}: engine`)
      const engine = await runEngineOnce({
        brokers: env.brokers, client, events: options.events, keys: options.keys, recordSize: options.recordSize, partitions: options.partitions,
        commitIntervalMs: options.commitIntervalMs, durationSec: options.durationSec, chooseRate: rateFor(client), profileDir: options.profileDir,
        label, onProgress: say
      })
      runs.push({ run, client, ceiling, engine, ratio: ceiling === null ? null : engine.eventsPerSec / ceiling.eventsPerSec })
    }
  }
  const ceilingEventsPerSec = medianOrNull(runs.filter((r) => r.client === clients[0]).map((r) => r.ceiling?.eventsPerSec))
  const summaries = clients.map((client) => summarizeClient(client, runs.filter((r) => r.client === client), latencyRates.get(client) as number, ceilingEventsPerSec))
  const first = summaries[0] as ClientFigures
  const clientSummaries: EngineBenchClientSummary[] = summaries.map((c) => ({ ...c, relativeToFirst: round(c.eventsPerSec / first.eventsPerSec, 3) }))
  return {
    eventsPerSec: first.eventsPerSec,
    p50Ms: first.p50Ms,
    p99Ms: first.p99Ms,
    maxMs: first.maxMs,
    ceilingEventsPerSec: ceilingEventsPerSec === null ? null : round(ceilingEventsPerSec, 0),
    ratio: first.ratio,
    clients: clientSummaries,
    runs,
    config: {
      ...options,
      brokers: env.brokers,
      client: clients[0] as KafkaAdapterName,
      clients,
      latencyRate: first.latencyRate,
      processingGuarantee: 'exactly-once',
      topology: 'stream(input, String/Json) → groupByKey → count(persistent RocksDB store, change-logged) → toStream → to(output, String/Int64)',
      method: METHOD
    },
    machine: { ...machine, loadAverageAtEnd: loadavg().map((l) => round(l, 2)) }
  }
}

/** A client's figures on their own (its ratio to the first client needs the first one's). */
type ClientFigures = Omit<EngineBenchClientSummary, 'relativeToFirst'>

function summarizeClient (client: KafkaAdapterName, runs: readonly EngineBenchRun[], latencyRate: number, ceilingEventsPerSec: number | null): ClientFigures {
  const eventsPerSec = medianOrNull(runs.map((r) => r.engine.eventsPerSec)) as number
  return {
    client,
    eventsPerSec: round(eventsPerSec, 0),
    latencyRate,
    p50Ms: round(medianOrNull(runs.map((r) => r.engine.latency.latency.p50Ms)) as number, 2),
    p99Ms: round(medianOrNull(runs.map((r) => r.engine.latency.latency.p99Ms)) as number, 2),
    maxMs: round(Math.max(...runs.map((r) => r.engine.latency.latency.maxMs)), 2),
    ratio: ceilingEventsPerSec === null ? null : round(eventsPerSec / ceilingEventsPerSec, 3),
    commits: medianOrNull(runs.map((r) => r.engine.commits)) as number,
    outputRecordsVerified: runs.reduce((n, r) => n + r.engine.outputRecordsVerified, 0)
  }
}
