/**
 * Regressions specific to the @platformatic/kafka adapter, on a real broker (KAFKA_BROKERS, else the dev broker
 * at 127.0.0.1:19092). Every contract of the port itself is checked for every adapter by the conformance suite
 * (kafka-conformance.suite.ts, run by kafka-conformance.test.ts); what stays here is how this adapter works around
 * its library. Topics and groups carry a random suffix, so runs never collide.
 */
import { randomBytes } from 'node:crypto'
import { ASSIGNOR_NAME } from '../../streams/kafka'
import { kafkaPortFixture, text } from './kafka-port-kit'

jest.setTimeout(120_000)

const run = randomBytes(4).toString('hex')
const name = (what: string): string => `kport-${run}-${what}`

const port = kafkaPortFixture('platformatic', `kport-${run}`)
const { pollUntil, readAll, track, createTopic } = port

test('records months apart on one partition keep their timestamps (no INVALID_TIMESTAMP, no garbled time)', async () => {
  // the library's zig-zag varlong breaks for deltas of 2^31 ms or more; the adapter splits such a send
  // no retention: a year-old record must not be deleted by the broker's retention check before it is read back
  const topic = await createTopic(name('old-after-new'), 1, { 'retention.ms': '-1' })
  const producer = track(port.kafka.createProducer())
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
  const consumer = track(port.kafka.createGroupConsumer({ groupId, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 300 }))
  consumer.subscribe([topic])
  await pollUntil(consumer, () => consumer.assignment().length === 2)
  const [description] = await port.admin.describeGroups([groupId])
  expect(description!.protocol).toBe(ASSIGNOR_NAME)
  expect(ASSIGNOR_NAME).toBe('devtrip-copartitioned')
})
