/**
 * TaskManager with one transactional producer per task (adapters whose committed-offset reads are not stable, e.g.
 * kafkajs): a task's committed offsets may be read only after its producer ran initTransactions again, because
 * that waits until the previous transaction of the task — possibly our own commit of a moment ago — has its markers
 * written, and only then does an OffsetFetch without require_stable show the new offsets. Found by the kafkajs chaos
 * run: a task suspended at a rebalance and given back was resumed with positions read right after its own
 * pre-revocation commit, re-processed records it had committed, and its dead letters came out twice.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Registry } from 'prom-client'
import { StateDirectory } from '../../state/state-directory'
import { Topology, type Processor, type Record } from '../../streams'
import { resolveErrorHandling } from '../../streams/error-handling'
import type { KafkaAdmin, KafkaAssignedConsumer, KafkaGroupConsumer, OffsetSpec, TopicPartition } from '../../streams/kafka'
import { topicPartitionKey } from '../../streams/kafka'
import type { RecordCollector } from '../../streams/record-collector'
import { resolveStreamsConfig } from '../../streams/runtime/config'
import { StreamsMetrics } from '../../streams/runtime/metrics'
import { ChangelogRestorer } from '../../streams/runtime/restorer'
import { TaskManager } from '../../streams/runtime/task-manager'
import { taskSpecsFor } from '../../streams/runtime/task-specs'
import { Serdes } from '../../state/serdes-builtin'

const str = Serdes.String()
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} }

let stateDir: string
beforeEach(() => { stateDir = mkdtempSync(join(tmpdir(), 'task-manager-producers-')) })
afterEach(() => { rmSync(stateDir, { recursive: true, force: true }) })

/** The part of a group consumer the TaskManager uses; every call that matters lands in `log`. */
class LoggingConsumer {
  constructor (private readonly assigned: TopicPartition[], private readonly log: string[], private readonly committedOffsets: Map<string, bigint>) {}
  assignment (): TopicPartition[] { return this.assigned }
  partitionStates (): [] { return [] }
  pause (): void {}
  resume (): void {}
  seek (tp: TopicPartition, offset: OffsetSpec): void { this.log.push(`seek ${topicPartitionKey(tp)} ${String(offset)}`) }
  async committed (partitions: readonly TopicPartition[]): Promise<Array<TopicPartition & { offset: bigint | null }>> {
    this.log.push(`committed ${partitions.map(topicPartitionKey).join(',')}`)
    return partitions.map((tp) => ({ ...tp, offset: this.committedOffsets.get(topicPartitionKey(tp)) ?? null }))
  }
}

function setup (perTaskProducers: boolean): { manager: TaskManager, log: string[], specs: ReturnType<typeof taskSpecsFor> } {
  const topology = new Topology()
    .addSource('src', ['in'], { keyDeserializer: str, valueDeserializer: str })
    .addProcessor('noop', { get: (): Processor<string, string> => ({ process (_r: Record<string, string>) {} }) }, 'src')
  const config = resolveStreamsConfig({ applicationId: 'producers-test', bootstrapServers: ['127.0.0.1:1'], stateDir })
  const metadata = topology.metadata(config.applicationId)
  const assigned = [{ topic: 'in', partition: 0 }, { topic: 'in', partition: 1 }]
  const log: string[] = []
  const consumer = new LoggingConsumer(assigned, log, new Map([['in:0', 42n]]))
  const collector: RecordCollector = { send: () => {} }
  const manager = new TaskManager({
    config,
    topology,
    metadata,
    partitions: new Map([['in', 2]]),
    collector,
    taskCollectors: perTaskProducers
      ? {
          open: async (taskId) => { log.push(`open ${taskId}`); return collector },
          close: async (taskId) => { log.push(`close ${taskId}`) }
        }
      : undefined,
    consumer: consumer as unknown as KafkaGroupConsumer,
    // a stateless topology restores nothing: the restorer never touches its consumer or admin
    restorer: new ChangelogRestorer({} as KafkaAssignedConsumer, {} as KafkaAdmin, 100, { onBatch: () => {}, onStoreDone: () => {} }),
    stateDirectory: new StateDirectory(stateDir, config.applicationId),
    errorHandling: resolveErrorHandling({}),
    logger: quiet,
    metrics: new StreamsMetrics(new Registry())
  })
  return { manager, log, specs: taskSpecsFor(metadata, assigned) }
}

describe('TaskManager with per-task producers', () => {
  test('a suspended task given back is created again: its producer is re-initialized, nothing is resumed', async () => {
    const { manager, log, specs } = setup(true)
    await manager.createTasks(specs)
    expect(log).toEqual(['open 0_0', 'open 0_1'])
    await manager.suspendAll()
    log.length = 0
    await manager.assign(specs)
    expect(log).toEqual(['close 0_0', 'close 0_1', 'open 0_0', 'open 0_1'])
    expect(manager.allRunning()).toBe(true)
    await manager.closeAll('clean')
  })

  test('with the shared producer a suspended task given back resumes as it was', async () => {
    const { manager, log, specs } = setup(false)
    await manager.createTasks(specs)
    await manager.suspendAll()
    const before = manager.all().map((m) => m.task)
    await manager.assign(specs)
    expect(manager.all().map((m) => m.task)).toEqual(before)
    expect(manager.allRunning()).toBe(true)
    expect(log).toEqual([])
    await manager.closeAll('clean')
  })

  test('a rewind reads the committed offsets after every producer is open, then seeks (no commit: the reset policy)', async () => {
    const { manager, log, specs } = setup(true)
    await manager.createTasks(specs, { seekToCommitted: true })
    expect(log).toEqual(['open 0_0', 'open 0_1', 'committed in:0,in:1', 'seek in:0 42', 'seek in:1 earliest'])
    await manager.closeAll('clean')
  })

  test('a rewound task that could not be created yet is moved back to the committed offset once it is', async () => {
    const { manager, log, specs } = setup(true)
    // another holder of task 0_1's directory lock (e.g. the previous owner letting go): its creation waits
    const other = new StateDirectory(stateDir, 'producers-test')
    await other.lockTask('0_1')
    await manager.createTasks(specs, { seekToCommitted: true })
    expect(log.filter((l) => l.startsWith('committed') || l.startsWith('seek'))).toEqual(['committed in:0', 'seek in:0 42'])
    expect(manager.hasPending).toBe(true)
    await other.unlockTask('0_1')
    log.length = 0
    await manager.createPendingTasks()
    expect(log).toEqual(['open 0_1', 'committed in:1', 'seek in:1 earliest'])
    expect(manager.allRunning()).toBe(true)
    await manager.closeAll('clean')
  })
})
