/**
 * The broker-free parts of the Kafka port: the co-partitioned sticky assignor and its consumer-protocol
 * codec, read_committed filtering of fetched batches, option and record validation.
 */
import { ASSIGNOR_NAME, assignCopartitioned, decodeAssignment, decodeSubscription, encodeAssignment, encodeSubscription, type MemberSubscription } from '../../streams/kafka/assignor'
import { resolveConnectionOptions, resolveGroupConsumerOptions, resolveProducerOptions } from '../../streams/kafka/options'
import { collectRecords } from '../../streams/kafka/platformatic/fetch-records'
import type { Platformatic } from '../../streams/kafka/platformatic/library'
import type { TopicPartition } from '../../streams/kafka/port'
import { checkProducerRecords } from '../../streams/kafka/validation'

describe('consumer protocol codec', () => {
  test('subscription and assignment round-trip, owned partitions included', () => {
    const owned: TopicPartition[] = [{ topic: 'a', partition: 2 }, { topic: 'b', partition: 0 }, { topic: 'a', partition: 1 }]
    const decoded = decodeSubscription(encodeSubscription({ topics: ['a', 'b', 'ünïcode'], ownedPartitions: owned }))
    expect(decoded.topics).toEqual(['a', 'b', 'ünïcode'])
    expect(decoded.ownedPartitions).toEqual([{ topic: 'a', partition: 1 }, { topic: 'a', partition: 2 }, { topic: 'b', partition: 0 }])
    expect(decodeAssignment(encodeAssignment(owned))).toEqual([{ topic: 'a', partition: 1 }, { topic: 'a', partition: 2 }, { topic: 'b', partition: 0 }])
    expect(decodeAssignment(null)).toEqual([])
  })

  test('the assignment bytes follow ConsumerProtocolAssignment v0 exactly', () => {
    const bytes = encodeAssignment([{ topic: 't', partition: 3 }])
    expect(bytes.toString('hex')).toBe([
      '0000', // version 0
      '00000001', '0001', '74', // one topic, name length 1, "t"
      '00000001', '00000003', // one partition: 3
      '00000000' // user data: empty
    ].join(''))
  })

  test('a v0 subscription (no owned partitions) from another client decodes', () => {
    const v0 = Buffer.from('0000' + '00000001' + '0003' + Buffer.from('abc').toString('hex') + 'ffffffff', 'hex')
    expect(decodeSubscription(v0)).toEqual({ topics: ['abc'], ownedPartitions: [], userData: null })
  })

  test('user data travels in the subscription, byte for byte, between the topics and the owned partitions', () => {
    const userData = Buffer.from('127.0.0.1:8081', 'utf8')
    const bytes = encodeSubscription({ topics: ['t'], ownedPartitions: [], userData })
    expect(bytes.toString('hex')).toBe([
      '0001', // version 1
      '00000001', '0001', '74', // one topic "t"
      '0000000e', userData.toString('hex'), // user data: 14 bytes
      '00000000' // no owned partitions
    ].join(''))
    expect(decodeSubscription(bytes).userData).toEqual(userData)
  })

  test('truncated or garbage bytes fail with DEVTRIP_KAFKA', () => {
    const good = encodeSubscription({ topics: ['abc'], ownedPartitions: [] })
    expect(() => decodeSubscription(good.subarray(0, 5))).toThrow(expect.objectContaining({ code: 'DEVTRIP_KAFKA' }))
    expect(() => decodeAssignment(Buffer.from('00007fffffff', 'hex'))).toThrow(/array count/)
  })
})

describe('co-partitioned sticky assignor', () => {
  const counts = new Map([['left', 4], ['right', 4]])
  const member = (memberId: string, owned: TopicPartition[] = [], topics = ['left', 'right']): MemberSubscription => ({ memberId, topics, ownedPartitions: owned })
  const numbers = (tps: TopicPartition[] | undefined, topic: string): number[] => (tps ?? []).filter((tp) => tp.topic === topic).map((tp) => tp.partition).sort()

  test('every partition is assigned exactly once, same numbers across topics, balanced', () => {
    const result = assignCopartitioned([member('m2'), member('m1'), member('m3')], counts)
    const all = [...result.values()].flat().map((tp) => `${tp.topic}:${tp.partition}`).sort()
    expect(all).toEqual(['left:0', 'left:1', 'left:2', 'left:3', 'right:0', 'right:1', 'right:2', 'right:3'])
    for (const tps of result.values()) expect(numbers(tps, 'left')).toEqual(numbers(tps, 'right'))
    expect([...result.values()].map((tps) => tps.length / 2).sort()).toEqual([1, 1, 2])
    expect(ASSIGNOR_NAME).toBe('devtrip-copartitioned')
  })

  test('members keep what they owned when balance allows (sticky)', () => {
    const owned = (ns: number[]): TopicPartition[] => ns.flatMap((n) => [{ topic: 'left', partition: n }, { topic: 'right', partition: n }])
    // m1 owned 1 and 3; m2 (new) owned nothing: m1 keeps both, m2 gets 0 and 2
    const twoMembers = assignCopartitioned([member('m1', owned([1, 3])), member('m2')], counts)
    expect(numbers(twoMembers.get('m1'), 'left')).toEqual([1, 3])
    expect(numbers(twoMembers.get('m2'), 'left')).toEqual([0, 2])
    // m1 owned everything: it keeps only its quota, the rest moves
    const shrink = assignCopartitioned([member('m1', owned([0, 1, 2, 3])), member('m2')], counts)
    expect(numbers(shrink.get('m1'), 'left')).toEqual([0, 1])
    expect(numbers(shrink.get('m2'), 'left')).toEqual([2, 3])
  })

  test('topics with fewer partitions and missing topics', () => {
    const result = assignCopartitioned([member('a', [], ['big', 'small', 'absent']), member('b', [], ['big', 'small', 'absent'])], new Map([['big', 4], ['small', 2]]))
    // free numbers are dealt out in turn, so the smaller topic is spread over both members too
    expect(result.get('a')).toEqual([{ topic: 'big', partition: 0 }, { topic: 'small', partition: 0 }, { topic: 'big', partition: 2 }])
    expect(result.get('b')).toEqual([{ topic: 'big', partition: 1 }, { topic: 'small', partition: 1 }, { topic: 'big', partition: 3 }])
  })

  test('a topic only some members subscribe to goes to a member that does', () => {
    const result = assignCopartitioned([member('a', [], ['x']), member('b', [], ['x', 'y'])], new Map([['x', 2], ['y', 2]]))
    expect(numbers(result.get('a'), 'y')).toEqual([])
    expect(numbers(result.get('b'), 'y')).toEqual([0, 1])
    expect([...numbers(result.get('a'), 'x'), ...numbers(result.get('b'), 'x')].sort()).toEqual([0, 1])
  })

  test('no members, more members than partitions', () => {
    expect(assignCopartitioned([], counts).size).toBe(0)
    const many = assignCopartitioned(['a', 'b', 'c', 'd', 'e', 'f'].map((id) => member(id)), counts)
    expect([...many.values()].filter((tps) => tps.length === 0)).toHaveLength(2)
    expect([...many.values()].flat()).toHaveLength(8)
  })
})

describe('read_committed filtering (collectRecords)', () => {
  const TRANSACTIONAL = 0x10
  const CONTROL = 0x20
  const batch = (firstOffset: bigint, producerId: bigint, values: string[], attributes = TRANSACTIONAL): Platformatic.RecordsBatch => ({
    firstOffset,
    length: 0,
    partitionLeaderEpoch: 0,
    magic: 2,
    crc: 0,
    attributes,
    lastOffsetDelta: values.length - 1,
    firstTimestamp: 1000n,
    maxTimestamp: 2000n,
    producerId,
    producerEpoch: 0,
    firstSequence: 0,
    records: values.map((v, i) => ({ length: 0, attributes: 0, timestampDelta: BigInt(i), offsetDelta: i, key: null, value: Buffer.from(v), headers: [[Buffer.from('h'), null]] }))
  })
  const marker = (offset: bigint, producerId: bigint, type: 0 | 1): Platformatic.RecordsBatch => {
    const b = batch(offset, producerId, ['m'], TRANSACTIONAL | CONTROL)
    const key = Buffer.alloc(4)
    key.writeInt16BE(type, 2)
    return { ...b, records: [{ ...b.records[0]!, key }] }
  }
  const values = (r: ReturnType<typeof collectRecords>): string[] => r.records.map((x) => x.value!.toString())

  test('aborted transactions and markers are dropped; committed ones kept; next offset after the last batch', () => {
    const batches = [batch(0n, 7n, ['a1', 'a2']), batch(2n, 8n, ['c1']), marker(3n, 7n, 0), marker(4n, 8n, 1), batch(5n, -1n, ['plain'], 0)]
    const result = collectRecords('t', 0, batches, 0n, [{ producerId: 7n, firstOffset: 0n }], true)
    expect(values(result)).toEqual(['c1', 'plain'])
    expect(result.records.map((r) => r.offset)).toEqual([2n, 5n])
    expect(result.nextOffset).toBe(6n)
    expect(result.records[0]).toMatchObject({ topic: 't', partition: 0, timestamp: 1000, key: null, headers: [['h', null]] })
  })

  test('an aborted range whose marker is not in this response is still dropped', () => {
    const result = collectRecords('t', 0, [batch(10n, 5n, ['x1', 'x2']), batch(12n, 6n, ['ok'])], 10n, [{ producerId: 5n, firstOffset: 10n }], true)
    expect(values(result)).toEqual(['ok'])
    expect(result.nextOffset).toBe(13n)
  })

  test('a producer that aborted earlier is not blocked afterwards; read_uncommitted keeps everything', () => {
    const batches = [batch(0n, 5n, ['gone']), marker(1n, 5n, 0), batch(2n, 5n, ['later'])]
    expect(values(collectRecords('t', 0, batches, 0n, [{ producerId: 5n, firstOffset: 0n }], true))).toEqual(['later'])
    expect(values(collectRecords('t', 0, batches, 0n, [{ producerId: 5n, firstOffset: 0n }], false))).toEqual(['gone', 'later'])
  })

  test('records before the fetch offset are skipped; LogAppendTime uses the batch max timestamp', () => {
    const result = collectRecords('t', 1, [batch(0n, -1n, ['r0', 'r1', 'r2'], 0x08)], 1n, [], true)
    expect(values(result)).toEqual(['r1', 'r2'])
    expect(result.records.every((r) => r.timestamp === 2000)).toBe(true)
  })
})

describe('options and records validation', () => {
  test('defaults are filled and the result is frozen', () => {
    const c = resolveConnectionOptions({ brokers: ['127.0.0.1:19092'] })
    expect(c).toMatchObject({ clientId: 'devtrip-streams', requestTimeoutMs: 30000, operationTimeoutMs: 30000 })
    expect(Object.isFrozen(c)).toBe(true)
    expect(resolveProducerOptions({ transactionalId: 'tx' })).toMatchObject({ transactionalId: 'tx', transactionTimeoutMs: 60000, compression: 'none' })
    expect(resolveGroupConsumerOptions({ groupId: 'g' })).toMatchObject({
      groupId: 'g', groupInstanceId: null, isolationLevel: 'read_committed', autoOffsetReset: 'earliest', sessionTimeoutMs: 45000, heartbeatIntervalMs: 3000, rebalanceTimeoutMs: 60000
    })
  })

  test('each bad field is named by JSON pointer', () => {
    expect(() => resolveConnectionOptions({ brokers: ['no-port'] })).toThrow(/\/brokers\/0/)
    expect(() => resolveProducerOptions({ compression: 'brotli' as never })).toThrow(/\/compression/)
    expect(() => resolveGroupConsumerOptions({ groupId: 'has space' })).toThrow(/\/groupId/)
    expect(() => resolveGroupConsumerOptions({ groupId: 'g', unknown: 1 } as never)).toThrow(/additional properties/)
    expect(() => resolveGroupConsumerOptions({ groupId: 'g', userData: 'text' as never })).toThrow(/\/userData must be a Buffer/)
    expect(() => resolveGroupConsumerOptions({ groupId: 'g', userData: Buffer.alloc(4097) })).toThrow(/\/userData .*4096 bytes/)
  })

  test('user data is copied: changing the caller\'s buffer afterwards changes nothing advertised', () => {
    const mine = Buffer.from('a:1')
    const resolved = resolveGroupConsumerOptions({ groupId: 'g', userData: mine })
    mine.write('b')
    expect(resolved.userData?.toString()).toBe('a:1')
    expect(resolveGroupConsumerOptions({ groupId: 'g' }).userData).toBeNull()
  })

  test('producer records: the first bad field is named', () => {
    expect(() => checkProducerRecords('send', [{ topic: 't', value: null }, { topic: 't', value: Buffer.alloc(1), partition: -1 }])).toThrow('send: /records/1/partition must be an integer >= 0')
    expect(() => checkProducerRecords('send', [{ topic: 't', value: Buffer.alloc(1), headers: [['x', 'y' as never]] }])).toThrow('/records/0/headers/0')
    expect(() => checkProducerRecords('send', [{ topic: '', value: null }])).toThrow('/records/0/topic')
    expect(() => checkProducerRecords('send', [{ topic: 't' } as never])).toThrow('/records/0/value')
    expect(() => checkProducerRecords('send', [{ topic: 't', value: null, timestamp: 1.5 }])).toThrow('/records/0/timestamp')
  })
})
