/**
 * `demo`: the README's local quick start. Starts the local Kafka and Redis (unless KAFKA_BROKERS / REDIS_URL point
 * elsewhere), creates every catalog topic, then proves the path end to end: one valid event of every catalog type is
 * produced (idempotent, acks=all, envelope as headers, keyed by userId) and read back read_committed.
 */
import type { Command } from 'commander'
import { EVENT_TYPES, envelopeToHeaders, normalizeEvent, recordKeyFor, sampleEvent, topicOfEventType } from '../../events'
import { createKafkaClients } from '../../streams/kafka'
import type { ProducerRecord } from '../../streams/kafka/port'
import { startInfra } from '../infra'
import { CliError, printJson, printLine } from '../output'
import { applyTopicCatalog } from './topics'

interface DemoFlags { json?: boolean, timeoutSeconds?: string }

interface RoundTrip { produced: number, consumed: number, topics: Record<string, number>, missing: string[] }

async function roundTrip (brokers: string[], timeoutMs: number): Promise<RoundTrip> {
  const clients = createKafkaClients({ brokers, clientId: 'devtrip-demo' })
  const runId = Date.now()
  const records: ProducerRecord[] = EVENT_TYPES.map((type, i) => {
    const normalized = normalizeEvent(sampleEvent(type, {}, runId + i))
    if (!normalized.ok) throw new CliError(`the sample ${type} event is invalid: ${JSON.stringify(normalized.errors)}`, 'this is a bug in events/samples.ts')
    const event = normalized.event
    return {
      topic: topicOfEventType(type),
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
          if (id !== undefined && wanted.delete(id)) seen[batch.topic] = (seen[batch.topic] ?? 0) + 1
        }
      }
    }
    return { produced: metadata.length, consumed: records.length - wanted.size, topics: seen, missing: [...wanted] }
  } finally {
    await Promise.allSettled([consumer.close(), producer.close(), admin.close()])
  }
}

async function demo (flags: DemoFlags): Promise<void> {
  const timeoutMs = Number(flags.timeoutSeconds ?? '60') * 1000
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new CliError('--timeout-seconds must be a positive number', 'for example --timeout-seconds 60', 2)
  const progress = (line: string): void => { if (flags.json !== true) process.stderr.write(`demo: ${line}\n`) }
  progress('starting Kafka and Redis (infra up)')
  const infra = await startInfra({ onProgress: (m: string) => progress(m) })
  const brokers = infra.kafkaBrokers.split(',')
  progress(`Kafka at ${infra.kafkaBrokers}, Redis at ${infra.redisUrl}; creating the catalog topics`)
  const admin = createKafkaClients({ brokers, clientId: 'devtrip-demo-admin' }).createAdmin()
  const rows = await applyTopicCatalog(admin).finally(() => admin.close())
  const mismatched = rows.filter((r) => r.status === 'mismatched')
  if (mismatched.length > 0) throw new CliError(mismatched.flatMap((r) => r.problems).join('; '), 'run `bin/devtrip-streams topics apply` for details, or `infra down` for a fresh broker')
  progress(`${rows.length} topics ready; producing one event of each of the ${EVENT_TYPES.length} types and reading them back read_committed`)
  const result = await roundTrip(brokers, timeoutMs)
  const report = { kafkaBrokers: infra.kafkaBrokers, redisUrl: infra.redisUrl, topicsReady: rows.length, ...result, ok: result.missing.length === 0 }
  if (flags.json === true) printJson(report)
  else {
    for (const [topic, n] of Object.entries(result.topics).sort()) printLine(`  ${topic.padEnd(22)} ${n} event(s) round-tripped`)
    printLine(`${result.consumed}/${result.produced} events round-tripped through Kafka at ${infra.kafkaBrokers}`)
    printLine('next: bin/devtrip-streams events list · topics list · infra status · infra down')
  }
  if (!report.ok) throw new CliError(`${result.missing.length} produced event(s) were not read back in time`, 'check the broker log under .local/ and rerun')
}

export function register (program: Command): void {
  program.command('demo')
    .description('local quick start: start Kafka and Redis, create the topics, and run events through the pipeline')
    .option('--timeout-seconds <s>', 'how long to wait for the events to come back', '60')
    .option('--json', 'print JSON')
    .action(demo)
}
