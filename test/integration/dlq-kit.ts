/**
 * For the DLQ integration tests: a miniature stream task that does what the engine does with a record it cannot
 * process — the dead letter is built with buildDlqRecord (streams/error-handling.ts) and written in the same
 * transaction as the task's other output and its consumed offsets — plus readers for topics.
 */
import { DevtripError } from '../../events/errors'
import { buildDlqRecord } from '../../streams/error-handling'
import type { ConsumedRecord, KafkaAdmin, KafkaClientFactory, ProducerRecord, TopicPartition } from '../../streams/kafka'
import { eventually, settled, unique } from './lag-kit'

/** The engine's view of a fetched record (its headers never hold null values). */
function engineRecord (record: ConsumedRecord): { key: Buffer | null, value: Buffer | null, timestamp: number, offset: bigint, headers: Array<readonly [string, Buffer]> } {
  return { key: record.key, value: record.value, timestamp: record.timestamp, offset: record.offset, headers: record.headers.filter((h): h is readonly [string, Buffer] => h[1] !== null) }
}

/** A record the processor accepts or throws on (a poison record). */
export type Validator = (record: ConsumedRecord) => void

export const rejectNegativeAmounts: Validator = (record) => {
  const value = JSON.parse(record.value!.toString('utf8')) as { amount: number }
  if (value.amount < 0) throw new DevtripError('DEVTRIP_INVALID_EVENT', `amount must be >= 0, got ${value.amount}`)
}

export const acceptAll: Validator = () => {}

/**
 * Processes every record currently in `source` for `groupId`: accepted ones are copied to `output`, failing ones
 * go to `dlq` (built like the engine builds them), all in transactions with the consumed offsets.
 */
export async function runTask (kafka: KafkaClientFactory, admin: KafkaAdmin, groupId: string, source: string, output: string, dlq: string, validate: Validator): Promise<void> {
  const [description] = await admin.describeTopics([source])
  const tps = description!.partitions.map((p) => ({ topic: source, partition: p.partition }))
  await settled(admin, tps)
  const ends = await admin.listOffsets(tps, 'latest', 'read_committed')
  const consumer = kafka.createGroupConsumer({ groupId, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1000, rebalanceTimeoutMs: 10_000 })
  const producer = kafka.createProducer({ transactionalId: `${groupId}-task` })
  try {
    await producer.initTransactions()
    consumer.subscribe([source])
    const deadline = Date.now() + 60_000
    for (;;) {
      const batches = await consumer.poll(300)
      if (batches.length > 0) {
        await producer.beginTransaction()
        const out: ProducerRecord[] = []
        for (const b of batches) {
          for (const record of b.records) {
            try {
              validate(record)
              out.push({ topic: output, partition: record.partition, key: record.key, value: record.value, headers: record.headers, timestamp: record.timestamp })
            } catch (error) {
              out.push(buildDlqRecord({ dlqTopic: dlq, source: { topic: source, partition: record.partition, record: engineRecord(record) }, error, applicationId: groupId, taskId: `0_${record.partition}`, processor: 'KSTREAM-SOURCE-0000000000' }))
            }
          }
        }
        await producer.send(out)
        await producer.sendOffsetsToTransaction(batches.map((b) => ({ topic: source, partition: b.partition, offset: b.records[b.records.length - 1]!.offset + 1n })), consumer.groupMetadata())
        await producer.commitTransaction()
      }
      const states = consumer.partitionStates()
      const done = states.length === tps.length && states.every((s) => s.position !== null && s.position >= ends.find((e) => e.partition === s.partition)!.offset)
      if (done) return
      if (Date.now() > deadline) throw new Error(`runTask: did not reach the end of ${source} within 60 s`)
    }
  } finally {
    await consumer.close()
    await producer.close()
  }
}

/** Every committed record of a topic, read from the beginning. */
export async function readTopic (kafka: KafkaClientFactory, admin: KafkaAdmin, topic: string): Promise<ConsumedRecord[]> {
  const [description] = await admin.describeTopics([topic])
  const tps: TopicPartition[] = description!.partitions.map((p) => ({ topic, partition: p.partition }))
  await settled(admin, tps)
  const ends = await admin.listOffsets(tps, 'latest', 'read_committed')
  const consumer = kafka.createAssignedConsumer({ isolationLevel: 'read_committed' })
  const records: ConsumedRecord[] = []
  try {
    consumer.assign(tps)
    for (const tp of tps) consumer.seek(tp, 'earliest')
    await eventually(async () => {
      for (const b of await consumer.poll(200)) records.push(...b.records)
      const behind = consumer.partitionStates().filter((s) => s.position === null || s.position < ends.find((e) => e.partition === s.partition)!.offset)
      if (behind.length > 0) throw new Error(`still reading ${topic}`)
    }, 30_000)
    return records
  } finally {
    await consumer.close()
  }
}

export function header (record: ConsumedRecord, name: string): string | undefined {
  const found = [...record.headers].reverse().find(([n]) => n === name)
  return found?.[1]?.toString('utf8')
}

/** Creates `<name>` and `<name>.dlq` (and an output topic) with the same partition count. */
export async function createPipelineTopics (admin: KafkaAdmin, partitions: number): Promise<{ source: string, dlq: string, output: string, all: string[] }> {
  const source = unique('src')
  const dlq = `${source}.dlq`
  const output = `${source}-out`
  await admin.createTopics([source, dlq, output].map((name) => ({ name, partitions, replicationFactor: 1 })))
  return { source, dlq, output, all: [source, dlq, output, `${dlq}.replayed`] }
}
