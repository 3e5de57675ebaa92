/**
 * `devtrip-streams bench all`: this engine next to Kafka Streams and Quix Streams, with Kafka's perf tools as the
 * ceiling (bench/compare-bench.ts; method and results in docs/benchmarks.md). Registered by cli/commands/bench.ts.
 *
 * Here is what bench/ may not do itself: resolve the brokers, fetch the Kafka jars, find java, and build the peers
 * (Maven, a Python venv) into the project's cache folder. Writes bench/results/<YYYY-MM-DD>.json and regenerates
 * the table between the bench-all markers of docs/benchmarks.md (only when every run succeeded).
 */
import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Command } from 'commander'
import { isDevtripError } from '../events/errors'
import {
  resolveCompareBenchOptions, runCompareBench, writeComparisonOutputs, type CompareBenchOptionsInput, type CompareBenchReport
} from '../bench/compare-bench'
import { formatNumber } from '../bench/compare-report'
import { buildKafkaStreamsPeer, buildQuixPeer, kafkaStreamsSystem, quixSystem } from '../bench/peers'
import { engineSystem, SYSTEM_NAMES, type BenchSystem, type SystemName } from '../bench/system-process'
import { kafkaClientOption, resolveBrokers, resolveKafkaClient } from './connection'
import { ensureKafkaJars, javaExecutable, KAFKA_VERSION, kafkaClasspath, kafkaLog4jConfig } from './infra'
import { numberFlag } from './flags'
import { CliError, EXIT_FAILURE, EXIT_USAGE, printJson, printLine, printTable } from './output'

export interface AllFlags {
  events?: string
  runs?: string
  duration?: string
  keys?: string
  recordSize?: string
  partitions?: string
  commitInterval?: string
  sessionTimeout?: string
  restartKeys?: string
  restartRuns?: string
  systems?: string
  ceiling?: boolean
  profile?: string
  write?: boolean
  brokers?: string
  client?: string
  json?: boolean
}

/** `--systems ours,ks,quix`: full names or the short ones; unknown names are a usage error. */
export function parseSystems (value: string | undefined): SystemName[] | undefined {
  if (value === undefined) return undefined
  const aliases: Record<string, SystemName> = { ours: 'devtrip-streams', ks: 'kafka-streams', quix: 'quix-streams' }
  const names = value.split(',').map((s) => s.trim()).filter((s) => s !== '')
  if (names.length === 0) throw new CliError('--systems needs at least one system', `e.g. --systems ${SYSTEM_NAMES.join(',')}`, EXIT_USAGE)
  return names.map((n) => {
    const name = aliases[n] ?? n
    if (!(SYSTEM_NAMES as readonly string[]).includes(name)) {
      throw new CliError(`--systems: unknown system ${JSON.stringify(n)}`, `choose from ${SYSTEM_NAMES.join(', ')} (or ours, ks, quix)`, EXIT_USAGE)
    }
    return name as SystemName
  })
}

/** Flags → validated options; a bad value is a usage error (exit 2) naming the field. */
export function allOptionsFromFlags (flags: AllFlags): ReturnType<typeof resolveCompareBenchOptions> {
  const input: CompareBenchOptionsInput = {
    events: numberFlag(flags.events, '--events', true),
    runs: numberFlag(flags.runs, '--runs', true),
    durationSec: numberFlag(flags.duration, '--duration', true),
    keys: numberFlag(flags.keys, '--keys', true),
    recordSize: numberFlag(flags.recordSize, '--record-size', true),
    partitions: numberFlag(flags.partitions, '--partitions', true),
    commitIntervalMs: numberFlag(flags.commitInterval, '--commit-interval', true),
    sessionTimeoutMs: numberFlag(flags.sessionTimeout, '--session-timeout', true),
    restartKeys: numberFlag(flags.restartKeys, '--restart-keys', true),
    restartRuns: numberFlag(flags.restartRuns, '--restart-runs', true),
    systems: parseSystems(flags.systems),
    ceiling: flags.ceiling !== false,
    profileDir: flags.profile === undefined ? undefined : resolve(flags.profile)
  }
  for (const key of Object.keys(input) as Array<keyof CompareBenchOptionsInput>) if (input[key] === undefined) delete input[key]
  try {
    return resolveCompareBenchOptions(input)
  } catch (error) {
    if (isDevtripError(error) && error.code === 'DEVTRIP_INVALID_OPTIONS') throw new CliError(error.message, 'see `bin/devtrip-streams bench all --help`', EXIT_USAGE)
    throw error
  }
}

function printSummary (report: CompareBenchReport, written: { resultsFile: string | null, docsFile: string | null }): void {
  printTable((Object.entries(report.systems)).map(([name, s]) => ({
    SYSTEM: name,
    'EVENTS/S': formatNumber(s.eventsPerSec),
    'P50-MS': formatNumber(s.p50Ms, 1),
    'P99-MS': formatNumber(s.p99Ms, 1),
    RESTORED: formatNumber(s.restartRestoredRecords),
    'RESTART-S': formatNumber(s.restartSeconds, 1),
    'PEAK-RSS-MB': formatNumber(s.peakRssMb),
    'OURS÷THIS': name === 'devtrip-streams' ? '' : formatNumber(report.ratios[name as SystemName]?.eventsPerSec ?? null, 2)
  })), ['SYSTEM', 'EVENTS/S', 'P50-MS', 'P99-MS', 'RESTORED', 'RESTART-S', 'PEAK-RSS-MB', 'OURS÷THIS'])
  printLine('')
  printLine(`ceiling: ${formatNumber(report.ceiling.eventsPerSec)} events/s; ours ÷ ceiling ${formatNumber(report.goals.vsCeiling.ratio, 3)}, ` +
    `ours ÷ Kafka Streams ${formatNumber(report.goals.vsKafkaStreams.ratio, 3)}`)
  printLine(`results: ${written.resultsFile ?? 'not written (--no-write)'}; docs: ${written.docsFile ?? 'not updated'}`)
  for (const e of report.errors) printLine(`error: ${e}`)
}

async function benchAll (flags: AllFlags, paths: { cacheDir: string, projectRoot: string }, rawArgs: readonly string[]): Promise<void> {
  const options = allOptionsFromFlags(flags)
  const brokers = resolveBrokers(flags.brokers)
  const client = resolveKafkaClient(flags.client)
  const progress = (line: string): void => { process.stderr.write(`bench: ${line}\n`) }
  const java = javaExecutable()
  let tools = null
  if (options.ceiling || options.systems.includes('kafka-streams')) {
    await ensureKafkaJars({ onProgress: progress })
    tools = { java, classpath: kafkaClasspath(), log4jConfig: kafkaLog4jConfig() }
  }
  const peerEnv = { peersDir: join(paths.projectRoot, 'bench', 'peers'), cacheRoot: join(paths.cacheDir, 'bench-peers'), java, onProgress: progress }
  const systems: Partial<Record<SystemName, BenchSystem>> = {}
  for (const name of options.systems) {
    if (name === 'devtrip-streams') systems[name] = engineSystem
    else if (name === 'kafka-streams') systems[name] = kafkaStreamsSystem(java, await buildKafkaStreamsPeer(peerEnv))
    else systems[name] = quixSystem(await buildQuixPeer(peerEnv), peerEnv.peersDir)
  }
  if (options.profileDir !== null) mkdirSync(options.profileDir, { recursive: true })
  const report = await runCompareBench(options, { brokers, client, tools: options.ceiling ? tools : null, systems, kafkaVersion: KAFKA_VERSION, onProgress: progress })
  // --no-write: a trial run leaves both files alone, so the committed JSON and table always come from the same run
  const written = flags.write === false
    ? { resultsFile: null, docsFile: null }
    : writeComparisonOutputs(report, {
      resultsDir: join(paths.projectRoot, 'bench', 'results'),
      docsFile: join(paths.projectRoot, 'docs', 'benchmarks.md'),
      command: `bin/devtrip-streams bench all ${rawArgs.filter((a) => a !== '--json').join(' ')}`.trim()
    })
  if (written.resultsFile !== null) progress(`results written to ${written.resultsFile}${written.docsFile === null ? '' : `; table regenerated in ${written.docsFile}`}`)
  if (flags.json === true) printJson(report)
  else printSummary(report, written)
  if (report.errors.length > 0) {
    throw new CliError(`${report.errors.length} run(s) failed (first: ${report.errors[0] as string}); docs/benchmarks.md was not updated`,
      written.resultsFile === null ? 'rerun with --json to see every error' : `the results with the errors are in ${written.resultsFile}`, EXIT_FAILURE)
  }
}

export function registerBenchAll (bench: Command, paths: { cacheDir: string, projectRoot: string }): void {
  bench.command('all')
    .description('this engine vs Kafka Streams vs Quix Streams on the same broker, data and topology (exactly-once, RocksDB + ' +
      'changelog), next to Kafka\'s perf-tool ceiling; builds the peers itself (Maven, pip in a venv) and caches them in .cache/; ' +
      'writes bench/results/<date>.json and the table in docs/benchmarks.md; progress on stderr')
    .option('--events <n>', 'events pre-loaded for each throughput run (also the ceiling\'s record count)', '200000')
    .option('--runs <n>', 'rounds; each runs ceiling, ours, Kafka Streams, Quix in turn; figures are medians', '3')
    .option('--duration <seconds>', 'length of each latency phase (at half of that run\'s own throughput)', '20')
    .option('--keys <n>', 'distinct user ids of the throughput and latency runs', '10000')
    .option('--record-size <bytes>', 'bytes of each event\'s JSON value', '200')
    .option('--partitions <n>', 'partitions of every input and output topic', '6')
    .option('--commit-interval <ms>', 'commit interval of every system', '100')
    .option('--session-timeout <ms>', 'consumer group session timeout of every system (bounds how long a killed member blocks the restart)', '10000')
    .option('--restart-keys <n>', 'distinct keys in the store for the SIGKILL/restart test; 0 skips it', '1000000')
    .option('--restart-runs <n>', 'rounds that include the restart test (default: all)')
    .option('--systems <list>', 'comma-separated subset: devtrip-streams (ours), kafka-streams (ks), quix-streams (quix)')
    .option('--no-ceiling', 'skip ProducerPerformance / ConsumerPerformance')
    .option('--profile <dir>', 'run our engine under node --cpu-prof in the throughput runs and summarize the profiles')
    .option('--no-write', 'a trial: write neither bench/results/<date>.json nor docs/benchmarks.md')
    .option('--brokers <list>', 'Kafka bootstrap brokers (default: KAFKA_BROKERS or the infra env file)')
    .addOption(kafkaClientOption())
    .option('--json', 'the whole report as one JSON document on stdout')
    .action(async (flags: AllFlags) => { await benchAll(flags, paths, process.argv.slice(process.argv.indexOf('all') + 1)) })
}
