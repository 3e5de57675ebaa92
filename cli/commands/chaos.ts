/**
 * `devtrip-streams chaos`: the exactly-once proof of the DevTrip pipeline under crashes (cli/chaos/orchestrator.ts,
 * docs/reliability.md). Starts its own broker, runs the three topologies as K processes, feeds a seeded workload
 * while SIGKILLing instances (and optionally restarting the broker), then verifies every output against an
 * independent model. Prints the report (JSON with --json); exits 0 only on ALL-RECORDS-DELIVERED.
 */
import { randomInt } from 'node:crypto'
import type { Command } from 'commander'
import { runChaos } from '../chaos/orchestrator'
import { VERDICT_OK, type ChaosReport } from '../chaos/report'
import { CliError, EXIT_FAILURE, EXIT_USAGE, printJson, printLine } from '../output'
import { kafkaClientOption, resolveKafkaClient } from '../connection'
import { integerFlag } from '../flags'

interface ChaosFlags {
  events: string
  users?: string
  instances: string
  kills: string
  brokerRestart?: boolean
  seed?: string
  rate: string
  partitions: string
  commitIntervalMs: string
  sessionTimeoutMs: string
  maxTaskIdleMs: string
  producerBatchRecords: string
  drainTimeoutS: string
  keep?: boolean
  json?: boolean
  client?: string
}

function printHuman (report: ChaosReport): void {
  printLine(`events ${report.events} (users ${report.users}, seed ${report.seed}), ${report.instances} instances, ${report.kills} kills, ${report.brokerRestarts} broker restarts`)
  printLine(`duplicates ${report.duplicates}, missing ${report.missing}, mismatches ${report.mismatches}, unexpected ${report.unexpected}`)
  printLine(`dead letters ${report.dlqActual}/${report.dlqExpected}, open transactions ${report.openTransactions}, max restored records ${report.maxRestoredRecords}`)
  for (const e of report.examples.slice(0, 5)) printLine(`  example: ${e.topic} ${e.eventId ?? ''} ${e.problem}`)
  printLine(`verdict: ${report.verdict}`)
}

async function chaos (flags: ChaosFlags): Promise<void> {
  const events = integerFlag(flags.events, '--events', 1000, 10_000_000)!
  const users = integerFlag(flags.users, '--users', 1, 1_000_000) ?? Math.max(10, Math.ceil(events / 50))
  if (events / users < 30) throw new CliError(`--events ${events} for --users ${users} gives each user fewer than 30 events`, 'give fewer users (or more events): each user needs a history with sign-up, missions and evaluations', EXIT_USAGE)
  const instances = integerFlag(flags.instances, '--instances', 1, 16)!
  const seed = integerFlag(flags.seed, '--seed', 0, 0x7fffffff) ?? randomInt(0x7fffffff)
  const report = await runChaos({
    events,
    users,
    instances,
    kills: integerFlag(flags.kills, '--kills', 0, 1000)!,
    brokerRestart: flags.brokerRestart === true,
    seed,
    rate: integerFlag(flags.rate, '--rate', 10, 100_000)!,
    partitions: integerFlag(flags.partitions, '--partitions', 1, 64)!,
    commitIntervalMs: integerFlag(flags.commitIntervalMs, '--commit-interval-ms', 10, 60_000)!,
    sessionTimeoutMs: integerFlag(flags.sessionTimeoutMs, '--session-timeout-ms', 6000, 300_000)!,
    maxTaskIdleMs: integerFlag(flags.maxTaskIdleMs, '--max-task-idle-ms', 0, 600_000)!,
    producerBatchRecords: integerFlag(flags.producerBatchRecords, '--producer-batch-records', 1, 1_000_000)!,
    drainTimeoutMs: integerFlag(flags.drainTimeoutS, '--drain-timeout-s', 10, 86_400)! * 1000,
    keep: flags.keep === true,
    client: resolveKafkaClient(flags.client),
    onProgress: (line) => { process.stderr.write(`chaos: ${line}\n`) }
  })
  if (flags.json === true) printJson(report)
  else printHuman(report)
  if (report.verdict !== VERDICT_OK) process.exitCode = EXIT_FAILURE
}

export function register (program: Command): void {
  program.command('chaos')
    .description('exactly-once proof: own broker, K pipeline processes SIGKILLed M times (and a broker restart) while a seeded workload flows; every output verified against an independent model')
    .option('--events <n>', 'records to produce (valid events, re-sent duplicates and poison records)', '20000')
    .option('--users <n>', 'users in the workload (default: events / 50)')
    .option('--instances <k>', 'pipeline processes (`run all` each)', '2')
    .option('--kills <m>', 'SIGKILLs of a random instance, each followed by a restart', '3')
    .option('--broker-restart', 'stop and start the broker once in the middle of the run, keeping its data')
    .option('--seed <s>', 'seed of the workload and of the fault schedule (default: random, printed in the report)')
    .option('--rate <records/s>', 'how fast the workload is produced', '400')
    .option('--partitions <n>', 'partitions of every topic', '6')
    .option('--commit-interval-ms <ms>', 'the instances\' commit interval: long enough that kills catch open transactions', '1500')
    .option('--session-timeout-ms <ms>', 'the instances\' group session timeout: how soon a killed instance\'s partitions move', '10000')
    .option('--max-task-idle-ms <ms>', 'the instances\' maxTaskIdleMs (wait for a partition that may hold older records — unfetched, behind an open transaction, not fetched yet — before processing past it)', '30000')
    .option('--producer-batch-records <n>', 'the instances\' producerBatchRecords: records go to the broker while the transaction is open, so kills leave open transactions with data', '20')
    .option('--drain-timeout-s <s>', 'how long to wait, after the last record was produced, for every group to consume everything', '900')
    .option('--keep', 'keep the temp directory (broker data, state directories, instance logs) for a post-mortem')
    .addOption(kafkaClientOption())
    .option('--json', 'print the report as JSON')
    .action(chaos)
}
