/**
 * The Kafka port against a real broker (KAFKA_BROKERS, else the dev broker at 127.0.0.1:19092), through the
 * @platformatic/kafka adapter. Every test uses topics and groups with a random suffix, so runs never collide.
 */
import { randomBytes } from 'node:crypto'
import { isDevtripError } from '../../events/errors'
import { partitionForKey } from '../../streams/partitioner'
import {
  createKafkaClients, type ConsumedRecord, type KafkaAdmin, type KafkaAssignedConsumer, type KafkaClientFactory,
  type KafkaGroupConsumer, type PartitionBatch, type TopicPartition
} from '../../streams/kafka'

jest.setTimeout(120_000)

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',').map((b) => b.trim()).filter((b) => b !== '')
const run = randomBytes(4).toString('hex')
const name = (what: string): string => `kport-${run}-${what}`

let kafka: KafkaClientFactory
let admin: KafkaAdmin
const createdTopics: string[] = []
const toClose: Array<{ close (): Promise<void> }> = []

function track<T extends { close (): Promise<void> }> (client: T): T {
  toClose.push(client)
  return client
}

async function createTopic (topic: string, partitions: number, configs?: Record<string, string>): Promise<string> {
  await admin.createTopics([{ name: topic, partitions, replicationFactor: 1, ...(configs === undefined ? {} : { configs }) }])
  createdTopics.push(topic)
  return topic
}

/** Polls until `done(records so far)` holds or the deadline passes; returns every record seen. */
async function pollUntil (consumer: KafkaAssignedConsumer | KafkaGroupConsumer, done: (records: ConsumedRecord[]) => boolean, timeoutMs = 20_000): Promise<ConsumedRecord[]> {
  const records: ConsumedRecord[] = []
  const deadline = Date.now() + timeoutMs
  while (!done(records)) {
    if (Date.now() > deadline) throw new Error(`pollUntil: condition not met after ${timeoutMs} ms (${records.length} records seen)`)
    const batches: PartitionBatch[] = await consumer.poll(200)
    for (const b of batches) records.push(...b.records)
  }
  return records
}

/**
 * Waits until no transaction is open on the partitions: the last stable offset has caught up with the high
 * watermark. Needed after a commit or abort, because the coordinator writes the transaction markers to the
 * partitions after EndTxn has already returned.
 */
async function settled (partitions: TopicPartition[]): Promise<void> {
  const deadline = Date.now() + 15_000
  for (;;) {
    const stable = await admin.listOffsets(partitions, 'latest', 'read_committed')
    const high = await admin.listOffsets(partitions, 'latest', 'read_uncommitted')
    if (stable.every((s, i) => s.offset === high[i]!.offset)) return
    if (Date.now() > deadline) throw new Error('transaction markers did not arrive within 15 s')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Reads everything currently readable in the given partitions with a fresh consumer. */
async function readAll (partitions: TopicPartition[], isolationLevel: 'read_committed' | 'read_uncommitted' = 'read_committed', settle = true): Promise<ConsumedRecord[]> {
  if (settle) await settled(partitions)
  const ends = await admin.listOffsets(partitions, 'latest', isolationLevel)
  const consumer = kafka.createAssignedConsumer({ isolationLevel })
  try {
    consumer.assign(partitions)
    for (const tp of partitions) consumer.seek(tp, 'earliest')
    const records = await pollUntil(consumer, () => consumer.partitionStates().every((s) => {
      const end = ends.find((e) => e.topic === s.topic && e.partition === s.partition)!.offset
      return s.position !== null && s.position >= end
    }))
    return records
  } finally {
    await consumer.close()
  }
}

const text = (b: Buffer | null): string | null => (b === null ? null : b.toString('utf8'))

beforeAll(() => {
  kafka = createKafkaClients({ brokers, clientId: `kport-${run}` })
  admin = kafka.createAdmin()
})

afterAll(async () => {
  for (const client of toClose.reverse()) await client.close().catch(() => undefined)
  await admin.deleteTopics(createdTopics).catch(() => undefined)
  await admin.close()
})

describe('options', () => {
  test('bad options are rejected with the field named', () => {
    expect(() => createKafkaClients({ brokers: [] })).toThrow(/brokers/)
    expect(() => kafka.createProducer({ transactionTimeoutMs: 5 })).toThrow(/transactionTimeoutMs/)
    expect(() => kafka.createGroupConsumer({ groupId: 'g', heartbeatIntervalMs: 5000, sessionTimeoutMs: 3000 })).toThrow(/heartbeatIntervalMs/)
    try {
      kafka.createAssignedConsumer({ isolationLevel: 'dirty' as never })
      throw new Error('not rejected')
    } catch (error) {
      expect(isDevtripError(error, 'DEVTRIP_INVALID_OPTIONS')).toBe(true)
    }
  })
})

describe('admin: topics', () => {
  test('createTopics is idempotent and reports existing topics with their real partition count', async () => {
    const plain = name('plain')
    const compacted = name('compacted')
    createdTopics.push(plain, compacted)
    const first = await admin.createTopics([
      { name: plain, partitions: 3, replicationFactor: 1 },
      { name: compacted, partitions: 2, replicationFactor: 1, configs: { 'cleanup.policy': 'compact' } }
    ])
    expect(first).toEqual([{ name: plain, created: true, partitions: 3 }, { name: compacted, created: true, partitions: 2 }])
    // a different count asked for an existing topic: reported, not changed
    const second = await admin.createTopics([
      { name: plain, partitions: 5, replicationFactor: 1 },
      { name: compacted, partitions: 2, replicationFactor: 1 }
    ])
    expect(second).toEqual([{ name: plain, created: false, partitions: 3 }, { name: compacted, created: false, partitions: 2 }])

    expect(await admin.listTopics()).toEqual(expect.arrayContaining([plain, compacted]))
    const [d1, d2] = await admin.describeTopics([plain, compacted])
    expect(d1!.partitions.map((p) => p.partition)).toEqual([0, 1, 2])
    expect(d1!.configs['cleanup.policy']).toBe('delete')
    expect(d2!.configs['cleanup.policy']).toBe('compact')

    await expect(admin.describeTopics([plain, name('missing')])).rejects.toMatchObject({ code: 'DEVTRIP_UNKNOWN_TOPIC', message: expect.stringContaining(name('missing')) })
    await admin.deleteTopics([compacted, name('never-existed')])
    expect(await admin.listTopics()).not.toContain(compacted)
  })
})

describe('idempotent producer', () => {
  test('records come back with keys, values, headers and timestamps intact, at the offsets send reported', async () => {
    const topic = await createTopic(name('plain-io'), 2)
    const producer = track(kafka.createProducer())
    const records = [
      { topic, partition: 0, key: Buffer.from('k1'), value: Buffer.from('v1'), headers: [['h', Buffer.from('1')], ['h', Buffer.from('2')], ['empty', null]] as const, timestamp: 1_700_000_000_000 },
      { topic, partition: 0, key: null, value: Buffer.from('no key') },
      { topic, partition: 1, key: Buffer.from('gone'), value: null },
      { topic, partition: 0, key: Buffer.from([0, 255, 1]), value: Buffer.from([7, 0, 7]) }
    ]
    const metadata = await producer.send(records)
    expect(metadata.map((m) => [m.topic, m.partition])).toEqual([[topic, 0], [topic, 0], [topic, 1], [topic, 0]])
    expect(metadata[1]!.offset).toBe(metadata[0]!.offset + 1n)
    expect(metadata[3]!.offset).toBe(metadata[0]!.offset + 2n)

    const back = await readAll([{ topic, partition: 0 }, { topic, partition: 1 }])
    const p0 = back.filter((r) => r.partition === 0)
    expect(p0.map((r) => r.offset)).toEqual([metadata[0]!.offset, metadata[1]!.offset, metadata[3]!.offset])
    expect(p0[0]).toMatchObject({ key: Buffer.from('k1'), value: Buffer.from('v1'), timestamp: 1_700_000_000_000 })
    expect(p0[0]!.headers).toEqual([['h', Buffer.from('1')], ['h', Buffer.from('2')], ['empty', null]])
    expect(p0[1]).toMatchObject({ key: null, value: Buffer.from('no key'), headers: [] })
    expect(p0[2]).toMatchObject({ key: Buffer.from([0, 255, 1]), value: Buffer.from([7, 0, 7]) })
    const tombstone = back.find((r) => r.partition === 1)!
    expect(tombstone).toMatchObject({ key: Buffer.from('gone'), value: null, offset: metadata[2]!.offset })
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

  test('keyed records without a partition follow the Java default partitioner', async () => {
    const topic = await createTopic(name('keyed'), 6)
    const producer = track(kafka.createProducer())
    // Java: Utils.toPositive(Utils.murmur2(key)) % 6
    const keys = ['alpha', 'beta', 'gamma', 'delta', 'user-42']
    const metadata = await producer.send(keys.map((k) => ({ topic, key: Buffer.from(k), value: Buffer.from(k) })))
    expect(metadata.map((m) => m.partition)).toEqual(keys.map((k) => partitionForKey(Buffer.from(k), 6)))
  })

  test('bad records and unknown topics are rejected clearly', async () => {
    const producer = track(kafka.createProducer())
    await expect(producer.send([{ topic: name('nope'), value: Buffer.from('x') }])).rejects.toMatchObject({ code: 'DEVTRIP_UNKNOWN_TOPIC' })
    await expect(producer.send([{ topic: 't', value: 'text' as never }])).rejects.toMatchObject({ code: 'DEVTRIP_INVALID_OPTIONS', message: expect.stringContaining('/records/0/value') })
    await expect(producer.initTransactions()).rejects.toMatchObject({ code: 'DEVTRIP_INVALID_OPTIONS' })
  })
})

describe('transactions', () => {
  let input: string
  let outA: string
  let outB: string

  beforeAll(async () => {
    input = await createTopic(name('tx-in'), 1)
    outA = await createTopic(name('tx-out-a'), 1)
    outB = await createTopic(name('tx-out-b'), 1)
    const seed = track(kafka.createProducer())
    await seed.send([1, 2, 3, 4].map((i) => ({ topic: input, key: Buffer.from(`k${i}`), value: Buffer.from(`in-${i}`) })))
  })

  /** A group consumer that has read `count` records of the input topic. */
  async function consumeInput (groupId: string, count: number): Promise<{ consumer: KafkaGroupConsumer, records: ConsumedRecord[] }> {
    const consumer = track(kafka.createGroupConsumer({ groupId, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 500, rebalanceTimeoutMs: 15_000 }))
    consumer.subscribe([input])
    const records = await pollUntil(consumer, (r) => r.length >= count)
    return { consumer, records }
  }

  test('a committed transaction writes two topics and moves the group offset (KIP-447 group metadata)', async () => {
    const groupId = name('tx-commit-group')
    const { consumer, records } = await consumeInput(groupId, 4)
    const group = consumer.groupMetadata()
    expect(group.groupId).toBe(groupId)
    expect(group.generationId).toBeGreaterThanOrEqual(1)
    expect(group.memberId).not.toBe('')

    const producer = track(kafka.createProducer({ transactionalId: name('tx-commit'), transactionTimeoutMs: 30_000 }))
    await expect(producer.send([{ topic: outA, value: Buffer.from('x') }])).rejects.toMatchObject({ code: 'DEVTRIP_INVALID_OPTIONS' })
    await producer.initTransactions()
    await producer.beginTransaction()
    await producer.send(records.slice(0, 2).map((r) => ({ topic: outA, key: r.key, value: Buffer.from(`a:${text(r.value)}`) })))
    await producer.send([{ topic: outB, key: null, value: Buffer.from('b:summary') }])
    const last = records[1]!
    await producer.sendOffsetsToTransaction([{ topic: input, partition: 0, offset: last.offset + 1n }], group)
    // before the commit, a read_committed reader sees nothing of it
    expect(await readAll([{ topic: outA, partition: 0 }], 'read_committed', false)).toEqual([])
    await producer.commitTransaction()

    expect((await readAll([{ topic: outA, partition: 0 }])).map((r) => text(r.value))).toEqual(['a:in-1', 'a:in-2'])
    expect((await readAll([{ topic: outB, partition: 0 }])).map((r) => text(r.value))).toEqual(['b:summary'])
    expect(await admin.listGroupOffsets(groupId)).toEqual([{ topic: input, partition: 0, offset: last.offset + 1n }])
    expect(await consumer.committed([{ topic: input, partition: 0 }])).toEqual([{ topic: input, partition: 0, offset: last.offset + 1n }])

    // a second transaction on the same producer works as well (state returns to ready)
    await producer.beginTransaction()
    await producer.send([{ topic: outB, value: Buffer.from('b:second') }])
    await producer.commitTransaction()
    expect((await readAll([{ topic: outB, partition: 0 }])).map((r) => text(r.value))).toEqual(['b:summary', 'b:second'])
  })

  test('an aborted transaction is invisible to read_committed readers and commits no offsets', async () => {
    const groupId = name('tx-abort-group')
    const { consumer, records } = await consumeInput(groupId, 4)
    const topic = await createTopic(name('tx-abort-out'), 1)
    const producer = track(kafka.createProducer({ transactionalId: name('tx-abort') }))
    await producer.initTransactions()

    await producer.beginTransaction()
    await producer.send([{ topic, value: Buffer.from('aborted-1') }, { topic, value: Buffer.from('aborted-2') }])
    await producer.sendOffsetsToTransaction([{ topic: input, partition: 0, offset: records[3]!.offset + 1n }], consumer.groupMetadata())
    await producer.abortTransaction()

    await producer.beginTransaction()
    await producer.send([{ topic, value: Buffer.from('kept') }])
    await producer.commitTransaction()

    const committedRead = await readAll([{ topic, partition: 0 }])
    expect(committedRead.map((r) => text(r.value))).toEqual(['kept'])
    // the aborted records really are in the log: a read_uncommitted reader sees them
    const dirtyRead = await readAll([{ topic, partition: 0 }], 'read_uncommitted')
    expect(dirtyRead.map((r) => text(r.value))).toEqual(['aborted-1', 'aborted-2', 'kept'])
    expect(await admin.listGroupOffsets(groupId)).toEqual([])
    expect(await consumer.committed([{ topic: input, partition: 0 }])).toEqual([{ topic: input, partition: 0, offset: null }])
  })

  test('an empty transaction commits and aborts without error', async () => {
    const producer = track(kafka.createProducer({ transactionalId: name('tx-empty') }))
    await producer.initTransactions()
    await producer.beginTransaction()
    await producer.commitTransaction()
    await producer.beginTransaction()
    await producer.abortTransaction()
    await expect(producer.commitTransaction()).rejects.toMatchObject({ code: 'DEVTRIP_INVALID_OPTIONS' })
  })

  test('zombie fencing: the older producer with the same transactional id fails with DEVTRIP_KAFKA_FENCED', async () => {
    const topic = await createTopic(name('zombie'), 1)
    const transactionalId = name('zombie-tx')
    const older = track(kafka.createProducer({ transactionalId }))
    await older.initTransactions()
    await older.beginTransaction()
    await older.send([{ topic, value: Buffer.from('from-zombie') }])

    const newer = track(kafka.createProducer({ transactionalId }))
    await newer.initTransactions()

    await expect(older.commitTransaction()).rejects.toMatchObject({ code: 'DEVTRIP_KAFKA_FENCED' })
    // once fenced, always fenced
    await expect(older.beginTransaction()).rejects.toMatchObject({ code: 'DEVTRIP_KAFKA_FENCED' })

    await newer.beginTransaction()
    await newer.send([{ topic, value: Buffer.from('from-newer') }])
    await newer.commitTransaction()
    // the zombie's open transaction was aborted when the newer producer initialized
    expect((await readAll([{ topic, partition: 0 }])).map((r) => text(r.value))).toEqual(['from-newer'])
  })
  test('transactionTimeoutMs reaches the coordinator: an overdue transaction is aborted and its producer fenced', async () => {
    const topic = await createTopic(name('tx-timeout'), 1)
    const producer = track(kafka.createProducer({ transactionalId: name('tx-timeout'), transactionTimeoutMs: 1000 }))
    await producer.initTransactions()
    await producer.beginTransaction()
    await producer.send([{ topic, value: Buffer.from('too-late') }])
    // the broker looks for overdue transactions every transaction.abort.timed.out.transaction.cleanup.interval.ms
    // (1 s on the test and dev brokers); with the 60 s default timeout nothing would happen here
    const high = await admin.listOffsets([{ topic, partition: 0 }], 'latest', 'read_uncommitted')
    const deadline = Date.now() + 20_000
    while ((await admin.listOffsets([{ topic, partition: 0 }], 'latest', 'read_committed'))[0]!.offset < high[0]!.offset) {
      if (Date.now() > deadline) throw new Error('the coordinator did not abort the overdue transaction')
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    await expect(producer.commitTransaction()).rejects.toMatchObject({ code: 'DEVTRIP_KAFKA_FENCED' })
    expect(await readAll([{ topic, partition: 0 }])).toEqual([])
  })
})

describe('group consumer', () => {
  test('two members rebalance: callbacks fire, partitions split co-partitioned; pause, resume and seek work', async () => {
    const left = await createTopic(name('grp-left'), 4)
    const right = await createTopic(name('grp-right'), 4)
    const groupId = name('grp')
    const options = { groupId, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 300, rebalanceTimeoutMs: 20_000 }
    const events: string[] = []
    const listener = (who: string): Parameters<KafkaGroupConsumer['subscribe']>[1] => ({
      onPartitionsRevoked: (tps) => { events.push(`${who}:revoked:${tps.length}`) },
      onPartitionsAssigned: (tps) => { events.push(`${who}:assigned:${tps.length}`) }
    })
    const one = track(kafka.createGroupConsumer(options))
    one.subscribe([left, right], listener('one'))
    await pollUntil(one, () => one.assignment().length === 8)
    expect(events).toEqual(['one:assigned:8'])

    const two = track(kafka.createGroupConsumer(options))
    two.subscribe([left, right], listener('two'))
    const balanced = (): boolean => one.assignment().length === 4 && two.assignment().length === 4
    await Promise.all([pollUntil(one, balanced), pollUntil(two, balanced)])

    expect(events).toContain('one:revoked:8')
    expect(events.indexOf('one:revoked:8')).toBeLessThan(events.lastIndexOf('one:assigned:4'))
    expect(events).toContain('two:assigned:4')
    const numbers = (c: KafkaGroupConsumer, topic: string): number[] => c.assignment().filter((tp) => tp.topic === topic).map((tp) => tp.partition).sort()
    // co-partitioned: each member holds the same partition numbers of both topics, and the halves are disjoint
    expect(numbers(one, left)).toEqual(numbers(one, right))
    expect(numbers(two, left)).toEqual(numbers(two, right))
    expect([...numbers(one, left), ...numbers(two, left)].sort()).toEqual([0, 1, 2, 3])
    expect(one.groupMetadata().generationId).toBe(two.groupMetadata().generationId)

    const description = (await admin.describeGroups([groupId]))[0]!
    expect(description.state).toBe('Stable')
    expect(description.protocol).toBe('devtrip-copartitioned')
    expect(description.members).toHaveLength(2)
    expect(description.members.flatMap((m) => m.assignment)).toHaveLength(8)
    expect((await admin.listGroups()).map((g) => g.groupId)).toContain(groupId)

    // pause / resume / seek on a partition member `one` owns
    const tp = one.assignment().find((p) => p.topic === left)!
    const producer = track(kafka.createProducer())
    await producer.send([0, 1, 2].map((i) => ({ topic: left, partition: tp.partition, value: Buffer.from(`r${i}`) })))
    // member `two` must keep polling meanwhile, or it would miss rebalances and heartbeat deadlines
    let twoStopped = false
    const keepTwoAlive = (async () => { while (!twoStopped) await two.poll(100) })()
    try {
      one.pause([tp])
      expect(one.partitionStates().find((s) => s.topic === tp.topic && s.partition === tp.partition)!.paused).toBe(true)
      for (let i = 0; i < 5; i++) {
        const batches = await one.poll(100)
        expect(batches.filter((b) => b.topic === tp.topic && b.partition === tp.partition)).toEqual([])
      }
      one.resume([tp])
      const seen = await pollUntil(one, (r) => r.filter((x) => x.topic === left && x.partition === tp.partition).length >= 3)
      const firstRead = seen.filter((x) => x.topic === left && x.partition === tp.partition)
      expect(firstRead.map((r) => text(r.value))).toEqual(['r0', 'r1', 'r2'])
      const state = one.partitionStates().find((s) => s.topic === tp.topic && s.partition === tp.partition)!
      expect(state.highWatermark).toBe(firstRead[2]!.offset + 1n)
      expect(state.lastStableOffset).toBe(firstRead[2]!.offset + 1n)
      expect(one.position(tp)).toBe(firstRead[2]!.offset + 1n)

      one.seek(tp, firstRead[1]!.offset)
      const again = await pollUntil(one, (r) => r.some((x) => x.topic === left && x.partition === tp.partition))
      expect(again.filter((x) => x.topic === left && x.partition === tp.partition).map((r) => text(r.value))).toEqual(['r1', 'r2'])

      await one.commitOffsets([{ ...tp, offset: firstRead[2]!.offset + 1n }])
      expect(await one.committed([tp])).toEqual([{ ...tp, offset: firstRead[2]!.offset + 1n }])
      expect(() => one.seek({ topic: left, partition: 99 }, 0n)).toThrow(/not assigned/)
    } finally {
      twoStopped = true
      await keepTwoAlive
    }

    // member `one` leaves: `two` takes everything over
    await one.close()
    await pollUntil(two, () => two.assignment().length === 8)
    expect(events).toContain('one:revoked:4')
  })

  test('a commit with a stale generation fails with DEVTRIP_TASK_MIGRATED', async () => {
    const topic = await createTopic(name('stale'), 2)
    const groupId = name('stale-grp')
    const consumer = track(kafka.createGroupConsumer({ groupId, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 300 }))
    consumer.subscribe([topic])
    await pollUntil(consumer, () => consumer.assignment().length === 2)
    const stale = consumer.groupMetadata()
    // a transactional offset commit with a made-up older generation is refused by the group coordinator
    const producer = track(kafka.createProducer({ transactionalId: name('stale-tx') }))
    await producer.initTransactions()
    await producer.beginTransaction()
    await expect(producer.sendOffsetsToTransaction([{ topic, partition: 0, offset: 0n }], { ...stale, generationId: stale.generationId + 7 }))
      .rejects.toMatchObject({ code: 'DEVTRIP_TASK_MIGRATED' })
    await producer.abortTransaction()
  })
})

describe('admin: offsets', () => {
  test('listOffsets: earliest, latest, the last stable offset under read_committed, timestamps; deleteRecords', async () => {
    const topic = await createTopic(name('offsets'), 1)
    const tp = { topic, partition: 0 }
    const plain = track(kafka.createProducer())
    await plain.send([0, 1, 2].map((i) => ({ topic, value: Buffer.from(`c${i}`), timestamp: 1_700_000_000_000 + i * 1000 })))
    const tx = track(kafka.createProducer({ transactionalId: name('offsets-tx') }))
    await tx.initTransactions()
    await tx.beginTransaction()
    await tx.send([{ topic, value: Buffer.from('open-1') }, { topic, value: Buffer.from('open-2') }])

    expect(await admin.listOffsets([tp], 'earliest')).toEqual([{ ...tp, offset: 0n }])
    expect(await admin.listOffsets([tp], 'latest', 'read_uncommitted')).toEqual([{ ...tp, offset: 5n }])
    // the open transaction holds the last stable offset at its first record
    expect(await admin.listOffsets([tp], 'latest', 'read_committed')).toEqual([{ ...tp, offset: 3n }])
    await tx.commitTransaction()
    await settled([tp])
    // 3 records, 2 transactional records and the commit marker
    expect(await admin.listOffsets([tp], 'latest', 'read_committed')).toEqual([{ ...tp, offset: 6n }])

    expect(await admin.listOffsets([tp], { timestamp: 1_700_000_001_000 })).toEqual([{ ...tp, offset: 1n }])
    expect(await admin.listOffsets([tp], { timestamp: Date.now() + 3_600_000 })).toEqual([{ ...tp, offset: 6n }])

    expect(await admin.deleteRecords([{ ...tp, offset: 2n }])).toEqual([{ ...tp, offset: 2n }])
    expect(await admin.listOffsets([tp], 'earliest')).toEqual([{ ...tp, offset: 2n }])
  })
})
