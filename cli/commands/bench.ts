/**
 * `devtrip-streams bench …`: the benchmarks. `bench engine` is registered here; any other benchmark registers itself
 * from its own module in bench/ by exporting `registerBench(bench: Command)` (e.g. bench/ingest-bench.ts → `bench
 * ingest`), so adding one touches no shared file.
 *
 * This command is where the benchmarks get what bench/ may not import from cli/: the broker addresses
 * (cli/connection.ts) and the Kafka tools (java, the jars' classpath) from cli/infra.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Command } from 'commander'
import { isDevtripError } from '../../events/errors'
import { resolveEngineBenchOptions, runEngineBench, type EngineBenchOptionsInput, type EngineBenchReport } from '../../bench/engine-bench'
import { KAFKA_ADAPTERS } from '../../streams/kafka'
import { resolveBrokers, resolveKafkaClients } from '../connection'
import { ensureKafkaJars, javaExecutable, KAFKA_VERSION, kafkaClasspath, kafkaLog4jConfig } from '../infra'
import { numberFlag } from '../flags'
import { CliError, EXIT_USAGE, printJson, printLine, printTable } from '../output'
import { cacheDir, projectRoot } from '../paths'
import { registerBenchAll } from '../bench-all'

interface EngineFlags {
  events?: string
  rate?: string
  runs?: string
  duration?: string
  keys?: string
  recordSize?: string
  partitions?: string
  commitInterval?: string
  ceiling?: boolean
  profile?: string
  brokers?: string
  client?: string
  json?: boolean
}

/** A bench/ module that adds a subcommand to `bench`. */
interface BenchModule {
  registerBench (bench: Command): void
}

// Only files that declare registerBench are loaded: some bench/ files are plain scripts that start measuring as
// soon as they are required (bench/state-bench.ts), and the engine's child process entry must not run here either.
const DECLARES_REGISTER_BENCH = /export\s+function\s+registerBench\b|exports\.registerBench\s*=/

/** Registers every module in `dir` that exports `registerBench(bench)`; returns the files it loaded. */
export function registerBenchModules (bench: Command, dir: string): string[] {
  if (!existsSync(dir)) return []
  const loaded: string[] = []
  const files = readdirSync(dir).filter((f) => /\.(js|ts)$/.test(f) && !f.endsWith('.d.ts')).sort()
  for (const file of files) {
    const path = join(dir, file)
    if (!DECLARES_REGISTER_BENCH.test(readFileSync(path, 'utf8'))) continue
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(path) as Partial<BenchModule>
    if (typeof mod.registerBench === 'function') {
      mod.registerBench(bench)
      loaded.push(file)
    }
  }
  return loaded
}

function engineOptions (flags: EngineFlags): EngineBenchOptionsInput {
  const input: EngineBenchOptionsInput = {
    events: numberFlag(flags.events, '--events', true),
    rate: numberFlag(flags.rate, '--rate', false),
    runs: numberFlag(flags.runs, '--runs', true),
    durationSec: numberFlag(flags.duration, '--duration', false),
    keys: numberFlag(flags.keys, '--keys', true),
    recordSize: numberFlag(flags.recordSize, '--record-size', true),
    partitions: numberFlag(flags.partitions, '--partitions', true),
    commitIntervalMs: numberFlag(flags.commitInterval, '--commit-interval', true),
    ceiling: flags.ceiling !== false,
    profileDir: flags.profile === undefined ? undefined : resolve(flags.profile)
  }
  for (const key of Object.keys(input) as Array<keyof EngineBenchOptionsInput>) if (input[key] === undefined) delete input[key]
  return input
}

const fmt = (n: number | null, digits = 0): string => (n === null ? '-' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }))

function printReport (report: EngineBenchReport): void {
  const several = report.clients.length > 1
  printTable(report.runs.map((r) => ({
    RUN: r.run,
    CLIENT: r.client,
    'CEILING/S': fmt(r.ceiling?.eventsPerSec ?? null),
    'PRODUCER/S': fmt(r.ceiling?.producer.recordsPerSec ?? null),
    'CONSUMER/S': fmt(r.ceiling?.consumer.fetchRecordsPerSec ?? null),
    'ENGINE/S': fmt(r.engine.eventsPerSec),
    RATIO: fmt(r.ratio, 3),
    'RATE/S': fmt(r.engine.latency.ratePerSec),
    'P50-MS': fmt(r.engine.latency.latency.p50Ms, 1),
    'P99-MS': fmt(r.engine.latency.latency.p99Ms, 1),
    'MAX-MS': fmt(r.engine.latency.latency.maxMs, 1),
    COMMITS: r.engine.commits
  })), ['RUN', ...(several ? ['CLIENT'] : []), 'CEILING/S', 'PRODUCER/S', 'CONSUMER/S', 'ENGINE/S', 'RATIO', 'RATE/S', 'P50-MS', 'P99-MS', 'MAX-MS', 'COMMITS'])
  printLine('')
  if (several) {
    printTable(report.clients.map((c) => ({
      CLIENT: c.client,
      'EVENTS/S': fmt(c.eventsPerSec),
      'VS-FIRST': fmt(c.relativeToFirst, 3),
      RATIO: fmt(c.ratio, 3),
      'RATE/S': fmt(c.latencyRate),
      'P50-MS': fmt(c.p50Ms, 1),
      'P99-MS': fmt(c.p99Ms, 1),
      'MAX-MS': fmt(c.maxMs, 1),
      VERIFIED: fmt(c.outputRecordsVerified)
    })), ['CLIENT', 'EVENTS/S', 'VS-FIRST', 'RATIO', 'RATE/S', 'P50-MS', 'P99-MS', 'MAX-MS', 'VERIFIED'])
    printLine(`medians per client over ${report.config.runs} run(s)${report.ceilingEventsPerSec === null ? '' : `; ceiling ${fmt(report.ceilingEventsPerSec)}/s`}`)
  } else {
    printLine(`median: ${fmt(report.eventsPerSec)} events/s (ceiling ${fmt(report.ceilingEventsPerSec)}/s, ratio ${fmt(report.ratio, 3)}); ` +
      `latency at ${fmt(report.config.latencyRate)} events/s: p50 ${fmt(report.p50Ms, 1)} ms, p99 ${fmt(report.p99Ms, 1)} ms, max ${fmt(report.maxMs, 1)} ms`)
  }
  const m = report.machine
  printLine(`machine: ${m.cpus} × ${m.cpuModel}, ${fmt(m.totalMemoryBytes / 2 ** 30, 1)} GiB, node ${m.node}, ${m.platform} ${m.kernel}, Kafka ${m.kafka ?? '?'}, ${m.java ?? 'java ?'}; ` +
    `load average ${m.loadAverageAtStart.join('/')} at the start, ${m.loadAverageAtEnd?.join('/') ?? '?'} at the end`)
  for (const r of report.runs) {
    const profile = r.engine.profile
    if (profile === null) continue
    const s = profile.summary
    printLine('')
    printLine(`profile of run ${r.run}${several ? ` (${r.client})` : ''}: ${profile.file} (busy ${fmt(s.busyMs / 1000, 1)} s of ${fmt(s.sampledMs / 1000, 1)} s sampled)`)
    printLine(`  by area: ${s.byArea.slice(0, 8).map((a) => `${a.area} ${fmt(a.percent, 1)}%`).join(', ')}`)
    printLine(`  hottest (self): ${s.topSelf.slice(0, 8).map((f) => `${f.function} ${f.location === '' ? '' : `(${f.location}) `}${fmt(f.selfPercent, 1)}%`).join(', ')}`)
  }
}

async function benchEngine (flags: EngineFlags): Promise<void> {
  let options
  try {
    options = resolveEngineBenchOptions(engineOptions(flags))
  } catch (error) {
    if (isDevtripError(error) && error.code === 'DEVTRIP_INVALID_OPTIONS') throw new CliError(error.message, 'see `bin/devtrip-streams bench engine --help`', EXIT_USAGE)
    throw error
  }
  const brokers = resolveBrokers(flags.brokers)
  const progress = (line: string): void => { process.stderr.write(`bench: ${line}\n`) }
  let tools = null
  if (options.ceiling) {
    await ensureKafkaJars({ onProgress: progress })
    tools = { java: javaExecutable(), classpath: kafkaClasspath(), log4jConfig: kafkaLog4jConfig() }
  }
  if (options.profileDir !== null) mkdirSync(options.profileDir, { recursive: true })
  const report = await runEngineBench(options, { brokers, clients: resolveKafkaClients(flags.client), tools, kafkaVersion: KAFKA_VERSION, onProgress: progress })
  if (flags.json === true) printJson(report)
  else printReport(report)
}

export function register (program: Command): void {
  const bench = program.command('bench').description('benchmarks on the local broker (see docs/benchmarks.md)')
  bench.command('engine')
    .description('events/s and end-to-end latency of a stateful count-by-key topology under exactly-once, next to Kafka\'s own ' +
      'ProducerPerformance/ConsumerPerformance ceiling; progress on stderr')
    .option('--events <n>', 'events pre-loaded for the throughput phase (also the ceiling\'s record count)', '200000')
    .option('--rate <events/s>', 'latency-phase input rate (default: half the first run\'s measured throughput)')
    .option('--runs <n>', 'runs, alternating ceiling and engine; figures are medians', '3')
    .option('--duration <seconds>', 'length of the latency phase', '20')
    .option('--keys <n>', 'distinct user ids (keys)', '10000')
    .option('--record-size <bytes>', 'bytes of each event\'s JSON value', '200')
    .option('--partitions <n>', 'partitions of the input and output topics', '6')
    .option('--commit-interval <ms>', 'StreamsApp commitIntervalMs', '100')
    .option('--no-ceiling', 'skip Kafka\'s perf tools (no ceiling, no ratio)')
    .option('--profile <dir>', 'write a V8 CPU profile (node --cpu-prof) of each engine run\'s process into <dir> and summarize it')
    .option('--brokers <list>', 'Kafka bootstrap brokers (default: KAFKA_BROKERS or the infra env file)')
    .option('--client <names>', `Kafka client adapter(s), comma-separated: ${KAFKA_ADAPTERS.join(' | ')}; with several, every run measures each ` +
      'of them in turn, side by side (default: $KAFKA_CLIENT, else platformatic)')
    .option('--json', 'one JSON document on stdout')
    .action(async (flags: EngineFlags) => { await benchEngine(flags) })
  registerBenchAll(bench, { cacheDir, projectRoot })
  registerBenchModules(bench, join(__dirname, '..', '..', 'bench'))
}
