/**
 * `bin/devtrip-streams bench all`: this engine next to Kafka Streams and Quix Streams on the same broker, the same
 * data and the same topology, with Kafka's own perf tools as the ceiling (issue #8; method in docs/benchmarks.md).
 *
 *   round r = 1 … runs:  ceiling → ours → Kafka Streams → Quix   (throughput + latency + exactly-once check)
 *                        then, in the first `restartRuns` rounds: restart test of ours → Kafka Streams → Quix
 *
 * Alternating the systems inside every round means a machine that gets busier or quieter during the benchmark
 * affects all of them alike. Headline figures are per-system medians over the rounds (bench/compare-report.ts).
 *
 * The caller (cli/commands/bench.ts) gives the brokers, the Kafka tools and the built peers: bench/ may not import cli/.
 */
import Ajv from 'ajv'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { DevtripError } from '../events/errors'
import type { KafkaAdapterName } from '../streams/kafka'
import { runCeiling, type CeilingResult, type KafkaToolsEnv } from './ceiling'
import { runRestartOnce, runSystemOnce, type RestartRunResult, type SystemRunResult } from './compare-run'
import {
  goalsOf, ratiosOf, renderComparisonMarkdown, replaceGeneratedSection, summarizeSystem,
  type Goals, type Ratios, type SystemRunFigures, type SystemSummary, type TableInput
} from './compare-report'
import { machineInfo, type MachineInfo } from './engine-bench'
import { medianOrNull, round } from './stats'
import { SYSTEM_NAMES, type BenchSystem, type SystemName } from './system-process'
import { WORKLOAD_OPTION_PROPERTIES, type WorkloadOptionsInput } from './workload-options'

export interface CompareBenchOptionsInput extends WorkloadOptionsInput {
  sessionTimeoutMs?: number
  /** distinct keys in the store for the restart test; 0 skips it */
  restartKeys?: number
  /** rounds that include the restart test (the first ones); null: every round */
  restartRuns?: number | null
  systems?: SystemName[]
}

export type CompareBenchOptions = Readonly<Required<Omit<CompareBenchOptionsInput, 'restartRuns'>> & { restartRuns: number }>

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...WORKLOAD_OPTION_PROPERTIES,
    // the broker refuses sessions outside group.min/max.session.timeout.ms (6 s … 30 min by default)
    sessionTimeoutMs: { type: 'integer', minimum: 6000, maximum: 300_000, default: 10_000 },
    restartKeys: { anyOf: [{ const: 0 }, { type: 'integer', minimum: 10_000, maximum: 50_000_000 }], default: 1_000_000 },
    restartRuns: { type: ['integer', 'null'], minimum: 0, maximum: 50, default: null },
    systems: {
      type: 'array', minItems: 1, uniqueItems: true, items: { enum: [...SYSTEM_NAMES] }, default: [...SYSTEM_NAMES]
    }
  }
} as const

const validate = new Ajv({ useDefaults: true, allErrors: true }).compile(schema)

/** Validates against the one schema, fills in the defaults, freezes. Bad input: DEVTRIP_INVALID_OPTIONS naming each field. */
export function resolveCompareBenchOptions (input: CompareBenchOptionsInput = {}): CompareBenchOptions {
  const copy = JSON.parse(JSON.stringify(input)) as Record<string, unknown>
  if (!validate(copy)) {
    const problems = (validate.errors ?? [])
      // anyOf repeats its branches' complaints; its own line ("must match a schema in anyOf") says enough with the path
      .filter((e) => !(e.schemaPath.includes('/anyOf/') && e.keyword !== 'anyOf'))
      .map((e) => `${e.instancePath === '' ? '/' : e.instancePath} ${e.keyword === 'anyOf' ? 'must be 0 (skip) or a whole number from 10000' : e.message ?? 'is invalid'}` +
        (e.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})` : '') +
        (e.keyword === 'enum' ? ` (${SYSTEM_NAMES.join(', ')})` : ''))
    throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `invalid bench all options: ${problems.join('; ')}`)
  }
  if (copy.restartRuns === null) copy.restartRuns = copy.runs
  if ((copy.restartRuns as number) > (copy.runs as number)) {
    throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `invalid bench all options: /restartRuns (${String(copy.restartRuns)}) must not exceed /runs (${String(copy.runs)})`)
  }
  return Object.freeze(copy) as unknown as CompareBenchOptions
}

export interface CompareBenchEnv {
  readonly brokers: readonly string[]
  /** the Kafka client adapter our engine (and the benchmark's own clients) run on; default platformatic */
  readonly client?: KafkaAdapterName
  readonly tools: KafkaToolsEnv | null
  /** the systems to run, by name (built by the caller) */
  readonly systems: Readonly<Partial<Record<SystemName, BenchSystem>>>
  readonly kafkaVersion?: string
  readonly onProgress?: (line: string) => void
}

export interface SystemRound {
  readonly run: number
  readonly result: SystemRunResult | null
  readonly restart: RestartRunResult | null
  /** what went wrong in this round for this system (the round's figures are then missing) */
  readonly errors: readonly string[]
}

export interface SystemReport extends SystemSummary {
  readonly description: string
  readonly rounds: readonly SystemRound[]
}

export interface CompareBenchReport {
  readonly date: string
  readonly systems: Partial<Record<SystemName, SystemReport>>
  /** ours ÷ each peer, per figure */
  readonly ratios: Partial<Record<SystemName, Ratios>>
  readonly ceiling: { readonly eventsPerSec: number | null, readonly runs: readonly CeilingResult[] }
  readonly goals: Goals
  /** every failure, "system run r: message"; a report with errors is not written into the docs */
  readonly errors: readonly string[]
  readonly config: CompareBenchOptions & { readonly brokers: readonly string[], readonly client: KafkaAdapterName, readonly method: Readonly<Record<string, string>> }
  readonly machine: MachineInfo
}

const METHOD = {
  topology: 'input keyed by user id (JSON events) → per-key count in a persistent RocksDB store with a changelog → one output ' +
    '(user id, Int64 count) per input; exactly-once; same partitions, data, broker, commit interval and session timeout for every system',
  throughput: 'N events pre-loaded; a read_committed reader of the output counts outputs; clock from the first poll that returns ' +
    'output (its records not counted) to the poll that brings the N-th output; same code for every system',
  latency: 'fixed input rate of half that run\'s own throughput; record i scheduled at t0 + i/rate with that intended time in a header; ' +
    'latency = time a read_committed reader first sees its output − intended time (no coordinated omission); nearest-rank percentiles',
  restart: 'K events with K distinct keys, then E = max(K/5, 50 000) more; SIGKILL once K + E/2 outputs are visible; wait until the ' +
    'group is empty (the killed member\'s session expired; reported as sessionWaitSeconds); restart on the same state directory; seconds from the restart to the first new output; records restored as each system reports them (ours: restore ' +
    'events; Kafka Streams: StateRestoreListener; Quix: changelog records its recovery applied); then exactly-once check',
  memory: 'peak RSS = largest VmHWM (/proc/<pid>/status, process and children) of any of the system\'s processes in the round',
  ceiling: 'ProducerPerformance (acks=all, same record count and size) then ConsumerPerformance; min(producer records/s, consumer fetch.nMsg.sec)',
  aggregation: 'rounds alternate ceiling, ours, Kafka Streams, Quix; per-system medians over rounds; ratios = ours ÷ peer'
}

function figuresOf (round: SystemRound): SystemRunFigures {
  const r = round.result
  const peaks = [r?.peakRssMb, round.restart?.peakRssMb].filter((p): p is number => typeof p === 'number')
  return {
    eventsPerSec: r?.eventsPerSec ?? null,
    p50Ms: r === null ? null : round2(r.latency.latency.p50Ms),
    p99Ms: r === null ? null : round2(r.latency.latency.p99Ms),
    restartRestoredRecords: round.restart?.restoredRecords ?? null,
    restartSeconds: round.restart?.restartSeconds ?? null,
    peakRssMb: peaks.length === 0 ? null : Math.max(...peaks)
  }
}

function round2 (n: number): number {
  return round(n, 2)
}

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error))

export async function runCompareBench (options: CompareBenchOptions, env: CompareBenchEnv): Promise<CompareBenchReport> {
  const say = env.onProgress ?? (() => {})
  if (options.ceiling && env.tools === null) throw new DevtripError('DEVTRIP_INVALID_OPTIONS', 'the ceiling needs java and the Kafka classpath')
  for (const name of options.systems) {
    if (env.systems[name] === undefined) throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `system ${name} was asked for but not provided`)
  }
  const machine = machineInfo({ tools: env.tools, kafkaVersion: env.kafkaVersion })
  const date = new Date().toISOString().slice(0, 10)
  const rounds = new Map<SystemName, SystemRound[]>(options.systems.map((n) => [n, []]))
  const ceilings: CeilingResult[] = []
  const errors: string[] = []
  const common = {
    brokers: env.brokers, client: env.client ?? 'platformatic', recordSize: options.recordSize, partitions: options.partitions, commitIntervalMs: options.commitIntervalMs,
    sessionTimeoutMs: options.sessionTimeoutMs, onProgress: say
  }
  for (let run = 1; run <= options.runs; run++) {
    const tag = `run ${run}/${options.runs}`
    if (options.ceiling) {
      say(`${tag}: ceiling`)
      try {
        ceilings.push(await runCeiling({
          brokers: env.brokers, records: options.events, recordSize: options.recordSize, partitions: options.partitions,
          tools: env.tools as KafkaToolsEnv, onProgress: (line) => { say(`${tag}: ${line}`) }
        }))
      } catch (error) {
        errors.push(`ceiling ${tag}: ${errorText(error)}`)
        say(`${tag}: ceiling FAILED: ${errorText(error)}`)
      }
    }
    const thisRound = new Map<SystemName, { result: SystemRunResult | null, restart: RestartRunResult | null, errors: string[] }>()
    for (const name of options.systems) {
      const label = `${tag} ${name}`
      const entry = { result: null as SystemRunResult | null, restart: null as RestartRunResult | null, errors: [] as string[] }
      thisRound.set(name, entry)
      say(`${label}: throughput, latency, exactly-once check`)
      try {
        entry.result = await runSystemOnce({
          ...common, system: env.systems[name] as BenchSystem, events: options.events, keys: options.keys, durationSec: options.durationSec,
          profileDir: options.profileDir, label
        })
      } catch (error) {
        entry.errors.push(errorText(error))
        errors.push(`${label}: ${errorText(error)}`)
        say(`${label}: FAILED: ${errorText(error)}`)
      }
    }
    if (options.restartKeys > 0 && run <= options.restartRuns) {
      for (const name of options.systems) {
        const label = `${tag} ${name} restart`
        const entry = thisRound.get(name) as { restart: RestartRunResult | null, errors: string[] }
        say(`${label}: ${options.restartKeys} keys, SIGKILL mid-run, restart`)
        try {
          entry.restart = await runRestartOnce({ ...common, system: env.systems[name] as BenchSystem, restartKeys: options.restartKeys, label })
        } catch (error) {
          entry.errors.push(`restart: ${errorText(error)}`)
          errors.push(`${label}: ${errorText(error)}`)
          say(`${label}: FAILED: ${errorText(error)}`)
        }
      }
    }
    for (const [name, entry] of thisRound) (rounds.get(name) as SystemRound[]).push({ run, ...entry })
  }

  const systems: Partial<Record<SystemName, SystemReport>> = {}
  for (const [name, list] of rounds) {
    const measured = list.filter((r) => r.result !== null || r.restart !== null)
    systems[name] = { ...summarizeSystem(measured.map(figuresOf)), description: (env.systems[name] as BenchSystem).description, rounds: list }
  }
  const ours = systems['devtrip-streams']
  const ratios: Partial<Record<SystemName, Ratios>> = {}
  if (ours !== undefined) {
    for (const name of options.systems) if (name !== 'devtrip-streams') ratios[name] = ratiosOf(ours, systems[name] as SystemSummary)
  }
  const ceilingMedian = medianOrNull(ceilings.map((c) => c.eventsPerSec))
  const ceilingEventsPerSec = ceilingMedian === null ? null : round(ceilingMedian, 0)
  return {
    date,
    systems,
    ratios,
    ceiling: { eventsPerSec: ceilingEventsPerSec, runs: ceilings },
    goals: goalsOf(ours, systems['kafka-streams'], ceilingEventsPerSec),
    errors,
    config: { ...options, brokers: env.brokers, client: env.client ?? 'platformatic', method: METHOD },
    machine: { ...machine, loadAverageAtEnd: loadavg().map((l) => round(l, 2)) }
  }
}

/** One line about the machine for the docs table. */
export function machineSummary (m: MachineInfo): string {
  return `${m.cpus} × ${m.cpuModel}, ${(m.totalMemoryBytes / 2 ** 30).toFixed(1)} GiB, ${m.platform} ${m.kernel}, Node ${m.node}, ` +
    `${m.java ?? 'java ?'}, Kafka ${m.kafka ?? '?'} (one broker on the same machine)`
}

export interface WrittenOutputs {
  readonly resultsFile: string
  /** null when the docs were left alone (the report has errors, or no docs file was given) */
  readonly docsFile: string | null
}

/**
 * Writes the report to `<resultsDir>/<date>.json` and, when the run had no errors, regenerates the table section
 * of `docsFile` (between the bench-all markers). A report with errors never reaches the docs: its table would mix
 * measured and missing figures.
 */
export function writeComparisonOutputs (report: CompareBenchReport, paths: { resultsDir: string, docsFile: string | null, command: string }): WrittenOutputs {
  mkdirSync(paths.resultsDir, { recursive: true })
  const resultsFile = join(paths.resultsDir, `${report.date}.json`)
  writeFileSync(resultsFile, `${JSON.stringify(report, null, 2)}\n`)
  if (paths.docsFile === null || report.errors.length > 0) return { resultsFile, docsFile: null }
  const body = renderComparisonMarkdown({
    date: report.date,
    command: paths.command,
    systems: Object.fromEntries(Object.entries(report.systems).map(([name, s]) => [name, s])) as TableInput['systems'],
    ratios: report.ratios,
    ceilingEventsPerSec: report.ceiling.eventsPerSec,
    goals: report.goals,
    config: report.config,
    machine: { summary: machineSummary(report.machine), loadAverageAtStart: report.machine.loadAverageAtStart, loadAverageAtEnd: report.machine.loadAverageAtEnd ?? [] }
  })
  writeFileSync(paths.docsFile, replaceGeneratedSection(readFileSync(paths.docsFile, 'utf8'), body))
  return { resultsFile, docsFile: paths.docsFile }
}
