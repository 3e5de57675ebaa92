/**
 * TaskManager.updateLag: which input partitions a task waits for (maxTaskIdleMs) before processing a later record
 * of another partition. A partition whose position or last stable offset the consumer does not know yet — right
 * after an assignment or a resume, before a fetch response covered it — may hold older records: the task must wait
 * for it as for a partition known to lag. Found by the chaos run with the librdkafka adapter: after a takeover, one
 * input partition's first batch arrived a poll before another's, and a user's later event was processed before an
 * earlier one (a user-stats row without the effect of the AccountLocked before it).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Registry } from 'prom-client'
import { StateDirectory } from '../../state/state-directory'
import { Topology, type Processor, type ProcessorContext, type Record } from '../../streams'
import { resolveErrorHandling } from '../../streams/error-handling'
import type { ConsumedRecord, KafkaAdmin, KafkaAssignedConsumer, KafkaGroupConsumer, PartitionBatch, PartitionState, TopicPartition } from '../../streams/kafka'
import { topicPartitionKey } from '../../streams/kafka'
import { resolveStreamsConfig } from '../../streams/runtime/config'
import { StreamsMetrics } from '../../streams/runtime/metrics'
import { ChangelogRestorer } from '../../streams/runtime/restorer'
import { TaskManager } from '../../streams/runtime/task-manager'
import { taskSpecsFor } from '../../streams/runtime/task-specs'
import { Serdes } from '../../state/serdes-builtin'

const str = Serdes.String()
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} }

let stateDir: string
beforeEach(() => { stateDir = mkdtempSync(join(tmpdir(), 'task-manager-lag-')) })
afterEach(() => { rmSync(stateDir, { recursive: true, force: true }) })

/** The part of a group consumer the TaskManager uses, with partition states the test sets. */
class StatesConsumer {
  readonly states = new Map<string, PartitionState>()
  constructor (private readonly assigned: TopicPartition[]) {
    for (const tp of assigned) this.set(tp, null, null)
  }

  set (tp: TopicPartition, position: bigint | null, lastStableOffset: bigint | null, highWatermark: bigint | null = lastStableOffset): void {
    this.states.set(topicPartitionKey(tp), { ...tp, position, paused: false, highWatermark, lastStableOffset, logStartOffset: 0n })
  }

  assignment (): TopicPartition[] { return this.assigned }
  partitionStates (): PartitionState[] { return [...this.states.values()] }
  pause (): void {}
  resume (): void {}
  seek (): void {}
}

function batch (topic: string, offset: number, timestamp: number, value: string): PartitionBatch {
  const record: ConsumedRecord = { topic, partition: 0, offset: BigInt(offset), timestamp, key: Buffer.from('user-1'), value: Buffer.from(value), headers: [] }
  return { topic, partition: 0, records: [record], highWatermark: BigInt(offset + 1), lastStableOffset: BigInt(offset + 1), logStartOffset: 0n }
}

async function twoTopicTask (seen: string[]): Promise<{ manager: TaskManager, consumer: StatesConsumer }> {
  const topology = new Topology()
    .addSource('src', ['a', 'b'], { keyDeserializer: str, valueDeserializer: str })
    .addProcessor('rec', {
      get: (): Processor<string, string> => {
        let ctx: ProcessorContext
        return {
          init (c) { ctx = c },
          process (r: Record<string, string>) { seen.push(`${ctx.recordMetadata()?.topic}:${r.value}`) }
        }
      }
    }, 'src')
  const config = resolveStreamsConfig({ applicationId: 'lag-test', bootstrapServers: ['127.0.0.1:1'], stateDir, maxTaskIdleMs: 10_000 })
  const metadata = topology.metadata(config.applicationId)
  const assigned = [{ topic: 'a', partition: 0 }, { topic: 'b', partition: 0 }]
  const consumer = new StatesConsumer(assigned)
  // a stateless topology restores nothing: the restorer never touches its consumer or admin
  const restorer = new ChangelogRestorer({} as KafkaAssignedConsumer, {} as KafkaAdmin, 100, { onBatch: () => {}, onStoreDone: () => {} })
  const manager = new TaskManager({
    config,
    topology,
    metadata,
    partitions: new Map([['a', 1], ['b', 1]]),
    collector: { send: () => {} },
    consumer: consumer as unknown as KafkaGroupConsumer,
    restorer,
    stateDirectory: new StateDirectory(stateDir, config.applicationId),
    errorHandling: resolveErrorHandling({}),
    logger: quiet,
    metrics: new StreamsMetrics(new Registry())
  })
  await manager.createTasks(taskSpecsFor(metadata, assigned))
  expect(manager.allRunning()).toBe(true)
  return { manager, consumer }
}

describe('TaskManager.updateLag', () => {
  test('a partition whose position is not known yet is waited for: its older record is processed first', async () => {
    const seen: string[] = []
    const { manager, consumer } = await twoTopicTask(seen)
    const now = 1_000_000
    // the first poll after the assignment brought b's record; a's first fetch has not been answered yet
    manager.route([batch('b', 0, 2000, 'later')])
    consumer.set({ topic: 'b', partition: 0 }, 1n, 1n)
    manager.updateLag(false)
    expect(manager.processTasks(now)).toBe(0)
    expect(seen).toEqual([])
    // the next poll brings a's older record: both are processed in timestamp order
    manager.route([batch('a', 0, 1000, 'earlier')])
    consumer.set({ topic: 'a', partition: 0 }, 1n, 1n)
    manager.updateLag(false)
    expect(manager.processTasks(now)).toBe(2)
    expect(seen).toEqual(['a:earlier', 'b:later'])
    await manager.closeAll('clean')
  })

  test('a known last stable offset without a position, and the reverse, are unknown lags too; a caught-up partition is not waited for', async () => {
    const seen: string[] = []
    const { manager, consumer } = await twoTopicTask(seen)
    const now = 1_000_000
    manager.route([batch('b', 0, 2000, 'first')])
    consumer.set({ topic: 'b', partition: 0 }, 1n, 1n)
    consumer.set({ topic: 'a', partition: 0 }, null, 5n)
    manager.updateLag(false)
    expect(manager.processTasks(now)).toBe(0)
    consumer.set({ topic: 'a', partition: 0 }, 5n, null)
    manager.updateLag(false)
    expect(manager.processTasks(now)).toBe(0)
    // a is known to be fully read: nothing older can come from it, so b's record goes ahead
    consumer.set({ topic: 'a', partition: 0 }, 5n, 5n)
    manager.updateLag(false)
    expect(manager.processTasks(now)).toBe(1)
    expect(seen).toEqual(['b:first'])
    await manager.closeAll('clean')
  })

  test('records of a transaction still open on one input are waited for: the earlier record committed later goes first', async () => {
    const seen: string[] = []
    const { manager, consumer } = await twoTopicTask(seen)
    const now = 1_000_000
    manager.route([batch('b', 0, 2000, 'later')])
    consumer.set({ topic: 'b', partition: 0 }, 1n, 1n)
    // a is read up to its last stable offset, but a producer's open transaction holds offsets 0..1 (high watermark 2)
    consumer.set({ topic: 'a', partition: 0 }, 0n, 0n, 2n)
    manager.updateLag(false)
    expect(manager.processTasks(now)).toBe(0)
    expect(seen).toEqual([])
    // the transaction commits (the marker takes offset 1): its record comes and both go in timestamp order
    manager.route([batch('a', 0, 1000, 'earlier')])
    consumer.set({ topic: 'a', partition: 0 }, 2n, 2n, 2n)
    manager.updateLag(false)
    expect(manager.processTasks(now)).toBe(2)
    expect(seen).toEqual(['a:earlier', 'b:later'])
    await manager.closeAll('clean')
  })

  test.each([
    ['an unknown lag (no fetch answered for a yet)', null],
    ['an open transaction on a (position at the last stable offset, below the high watermark)', [0n, 0n, 2n] as const]
  ])('%s is waited for at most maxTaskIdleMs, like a known lag', async (_what, aState) => {
    const seen: string[] = []
    const { manager, consumer } = await twoTopicTask(seen)
    const now = 1_000_000
    manager.route([batch('b', 0, 2000, 'alone')])
    consumer.set({ topic: 'b', partition: 0 }, 1n, 1n)
    if (aState !== null) consumer.set({ topic: 'a', partition: 0 }, ...aState)
    manager.updateLag(false)
    expect(manager.processTasks(now)).toBe(0)
    expect(manager.processTasks(now + 9_999)).toBe(0)
    expect(manager.processTasks(now + 10_000)).toBe(1)
    expect(seen).toEqual(['b:alone'])
    await manager.closeAll('clean')
  })
})
