/**
 * Lag on a real broker: record counts equal what Kafka's own ConsumerGroupCommand prints for the same quiescent
 * group (CURRENT-OFFSET, LOG-END-OFFSET, LAG), the read_committed lag differs exactly where a transaction is
 * open, lag in seconds comes from the oldest unconsumed record, the CLI prints the same numbers, and the
 * monitor measures a consume rate while a consumer works.
 */
import { createKafkaClients, type KafkaAdmin, type KafkaClientFactory, type KafkaProducer } from '../../streams/kafka'
import { LagCollector, LagMonitor, type GroupLag, type LagSnapshot } from '../../streams/tools'
import { brokers, cli, eventually, kafkaDescribeGroup, settled, ToggleConsumer, unique } from './lag-kit'

jest.setTimeout(180_000)

let kafka: KafkaClientFactory
let admin: KafkaAdmin
const topics: string[] = []
const BASE = Date.now() - 120_000

beforeAll(() => {
  kafka = createKafkaClients({ brokers, clientId: 'lag-test' })
  admin = kafka.createAdmin()
})

afterAll(async () => {
  await admin.deleteTopics(topics).catch(() => undefined)
  await admin.close()
})

async function topic (partitions: number): Promise<string> {
  const name = unique('lag')
  await admin.createTopics([{ name, partitions, replicationFactor: 1 }])
  topics.push(name)
  return name
}

/** Commits the given offsets for a group through a short-lived member, then leaves: the group is Empty. */
async function commitAs (groupId: string, t: string, offsets: Array<[number, bigint]>): Promise<void> {
  const consumer = kafka.createGroupConsumer({ groupId, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1000 })
  try {
    consumer.subscribe([t])
    for (let i = 0; i < 50 && consumer.assignment().length === 0; i++) await consumer.poll(100)
    await consumer.commitOffsets(offsets.map(([partition, offset]) => ({ topic: t, partition, offset })))
  } finally {
    await consumer.close()
  }
}

describe('a quiescent group with plain, committed-transactional and open-transactional partitions', () => {
  let t: string
  let group: string
  let open: KafkaProducer

  beforeAll(async () => {
    t = await topic(3)
    group = unique('group')
    const plain = kafka.createProducer()
    // p0: 10 plain records, one second apart in record time; p1: 5 plain records
    await plain.send(Array.from({ length: 10 }, (_, i) => ({ topic: t, partition: 0, key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`), timestamp: BASE + i * 1000 })))
    await plain.send(Array.from({ length: 5 }, (_, i) => ({ topic: t, partition: 1, key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`), timestamp: BASE + i * 1000 })))
    await plain.close()
    // p2: 4 records in a committed transaction (+ 1 commit marker)
    const tx = kafka.createProducer({ transactionalId: unique('tx') })
    await tx.initTransactions()
    await tx.beginTransaction()
    await tx.send(Array.from({ length: 4 }, (_, i) => ({ topic: t, partition: 2, key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`), timestamp: BASE + i * 1000 })))
    await tx.commitTransaction()
    await tx.close()
    await settled(admin, [0, 1, 2].map((partition) => ({ topic: t, partition })))
    await commitAs(group, t, [[0, 4n], [1, 5n], [2, 2n]])
    // p1: a transaction left open: 2 records past the last stable offset
    open = kafka.createProducer({ transactionalId: unique('open') })
    await open.initTransactions()
    await open.beginTransaction()
    await open.send([0, 1].map((i) => ({ topic: t, partition: 1, key: Buffer.from(`open${i}`), value: Buffer.from('x') })))
  })

  afterAll(async () => {
    await open.abortTransaction().catch(() => undefined)
    await open.close()
  })

  test('CURRENT-OFFSET, LOG-END-OFFSET and LAG equal ConsumerGroupCommand --describe', async () => {
    const collector = new LagCollector(kafka)
    let snapshot: LagSnapshot
    try {
      snapshot = await collector.sample({ groups: [group] })
    } finally {
      await collector.close()
    }
    const kafkaRows = kafkaDescribeGroup(group)
    const g = snapshot.groups[0]!
    expect(g.groupId).toBe(group)
    expect(g.state).toBe('Empty')
    expect(g.members).toEqual([])
    expect(g.partitions.map((p) => ({ topic: p.topic, partition: p.partition, currentOffset: String(p.committedOffset), logEndOffset: String(p.logEndOffset), lag: String(p.lag) })))
      .toEqual(kafkaRows)
    // and the values themselves: p2's log end counts the commit marker, p1's the open transaction
    expect(kafkaRows.map((r) => [r.currentOffset, r.logEndOffset, r.lag])).toEqual([['4', '10', '6'], ['5', '7', '2'], ['2', '5', '3']])
  })

  test('read_committed lag stops at the last stable offset; lag in seconds is the age of the oldest unconsumed record', async () => {
    const collector = new LagCollector(kafka)
    let g: GroupLag
    let takenAt: number
    try {
      const snapshot = await collector.sample({ groups: [group] })
      g = snapshot.groups[0]!
      takenAt = snapshot.takenAt
    } finally {
      await collector.close()
    }
    const [p0, p1, p2] = g.partitions
    expect([p0!.lastStableOffset, p1!.lastStableOffset, p2!.lastStableOffset]).toEqual([10n, 5n, 5n])
    expect([p0!.committedLag, p1!.committedLag, p2!.committedLag]).toEqual([6n, 0n, 3n])
    // the records at the committed offsets: p0 offset 4, p2 offset 2 (their record times were set when produced)
    expect(p0!.oldestUnconsumedTimestamp).toBe(BASE + 4000)
    expect(p2!.oldestUnconsumedTimestamp).toBe(BASE + 2000)
    expect(p0!.lagSeconds).toBeCloseTo((takenAt - (BASE + 4000)) / 1000, 3)
    // p1: nothing a read_committed consumer could read yet, so nothing is waiting
    expect(p1!.lagSeconds).toBe(0)
    expect(p1!.oldestUnconsumedTimestamp).toBeNull()
    expect(g.totals.lag).toBe(11n)
    expect(g.totals.committedLag).toBe(9n)
    expect(g.totals.lagSeconds).toBe(p2!.lagSeconds)
  })

  test('the CLI prints the same offsets as JSON and as a table', () => {
    const json = cli(['lag', '--group', group, '--json', '--sample', '0'])
    expect(json.stderr).toBe('')
    expect(json.code).toBe(0)
    const parsed = JSON.parse(json.stdout) as { groups: Array<{ groupId: string, partitions: Array<{ partition: number, committedOffset: string, logEndOffset: string, lag: string, committedLag: string }> }> }
    expect(parsed.groups.map((x) => x.groupId)).toEqual([group])
    expect(parsed.groups[0]!.partitions.map((p) => [p.committedOffset, p.logEndOffset, p.lag, p.committedLag])).toEqual([['4', '10', '6', '6'], ['5', '7', '2', '0'], ['2', '5', '3', '3']])

    const text = cli(['lag', '--group', group, '--sample', '0'])
    expect(text.code).toBe(0)
    const lines = text.stdout.split('\n')
    const header = lines.findIndex((l) => l.startsWith('TOPIC'))
    expect(lines[header]).toMatch(/^TOPIC\s+PARTITION\s+CURRENT-OFFSET\s+LOG-END-OFFSET\s+LAG\s+LSO\s+LAG-RC\s+LAG-SEC/)
    expect(lines[header + 1]!.split(/\s+/).slice(0, 7)).toEqual([t, '0', '4', '10', '6', '10', '6'])
    expect(lines.find((l) => l.startsWith(`GROUP ${group}`))).toMatch(/state=Empty\s+members=0\s+lag=11\s+committed-lag=9/)
  })
})

test('bad usage exits 2 with one line; an unknown group exits 1 naming it', () => {
  const badInterval = cli(['lag', '--watch', '--interval', '0'])
  expect(badInterval.code).toBe(2)
  expect(badInterval.stderr).toMatch(/^error: --interval must be a number of seconds between 0.5 and 3600, got "0"\n/)
  const intervalAlone = cli(['lag', '--interval', '3'])
  expect(intervalAlone.code).toBe(2)
  expect(intervalAlone.stderr).toMatch(/--interval needs --watch/)
  const missing = unique('nogroup')
  const unknown = cli(['lag', '--group', missing, '--sample', '0'])
  expect(unknown.code).toBe(1)
  expect(unknown.stderr).toContain(`consumer group "${missing}" does not exist`)
})

test('the monitor measures the consume rate of a working consumer and the lag reaching zero', async () => {
  const t = await topic(2)
  const group = unique('rate')
  const producer = kafka.createProducer()
  await producer.send(Array.from({ length: 400 }, (_, i) => ({ topic: t, key: Buffer.from(`k${i % 7}`), value: Buffer.from(`v${i}`) })))
  await producer.close()
  // commit offset 0 first, so the group has lag before its consumer starts
  await commitAs(group, t, [[0, 0n], [1, 0n]])
  const collector = new LagCollector(kafka)
  const monitor = new LagMonitor(collector, { lag: { groups: [group] }, intervalMs: 300 })
  const consumer = new ToggleConsumer(kafka, group, t, 100)
  const samples: LagSnapshot[] = []
  monitor.subscribe((e) => { if (e.kind === 'sample') samples.push(e.snapshot) })
  try {
    const first = await monitor.nextSample()
    expect(first.groups[0]!.totals.lag).toBe(400n)
    expect(first.groups[0]!.totals.consumeRate).toBeNull()
    consumer.start()
    await eventually(() => {
      const last = samples[samples.length - 1]!
      expect(last.groups[0]!.totals.lag).toBe(0n)
    }, 60_000)
    // some sample in between saw records consumed: a positive rate, and while lag remained, an ETA
    const moving = samples.filter((s) => (s.groups[0]!.totals.consumeRate ?? 0) > 0)
    expect(moving.length).toBeGreaterThan(0)
    const last = samples[samples.length - 1]!.groups[0]!
    expect(last.totals.catchUpSeconds).toBe(0)
    expect(last.totals.lagSeconds).toBe(0)
    expect(monitor.history()[group]!.length).toBe(samples.length)
  } finally {
    await consumer.stop()
    await monitor.stop()
    await collector.close()
  }
})
