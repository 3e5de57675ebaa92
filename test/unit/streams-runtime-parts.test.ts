/**
 * The pure parts of the StreamsApp runtime: the commit protocol's order of calls (Checkpoint, on a recording fake
 * producer), which tasks an assignment calls for, and the persisted, locked instance id.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { DevtripError, isDevtripError } from '../../events/errors'
import { Serdes } from '../../state/serdes-builtin'
import { Consumed, Grouped, Materialized, StreamsBuilder } from '../../streams'
import type { ConsumerGroupMetadata, KafkaProducer, ProducerRecord, RecordMetadata, TopicPartitionOffset } from '../../streams/kafka'
import type { ProducedRecord } from '../../streams/record-collector'
import { Checkpoint, type CommitTarget } from '../../streams/runtime/checkpoint'
import { acquireInstanceIdentity } from '../../streams/runtime/instance-id'
import { sameSpec, taskSpecsFor } from '../../streams/runtime/task-specs'

/** Records every call; assigns offsets per partition like a broker; can be told to fail one operation. */
class RecordingProducer implements KafkaProducer {
  readonly transactionalId = 'app-x'
  readonly calls: string[] = []
  readonly nextOffset = new Map<string, bigint>()
  failOn: string | undefined

  private maybeFail (op: string): void {
    if (this.failOn === op) throw new DevtripError('DEVTRIP_KAFKA', `${op} failed on purpose`)
  }

  async send (records: readonly ProducerRecord[]): Promise<RecordMetadata[]> {
    this.calls.push(`send ${records.map((r) => `${r.topic}/${String(r.partition)}`).join(',')}`)
    this.maybeFail('send')
    return records.map((r) => {
      const key = `${r.topic}:${String(r.partition)}`
      const offset = this.nextOffset.get(key) ?? 0n
      this.nextOffset.set(key, offset + 1n)
      return { topic: r.topic, partition: r.partition as number, offset }
    })
  }

  async initTransactions (): Promise<void> { this.calls.push('init') }
  async beginTransaction (): Promise<void> { this.calls.push('begin'); this.maybeFail('begin') }
  async sendOffsetsToTransaction (offsets: readonly TopicPartitionOffset[], group: ConsumerGroupMetadata): Promise<void> {
    this.calls.push(`offsets ${offsets.map((o) => `${o.topic}:${o.partition}@${String(o.offset)}`).join(',')} gen=${group.generationId}`)
    this.maybeFail('offsets')
  }

  async commitTransaction (): Promise<void> { this.calls.push('commit'); this.maybeFail('commit') }
  async abortTransaction (): Promise<void> { this.calls.push('abort'); this.maybeFail('abort') }
  async close (): Promise<void> { this.calls.push('close') }
}

const record = (topic: string, partition: number): ProducedRecord => ({ topic, partition, key: Buffer.from('k'), value: Buffer.from('v'), timestamp: 1, headers: [] })

function target (offsets: TopicPartitionOffset[], committed: TopicPartitionOffset[][] = []): CommitTarget {
  return {
    offsets,
    groupMetadata: () => ({ groupId: 'app', generationId: 7, memberId: 'm', groupInstanceId: null }),
    commitOffsets: async (o) => { committed.push([...o]) }
  }
}

describe('Checkpoint (the commit protocol)', () => {
  const changelogTopics = new Set(['app-counts-changelog'])

  test('exactly-once: begin lazily, batched sends, then offsets, then commit; changelog ends are last offset + 1', async () => {
    const producer = new RecordingProducer()
    producer.nextOffset.set('app-counts-changelog:1', 40n)
    const checkpoint = new Checkpoint(producer, { exactlyOnce: true, batchRecords: 3, changelogTopics })
    checkpoint.send(record('out', 0))
    checkpoint.send(record('app-counts-changelog', 1))
    expect(producer.calls).toEqual([])
    checkpoint.send(record('app-counts-changelog', 1))
    checkpoint.send(record('out', 0))
    expect(checkpoint.uncommittedRecords).toBe(4)
    const outcome = await checkpoint.commit(target([{ topic: 'in', partition: 1, offset: 12n }]))
    expect(producer.calls).toEqual([
      'begin',
      'send out/0,app-counts-changelog/1,app-counts-changelog/1',
      'send out/0',
      'offsets in:1@12 gen=7',
      'commit'
    ])
    expect(outcome.records).toBe(4)
    expect([...outcome.changelogEnds]).toEqual([['app-counts-changelog:1', 42n]])
    expect(checkpoint.inTransaction).toBe(false)
    expect(checkpoint.uncommittedRecords).toBe(0)
  })

  test('exactly-once: offsets alone still make a transaction; nothing at all makes no call', async () => {
    const producer = new RecordingProducer()
    const checkpoint = new Checkpoint(producer, { exactlyOnce: true, batchRecords: 100, changelogTopics })
    await checkpoint.commit(target([]))
    expect(producer.calls).toEqual([])
    await checkpoint.commit(target([{ topic: 'in', partition: 0, offset: 3n }]))
    expect(producer.calls).toEqual(['begin', 'offsets in:0@3 gen=7', 'commit'])
  })

  test('a failed send fails the commit before any offset is sent; abort ends the transaction and forgets the records', async () => {
    const producer = new RecordingProducer()
    producer.failOn = 'send'
    const checkpoint = new Checkpoint(producer, { exactlyOnce: true, batchRecords: 100, changelogTopics })
    checkpoint.send(record('app-counts-changelog', 0))
    await expect(checkpoint.commit(target([{ topic: 'in', partition: 0, offset: 1n }]))).rejects.toThrow(/send failed on purpose/)
    expect(producer.calls.some((c) => c.startsWith('offsets'))).toBe(false)
    expect(checkpoint.inTransaction).toBe(true)
    expect(await checkpoint.abort()).toBeUndefined()
    expect(producer.calls.at(-1)).toBe('abort')
    expect(checkpoint.inTransaction).toBe(false)
    expect(checkpoint.uncommittedRecords).toBe(0)
    // the next transaction starts clean
    producer.failOn = undefined
    const outcome = await checkpoint.commit(target([]))
    expect(outcome.changelogEnds.size).toBe(0)
  })

  test('a refused offset commit leaves the transaction open for abort(); an abort failure is returned, not thrown', async () => {
    const producer = new RecordingProducer()
    const checkpoint = new Checkpoint(producer, { exactlyOnce: true, batchRecords: 100, changelogTopics })
    checkpoint.send(record('out', 0))
    producer.failOn = 'offsets'
    await expect(checkpoint.commit(target([{ topic: 'in', partition: 0, offset: 1n }]))).rejects.toThrow(/offsets failed/)
    expect(producer.calls).not.toContain('commit')
    producer.failOn = 'abort'
    const failure = await checkpoint.abort()
    expect(isDevtripError(failure, 'DEVTRIP_KAFKA')).toBe(true)
    expect(checkpoint.inTransaction).toBe(false)
  })

  test('at-least-once: sends are awaited before the offsets are committed through the consumer; no transaction calls', async () => {
    const producer = new RecordingProducer()
    const checkpoint = new Checkpoint(producer, { exactlyOnce: false, batchRecords: 100, changelogTopics })
    checkpoint.send(record('app-counts-changelog', 2))
    const committed: TopicPartitionOffset[][] = []
    const outcome = await checkpoint.commit(target([{ topic: 'in', partition: 2, offset: 9n }], committed))
    expect(producer.calls).toEqual(['send app-counts-changelog/2'])
    expect(committed).toEqual([[{ topic: 'in', partition: 2, offset: 9n }]])
    expect([...outcome.changelogEnds]).toEqual([['app-counts-changelog:2', 1n]])
  })
})

describe('taskSpecsFor', () => {
  const b = new StreamsBuilder({ defaultStoreType: 'in-memory' })
  b.stream('orders', Consumed.with(Serdes.String(), Serdes.String()))
    .groupBy((_k, v) => v, Grouped.as<string, string>('by-value').withKeySerde(Serdes.String()))
    .count(Materialized.as('per-value'))
  const metadata = b.build().metadata('app')

  test('one task per (sub-topology, partition), with the assigned inputs; unknown topics ignored', () => {
    const specs = taskSpecsFor(metadata, [
      { topic: 'app-by-value-repartition', partition: 1 },
      { topic: 'orders', partition: 1 },
      { topic: 'orders', partition: 0 },
      { topic: 'somebody-else', partition: 0 }
    ])
    expect(specs).toEqual([
      { id: '0_0', subtopologyId: 0, partition: 0, inputTopics: ['orders'] },
      { id: '0_1', subtopologyId: 0, partition: 1, inputTopics: ['orders'] },
      { id: '1_1', subtopologyId: 1, partition: 1, inputTopics: ['app-by-value-repartition'] }
    ])
    expect(sameSpec(specs[0]!, { ...specs[0]!, inputTopics: ['orders'] })).toBe(true)
    expect(sameSpec(specs[0]!, specs[1]!)).toBe(false)
  })
})

describe('instance identity', () => {
  let dir: string
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'devtrip-instance-')) })
  afterEach(() => { rmSync(dir, { recursive: true, force: true }) })

  test('the id is created once and survives a restart; the lock is released', async () => {
    const one = await acquireInstanceIdentity(dir, 'app')
    expect(one.instanceId).toMatch(/^[0-9a-f]{12}$/)
    expect(readFileSync(join(dir, 'app', 'instance.id'), 'utf8').trim()).toBe(one.instanceId)
    await one.release()
    const two = await acquireInstanceIdentity(dir, 'app')
    expect(two.instanceId).toBe(one.instanceId)
    await two.release()
  })

  test('a second live holder is refused; a lock left by a dead process is taken over', async () => {
    const one = await acquireInstanceIdentity(dir, 'app')
    await expect(acquireInstanceIdentity(dir, 'app')).rejects.toThrow(/own stateDir/)
    await one.release()
    // pid 2^22+1 does not exist (above the default pid_max of 4 194 304)
    writeFileSync(join(dir, 'app', 'instance.lock'), JSON.stringify({ pid: 4194305, hostname: hostname(), token: 'x', lockedAt: 'then' }))
    const two = await acquireInstanceIdentity(dir, 'app')
    expect(two.instanceId).toBe(one.instanceId)
    await two.release()
  })

  test('a corrupt id file is an error naming the file', async () => {
    const first = await acquireInstanceIdentity(dir, 'app')
    await first.release()
    writeFileSync(join(dir, 'app', 'instance.id'), 'not an id!\n')
    await expect(acquireInstanceIdentity(dir, 'app')).rejects.toThrow(/instance\.id does not hold an instance id/)
  })
})
