/**
 * `devtrip-streams dlq …`: the dead-letter topics (`*.dlq`) for operators.
 *   list     every DLQ topic: records, pending, oldest/newest, top error classes, last error
 *   show     records of one DLQ decoded (JSON when it parses) with all their error headers
 *   replay   republish records to their original topic (or --to another), exactly once, in transactions
 *   purge    mark records handled without replaying them (optionally delete them from the log)
 *
 * replay and purge change things: they ask for confirmation on a terminal, and without one refuse (exit 2)
 * unless --yes is given. Long reads draw a progress bar on stderr. The logic is in streams/tools.
 */
import { createInterface } from 'node:readline/promises'
import type { Command } from 'commander'
import { isDevtripError } from '../../events/errors'
import { createKafkaClients, type KafkaAdmin, type KafkaClientFactory } from '../../streams/kafka'
import {
  applyPurge, bytesPreview, FILTER_NAMES, isDlqTopic, listDlqTopics, parseFilterPairs, parseTime, planPurge, replayDlq, showDlqRecords,
  type DecodedBytes, type DlqFilter, type DlqRecordView, type PurgeBefore
} from '../../streams/tools'
import { resolveBrokers, kafkaClientOption, resolveKafkaClient } from '../connection'
import { CliError, EXIT_USAGE, printJson, printLine, printTable } from '../output'
import { createProgressBar } from '../progress'

interface CommonFlags {
  brokers?: string
  client?: string
  json?: boolean
}

interface FilterFlags extends CommonFlags {
  filter?: string[]
  error?: string
  since?: string
  partition?: string
}

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v]
const brokersHelp = 'bootstrap brokers host:port[,host:port] (default: $KAFKA_BROKERS, else .local/infra.env)'
const filterHelp = `only records matching name=value (repeatable, all must hold); names: ${FILTER_NAMES.join(', ')}; ` +
  'error = text in the exception or message, since/until = ISO time or an age like 2h'

/** Bad input found by the tools (a filter, a time) is bad usage here: one line, exit 2. */
function usage<T> (work: () => T): T {
  try {
    return work()
  } catch (error) {
    if (isDevtripError(error, 'DEVTRIP_INVALID_OPTIONS')) throw new CliError(error.message, 'see --help for the accepted forms', EXIT_USAGE)
    throw error
  }
}

function nonNegativeInt (value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined
  if (!/^[0-9]{1,15}$/.test(value)) throw new CliError(`${flag} must be an integer >= 0, got ${JSON.stringify(value)}`, `e.g. ${flag} 10`, EXIT_USAGE)
  return Number(value)
}

function filterOf (flags: FilterFlags): DlqFilter {
  const pairs = [...(flags.filter ?? [])]
  if (flags.error !== undefined) pairs.push(`error=${flags.error}`)
  if (flags.since !== undefined) pairs.push(`since=${flags.since}`)
  if (flags.partition !== undefined) pairs.push(`partition=${flags.partition}`)
  return usage(() => parseFilterPairs(pairs))
}

async function withKafka<T> (flags: CommonFlags, work: (kafka: KafkaClientFactory, admin: KafkaAdmin) => Promise<T>): Promise<T> {
  const kafka = createKafkaClients({ brokers: resolveBrokers(flags.brokers), clientId: 'devtrip-dlq-cli', operationTimeoutMs: 20_000 }, resolveKafkaClient(flags.client))
  const admin = kafka.createAdmin()
  try {
    return await work(kafka, admin)
  } finally {
    await admin.close()
  }
}

/** The DLQ topic argument: named like one, and existing (both are usage errors: exit 2). */
async function checkDlqTopic (admin: KafkaAdmin, topic: string): Promise<void> {
  if (!isDlqTopic(topic)) throw new CliError(`${JSON.stringify(topic)} is not a dead-letter topic (the name must end in .dlq)`, 'list them with `bin/devtrip-streams dlq list`', EXIT_USAGE)
  if (!(await admin.listTopics()).includes(topic)) throw new CliError(`dead-letter topic ${JSON.stringify(topic)} does not exist`, 'list them with `bin/devtrip-streams dlq list`', EXIT_USAGE)
}

/**
 * Asks before a change: --yes skips the question; on a terminal the answer must be y/yes; without a terminal
 * (a script, CI) the command refuses with exit 2 rather than guess.
 */
async function confirm (question: string, yes: boolean | undefined): Promise<void> {
  if (yes === true) return
  if (process.stdin.isTTY !== true) {
    throw new CliError(`refusing to ${question} without confirmation (no terminal to ask on)`, 'pass --yes to confirm, or --dry-run to only see what would happen', EXIT_USAGE)
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr })
  try {
    const answer = (await rl.question(`${question[0]!.toUpperCase()}${question.slice(1)}? [y/N] `)).trim().toLowerCase()
    if (answer !== 'y' && answer !== 'yes') throw new CliError('cancelled: nothing was changed', 'answer "y" to go ahead, or pass --yes')
  } finally {
    rl.close()
  }
}

const time = (ms: number | null | undefined): string => (ms === null || ms === undefined ? '-' : new Date(ms).toISOString())

async function list (flags: CommonFlags & { prefix?: string, maxScan?: string }): Promise<void> {
  const maxScanRecords = nonNegativeInt(flags.maxScan, '--max-scan')
  const rows = await withKafka(flags, async (kafka, admin) => {
    const bar = createProgressBar('reading DLQ topics')
    try {
      return await listDlqTopics(kafka, admin, { ...(flags.prefix === undefined ? {} : { prefix: flags.prefix }), ...(maxScanRecords === undefined ? {} : { maxScanRecords }), onProgress: (d, t) => bar.update(Number(d), Number(t)) })
    } finally {
      bar.finish()
    }
  })
  if (flags.json === true) return printJson(rows)
  if (rows.length === 0) return printLine('no dead-letter topics (names ending in .dlq)')
  printTable(rows.map((r) => ({
    TOPIC: r.topic,
    RECORDS: `${r.approximate ? '~' : ''}${r.records}`,
    PENDING: `${r.approximate ? '~' : ''}${r.pending}`,
    OLDEST: time(r.oldest?.timestamp),
    NEWEST: time(r.newest?.timestamp),
    'TOP ERRORS': r.topErrors.map((e) => `${e.exception} ×${e.count}`).join(', ') || '-'
  })), ['TOPIC', 'RECORDS', 'PENDING', 'OLDEST', 'NEWEST', 'TOP ERRORS'])
  for (const r of rows) {
    if (r.lastError !== null) printLine(`last error in ${r.topic}: ${r.lastError.exception ?? '?'}: ${r.lastError.message ?? ''} (from ${r.lastError.sourceTopic ?? '?'}, at ${time(r.lastError.timestamp)})`)
  }
}

function showBytes (decoded: DecodedBytes): string {
  if (decoded.encoding === 'json') return JSON.stringify(decoded.json, null, 2).split('\n').join('\n            ')
  return bytesPreview(decoded, 10_000)
}

function printRecord (r: DlqRecordView): void {
  printLine(`${r.dlqTopic}  partition ${r.partition}  offset ${r.offset}  ${time(r.timestamp)}`)
  printLine(`  error     ${r.error.exception ?? '?'}: ${r.error.message ?? ''}`)
  printLine(`  source    ${r.error.topic ?? '?'}[${r.error.partition ?? '?'}]@${r.error.offset ?? '?'}  application ${r.error.applicationId ?? '?'}  task ${r.error.taskId ?? '?'}  processor ${r.error.processor ?? '?'}`)
  printLine(`  key       ${showBytes(r.key)}`)
  printLine(`  value     ${showBytes(r.value)}`)
  for (const h of r.originalHeaders) printLine(`  header    ${h.name} = ${bytesPreview(h.value, 200)}`)
  for (const [name, value] of Object.entries(r.errorHeaders)) {
    const lines = (value ?? 'null').split('\n')
    printLine(`  ${name} = ${lines[0]}`)
    for (const line of lines.slice(1)) printLine(`      ${line}`)
  }
  printLine('')
}

async function show (topic: string, flags: FilterFlags & { offset?: string, limit?: string }): Promise<void> {
  if (flags.offset !== undefined && flags.limit !== undefined) throw new CliError('--offset and --limit cannot be combined', 'use --offset for one record, --limit for the newest N', EXIT_USAGE)
  const offset = nonNegativeInt(flags.offset, '--offset')
  const limit = nonNegativeInt(flags.limit, '--limit')
  if (limit === 0) throw new CliError('--limit must be at least 1', 'e.g. --limit 10', EXIT_USAGE)
  const filter = filterOf(flags)
  const result = await withKafka(flags, async (kafka, admin) => {
    await checkDlqTopic(admin, topic)
    const bar = createProgressBar(`reading ${topic}`)
    try {
      return await showDlqRecords(kafka, admin, topic, { filter, ...(offset === undefined ? {} : { offset: BigInt(offset) }), ...(limit === undefined ? {} : { limit }), onProgress: (d, t) => bar.update(Number(d), Number(t)) })
    } finally {
      bar.finish()
    }
  })
  if (flags.json === true) return printJson(result)
  if (result.records.length === 0) {
    printLine(offset !== undefined ? `no record at offset ${offset} in ${topic}${filter.partition === undefined ? '' : ` partition ${filter.partition}`} (or it does not match)` : `no matching records in ${topic}`)
    return
  }
  for (const r of result.records) printRecord(r)
  printLine(`${result.records.length} of ${result.matched} matching record${result.matched === 1 ? '' : 's'} shown${result.partial ? ' (only the newest part of the topic was read; raise --max-scan)' : ''}`)
}

async function replay (topic: string, flags: FilterFlags & { to?: string, dryRun?: boolean, yes?: boolean, batchSize?: string }): Promise<void> {
  const filter = filterOf(flags)
  const batchSize = nonNegativeInt(flags.batchSize, '--batch-size')
  if (batchSize === 0) throw new CliError('--batch-size must be at least 1', 'e.g. --batch-size 100', EXIT_USAGE)
  const to = flags.to ?? 'original'
  const options = { dlqTopic: topic, to, filter, ...(batchSize === undefined ? {} : { batchSize }) }
  const result = await withKafka(flags, async (kafka, admin) => {
    await checkDlqTopic(admin, topic)
    if (to !== 'original' && !(await admin.listTopics()).includes(to)) throw new CliError(`--to topic ${JSON.stringify(to)} does not exist`, 'create it first, or use --to original', EXIT_USAGE)
    const plan = await usageAsync(() => replayDlq(kafka, { ...options, dryRun: true }))
    if (flags.dryRun === true) return plan
    // nothing to do: report it as the (empty) real run it would have been
    if (plan.replayed === 0) return { ...plan, dryRun: false }
    const where = Object.entries(plan.destinations).map(([t, n]) => `${n} to ${t}`).join(', ')
    await confirm(`replay ${plan.replayed} record${plan.replayed === 1 ? '' : 's'} from ${topic} (${where})`, flags.yes)
    const bar = createProgressBar(`replaying ${topic}`)
    try {
      return await replayDlq(kafka, { ...options, onProgress: (d, t) => bar.update(d, t) })
    } finally {
      bar.finish()
    }
  })
  if (flags.json === true) return printJson(result)
  if (!result.dryRun && result.replayed === 0) printLine(`nothing to replay from ${topic}: every matching record was replayed or purged before`)
  const verb = result.dryRun ? 'would replay' : 'replayed'
  const where = Object.entries(result.destinations).map(([t, n]) => `${n} to ${t}`).join(', ')
  if (result.dryRun || result.replayed > 0) {
    printLine(`${verb} ${result.replayed} record${result.replayed === 1 ? '' : 's'} from ${topic}${where === '' ? '' : ` (${where})`}` +
      `${result.dryRun ? '' : ` in ${result.transactions} transaction${result.transactions === 1 ? '' : 's'}`}`)
  }
  if (result.notMatching > 0) printLine(`${result.notMatching} record${result.notMatching === 1 ? ' does' : 's do'} not match the filter and stay${result.notMatching === 1 ? 's' : ''} pending`)
  if (result.alreadyReplayed > 0) printLine(`${result.alreadyReplayed} record${result.alreadyReplayed === 1 ? ' was' : 's were'} already replayed by an earlier filtered replay`)
  if (result.dryRun && result.replayed > 0) printLine('nothing was written (--dry-run)')
  if (!result.dryRun && result.replayed > 0) printLine(`progress is kept in consumer group ${result.groupId}: a rerun continues after the last committed record`)
}

async function usageAsync<T> (work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if (isDevtripError(error, 'DEVTRIP_INVALID_OPTIONS')) throw new CliError(error.message, typeof error.details.hint === 'string' ? error.details.hint : 'see --help', EXIT_USAGE)
    throw error
  }
}

function parseBefore (value: string | undefined): PurgeBefore {
  if (value === undefined) return 'end'
  if (/^[0-9]{1,12}$/.test(value)) return { offset: BigInt(value) }
  return { timestamp: usage(() => parseTime(value)) }
}

async function purge (topic: string, flags: CommonFlags & { before?: string, deleteRecords?: boolean, dryRun?: boolean, yes?: boolean }): Promise<void> {
  const before = parseBefore(flags.before)
  const result = await withKafka(flags, async (kafka, admin) => {
    await checkDlqTopic(admin, topic)
    const bar = createProgressBar(`reading ${topic}`)
    let plan
    try {
      plan = await planPurge(kafka, admin, topic, before, flags.deleteRecords === true, (d, t) => bar.update(Number(d), Number(t)))
    } finally {
      bar.finish()
    }
    if (flags.dryRun === true) return { ...plan, dryRun: true, logStartOffsets: null }
    const moves = plan.partitions.some((p) => p.to > p.from)
    if (!moves && !plan.deleteRecords) return { ...plan, dryRun: false, logStartOffsets: null }
    const what = `mark ${plan.records} pending record${plan.records === 1 ? '' : 's'} of ${topic} as handled` +
      (plan.deleteRecords ? ' and DELETE every record before the new offsets from the log' : '')
    await confirm(what, flags.yes)
    return { ...(await applyPurge(kafka, admin, plan)), dryRun: false }
  })
  if (flags.json === true) return printJson(result)
  printTable(result.partitions.map((p) => ({ PARTITION: p.partition, FROM: p.from, TO: p.to, RECORDS: p.records })), ['PARTITION', 'FROM', 'TO', 'RECORDS'])
  const verb = result.dryRun ? 'would mark' : 'marked'
  printLine(`${verb} ${result.records} record${result.records === 1 ? '' : 's'} of ${topic} as handled (consumer group ${result.groupId})`)
  if (result.logStartOffsets !== null) printLine(`deleted records; log start offsets now ${result.logStartOffsets.map((l) => `${l.partition}:${l.offset}`).join(', ')}`)
}

export function register (program: Command): void {
  const dlq = program.command('dlq')
    .description('inspect, replay and purge dead-letter topics (*.dlq)')

  dlq.command('list')
    .description('every dead-letter topic with record and pending counts, oldest/newest record, top error classes and the last error')
    .option('--prefix <prefix>', 'only topics starting with this')
    .option('--max-scan <n>', 'read at most this many offsets per topic (newest first; counts become estimates beyond it)', '10000')
    .option('--brokers <list>', brokersHelp)
    .addOption(kafkaClientOption())
    .option('--json', 'print JSON')
    .action(list)

  dlq.command('show <dlqTopic>')
    .description('decoded records of a dead-letter topic (JSON values parsed) with all their error headers, newest last')
    .option('--offset <offset>', 'only the record at this offset (in every partition, or the one given by --partition)')
    .option('--partition <p>', 'only this partition')
    .option('--limit <n>', 'the newest N matching records (default 10)')
    .option('--error <text>', 'only records whose exception or message contains this text (case-insensitive)')
    .option('--since <time>', 'only records written at or after this time (ISO 8601, epoch ms, or an age like 2h)')
    .option('--filter <name=value>', filterHelp, collect)
    .option('--brokers <list>', brokersHelp)
    .addOption(kafkaClientOption())
    .option('--json', 'print JSON')
    .action(show)

  dlq.command('replay <dlqTopic>')
    .description('republish dead-letter records (original bytes and headers, error headers removed) exactly once, in transactions; resumable')
    .option('--to <topic>', '"original" (the topic each record failed on) or a topic name', 'original')
    .option('--error <text>', 'only records whose exception or message contains this text')
    .option('--since <time>', 'only records written at or after this time')
    .option('--partition <p>', 'only this DLQ partition')
    .option('--filter <name=value>', filterHelp, collect)
    .option('--dry-run', 'only report what would be replayed')
    .option('--batch-size <n>', 'records per transaction (default 100)')
    .option('--yes', 'do not ask for confirmation')
    .option('--brokers <list>', brokersHelp)
    .addOption(kafkaClientOption())
    .option('--json', 'print JSON')
    .action(replay)

  dlq.command('purge <dlqTopic>')
    .description('mark dead-letter records as handled without replaying them (moves the replay group forward, never back)')
    .option('--before <offsetOrTime>', 'an offset (every partition) or a time (ISO 8601 or an age like 7d); default: everything')
    .option('--delete-records', 'also delete the records before the new offsets from the log (irreversible)')
    .option('--dry-run', 'only report what would change')
    .option('--yes', 'do not ask for confirmation')
    .option('--brokers <list>', brokersHelp)
    .addOption(kafkaClientOption())
    .option('--json', 'print JSON')
    .action(purge)
}
