import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Stores } from '../../state/builders'
import { Serdes } from '../../state/serdes-builtin'
import type { ChangelogRecord, KeyValueStore } from '../../state/base/types'
import {
  StreamTask, Topology, type ConsumedRecord, type Processor, type ProcessorContext, type ProducedRecord, type Record
} from '../../streams'

const str = Serdes.String()
const num = Serdes.Int64AsNumber()
let stateDir: string
beforeEach(() => { stateDir = mkdtempSync(join(tmpdir(), 'task-test-')) })
afterEach(() => { rmSync(stateDir, { recursive: true, force: true }) })

function raw (offset: number, timestamp: number, value: string, key = 'k'): ConsumedRecord {
  return { key: Buffer.from(key), value: Buffer.from(value), timestamp, offset: BigInt(offset), headers: [] }
}

/** A topology recording what its processor sees, reading `topics` in that declaration order. */
function recordingTopology (topics: string[], seen: string[]): Topology {
  return new Topology()
    .addSource('src', topics, { keyDeserializer: str, valueDeserializer: str })
    .addProcessor('rec', {
      get: (): Processor<string, string> => {
        let ctx: ProcessorContext
        return {
          init (c) { ctx = c },
          process (r: Record<string, string>) { seen.push(`${ctx.recordMetadata()?.topic}:${r.value}@${r.timestamp}/st=${ctx.currentStreamTimeMs()}`) }
        }
      }
    }, 'src')
}

async function startedTask (topology: Topology, options: Partial<ConstructorParameters<typeof StreamTask>[0]> = {}): Promise<{ task: StreamTask, sent: ProducedRecord[] }> {
  const sent: ProducedRecord[] = []
  const task = new StreamTask({
    applicationId: 'task-test',
    topology,
    subtopologyId: 0,
    partition: 0,
    collector: { send: (r) => { sent.push(r) } },
    partitionsFor: () => 1,
    stateDir,
    ...options
  })
  await task.initializeStores()
  task.startProcessing()
  return { task, sent }
}

describe('StreamTask record order', () => {
  test('processes the earliest head timestamp first across partitions; ties go to the topic declared first', async () => {
    const seen: string[] = []
    const { task } = await startedTask(recordingTopology(['a', 'b'], seen))
    expect(task.id).toBe('0_0')
    task.addRecords({ topic: 'b', partition: 0 }, [raw(0, 10, 'b10'), raw(1, 15, 'b15')])
    task.addRecords({ topic: 'a', partition: 0 }, [raw(0, 5, 'a5'), raw(1, 10, 'a10'), raw(2, 20, 'a20')])
    while (task.process()) { /* drain */ }
    expect(seen).toEqual([
      'a:a5@5/st=5', 'a:a10@10/st=10', 'b:b10@10/st=10', 'b:b15@15/st=15', 'a:a20@20/st=20'
    ])
    expect(task.committableOffsets()).toEqual([{ topic: 'a', partition: 0, offset: 3n }, { topic: 'b', partition: 0, offset: 2n }])
    await task.close()
  })

  test('with the declaration order reversed the tie goes the other way; stream time never decreases', async () => {
    const seen: string[] = []
    const { task } = await startedTask(recordingTopology(['b', 'a'], seen))
    task.addRecords({ topic: 'a', partition: 0 }, [raw(0, 10, 'a10'), raw(1, 3, 'a3-late')])
    task.addRecords({ topic: 'b', partition: 0 }, [raw(0, 10, 'b10')])
    while (task.process()) { /* drain */ }
    expect(seen).toEqual(['b:b10@10/st=10', 'a:a10@10/st=10', 'a:a3-late@3/st=10'])
    expect(task.streamTimeMs()).toBe(10)
    await task.close()
  })

  test('isProcessable waits up to maxTaskIdleMs for a partition known to have unfetched data', async () => {
    const seen: string[] = []
    const { task } = await startedTask(recordingTopology(['a', 'b'], seen), { maxTaskIdleMs: 100 })
    expect(task.isProcessable(0)).toBe(false) // nothing buffered
    task.addRecords({ topic: 'a', partition: 0 }, [raw(0, 50, 'a50')])
    expect(task.isProcessable(0)).toBe(true) // b is empty but not known to have data: it does not block
    task.setPartitionLag({ topic: 'b', partition: 0 }, true)
    expect(task.isProcessable(1000)).toBe(false) // idling starts
    expect(task.isProcessable(1099)).toBe(false)
    expect(task.isProcessable(1100)).toBe(true) // waited maxTaskIdleMs: process anyway
    task.addRecords({ topic: 'b', partition: 0 }, [raw(0, 40, 'b40')])
    expect(task.isProcessable(1100)).toBe(true)
    task.process()
    expect(seen).toEqual(['b:b40@40/st=40'])
    expect(() => task.addRecords({ topic: 'a', partition: 1 }, [])).toThrow(/does not read a-1/)
    await task.close()
  })
})

describe('StreamTask stores: commit, abort, restore', () => {
  function countingTopology (): Topology {
    return new Topology()
      .addSource('src', 'in', { keyDeserializer: str, valueDeserializer: str })
      .addProcessor('count', {
        get: (): Processor<string, string> => {
          let store: KeyValueStore<string, number>
          return {
            init (ctx) { store = ctx.getStateStore('counts') },
            process (r) { store.put(r.key, (store.get(r.key) ?? 0) + 1) }
          }
        }
      }, 'src')
      .addStateStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore('counts'), str, num), 'count')
  }

  test('changelog records go through the RecordCollector; commitStores checkpoints; abortStores rolls back to the last commit', async () => {
    const topology = countingTopology()
    const { task, sent } = await startedTask(topology)
    task.addRecords({ topic: 'in', partition: 0 }, [raw(0, 1, 'x', 'k1'), raw(1, 2, 'x', 'k1')])
    while (task.process()) { /* drain */ }
    expect(sent.map((r) => [r.topic, r.partition, r.key?.toString(), r.value === null ? null : num.deserialize(r.value), r.timestamp])).toEqual([
      ['task-test-counts-changelog', 0, 'k1', 1, 1],
      ['task-test-counts-changelog', 0, 'k1', 2, 2]
    ])
    expect(task.commitNeeded()).toBe(true)
    await task.commitStores(new Map([['task-test-counts-changelog', 2n]]))
    expect(task.commitNeeded()).toBe(false)
    expect(task.storesNeedingRestore()).toEqual([{ store: 'counts', changelogTopic: 'task-test-counts-changelog', partition: 0, checkpoint: 2n }])

    task.addRecords({ topic: 'in', partition: 0 }, [raw(2, 3, 'x', 'k1'), raw(3, 4, 'x', 'k2')])
    task.process()
    const store = task.getStore('counts') as KeyValueStore<string, number>
    expect(store.get('k1')).toBe(3)
    task.abortStores()
    expect(store.get('k1')).toBe(2)
    expect(task.bufferedRecords()).toBe(0) // buffered input dropped: the runtime seeks back
    expect(task.committableOffsets()).toEqual([{ topic: 'in', partition: 0, offset: 2n }])
    expect(task.streamTimeMs()).toBe(2)
    await task.close()
  })

  test('a new task restores its stores from changelog records before processing', async () => {
    const topology = countingTopology()
    const sent: ProducedRecord[] = []
    const task = new StreamTask({ applicationId: 'task-test', topology, subtopologyId: 0, partition: 0, collector: { send: (r) => { sent.push(r) } }, partitionsFor: () => 1, stateDir })
    await task.initializeStores()
    const [toRestore] = task.storesNeedingRestore()
    expect(toRestore).toEqual({ store: 'counts', changelogTopic: 'task-test-counts-changelog', partition: 0, checkpoint: 0n })
    const changelog: ChangelogRecord[] = [
      { key: str.serialize('k1'), value: num.serialize(5), offset: 0n },
      { key: str.serialize('k2'), value: num.serialize(1), offset: 1n },
      { key: str.serialize('k2'), value: null, offset: 2n }
    ]
    await task.restore('counts', changelog)
    expect(() => task.process()).toThrow(/needs state running/)
    task.startProcessing()
    task.addRecords({ topic: 'in', partition: 0 }, [raw(0, 1, 'x', 'k1')])
    task.process()
    const store = task.getStore('counts') as KeyValueStore<string, number>
    expect(store.get('k1')).toBe(6)
    expect(store.get('k2')).toBeUndefined()
    await expect(task.restore('counts', [])).rejects.toThrow(/needs state restoring/)
    await task.close()
    expect(() => task.process()).toThrow(/task is closed/)
  })

  test('a task of a sub-topology reads only its own topics', () => {
    expect(() => new StreamTask({
      applicationId: 'x', topology: countingTopology(), subtopologyId: 0, partition: 0, inputTopics: ['other'], collector: { send () {} }, partitionsFor: () => 1, stateDir
    })).toThrow(/"other" is not a source topic of sub-topology 0/)
    expect(() => new StreamTask({
      applicationId: 'x', topology: countingTopology(), subtopologyId: 3, partition: 0, collector: { send () {} }, partitionsFor: () => 1, stateDir
    })).toThrow(/no sub-topology 3/)
    expect(() => new StreamTask({
      applicationId: 'bad id', topology: countingTopology(), subtopologyId: 0, partition: -1, collector: { send () {} }, partitionsFor: () => 1, stateDir
    })).toThrow(/invalid stream task options: \/applicationId must match pattern .*; \/partition must be >= 0/)
  })
})
