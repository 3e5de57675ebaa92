/**
 * Regressions specific to the librdkafka adapter's partition states, on a real broker (KAFKA_BROKERS, else the dev
 * broker at 127.0.0.1:19092). The runtime's maxTaskIdleMs rests on them: a partition reported fully read
 * (position ≥ last stable offset) is not waited for, so a task processes a later record of another input partition
 * first. librdkafka caches the watermarks of its last fetch and the adapter remembers its last end-of-partition
 * event; both may describe a fetch from before a pause, seek or assignment, so the adapter reports the watermarks
 * only once a record or end-of-partition event came from a fetch since (streams/kafka/rdkafka/consumer-base.ts).
 *
 * Runs when KAFKA_CONFORMANCE_ADAPTERS names rdkafka (npm test does unless DEVTRIP_SKIP_RDKAFKA=1; the binding is
 * built by `npm run setup:rdkafka`), like the adapter's conformance suite.
 */
import { randomBytes } from 'node:crypto'
import type { KafkaGroupConsumer, PartitionState, TopicPartition } from '../../streams/kafka'
import { kafkaPortFixture, text } from './kafka-port-kit'

jest.setTimeout(120_000)

const enabled = (process.env.KAFKA_CONFORMANCE_ADAPTERS ?? '').split(',').map((a) => a.trim()).includes('rdkafka')
const run = randomBytes(4).toString('hex')
const name = (what: string): string => `rdps-${run}-${what}`

/** The adapter claims nothing more can be read from the partition now. */
function fullyRead (s: PartitionState): boolean {
  return s.position !== null && s.lastStableOffset !== null && s.position >= s.lastStableOffset
}

function stateOf (consumer: KafkaGroupConsumer, tp: TopicPartition): PartitionState {
  return consumer.partitionStates().find((s) => s.topic === tp.topic && s.partition === tp.partition)!
}

(enabled ? describe : describe.skip)('rdkafka adapter: partition states', () => {
  const port = kafkaPortFixture('rdkafka', `rdps-${run}`)
  const { pollUntil, track, createTopic } = port

  test('after a pause, new records and a resume, the partition never looks fully read before those records are returned', async () => {
    const topic = await createTopic(name('resume'), 1)
    const tp = { topic, partition: 0 }
    const producer = track(port.kafka.createProducer())
    await producer.send([0, 1, 2].map((i) => ({ topic, partition: 0, value: Buffer.from(`r${i}`) })))
    const consumer = track(port.kafka.createGroupConsumer({ groupId: name('resume-grp'), isolationLevel: 'read_committed', sessionTimeoutMs: 10_000, heartbeatIntervalMs: 300 }))
    consumer.subscribe([topic])
    const first = await pollUntil(consumer, (r) => r.length >= 3 && fullyRead(stateOf(consumer, tp)))
    expect(first.map((r) => text(r.value))).toEqual(['r0', 'r1', 'r2'])
    expect(stateOf(consumer, tp)).toMatchObject({ position: 3n, lastStableOffset: 3n })
    // a fetch answers at the end: librdkafka's end-of-partition event at 3 reaches the adapter
    for (let i = 0; i < 3; i++) expect(await consumer.poll(200)).toEqual([])

    consumer.pause([tp])
    await producer.send([3, 4].map((i) => ({ topic, partition: 0, value: Buffer.from(`r${i}`) })))
    for (let i = 0; i < 3; i++) expect(await consumer.poll(100)).toEqual([])
    consumer.resume([tp])
    // what the adapter knew before the pause (an end-of-partition event at 3) says nothing about now
    expect(fullyRead(stateOf(consumer, tp))).toBe(false)
    const more: string[] = []
    const deadline = Date.now() + 20_000
    while (more.length < 2) {
      if (Date.now() > deadline) throw new Error(`the records produced while paused did not come within 20 s (${more.length} seen)`)
      for (const b of await consumer.poll(100)) more.push(...b.records.map((r) => text(r.value) as string))
      if (more.length < 2) expect(fullyRead(stateOf(consumer, tp))).toBe(false)
    }
    expect(more).toEqual(['r3', 'r4'])
    // caught up again: known and fully read once a fetch says so
    await pollUntil(consumer, () => fullyRead(stateOf(consumer, tp)))
    expect(stateOf(consumer, tp)).toMatchObject({ position: 5n, lastStableOffset: 5n })
  })

  test('after a seek back, the partition is not fully read until the records after the seek came back', async () => {
    const topic = await createTopic(name('seek'), 1)
    const tp = { topic, partition: 0 }
    const producer = track(port.kafka.createProducer())
    await producer.send([0, 1, 2, 3].map((i) => ({ topic, partition: 0, value: Buffer.from(`s${i}`) })))
    const consumer = track(port.kafka.createGroupConsumer({ groupId: name('seek-grp'), isolationLevel: 'read_committed', sessionTimeoutMs: 10_000, heartbeatIntervalMs: 300 }))
    consumer.subscribe([topic])
    await pollUntil(consumer, (r) => r.length >= 4 && fullyRead(stateOf(consumer, tp)))
    consumer.seek(tp, 1n)
    expect(fullyRead(stateOf(consumer, tp))).toBe(false)
    const again = await pollUntil(consumer, (r) => r.length >= 3)
    expect(again.map((r) => text(r.value))).toEqual(['s1', 's2', 's3'])
    await pollUntil(consumer, () => fullyRead(stateOf(consumer, tp)))
    expect(stateOf(consumer, tp)).toMatchObject({ position: 4n, lastStableOffset: 4n })
  })
})
