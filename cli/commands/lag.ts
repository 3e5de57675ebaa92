/**
 * `devtrip-streams lag`: consumer-group lag per group and partition — committed offset, log end offset, last
 * stable offset, Kafka's LAG (log end − committed) and the read_committed lag (last stable − committed), lag in
 * seconds (age of the oldest unconsumed record), consume rate and catch-up ETA, group state and members.
 *
 * One shot: two samples `--sample` seconds apart (for the rates; 0 = one sample, no rates). `--watch`: a new
 * table every `--interval` seconds until Ctrl-C, rates measured over the interval; with --json one JSON document
 * per line. The logic lives in streams/tools (shared with GET /v1/lag and the dashboard).
 */
import type { Command } from 'commander'
import { createKafkaClients } from '../../streams/kafka'
import { LagCollector, LagMonitor, lagSnapshotToJson, withRates, type GroupLag, type LagOptions, type LagSnapshot } from '../../streams/tools'
import { resolveBrokers, kafkaClientOption, resolveKafkaClient } from '../connection'
import { CliError, EXIT_USAGE, printJson, printLine, printTable } from '../output'
import { formatDuration } from '../progress'

interface LagFlags {
  group?: string[]
  prefix?: string
  json?: boolean
  watch?: boolean
  interval?: string
  sample?: string
  timestamps?: boolean
  brokers?: string
  client?: string
}

function seconds (value: string | undefined, flag: string, fallback: number, min: number): number {
  if (value === undefined) return fallback
  if (!/^[0-9]+(\.[0-9]+)?$/.test(value) || Number(value) < min || Number(value) > 3600) {
    throw new CliError(`${flag} must be a number of seconds between ${min} and 3600, got ${JSON.stringify(value)}`, `e.g. ${flag} 2`, EXIT_USAGE)
  }
  return Number(value)
}

const dash = (v: unknown): string => (v === null || v === undefined ? '-' : String(v))
const rate = (v: number | null): string => (v === null ? '-' : v >= 100 ? String(Math.round(v)) : v.toFixed(1))
const age = (v: number | null): string => (v === null ? '-' : v < 10 ? v.toFixed(1) : String(Math.round(v)))
const eta = (v: number | null, lag: bigint | null): string => (v === null ? (lag !== null && lag > 0n ? 'never' : '-') : formatDuration(v))

function printGroup (g: GroupLag): void {
  const t = g.totals
  printLine(`GROUP ${g.groupId}  state=${g.state}  members=${g.members.length}  lag=${dash(t.lag)}  committed-lag=${dash(t.committedLag)}  ` +
    `lag-seconds=${age(t.lagSeconds)}  consume=${rate(t.consumeRate)}/s  produce=${rate(t.produceRate)}/s  eta=${eta(t.catchUpSeconds, t.committedLag)}`)
  if (g.partitions.length === 0) printLine('  (no committed offsets and no assigned partitions)')
  else {
    printTable(g.partitions.map((p) => ({
      TOPIC: p.topic,
      PARTITION: p.partition,
      'CURRENT-OFFSET': dash(p.committedOffset),
      'LOG-END-OFFSET': p.logEndOffset,
      LAG: dash(p.lag),
      LSO: p.lastStableOffset,
      'LAG-RC': dash(p.committedLag),
      'LAG-SEC': age(p.lagSeconds),
      'RATE/S': rate(p.consumeRate),
      ETA: eta(p.catchUpSeconds, p.committedLag),
      'CONSUMER-ID': dash(p.memberId),
      HOST: dash(p.host),
      'CLIENT-ID': dash(p.clientId)
    })), ['TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'LSO', 'LAG-RC', 'LAG-SEC', 'RATE/S', 'ETA', 'CONSUMER-ID', 'HOST', 'CLIENT-ID'])
  }
  if (g.missingTopics.length > 0) printLine(`  offsets for deleted topics not shown: ${g.missingTopics.join(', ')}`)
  printLine('')
}

function printSnapshot (snapshot: LagSnapshot): void {
  printLine(`lag at ${new Date(snapshot.takenAt).toISOString()}${snapshot.sampleSeconds === null ? '' : `, rates over ${snapshot.sampleSeconds.toFixed(1)} s`}`)
  printLine('')
  if (snapshot.groups.length === 0) printLine('no consumer groups')
  for (const g of snapshot.groups) printGroup(g)
}

function checkGroupsExist (snapshot: LagSnapshot, asked: readonly string[] | undefined): void {
  if (asked === undefined) return
  const dead = snapshot.groups.filter((g) => asked.includes(g.groupId) && g.state === 'Dead' && g.partitions.length === 0)
  if (dead.length > 0) {
    throw new CliError(`consumer group${dead.length > 1 ? 's' : ''} ${dead.map((g) => JSON.stringify(g.groupId)).join(', ')} ${dead.length > 1 ? 'do' : 'does'} not exist`,
      'list the groups with `bin/devtrip-streams lag` (no --group)')
  }
}

async function lag (flags: LagFlags): Promise<void> {
  const interval = seconds(flags.interval, '--interval', 2, 0.5)
  const sample = seconds(flags.sample, '--sample', 1, 0)
  if (flags.interval !== undefined && flags.watch !== true) throw new CliError('--interval needs --watch', 'add --watch, or use --sample for a one-shot rate', EXIT_USAGE)
  if (flags.prefix !== undefined && flags.group !== undefined) throw new CliError('--prefix and --group cannot be combined', 'use one of them', EXIT_USAGE)
  const options: LagOptions = {
    ...(flags.group === undefined ? {} : { groups: [...new Set(flags.group)] }),
    ...(flags.prefix === undefined ? {} : { groupPrefix: flags.prefix }),
    timestamps: flags.timestamps !== false
  }
  const kafka = createKafkaClients({ brokers: resolveBrokers(flags.brokers), clientId: 'devtrip-lag-cli', operationTimeoutMs: 15_000 }, resolveKafkaClient(flags.client))
  const collector = new LagCollector(kafka)
  try {
    if (flags.watch === true) return await watch(collector, options, interval, flags)
    let snapshot = await collector.sample(options)
    if (sample > 0) {
      await new Promise((resolve) => setTimeout(resolve, sample * 1000))
      snapshot = withRates(snapshot, await collector.sample(options))
    }
    checkGroupsExist(snapshot, flags.group)
    if (flags.json === true) printJson(lagSnapshotToJson(snapshot))
    else printSnapshot(snapshot)
  } finally {
    await collector.close()
  }
}

async function watch (collector: LagCollector, options: LagOptions, interval: number, flags: LagFlags): Promise<void> {
  const monitor = new LagMonitor(collector, { lag: options, intervalMs: Math.round(interval * 1000), historySeconds: 60 })
  const clear = process.stdout.isTTY === true && flags.json !== true
  await new Promise<void>((resolve, reject) => {
    const stop = (): void => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      unsubscribe()
      monitor.stop().then(resolve, reject)
    }
    const unsubscribe = monitor.subscribe((event) => {
      if (event.kind === 'error') {
        process.stderr.write(`lag: sample failed (${event.error.message}); trying again in ${interval} s\n`)
        return
      }
      try {
        checkGroupsExist(event.snapshot, flags.group)
      } catch (error) {
        unsubscribe()
        process.off('SIGINT', stop)
        process.off('SIGTERM', stop)
        monitor.stop().then(() => reject(error), reject)
        return
      }
      if (flags.json === true) {
        process.stdout.write(JSON.stringify(lagSnapshotToJson(event.snapshot)) + '\n')
        return
      }
      if (clear) process.stdout.write('\x1b[H\x1b[2J')
      printSnapshot(event.snapshot)
      printLine(`every ${interval} s; Ctrl-C to stop`)
    })
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
    monitor.start()
  })
}

export function register (program: Command): void {
  program.command('lag')
    .description('consumer-group lag per partition: offsets, lag in records and seconds, consume rate, catch-up ETA, members')
    .option('--group <id>', 'only this consumer group (repeat for several; default: every consumer group)', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .option('--prefix <prefix>', 'only groups whose id starts with this')
    .option('--json', 'print JSON (with --watch: one JSON document per line)')
    .option('--watch', 'refresh until Ctrl-C')
    .option('--interval <seconds>', 'with --watch: seconds between samples (default 2)')
    .option('--sample <seconds>', 'without --watch: seconds between the two samples the rates come from; 0 = no rates (default 1)')
    .option('--no-timestamps', 'skip reading the oldest unconsumed records (no lag in seconds)')
    .option('--brokers <list>', 'bootstrap brokers host:port[,host:port] (default: $KAFKA_BROKERS, else .local/infra.env)')
    .addOption(kafkaClientOption())
    .addHelpText('after', '\nColumns: CURRENT-OFFSET = committed offset, LAG = LOG-END-OFFSET − CURRENT-OFFSET (as Kafka\'s kafka-consumer-groups prints it),\n' +
      'LSO = last stable offset, LAG-RC = LSO − CURRENT-OFFSET (what a read_committed consumer still has to read),\n' +
      'LAG-SEC = age of the oldest unconsumed record, RATE/S = committed-offset growth, ETA = LAG-RC / (consume − produce rate).')
    .action(lag)
}
