/**
 * `devtrip-streams topics …`: the DevTrip topics on a real cluster, through the Kafka port.
 *   topics apply   create every catalog topic (events/topics.ts) that is missing; check the ones that exist
 *   topics list    the cluster's topics with partitions, cleanup policy and role
 *
 * `--prefix` puts every catalog name behind a prefix (isolated test runs, several tenants on one cluster).
 * A topic that exists with another partition count or cleanup policy is "mismatched": Kafka cannot lower a
 * partition count and changing it would move keys between partitions, so apply reports it and exits 1
 * rather than touching it.
 */
import type { Command } from 'commander'
import { findTopic, TOPIC_CATALOG, type TopicRole } from '../../events/topics'
import { createKafkaClients, type KafkaAdmin } from '../../streams/kafka'
import { resolveBrokers, resolveTopicPrefix, TOPIC_PREFIX_ENV, kafkaClientOption, resolveKafkaClient } from '../connection'
import { CliError, EXIT_USAGE, printJson, printLine, printTable } from '../output'

const PREFIX_ENV = TOPIC_PREFIX_ENV

interface ConnectionFlags {
  brokers?: string
  client?: string
  prefix?: string
  json?: boolean
}

interface ApplyFlags extends ConnectionFlags {
  partitions?: string
  replicationFactor?: string
}

type ApplyStatus = 'created' | 'existing' | 'mismatched'

export interface ApplyRow {
  name: string
  role: TopicRole
  status: ApplyStatus
  partitions: { wanted: number, actual: number }
  cleanupPolicy: { wanted: string, actual: string }
  problems: string[]
}

export type ListedRole = TopicRole | 'unknown'

function prefixOf (flags: ConnectionFlags): string {
  const prefix = resolveTopicPrefix(flags.prefix)
  if (!/^[A-Za-z0-9._-]*$/.test(prefix)) {
    throw new CliError(`invalid topic prefix ${JSON.stringify(prefix)}`, 'a prefix may only contain letters, digits, ".", "_" and "-"', EXIT_USAGE)
  }
  return prefix
}

function positiveInt (value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined
  if (!/^[1-9][0-9]{0,5}$/.test(value)) throw new CliError(`${flag} must be a positive integer, got ${JSON.stringify(value)}`, `e.g. ${flag} 6`, EXIT_USAGE)
  return Number(value)
}

/**
 * The role of a topic on the cluster: the catalog's (prefix removed), else what its name says (state-store
 * changelogs end in "-changelog", dead-letter topics in ".dlq"), else unknown.
 */
export function roleOf (name: string, prefix = ''): ListedRole {
  const bare = prefix !== '' && name.startsWith(prefix) ? name.slice(prefix.length) : name
  const spec = findTopic(bare)
  if (spec !== undefined) return spec.role
  if (bare.endsWith('-changelog')) return 'changelog'
  if (bare.endsWith('.dlq')) return 'dlq'
  return 'unknown'
}

async function withAdmin<T> (flags: ConnectionFlags, work: (admin: KafkaAdmin) => Promise<T>): Promise<T> {
  const brokers = resolveBrokers(flags.brokers)
  const admin = createKafkaClients({ brokers, clientId: 'devtrip-topics-cli', operationTimeoutMs: 15_000 }, resolveKafkaClient(flags.client)).createAdmin()
  try {
    return await work(admin)
  } finally {
    await admin.close()
  }
}

/**
 * Creates every catalog topic that is missing and compares the existing ones with the catalog.
 * Shared by `topics apply` and `demo`; never throws for a mismatch (the caller decides), only for Kafka errors.
 */
export async function applyTopicCatalog (admin: KafkaAdmin, options: { prefix?: string, partitions?: number, replicationFactor?: number } = {}): Promise<ApplyRow[]> {
  const prefix = options.prefix ?? ''
  const replicationFactor = options.replicationFactor ?? 1
  const wanted = TOPIC_CATALOG.map((spec) => ({
    spec,
    name: prefix + spec.name,
    partitions: options.partitions ?? spec.partitions,
    configs: { ...spec.configs, 'cleanup.policy': spec.cleanupPolicy }
  }))
  const results = await admin.createTopics(wanted.map((w) => ({ name: w.name, partitions: w.partitions, replicationFactor, configs: w.configs })))
  const existing = results.filter((r) => !r.created).map((r) => r.name)
  const described = new Map((existing.length > 0 ? await admin.describeTopics(existing) : []).map((d) => [d.name, d]))
  return wanted.map((w, i): ApplyRow => {
    const result = results[i]!
    const actualPolicy = result.created ? w.spec.cleanupPolicy : (described.get(w.name)?.configs['cleanup.policy'] ?? 'unknown')
    const problems: string[] = []
    if (result.partitions !== w.partitions) problems.push(`topic ${w.name} has ${result.partitions} partitions, wanted ${w.partitions}`)
    if (actualPolicy !== w.spec.cleanupPolicy) problems.push(`topic ${w.name} has cleanup.policy=${actualPolicy}, wanted ${w.spec.cleanupPolicy}`)
    return {
      name: w.name,
      role: w.spec.role,
      status: problems.length > 0 ? 'mismatched' : result.created ? 'created' : 'existing',
      partitions: { wanted: w.partitions, actual: result.partitions },
      cleanupPolicy: { wanted: w.spec.cleanupPolicy, actual: actualPolicy },
      problems
    }
  })
}

async function apply (flags: ApplyFlags): Promise<void> {
  const prefix = prefixOf(flags)
  const partitions = positiveInt(flags.partitions, '--partitions')
  const replicationFactor = positiveInt(flags.replicationFactor, '--replication-factor') ?? 1
  const rows = await withAdmin(flags, async (admin) => await applyTopicCatalog(admin, { prefix, ...(partitions === undefined ? {} : { partitions }), replicationFactor }))
  const count = (s: ApplyStatus): number => rows.filter((r) => r.status === s).length
  const summary = { created: count('created'), existing: count('existing'), mismatched: count('mismatched') }
  if (flags.json === true) {
    printJson({ prefix, topics: rows, summary })
  } else {
    printTable(rows.map((r) => ({ ...r, partitions: `${r.partitions.actual}`, cleanup: r.cleanupPolicy.actual })), ['name', 'status', 'partitions', 'cleanup', 'role'])
    printLine(`${summary.created} created, ${summary.existing} already existed, ${summary.mismatched} mismatched`)
  }
  const mismatched = rows.filter((r) => r.status === 'mismatched')
  if (mismatched.length > 0) {
    const problems = mismatched.flatMap((r) => r.problems)
    const shown = problems.slice(0, 3).join('; ') + (problems.length > 3 ? `; and ${problems.length - 3} more (see the report above)` : '')
    throw new CliError(`${mismatched.length} mismatched topic${mismatched.length === 1 ? '' : 's'}: ${shown}`,
      'Kafka cannot shrink a topic and resizing moves keys between partitions: delete and re-create the topic (losing its data), or use another --prefix')
  }
}

async function list (flags: ConnectionFlags): Promise<void> {
  const prefix = prefixOf(flags)
  const rows = await withAdmin(flags, async (admin) => {
    const names = (await admin.listTopics()).filter((n) => n.startsWith(prefix))
    const described = names.length > 0 ? await admin.describeTopics(names) : []
    return described.map((d) => ({
      name: d.name,
      partitions: d.partitions.length,
      cleanupPolicy: d.configs['cleanup.policy'] ?? 'unknown',
      role: roleOf(d.name, prefix)
    }))
  })
  if (flags.json === true) printJson(rows)
  else if (rows.length === 0) printLine(prefix === '' ? 'no topics' : `no topics starting with "${prefix}"`)
  else printTable(rows, ['name', 'partitions', 'cleanupPolicy', 'role'])
}

export function register (program: Command): void {
  const topics = program.command('topics')
    .description('create and inspect the DevTrip topics on a Kafka cluster')

  const brokersHelp = 'bootstrap brokers host:port[,host:port] (default: $KAFKA_BROKERS, else .local/infra.env)'
  const prefixHelp = `prefix for every topic name (default: $${PREFIX_ENV}, else none)`

  topics.command('apply')
    .description('create every catalog topic that is missing; report existing and mismatched ones (exit 1 on a mismatch)')
    .option('--partitions <n>', 'partition count for every topic instead of the catalog\'s')
    .option('--replication-factor <n>', 'replication factor of created topics', '1')
    .option('--brokers <list>', brokersHelp)
    .addOption(kafkaClientOption())
    .option('--prefix <prefix>', prefixHelp)
    .option('--json', 'print JSON')
    .action(apply)

  topics.command('list')
    .description('list the cluster\'s topics (only those starting with the prefix, if any) with partitions, cleanup policy and role')
    .option('--brokers <list>', brokersHelp)
    .addOption(kafkaClientOption())
    .option('--prefix <prefix>', prefixHelp)
    .option('--json', 'print JSON')
    .action(list)
}
