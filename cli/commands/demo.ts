/**
 * `demo`: the README's local quick start. Starts the local Kafka and Redis (unless KAFKA_BROKERS / REDIS_URL point
 * elsewhere), creates every catalog topic, proves the path with a round trip (one valid event of every catalog type
 * produced idempotently with acks=all and read back read_committed), then runs the whole pipeline — topologies,
 * ingest API, evaluation worker (offline evaluator without OPENAI_API_KEY) — on a small workload (cli/demo/).
 */
import type { Command } from 'commander'
import { EVENT_TYPES, envelopeToHeaders, normalizeEvent, recordKeyFor, sampleEvent, topicOfEventType } from '../../events'
import { createKafkaClients, type KafkaAdapterName } from '../../streams/kafka'
import type { ProducerRecord } from '../../streams/kafka/port'
import { startInfra } from '../infra'
import { kafkaClientOption, resolveKafkaClient, resolveTopicPrefix } from '../connection'
import { CliError, printJson, printLine } from '../output'
import { applyTopicCatalog } from './topics'
import { runPipelineDemo, type PipelineReport } from '../demo/pipeline'
import { stopServices } from '../demo/services'

interface DemoFlags { json?: boolean, timeoutSeconds?: string, pipeline?: boolean, keepRunning?: boolean, client?: string }

interface RoundTrip { produced: number, consumed: number, topics: Record<string, number>, missing: string[] }

async function roundTrip (brokers: string[], prefix: string, timeoutMs: number, client: KafkaAdapterName): Promise<RoundTrip> {
  const clients = createKafkaClients({ brokers, clientId: 'devtrip-demo' }, client)
  const runId = Date.now()
  const records: ProducerRecord[] = EVENT_TYPES.map((type, i) => {
    const normalized = normalizeEvent(sampleEvent(type, {}, runId + i))
    if (!normalized.ok) throw new CliError(`the sample ${type} event is invalid: ${JSON.stringify(normalized.errors)}`, 'this is a bug in events/samples.ts')
    const event = normalized.event
    return {
      topic: prefix + topicOfEventType(type),
      key: Buffer.from(recordKeyFor(event)),
      value: Buffer.from(JSON.stringify(event)),
      headers: Object.entries(envelopeToHeaders(event)).map(([k, v]) => [k, Buffer.from(v)] as const),
      timestamp: event.timestamp
    }
  })
  const wanted = new Set(records.map((r) => JSON.parse(String(r.value)).eventId as string))
  const producer = clients.createProducer({ clientId: 'devtrip-demo-producer' })
  const admin = clients.createAdmin()
  const consumer = clients.createAssignedConsumer({ isolationLevel: 'read_committed' })
  try {
    const topics = [...new Set(records.map((r) => r.topic))]
    const described = await admin.describeTopics(topics)
    const partitions = described.flatMap((d) => d.partitions.map((p) => ({ topic: d.name, partition: p.partition })))
    const before = await admin.listOffsets(partitions, 'latest', 'read_committed')
    const metadata = await producer.send(records)
    consumer.assign(partitions)
    for (const tp of before) consumer.seek(tp, tp.offset)
    const seen: Record<string, number> = {}
    const deadline = Date.now() + timeoutMs
    while (wanted.size > 0 && Date.now() < deadline) {
      for (const batch of await consumer.poll(500)) {
        for (const record of batch.records) {
          const id = record.value === null ? undefined : (JSON.parse(String(record.value)) as { eventId?: string }).eventId
          if (id !== undefined && wanted.delete(id)) seen[batch.topic.slice(prefix.length)] = (seen[batch.topic.slice(prefix.length)] ?? 0) + 1
        }
      }
    }
    return { produced: metadata.length, consumed: records.length - wanted.size, topics: seen, missing: [...wanted] }
  } finally {
    await Promise.allSettled([consumer.close(), producer.close(), admin.close()])
  }
}

async function demo (flags: DemoFlags): Promise<void> {
  const client = resolveKafkaClient(flags.client)
  const timeoutMs = Number(flags.timeoutSeconds ?? '60') * 1000
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new CliError('--timeout-seconds must be a positive number', 'for example --timeout-seconds 60', 2)
  const progress = (line: string): void => { if (flags.json !== true) process.stderr.write(`demo: ${line}\n`) }
  progress('starting Kafka and Redis (infra up)')
  const infra = await startInfra({ onProgress: (m: string) => progress(m) })
  const brokers = infra.kafkaBrokers.split(',')
  progress(`Kafka at ${infra.kafkaBrokers}, Redis at ${infra.redisUrl}; creating the catalog topics`)
  const admin = createKafkaClients({ brokers, clientId: 'devtrip-demo-admin' }, client).createAdmin()
  // DEVTRIP_TOPIC_PREFIX, honoured by topics/run/api/evaluator too, keeps a demo apart from other users of the broker
  const prefix = resolveTopicPrefix()
  const rows = await applyTopicCatalog(admin, { prefix }).finally(() => admin.close())
  const mismatched = rows.filter((r) => r.status === 'mismatched')
  if (mismatched.length > 0) throw new CliError(mismatched.flatMap((r) => r.problems).join('; '), 'run `bin/devtrip-streams topics apply` for details, or `infra down` for a fresh broker')
  progress(`${rows.length} topics ready; producing one event of each of the ${EVENT_TYPES.length} types and reading them back read_committed`)
  const result = await roundTrip(brokers, prefix, timeoutMs, client)
  if (result.missing.length > 0) throw new CliError(`${result.missing.length} produced event(s) were not read back in time`, 'check the broker log under .local/ and rerun')
  if (flags.json !== true) printLine(`${result.consumed}/${result.produced} events round-tripped through Kafka at ${infra.kafkaBrokers}`)
  let pipeline: PipelineReport | undefined
  if (flags.pipeline !== false) {
    pipeline = await runPipelineDemo(infra, { prefix, client, keepRunning: flags.keepRunning === true, timeoutMs: Math.max(timeoutMs, 120_000), progress })
    if (flags.json !== true) printPipeline(pipeline)
  }
  const { services, ...pipelineReport } = pipeline ?? { services: [] }
  const report = { kafkaBrokers: infra.kafkaBrokers, redisUrl: infra.redisUrl, topicsReady: rows.length, roundTrip: result, pipeline: pipeline === undefined ? null : pipelineReport, ok: true }
  if (flags.json === true) printJson(report)
  if (services.length > 0) {
    printLine(`the pipeline keeps running: API ${pipeline?.apiUrl ?? ""} (dashboard at /dashboard, OpenAPI at /docs); press Ctrl-C to stop it`)
    await new Promise<void>((resolve) => { process.once('SIGINT', resolve); process.once('SIGTERM', resolve) })
    await stopServices(services)
  } else if (flags.json !== true) {
    printLine('next: bin/devtrip-streams lag · dlq list · api (dashboard at /dashboard) · infra down')
  }
}

function printPipeline (p: PipelineReport): void {
  printLine(`${p.posted} events posted through ${p.apiUrl}/v1/events; results read back from Kafka:`)
  for (const u of p.users) {
    printLine(`  user ${u.userId} ${u.plan.padEnd(5)} tickets left ${String(u.balance).padStart(3)} (used ${u.deducted})  missions completed ${u.missionsCompleted}  average score ${u.averageScore ?? '-'}%`)
  }
  for (const r of p.missionResults.sort((a, b) => a.missionAttemptId.localeCompare(b.missionAttemptId))) {
    printLine(`  ${r.missionAttemptId.padEnd(34)} ${String(r.missionTitle ?? '').padEnd(18)} score ${String(r.score).padStart(3)}/${r.maxScore} after ${r.attempts} attempt(s), by ${r.evaluator ?? 'unknown evaluator'}`)
  }
}

export function register (program: Command): void {
  program.command('demo')
    .description('local quick start: start Kafka and Redis, create the topics, run the topologies, API and evaluator on a small workload')
    .option('--timeout-seconds <s>', 'how long to wait for the events to come back', '60')
    .option('--no-pipeline', 'only start Kafka and Redis, create the topics and do the round trip')
    .option('--keep-running', 'leave the topologies, API and evaluator running after the demo (Ctrl-C stops them)')
    .addOption(kafkaClientOption())
    .option('--json', 'print JSON')
    .action(demo)
}
