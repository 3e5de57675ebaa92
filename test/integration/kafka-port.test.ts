/**
 * Regressions specific to the @platformatic/kafka adapter, on a real broker (KAFKA_BROKERS, else the dev broker
 * at 127.0.0.1:19092). Every contract of the port itself is checked for every adapter by the conformance suite
 * (kafka-conformance.suite.ts, run by kafka-conformance.test.ts); what stays here is how this adapter works around
 * its library. Topics and groups carry a random suffix, so runs never collide.
 */
import { randomBytes } from 'node:crypto'
import { ASSIGNOR_NAME, createKafkaClients, type KafkaAdmin, type KafkaClientFactory } from '../../streams/kafka'
import { brokers, kafkaPortKit, text } from './kafka-port-kit'

jest.setTimeout(120_000)

const run = randomBytes(4).toString('hex')
const name = (what: string): string => `kport-${run}-${what}`

let kafka: KafkaClientFactory
let admin: KafkaAdmin
const createdTopics: string[] = []
const toClose: Array<{ close (): Promise<void> }> = []
const { pollUntil, readAll } = kafkaPortKit(() => kafka, () => admin)

function track<T extends { close (): Promise<void> }> (client: T): T {
  toClose.push(client)
  return client
}

async function createTopic (topic: string, partitions: number, configs?: Record<string, string>): Promise<string> {
  await admin.createTopics([{ name: topic, partitions, replicationFactor: 1, ...(configs === undefined ? {} : { configs }) }])
  createdTopics.push(topic)
  return topic
}

beforeAll(() => {
  kafka = createKafkaClients({ brokers, clientId: `kport-${run}` }, 'platformatic')
  admin = kafka.createAdmin()
})

afterAll(async () => {
  for (const client of toClose.reverse()) await client.close().catch(() => undefined)
  await admin.deleteTopics(createdTopics).catch(() => undefined)
  await admin.close()
})

test('records months apart on one partition keep their timestamps (no INVALID_TIMESTAMP, no garbled time)', async () => {
  // the library's zig-zag varlong breaks for deltas of 2^31 ms or more; the adapter splits such a send
  // no retention: a year-old record must not be deleted by the broker's retention check before it is read back
  const topic = await createTopic(name('old-after-new'), 1, { 'retention.ms': '-1' })
  const producer = track(kafka.createProducer())
  const now = Date.now()
  const yearAgo = now - 365 * 24 * 3600 * 1000
  const stamps = [now, yearAgo, now + 1, yearAgo - 1]
  const metadata = await producer.send(stamps.map((timestamp, i) => ({ topic, partition: 0, key: Buffer.from('k'), value: Buffer.from(`v${i}`), timestamp })))
  expect(metadata.map((m) => m.offset)).toEqual([0n, 1n, 2n, 3n].map((d) => metadata[0]!.offset + d))
  const back = await readAll([{ topic, partition: 0 }])
  expect(back.map((r) => [text(r.value), r.timestamp])).toEqual(stamps.map((t, i) => [`v${i}`, t]))
})

test('the group agrees on the port\'s own co-partitioned assignor, announced under its protocol name', async () => {
  const topic = await createTopic(name('assignor'), 2)
  const groupId = name('assignor-grp')
  const consumer = track(kafka.createGroupConsumer({ groupId, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 300 }))
  consumer.subscribe([topic])
  await pollUntil(consumer, () => consumer.assignment().length === 2)
  const [description] = await admin.describeGroups([groupId])
  expect(description!.protocol).toBe(ASSIGNOR_NAME)
  expect(ASSIGNOR_NAME).toBe('devtrip-copartitioned')
})
