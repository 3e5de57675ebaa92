/**
 * The Kafka port's conformance suite: every contract of streams/kafka/port.ts (docs/kafka-port.md) checked on a
 * real broker through one adapter. `describeKafkaConformance(name)` registers the whole suite for one adapter;
 * kafka-conformance.test.ts runs it for each adapter of KAFKA_CONFORMANCE_ADAPTERS. Where adapters may differ
 * by design, the suite asks the adapter's `capabilities` (never its name). Every test uses topics and groups with a
 * random suffix, so runs and adapters never collide. An adapter that cannot be loaded fails the suite with its
 * DEVTRIP_KAFKA_ADAPTER_UNAVAILABLE error — it is never skipped.
 */
import { randomBytes } from 'node:crypto'
import { isDevtripError } from '../../events/errors'
import { partitionForKey } from '../../streams/partitioner'
import {
  createKafkaClients, type ConsumedRecord, type GroupConsumerOptions, type KafkaAdapterName, type KafkaGroupConsumer,
  type RebalanceListener, type TopicPartitionOffset
} from '../../streams/kafka'
import { brokers, kafkaPortFixture, text } from './kafka-port-kit'

export function describeKafkaConformance (adapter: KafkaAdapterName): void {
  describe(`Kafka port conformance: ${adapter} adapter`, () => {
    const run = randomBytes(4).toString('hex')
    const name = (what: string): string => `kconf-${adapter}-${run}-${what}`

    const port = kafkaPortFixture(adapter, `kconf-${adapter}-${run}`)
    const { pollUntil, settled, readAll, track, createTopic, createdTopics } = port

    /**
     * The group's committed offsets equal `expected`: read once where reads are stable (capabilities.committedOffsetReads),
     * else given up to 10 s to show — the transactional commit has returned, its markers land a moment later.
     */
    async function expectCommitted (groupId: string, expected: TopicPartitionOffset[]): Promise<void> {
      if (port.kafka.capabilities.committedOffsetReads === 'eventual') {
        const deadline = Date.now() + 10_000
        while (Date.now() < deadline && JSON.stringify(await port.admin.listGroupOffsets(groupId), (_k, v: unknown) => typeof v === 'bigint' ? String(v) : v) !==
          JSON.stringify(expected, (_k, v: unknown) => typeof v === 'bigint' ? String(v) : v)) {
          await new Promise((resolve) => setTimeout(resolve, 100))
        }
      }
      expect(await port.admin.listGroupOffsets(groupId)).toEqual(expected)
    }

    test('the adapter loads and says how it fences zombie offset commits', () => {
      expect(port.kafka.adapter).toBe(adapter)
      expect(['group-metadata', 'group-id-only']).toContain(port.kafka.capabilities.transactionalOffsetFencing)
    })

    describe('options', () => {
      test('bad options are rejected with the field named', () => {
        expect(() => createKafkaClients({ brokers: [] }, adapter)).toThrow(/brokers/)
        expect(() => port.kafka.createProducer({ transactionTimeoutMs: 5 })).toThrow(/transactionTimeoutMs/)
        expect(() => port.kafka.createGroupConsumer({ groupId: 'g', heartbeatIntervalMs: 5000, sessionTimeoutMs: 3000 })).toThrow(/heartbeatIntervalMs/)
        try {
          port.kafka.createAssignedConsumer({ isolationLevel: 'dirty' as never })
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
        const first = await port.admin.createTopics([
          { name: plain, partitions: 3, replicationFactor: 1 },
          { name: compacted, partitions: 2, replicationFactor: 1, configs: { 'cleanup.policy': 'compact' } }
        ])
        expect(first).toEqual([{ name: plain, created: true, partitions: 3 }, { name: compacted, created: true, partitions: 2 }])
        // a different count asked for an existing topic: reported, not changed
        const second = await port.admin.createTopics([
          { name: plain, partitions: 5, replicationFactor: 1 },
          { name: compacted, partitions: 2, replicationFactor: 1 }
        ])
        expect(second).toEqual([{ name: plain, created: false, partitions: 3 }, { name: compacted, created: false, partitions: 2 }])

        const topics = await port.admin.listTopics()
        expect(topics).toEqual(expect.arrayContaining([plain, compacted]))
        expect(topics).toEqual([...topics].sort())
        expect(topics.some((t) => t.startsWith('__'))).toBe(false)
        const [d1, d2] = await port.admin.describeTopics([plain, compacted])
        expect(d1!.name).toBe(plain)
        expect(d1!.partitions.map((p) => p.partition)).toEqual([0, 1, 2])
        for (const p of d1!.partitions) {
          expect(p.leader).toBeGreaterThanOrEqual(0)
          expect(p.replicas).toHaveLength(1)
          expect(p.isr).toEqual(p.replicas)
        }
        expect(d1!.configs['cleanup.policy']).toBe('delete')
        expect(d2!.configs['cleanup.policy']).toBe('compact')
        expect(d1!.configs['retention.ms']).toMatch(/^-?[0-9]+$/)

        await expect(port.admin.describeTopics([plain, name('missing')])).rejects.toMatchObject({ code: 'DEVTRIP_UNKNOWN_TOPIC', message: expect.stringContaining(name('missing')) })
        await port.admin.deleteTopics([compacted, name('never-existed')])
        expect(await port.admin.listTopics()).not.toContain(compacted)
      })

      test('two clients creating the same topics at once: each topic is created once and both report its partition count', async () => {
        // what two instances starting together do with their internal topics; the loser learns "already exists" while
        // the topic may not be in its broker's metadata yet — that must not fail its createTopics
        const other = createKafkaClients({ brokers, clientId: `kconf-${adapter}-${run}-other` }, adapter).createAdmin()
        track(other)
        const names = [1, 2, 3, 4, 5].map((i) => name(`race-${i}`))
        createdTopics.push(...names)
        const topics = names.map((n) => ({ name: n, partitions: 4, replicationFactor: 1 }))
        const [mine, theirs] = await Promise.all([port.admin.createTopics(topics), other.createTopics(topics)])
        for (const [i, n] of names.entries()) {
          expect(mine[i]).toMatchObject({ name: n, partitions: 4 })
          expect(theirs[i]).toMatchObject({ name: n, partitions: 4 })
          expect(Number(mine[i]!.created) + Number(theirs[i]!.created)).toBe(1)
        }
      })
    })

    describe('idempotent producer', () => {
      test('records come back with keys, values, headers and timestamps intact, at the offsets send reported', async () => {
        const topic = await createTopic(name('plain-io'), 2)
        const producer = track(port.kafka.createProducer())
        expect(producer.transactionalId).toBeNull()
        const records = [
          { topic, partition: 0, key: Buffer.from('k1'), value: Buffer.from('v1'), headers: [['h', Buffer.from('1')], ['h', Buffer.from('2')], ['empty', null]] as const, timestamp: 1_700_000_000_000 },
          { topic, partition: 0, key: null, value: Buffer.from('no key') },
          { topic, partition: 1, key: Buffer.from('gone'), value: null },
          { topic, partition: 0, key: Buffer.from([0, 255, 1]), value: Buffer.from([7, 0, 7]) }
        ]
        const before = Date.now()
        const metadata = await producer.send(records)
        expect(metadata.map((m) => [m.topic, m.partition])).toEqual([[topic, 0], [topic, 0], [topic, 1], [topic, 0]])
        expect(metadata[1]!.offset).toBe(metadata[0]!.offset + 1n)
        expect(metadata[3]!.offset).toBe(metadata[0]!.offset + 2n)

        const back = await readAll([{ topic, partition: 0 }, { topic, partition: 1 }])
        const p0 = back.filter((r) => r.partition === 0)
        expect(p0.map((r) => r.offset)).toEqual([metadata[0]!.offset, metadata[1]!.offset, metadata[3]!.offset])
        expect(p0[0]).toMatchObject({ topic, key: Buffer.from('k1'), value: Buffer.from('v1'), timestamp: 1_700_000_000_000 })
        // the documented difference (capabilities.nullHeaderValues, docs/kafka-port.md): kafkajs and the librdkafka
        // binding cannot write a null header value, so it is written as an empty one
        const nullHeader = port.kafka.capabilities.nullHeaderValues === 'written-empty' ? Buffer.alloc(0) : null
        expect(p0[0]!.headers).toEqual([['h', Buffer.from('1')], ['h', Buffer.from('2')], ['empty', nullHeader]])
        expect(p0[1]).toMatchObject({ key: null, value: Buffer.from('no key'), headers: [] })
        // no timestamp given: the producer stamps the record with the current time
        expect(p0[1]!.timestamp).toBeGreaterThanOrEqual(before - 1000)
        expect(p0[2]).toMatchObject({ key: Buffer.from([0, 255, 1]), value: Buffer.from([7, 0, 7]) })
        const tombstone = back.find((r) => r.partition === 1)!
        expect(tombstone).toMatchObject({ key: Buffer.from('gone'), value: null, offset: metadata[2]!.offset })
      })

      test('keyed records without a partition follow the Java default partitioner (murmur2)', async () => {
        const topic = await createTopic(name('keyed'), 6)
        const producer = track(port.kafka.createProducer())
        // Java: Utils.toPositive(Utils.murmur2(key)) % 6; 'user-42' and 'x9' hash negative (toPositive matters)
        const keys = ['alpha', 'beta', 'gamma', 'delta', 'user-42', 'x9', 'order-1001', '']
        const metadata = await producer.send(keys.map((k) => ({ topic, key: Buffer.from(k), value: Buffer.from(k) })))
        expect(metadata.map((m) => m.partition)).toEqual(keys.map((k) => partitionForKey(Buffer.from(k), 6)))
        // unkeyed records are spread, and each lands somewhere valid
        const unkeyed = await producer.send([0, 1, 2, 3, 4, 5].map((i) => ({ topic, value: Buffer.from(`u${i}`) })))
        for (const m of unkeyed) expect(m.partition).toBeLessThan(6)
      })

      test('bad records and unknown topics are rejected clearly', async () => {
        const producer = track(port.kafka.createProducer())
        await expect(producer.send([{ topic: name('nope'), value: Buffer.from('x') }])).rejects.toMatchObject({ code: 'DEVTRIP_UNKNOWN_TOPIC' })
        await expect(producer.send([{ topic: 't', value: 'text' as never }])).rejects.toMatchObject({ code: 'DEVTRIP_INVALID_OPTIONS', message: expect.stringContaining('/records/0/value') })
        await expect(producer.initTransactions()).rejects.toMatchObject({ code: 'DEVTRIP_INVALID_OPTIONS' })
        const topic = await createTopic(name('narrow'), 1)
        await expect(producer.send([{ topic, partition: 3, value: Buffer.from('x') }])).rejects.toMatchObject({ code: 'DEVTRIP_INVALID_OPTIONS' })
        // the producer still works after refused sends
        expect((await producer.send([{ topic, value: Buffer.from('ok') }]))[0]).toMatchObject({ topic, partition: 0 })
      })

      test('a closed producer refuses work with DEVTRIP_CLOSED', async () => {
        const producer = port.kafka.createProducer()
        await producer.close()
        await expect(producer.send([{ topic: name('any'), value: Buffer.from('x') }])).rejects.toMatchObject({ code: 'DEVTRIP_CLOSED' })
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
        const seed = track(port.kafka.createProducer())
        await seed.send([1, 2, 3, 4].map((i) => ({ topic: input, key: Buffer.from(`k${i}`), value: Buffer.from(`in-${i}`) })))
      })

      /** A group consumer that has read `count` records of the input topic. */
      async function consumeInput (groupId: string, count: number): Promise<{ consumer: KafkaGroupConsumer, records: ConsumedRecord[] }> {
        const consumer = track(port.kafka.createGroupConsumer({ groupId, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 500, rebalanceTimeoutMs: 15_000 }))
        consumer.subscribe([input])
        const records = await pollUntil(consumer, (r) => r.length >= count)
        return { consumer, records }
      }

      test('a committed transaction writes two topics and moves the group offset with the consumer\'s group metadata', async () => {
        const groupId = name('tx-commit-group')
        const { consumer, records } = await consumeInput(groupId, 4)
        const group = consumer.groupMetadata()
        expect(group.groupId).toBe(groupId)
        expect(group.generationId).toBeGreaterThanOrEqual(1)
        expect(group.memberId).not.toBe('')
        expect(group.groupInstanceId).toBeNull()

        const producer = track(port.kafka.createProducer({ transactionalId: name('tx-commit'), transactionTimeoutMs: 30_000 }))
        expect(producer.transactionalId).toBe(name('tx-commit'))
        await expect(producer.send([{ topic: outA, value: Buffer.from('x') }])).rejects.toMatchObject({ code: 'DEVTRIP_INVALID_OPTIONS' })
        await producer.initTransactions()
        await expect(producer.send([{ topic: outA, value: Buffer.from('x') }])).rejects.toMatchObject({ code: 'DEVTRIP_INVALID_OPTIONS' })
        await producer.beginTransaction()
        await expect(producer.beginTransaction()).rejects.toMatchObject({ code: 'DEVTRIP_INVALID_OPTIONS' })
        await producer.send(records.slice(0, 2).map((r) => ({ topic: outA, key: r.key, value: Buffer.from(`a:${text(r.value)}`) })))
        await producer.send([{ topic: outB, key: null, value: Buffer.from('b:summary') }])
        const last = records[1]!
        await producer.sendOffsetsToTransaction([{ topic: input, partition: 0, offset: last.offset + 1n }], group)
        // before the commit, a read_committed reader sees nothing of it
        expect(await readAll([{ topic: outA, partition: 0 }], 'read_committed', false)).toEqual([])
        await producer.commitTransaction()

        expect((await readAll([{ topic: outA, partition: 0 }])).map((r) => text(r.value))).toEqual(['a:in-1', 'a:in-2'])
        expect((await readAll([{ topic: outB, partition: 0 }])).map((r) => text(r.value))).toEqual(['b:summary'])
        await expectCommitted(groupId, [{ topic: input, partition: 0, offset: last.offset + 1n }])
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
        const producer = track(port.kafka.createProducer({ transactionalId: name('tx-abort') }))
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
        expect(await port.admin.listGroupOffsets(groupId)).toEqual([])
        expect(await consumer.committed([{ topic: input, partition: 0 }])).toEqual([{ topic: input, partition: 0, offset: null }])
      })

      test('read_committed: a group consumer sees committed records only, and only after the commit', async () => {
        const topic = await createTopic(name('tx-visibility'), 1)
        const tp = { topic, partition: 0 }
        const producer = track(port.kafka.createProducer({ transactionalId: name('tx-visibility') }))
        await producer.initTransactions()
        const reader = track(port.kafka.createGroupConsumer({ groupId: name('tx-visibility-group'), sessionTimeoutMs: 10_000, heartbeatIntervalMs: 500 }))
        reader.subscribe([topic])
        await pollUntil(reader, () => reader.assignment().length === 1 && reader.position(tp) !== null)

        await producer.beginTransaction()
        await producer.send([{ topic, value: Buffer.from('open-1') }, { topic, value: Buffer.from('open-2') }])
        // the open transaction is invisible: nothing comes back, and the last stable offset stays behind it
        for (let i = 0; i < 3; i++) expect(await reader.poll(100)).toEqual([])
        await producer.abortTransaction()
        await producer.beginTransaction()
        await producer.send([{ topic, value: Buffer.from('committed') }])
        await producer.commitTransaction()

        const seen = await pollUntil(reader, (r) => r.length >= 1)
        expect(seen.map((r) => text(r.value))).toEqual(['committed'])
        // nothing else follows (the aborted records and the markers are never returned)
        for (let i = 0; i < 3; i++) expect(await reader.poll(100)).toEqual([])
        const state = reader.partitionStates()[0]!
        expect(state.lastStableOffset).toBe(state.highWatermark)
        expect(reader.position(tp)).toBe(state.highWatermark)
      })

      test('read_committed: transactions aborted in another order than they began stay invisible to every reader', async () => {
        // the broker lists aborted transactions in the order they ended; a reader that takes that order for the
        // order they began (kafkajs's own filter) shows the first one's records (found by the kafkajs chaos run)
        const topic = await createTopic(name('tx-abort-order'), 1)
        const tp = { topic, partition: 0 }
        const [first, second, third] = await Promise.all(['first', 'second', 'third'].map(async (id) => {
          const p = track(port.kafka.createProducer({ transactionalId: name(`tx-abort-order-${id}`) }))
          await p.initTransactions()
          await p.beginTransaction()
          return p
        }))
        await first!.send([{ topic, partition: 0, value: Buffer.from('first-aborted') }])
        await second!.send([{ topic, partition: 0, value: Buffer.from('second-aborted') }])
        await third!.send([{ topic, partition: 0, value: Buffer.from('third-committed') }])
        await second!.abortTransaction()
        await first!.abortTransaction()
        await third!.commitTransaction()
        expect((await readAll([tp], 'read_uncommitted')).map((r) => text(r.value))).toEqual(['first-aborted', 'second-aborted', 'third-committed'])
        expect((await readAll([tp])).map((r) => text(r.value))).toEqual(['third-committed'])
        const reader = track(port.kafka.createGroupConsumer({ groupId: name('tx-abort-order-group'), sessionTimeoutMs: 10_000, heartbeatIntervalMs: 500 }))
        reader.subscribe([topic])
        const seen = await pollUntil(reader, (r) => r.length >= 1)
        for (let i = 0; i < 3; i++) for (const batch of await reader.poll(100)) seen.push(...batch.records)
        expect(seen.map((r) => text(r.value))).toEqual(['third-committed'])
      })

      test('an empty transaction commits and aborts without error', async () => {
        const producer = track(port.kafka.createProducer({ transactionalId: name('tx-empty') }))
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
        const older = track(port.kafka.createProducer({ transactionalId }))
        await older.initTransactions()
        await older.beginTransaction()
        await older.send([{ topic, value: Buffer.from('from-zombie') }])

        const newer = track(port.kafka.createProducer({ transactionalId }))
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
        const producer = track(port.kafka.createProducer({ transactionalId: name('tx-timeout'), transactionTimeoutMs: 1000 }))
        await producer.initTransactions()
        await producer.beginTransaction()
        await producer.send([{ topic, value: Buffer.from('too-late') }])
        // the broker looks for overdue transactions every transaction.abort.timed.out.transaction.cleanup.interval.ms
        // (1 s on the test and dev brokers); with the 60 s default timeout nothing would happen here
        const high = await port.admin.listOffsets([{ topic, partition: 0 }], 'latest', 'read_uncommitted')
        const deadline = Date.now() + 20_000
        while ((await port.admin.listOffsets([{ topic, partition: 0 }], 'latest', 'read_committed'))[0]!.offset < high[0]!.offset) {
          if (Date.now() > deadline) throw new Error('the coordinator did not abort the overdue transaction')
          await new Promise((resolve) => setTimeout(resolve, 200))
        }
        await expect(producer.commitTransaction()).rejects.toMatchObject({ code: 'DEVTRIP_KAFKA_FENCED' })
        expect(await readAll([{ topic, partition: 0 }])).toEqual([])
      })
    })

    describe('group consumer', () => {
      test('two members rebalance: callbacks fire, partitions split co-partitioned, user data is advertised; pause, resume and seek work', async () => {
        const left = await createTopic(name('grp-left'), 4)
        const right = await createTopic(name('grp-right'), 4)
        const groupId = name('grp')
        const options: GroupConsumerOptions = { groupId, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 300, rebalanceTimeoutMs: 20_000 }
        const events: string[] = []
        const listener = (who: string): RebalanceListener => ({
          onPartitionsRevoked: (tps) => { events.push(`${who}:revoked:${tps.length}`) },
          onPartitionsAssigned: (tps) => { events.push(`${who}:assigned:${tps.length}`) }
        })
        const oneData = Buffer.from('127.0.0.1:8081', 'utf8')
        const twoData = Buffer.from([0, 1, 0xfe, 0xff, 0x7f, 0x80])
        const one = track(port.kafka.createGroupConsumer({ ...options, userData: oneData }))
        one.subscribe([left, right], listener('one'))
        await pollUntil(one, () => one.assignment().length === 8)
        expect(events).toEqual(['one:assigned:8'])

        const two = track(port.kafka.createGroupConsumer({ ...options, userData: twoData }))
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
        expect(one.groupMetadata().memberId).not.toBe(two.groupMetadata().memberId)

        const description = (await port.admin.describeGroups([groupId]))[0]!
        expect(description).toMatchObject({ groupId, state: 'Stable', protocolType: 'consumer' })
        expect(description.protocol).not.toBe('')
        expect(description.members).toHaveLength(2)
        const member = (c: KafkaGroupConsumer) => description.members.find((m) => m.memberId === c.groupMetadata().memberId)!
        expect(member(one).userData).toEqual(oneData)
        expect(member(two).userData).toEqual(twoData)
        expect(member(one).groupInstanceId).toBeNull()
        expect(member(one).clientHost).not.toBe('')
        expect([...member(one).assignment].sort((a, b) => `${a.topic}:${a.partition}`.localeCompare(`${b.topic}:${b.partition}`)))
          .toEqual([...one.assignment()].sort((a, b) => `${a.topic}:${a.partition}`.localeCompare(`${b.topic}:${b.partition}`)))
        expect(description.members.flatMap((m) => m.assignment)).toHaveLength(8)
        const listing = (await port.admin.listGroups()).find((g) => g.groupId === groupId)
        expect(listing).toMatchObject({ groupId, protocolType: 'consumer' })

        // pause / resume / seek on a partition member `one` owns
        const tp = one.assignment().find((p) => p.topic === left)!
        const producer = track(port.kafka.createProducer())
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
          expect(one.partitionStates().find((s) => s.topic === tp.topic && s.partition === tp.partition)!.paused).toBe(false)
          const seen = await pollUntil(one, (r) => r.filter((x) => x.topic === left && x.partition === tp.partition).length >= 3)
          const firstRead = seen.filter((x) => x.topic === left && x.partition === tp.partition)
          expect(firstRead.map((r) => text(r.value))).toEqual(['r0', 'r1', 'r2'])
          const state = one.partitionStates().find((s) => s.topic === tp.topic && s.partition === tp.partition)!
          expect(state.highWatermark).toBe(firstRead[2]!.offset + 1n)
          expect(state.lastStableOffset).toBe(firstRead[2]!.offset + 1n)
          expect(state.logStartOffset).toBe(0n)
          expect(one.position(tp)).toBe(firstRead[2]!.offset + 1n)

          one.seek(tp, firstRead[1]!.offset)
          const again = await pollUntil(one, (r) => r.some((x) => x.topic === left && x.partition === tp.partition))
          expect(again.filter((x) => x.topic === left && x.partition === tp.partition).map((r) => text(r.value))).toEqual(['r1', 'r2'])
          one.seek(tp, 'earliest')
          const fromStart = await pollUntil(one, (r) => r.filter((x) => x.topic === left && x.partition === tp.partition).length >= 3)
          expect(fromStart.filter((x) => x.topic === left && x.partition === tp.partition).map((r) => text(r.value))).toEqual(['r0', 'r1', 'r2'])

          await one.commitOffsets([{ ...tp, offset: firstRead[2]!.offset + 1n }])
          expect(await one.committed([tp])).toEqual([{ ...tp, offset: firstRead[2]!.offset + 1n }])
          await expectCommitted(groupId, [{ ...tp, offset: firstRead[2]!.offset + 1n }])
          expect(() => one.seek({ topic: left, partition: 99 }, 0n)).toThrow(/not assigned/)
          expect(() => one.pause([{ topic: left, partition: 99 }])).toThrow(/not assigned/)
        } finally {
          twoStopped = true
          await keepTwoAlive
        }

        // member `one` leaves: `two` takes everything over
        await one.close()
        expect(events).toContain('one:revoked:4')
        await pollUntil(two, () => two.assignment().length === 8)
        await expect(one.poll(10)).rejects.toMatchObject({ code: 'DEVTRIP_CLOSED' })
      })

      test('a member without user data advertises none; requestRejoin makes the next poll rebalance', async () => {
        const topic = await createTopic(name('plain-member'), 2)
        const groupId = name('plain-member-grp')
        const events: string[] = []
        const consumer = track(port.kafka.createGroupConsumer({ groupId, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 300 }))
        consumer.subscribe([topic], {
          onPartitionsRevoked: (tps) => { events.push(`revoked:${tps.length}`) },
          onPartitionsAssigned: (tps) => { events.push(`assigned:${tps.length}`) }
        })
        await pollUntil(consumer, () => consumer.assignment().length === 2)
        const [description] = await port.admin.describeGroups([groupId])
        expect(description!.members).toHaveLength(1)
        expect(description!.members[0]!.userData).toBeNull()

        const generation = consumer.groupMetadata().generationId
        consumer.requestRejoin()
        await pollUntil(consumer, () => consumer.groupMetadata().generationId > generation && consumer.assignment().length === 2)
        expect(events).toEqual(['assigned:2', 'revoked:2', 'assigned:2'])
      })

      test('a stale generation in a transactional offset commit is fenced as the capabilities say', async () => {
        const topic = await createTopic(name('stale'), 2)
        const groupId = name('stale-grp')
        const consumer = track(port.kafka.createGroupConsumer({ groupId, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 300 }))
        consumer.subscribe([topic])
        await pollUntil(consumer, () => consumer.assignment().length === 2)
        const stale = consumer.groupMetadata()
        const producer = track(port.kafka.createProducer({ transactionalId: name('stale-tx') }))
        await producer.initTransactions()
        await producer.beginTransaction()
        const zombie = { ...stale, generationId: stale.generationId + 7 }
        if (port.kafka.capabilities.transactionalOffsetFencing === 'group-metadata') {
          // KIP-447: the group coordinator checks generation and member id, and refuses a zombie's commit
          await expect(producer.sendOffsetsToTransaction([{ topic, partition: 0, offset: 0n }], zombie)).rejects.toMatchObject({ code: 'DEVTRIP_TASK_MIGRATED' })
          await producer.abortTransaction()
        } else {
          // only the group id travels: the broker cannot tell, so the runtime must fence with per-task transactional ids
          await producer.sendOffsetsToTransaction([{ topic, partition: 0, offset: 1n }], zombie)
          await producer.commitTransaction()
          await expectCommitted(groupId, [{ topic, partition: 0, offset: 1n }])
        }
      })

      test('a plain commit after the group moved on fails with DEVTRIP_TASK_MIGRATED, and the next poll rejoins', async () => {
        const topic = await createTopic(name('migrated'), 2)
        const groupId = name('migrated-grp')
        const options = { groupId, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 300, rebalanceTimeoutMs: 3_000 }
        const lost: number[] = []
        const one = track(port.kafka.createGroupConsumer(options))
        one.subscribe([topic], { onPartitionsLost: (tps) => { lost.push(tps.length) } })
        await pollUntil(one, () => one.assignment().length === 2)
        const generation = one.groupMetadata().generationId

        // `one` stops polling while `two` joins: the group rebalances without it (the rebalance timeout passes)
        const two = track(port.kafka.createGroupConsumer(options))
        two.subscribe([topic])
        await pollUntil(two, () => two.assignment().length === 2, 40_000)
        expect(two.groupMetadata().generationId).toBeGreaterThan(generation)

        await expect(one.commitOffsets([{ topic, partition: 0, offset: 0n }])).rejects.toMatchObject({ code: 'DEVTRIP_TASK_MIGRATED' })
        expect(await port.admin.listGroupOffsets(groupId)).toEqual([])
        // `one` rejoins at its next polls and the partitions are shared again
        let twoStopped = false
        const keepTwoAlive = (async () => { while (!twoStopped) await two.poll(100) })()
        try {
          await pollUntil(one, () => one.assignment().length === 1 && two.assignment().length === 1, 40_000)
        } finally {
          twoStopped = true
          await keepTwoAlive
        }
        expect(lost.length).toBeGreaterThanOrEqual(1)
      })
    })

    describe('assigned consumer', () => {
      test('assign keeps positions of kept partitions; seek latest and earliest; unassigned partitions are an error', async () => {
        const topic = await createTopic(name('assigned'), 2)
        const producer = track(port.kafka.createProducer())
        await producer.send([0, 1, 2, 3].map((i) => ({ topic, partition: i % 2, value: Buffer.from(`a${i}`) })))
        const p0 = { topic, partition: 0 }
        const p1 = { topic, partition: 1 }
        const consumer = track(port.kafka.createAssignedConsumer({ isolationLevel: 'read_uncommitted' }))
        consumer.assign([p0])
        expect(consumer.assignment()).toEqual([p0])
        const first = await pollUntil(consumer, (r) => r.length >= 2)
        expect(first.map((r) => text(r.value))).toEqual(['a0', 'a2'])
        expect(consumer.position(p0)).toBe(2n)

        consumer.assign([p0, p1])
        consumer.seek(p1, 'latest')
        // 'latest' is resolved by the next poll, so let a poll happen before more records arrive
        await pollUntil(consumer, () => consumer.position(p1) !== null)
        expect(consumer.position(p1)).toBe(2n)
        await producer.send([{ topic, partition: 1, value: Buffer.from('a5') }, { topic, partition: 0, value: Buffer.from('a4') }])
        const next = await pollUntil(consumer, (r) => r.length >= 2)
        expect(next.map((r) => `${r.partition}:${text(r.value)}`).sort()).toEqual(['0:a4', '1:a5'])
        expect(() => consumer.position({ topic, partition: 5 })).toThrow(/not assigned/)
        consumer.assign([p1])
        expect(consumer.assignment()).toEqual([p1])
        consumer.seek(p1, 'earliest')
        const all = await pollUntil(consumer, (r) => r.length >= 3)
        expect(all.map((r) => text(r.value))).toEqual(['a1', 'a3', 'a5'])
      })
    })

    describe('admin: offsets', () => {
      test('listOffsets: earliest, latest, the last stable offset under read_committed, timestamps; deleteRecords', async () => {
        const topic = await createTopic(name('offsets'), 1)
        const tp = { topic, partition: 0 }
        const plain = track(port.kafka.createProducer())
        await plain.send([0, 1, 2].map((i) => ({ topic, value: Buffer.from(`c${i}`), timestamp: 1_700_000_000_000 + i * 1000 })))
        const tx = track(port.kafka.createProducer({ transactionalId: name('offsets-tx') }))
        await tx.initTransactions()
        await tx.beginTransaction()
        await tx.send([{ topic, value: Buffer.from('open-1') }, { topic, value: Buffer.from('open-2') }])

        expect(await port.admin.listOffsets([tp], 'earliest')).toEqual([{ ...tp, offset: 0n }])
        expect(await port.admin.listOffsets([tp], 'latest', 'read_uncommitted')).toEqual([{ ...tp, offset: 5n }])
        // the open transaction holds the last stable offset at its first record
        expect(await port.admin.listOffsets([tp], 'latest', 'read_committed')).toEqual([{ ...tp, offset: 3n }])
        // read_committed is the default
        expect(await port.admin.listOffsets([tp], 'latest')).toEqual([{ ...tp, offset: 3n }])
        await tx.commitTransaction()
        await settled([tp])
        // 3 records, 2 transactional records and the commit marker
        expect(await port.admin.listOffsets([tp], 'latest', 'read_committed')).toEqual([{ ...tp, offset: 6n }])

        expect(await port.admin.listOffsets([tp], { timestamp: 1_700_000_001_000 })).toEqual([{ ...tp, offset: 1n }])
        expect(await port.admin.listOffsets([tp], { timestamp: 1_700_000_000_500 })).toEqual([{ ...tp, offset: 1n }])
        expect(await port.admin.listOffsets([tp], { timestamp: Date.now() + 3_600_000 })).toEqual([{ ...tp, offset: 6n }])

        expect(await port.admin.deleteRecords([{ ...tp, offset: 2n }])).toEqual([{ ...tp, offset: 2n }])
        expect(await port.admin.listOffsets([tp], 'earliest')).toEqual([{ ...tp, offset: 2n }])
        await expect(port.admin.listOffsets([{ topic: name('no-such'), partition: 0 }], 'earliest')).rejects.toMatchObject({ code: 'DEVTRIP_UNKNOWN_TOPIC' })
      })

      test('listGroupOffsets of an unknown group is empty; describeGroups of an unknown group says Dead', async () => {
        expect(await port.admin.listGroupOffsets(name('no-group'))).toEqual([])
        const [unknown] = await port.admin.describeGroups([name('no-group')])
        expect(unknown).toMatchObject({ groupId: name('no-group'), state: 'Dead', members: [] })
      })
    })
  })
}
