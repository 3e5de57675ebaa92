/**
 * A stream task: one sub-topology working on one partition number of its source topics, id
 * `<subtopologyId>_<partition>`. It is THE unit of processing; the Kafka runtime and the TopologyTestDriver drive
 * the same class and only differ in where records come from and where the RecordCollector sends them.
 *
 * Life cycle: constructor (instantiates processors) → initializeStores() → [storesNeedingRestore() / restore()] →
 * startProcessing() (processors' init) → addRecords / process / punctuate / committableOffsets / commitStores or
 * abortStores, repeatedly → close().
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import Ajv from 'ajv'
import { DevtripError } from '../../../events/errors'
import type { ChangelogCheckpoint, ChangelogRecord, RocksDBMemoryOptions, StateStore, StateStoreContext, StoreBuilder, StoreMetricsRecorder } from '../../../state/base/types'
import { buildDlqRecord, resolveErrorHandling, type ErrorAction, type ErrorContext, type ErrorHandling, type ErrorHandlingOptions, type ErrorKind, type SourceRecordRef } from '../../error-handling'
import type { Cancellable, PunctuationType, Punctuator } from '../../processor'
import { NO_HEADERS, type RecordMetadata } from '../../record'
import type { ConsumedRecord, ProducedRecord, RecordCollector, TopicPartition, TopicPartitionOffset } from '../../record-collector'
import { internalTopologyOf, type Topology } from '../../topology'
import { changelogTopicName } from '../topology/metadata'
import { ProcessorNode, RuntimeNode, SinkNode, SourceNode, TaskContext, TaskFailure, type TaskServices } from './nodes'
import { PartitionGroup } from './record-queue'
import { PunctuationQueue, PunctuationSchedule } from './punctuation-queue'

export interface HandledErrorEvent extends ErrorContext {
  readonly action: ErrorAction
  /** where the dead-letter record went, when action is 'dlq' */
  readonly dlqTopic: string | undefined
}

export interface SkippedRecordEvent {
  readonly taskId: string
  readonly processor: string
  readonly reason: string
  readonly source: RecordMetadata | undefined
}

/** Nothing a task drops or dead-letters goes unreported: the runtime logs and counts these. */
export interface TaskListener {
  onHandledError? (event: HandledErrorEvent): void
  onSkippedRecord? (event: SkippedRecordEvent): void
}

export interface StreamTaskOptions {
  readonly applicationId: string
  readonly topology: Topology
  readonly subtopologyId: number
  readonly partition: number
  /** resolved source topics this task reads; default all of the sub-topology's (fewer when some have fewer partitions) */
  readonly inputTopics?: readonly string[]
  readonly collector: RecordCollector
  /** partition count of a topic the task writes to (sinks use it for the default partitioner) */
  readonly partitionsFor: (topic: string) => number
  /** stores of this task live under `<stateDir>/<applicationId>/<taskId>` */
  readonly stateDir: string
  /** how long to wait for a partition known to have unfetched data before processing anyway; default 0 */
  readonly maxTaskIdleMs?: number
  readonly errorHandling?: ErrorHandlingOptions
  /** the wall clock; default Date.now */
  readonly clock?: () => number
  readonly storeMetrics?: StoreMetricsRecorder
  /** memory bounds handed to persistent stores */
  readonly rocksdb?: RocksDBMemoryOptions
  readonly listener?: TaskListener
}

export interface StoreToRestore {
  readonly store: string
  readonly changelogTopic: string
  readonly partition: number
  /** restore from this changelog offset */
  readonly checkpoint: ChangelogCheckpoint
}

export interface TaskMetrics {
  processed: number
  punctuations: number
  skipped: number
  dlq: number
  /** records handled as `continue` by an exception handler */
  continued: number
}

type TaskState = 'created' | 'restoring' | 'running' | 'closed'

// the plain-data options; the functions and objects among them are checked where they are used
const validateOptions = new Ajv({ allErrors: true }).compile({
  type: 'object',
  required: ['applicationId', 'topology', 'subtopologyId', 'partition', 'collector', 'partitionsFor', 'stateDir'],
  properties: {
    applicationId: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,200}$' },
    subtopologyId: { type: 'integer', minimum: 0 },
    partition: { type: 'integer', minimum: 0 },
    inputTopics: { type: 'array', items: { type: 'string' } },
    stateDir: { type: 'string', minLength: 1 },
    maxTaskIdleMs: { type: 'integer', minimum: 0 }
  }
})

class IdleNode extends RuntimeNode {
  process (): void {}
}

export class StreamTask implements TaskServices {
  readonly id: string
  readonly applicationId: string
  readonly subtopologyId: number
  readonly partition: number
  readonly inputPartitions: readonly TopicPartition[]
  readonly metrics: TaskMetrics = { processed: 0, punctuations: 0, skipped: 0, dlq: 0, continued: 0 }

  private state: TaskState = 'created'
  private readonly collector: RecordCollector
  private readonly partitionsForTopic: (topic: string) => number
  private readonly clock: () => number
  private readonly maxTaskIdleMs: number
  private readonly errorHandling: ErrorHandling
  private readonly listener: TaskListener | undefined
  private readonly taskDir: string
  private readonly storeMetrics: StoreMetricsRecorder | undefined
  private readonly rocksdb: RocksDBMemoryOptions | undefined
  private readonly idle = new IdleNode('(task)')
  private readonly context: TaskContext
  private readonly sources = new Map<string, SourceNode>()
  private readonly nodes = new Map<string, RuntimeNode>()
  private readonly processors: ProcessorNode[] = []
  private readonly storeBuilders = new Map<string, StoreBuilder>()
  private readonly stores = new Map<string, StateStore>()
  private readonly changelogTopics = new Map<string, string>()
  private readonly group: PartitionGroup
  private readonly streamPunctuations = new PunctuationQueue()
  private readonly wallClockPunctuations = new PunctuationQueue()
  private streamTime = -1
  private committedStreamTime = -1
  private consumed = new Map<string, bigint>()
  private committed = new Map<string, bigint>()
  private needsCommit = false
  private currentSource: SourceRecordRef | undefined

  constructor (options: StreamTaskOptions) {
    if (!validateOptions(options)) {
      const problems = (validateOptions.errors ?? []).map((e) => `${e.instancePath === '' ? '/' : e.instancePath} ${e.message ?? 'is invalid'}`)
      throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `invalid stream task options: ${problems.join('; ')}`, { details: { problems } })
    }
    if (typeof options.collector.send !== 'function' || typeof options.partitionsFor !== 'function') {
      throw new DevtripError('DEVTRIP_INVALID_OPTIONS', 'a stream task needs a RecordCollector (send) and partitionsFor(topic)')
    }
    const { applicationId, subtopologyId, partition } = options
    const internal = internalTopologyOf(options.topology)
    const sub = internal.subtopologies()[subtopologyId]
    if (sub === undefined) throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `the topology has no sub-topology ${String(subtopologyId)}`)
    this.id = `${subtopologyId}_${partition}`
    this.applicationId = applicationId
    this.subtopologyId = subtopologyId
    this.partition = partition
    this.collector = options.collector
    this.partitionsForTopic = options.partitionsFor
    this.clock = options.clock ?? Date.now
    this.maxTaskIdleMs = options.maxTaskIdleMs ?? 0
    this.errorHandling = resolveErrorHandling(options.errorHandling)
    this.listener = options.listener
    this.storeMetrics = options.storeMetrics
    this.rocksdb = options.rocksdb
    this.taskDir = join(options.stateDir, applicationId, this.id)
    this.context = new TaskContext(this, this.idle)

    const allTopics = sub.sourceTopics.map((t) => internal.resolveTopic(applicationId, t))
    const inputTopics = options.inputTopics ?? allTopics
    for (const t of inputTopics) {
      if (!allTopics.includes(t)) throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `task ${this.id}: "${t}" is not a source topic of sub-topology ${subtopologyId} (${allTopics.join(', ')})`)
    }
    // keep declaration order whatever order the caller used: it breaks timestamp ties
    const ordered = allTopics.filter((t) => inputTopics.includes(t))
    this.group = new PartitionGroup(ordered)
    this.inputPartitions = ordered.map((topic) => ({ topic, partition }))

    for (const def of sub.nodes) {
      let node: RuntimeNode
      if (def.kind === 'source') {
        const source = new SourceNode(def.name, this.context, def.keyDeserializer, def.valueDeserializer)
        for (const t of def.topics) this.sources.set(internal.resolveTopic(applicationId, t), source)
        node = source
      } else if (def.kind === 'processor') {
        const processor = def.supplier.get()
        if (processor === null || typeof processor !== 'object' || typeof processor.process !== 'function') {
          throw new DevtripError('DEVTRIP_TOPOLOGY', `the supplier of processor "${def.name}" returned no processor (an object with process())`)
        }
        const processorNode = new ProcessorNode(def.name, processor, def.stores)
        this.processors.push(processorNode)
        node = processorNode
      } else {
        node = new SinkNode(def.name, internal.resolveTopic(applicationId, def.topic), this, def.keySerializer, def.valueSerializer, def.partitioner)
      }
      if (def.kind !== 'source') for (const p of def.parents) (this.nodes.get(p) as RuntimeNode).addChild(node)
      this.nodes.set(def.name, node)
    }
    for (const name of sub.stores) {
      const builder = (internal.stores.get(name) as { builder: StoreBuilder }).builder
      this.storeBuilders.set(name, builder)
      if (builder.loggingEnabled) this.changelogTopics.set(name, changelogTopicName(applicationId, name))
    }
  }

  get taskId (): string {
    return this.id
  }

  /** Builds and opens this task's stores; their changelog records go to the task's RecordCollector. */
  async initializeStores (): Promise<void> {
    this.expectState('created', 'initializeStores')
    for (const [name, builder] of this.storeBuilders) {
      const store = builder.build()
      if (store.name !== name) throw new DevtripError('DEVTRIP_TOPOLOGY', `store builder "${name}" built a store named "${store.name}"`)
      if (store.persistent) mkdirSync(this.taskDir, { recursive: true })
      const changelogTopic = this.changelogTopics.get(name)
      const context: StateStoreContext = {
        applicationId: this.applicationId,
        taskId: this.id,
        partition: this.partition,
        taskDir: this.taskDir,
        changelogTopic,
        changelogSink: changelogTopic === undefined
          ? undefined
          : { send: (topic, partition, key, value, timestamp) => this.collector.send({ topic, partition, key, value, timestamp, headers: NO_HEADERS }) },
        metrics: this.storeMetrics,
        rocksdb: this.rocksdb,
        currentTimestamp: () => this.context.currentTimestamp
      }
      await store.init(context)
      this.stores.set(name, store)
    }
    this.state = 'restoring'
  }

  /** Every change-logged store with the changelog offset its restore must start from. */
  storesNeedingRestore (): StoreToRestore[] {
    const result: StoreToRestore[] = []
    for (const [name, store] of this.stores) {
      const changelogTopic = this.changelogTopics.get(name)
      if (changelogTopic !== undefined) result.push({ store: name, changelogTopic, partition: this.partition, checkpoint: store.checkpoint() })
    }
    return result
  }

  async restore (storeName: string, records: ChangelogRecord[]): Promise<void> {
    this.expectState('restoring', 'restore')
    const store = this.stores.get(storeName)
    if (store === undefined) throw new DevtripError('DEVTRIP_STATE_STORE', `task ${this.id} has no store "${storeName}"`)
    await store.restore(records)
  }

  /** Calls every processor's init(); from here on the task processes records. */
  startProcessing (): void {
    this.expectState('restoring', 'startProcessing')
    for (const node of this.processors) {
      this.context.currentNode = node
      try {
        node.processor.init?.(this.context)
      } catch (error) {
        throw new DevtripError('DEVTRIP_PROCESSING', `processor "${node.name}" failed in init() in task ${this.id}: ${errorMessage(error)}`, { cause: error })
      } finally {
        this.context.currentNode = this.idle
      }
    }
    this.state = 'running'
  }

  /** Buffers fetched records of one input partition; returns how many that partition now buffers. */
  addRecords (tp: TopicPartition, records: readonly ConsumedRecord[]): number {
    const queue = this.queueOf(tp)
    queue.push(records)
    return queue.size
  }

  /** The runtime tells whether the broker has records of this partition that are not buffered yet (see isProcessable). */
  setPartitionLag (tp: TopicPartition, hasMoreData: boolean): void {
    this.queueOf(tp).hasMoreData = hasMoreData
  }

  bufferedRecords (tp?: TopicPartition): number {
    return tp === undefined ? this.group.bufferedRecords : this.queueOf(tp).size
  }

  isProcessable (nowMs: number = this.clock()): boolean {
    return this.state === 'running' && this.group.isProcessable(nowMs, this.maxTaskIdleMs)
  }

  /**
   * Processes the next record (earliest timestamp first) through the sub-topology, then fires stream-time
   * punctuators that became due. Returns false when nothing was buffered. Throws TaskFailure (DEVTRIP_PROCESSING)
   * when an exception handler decided `fail`; the caller must then abort and not commit.
   */
  process (): boolean {
    if (this.state !== 'running') this.expectState('running', 'process')
    const queue = this.group.nextQueue()
    if (queue === undefined) return false
    const raw = queue.shift()
    const topic = queue.topic
    const source = this.sources.get(topic) as SourceNode
    const ref: SourceRecordRef = { topic, partition: this.partition, record: raw }
    this.currentSource = ref
    this.context.metadata = { topic, partition: this.partition, offset: raw.offset }
    try {
      let key: unknown
      let value: unknown
      let ok = true
      try {
        if (!(raw.timestamp >= 0) || !Number.isFinite(raw.timestamp)) {
          throw new DevtripError('DEVTRIP_INVALID_EVENT', `record has an invalid timestamp (${String(raw.timestamp)})`)
        }
        key = raw.key === null ? null : source.keyDeserializer === undefined ? raw.key : source.keyDeserializer.deserialize(raw.key)
        value = raw.value === null ? null : source.valueDeserializer === undefined ? raw.value : source.valueDeserializer.deserialize(raw.value)
      } catch (error) {
        ok = false
        this.handleError('deserialization', source, error)
      }
      if (ok) {
        if (raw.timestamp > this.streamTime) this.streamTime = raw.timestamp
        this.context.run(source, { key, value, timestamp: raw.timestamp, headers: raw.headers })
      }
    } finally {
      this.context.metadata = undefined
      this.currentSource = undefined
    }
    // not reached when a handler failed: the record stays uncommitted and is processed again after recovery
    this.consumed.set(topic, raw.offset + 1n)
    this.needsCommit = true
    this.metrics.processed++
    this.maybePunctuateStreamTime()
    return true
  }

  maybePunctuateStreamTime (): boolean {
    if (this.streamTime < 0) return false
    return this.streamPunctuations.mayPunctuate(this.streamTime, this.firePunctuation)
  }

  maybePunctuateSystemTime (nowMs: number = this.clock()): boolean {
    if (this.state !== 'running') return false
    return this.wallClockPunctuations.mayPunctuate(nowMs, this.firePunctuation)
  }

  commitNeeded (): boolean {
    return this.needsCommit
  }

  /** Next offset to consume for every input partition this task has processed records of. */
  committableOffsets (): TopicPartitionOffset[] {
    const result: TopicPartitionOffset[] = []
    for (const [topic, offset] of this.consumed) result.push({ topic, partition: this.partition, offset })
    return result
  }

  /** Changelog topic → partition of this task's change-logged stores. */
  changelogPartitions (): TopicPartition[] {
    return [...this.changelogTopics.values()].map((topic) => ({ topic, partition: this.partition }))
  }

  /**
   * After the runtime committed the transaction (or the driver a piped record): each store writes its buffered batch
   * with its new checkpoint. `changelogOffsets` maps a changelog topic to the offset after the last record this task
   * wrote to it (absent: nothing written since the last commit).
   */
  async commitStores (changelogOffsets: ReadonlyMap<string, bigint> = new Map()): Promise<void> {
    for (const [name, store] of this.stores) {
      const topic = this.changelogTopics.get(name)
      await store.commit(topic === undefined ? undefined : changelogOffsets.get(topic))
    }
    this.committed = new Map(this.consumed)
    this.committedStreamTime = this.streamTime
    this.needsCommit = false
  }

  /**
   * After the transaction aborted: stores forget their buffered writes, buffered input is dropped and positions and
   * stream time go back to the last commit; the runtime then seeks the consumer to committableOffsets(). State held
   * in processor fields cannot be rewound — the runtime closes and recreates the task when that matters.
   */
  abortStores (): void {
    for (const store of this.stores.values()) store.abort()
    this.group.clear()
    this.consumed = new Map(this.committed)
    this.streamTime = this.committedStreamTime
    this.needsCommit = false
  }

  async close (): Promise<void> {
    if (this.state === 'closed') return
    const errors: unknown[] = []
    if (this.state === 'running') {
      for (const node of this.processors) {
        this.context.currentNode = node
        try { node.processor.close?.() } catch (error) { errors.push(error) }
      }
      this.context.currentNode = this.idle
    }
    for (const store of this.stores.values()) {
      try { await store.close() } catch (error) { errors.push(error) }
    }
    this.group.clear()
    this.state = 'closed'
    if (errors.length > 0) {
      throw new DevtripError('DEVTRIP_PROCESSING', `task ${this.id} did not close cleanly: ${errors.map(errorMessage).join('; ')}`, { cause: errors[0] })
    }
  }

  /** The open store `name` of this task (the test driver's store access). */
  getStore (name: string): StateStore | undefined {
    return this.stores.get(name)
  }

  // ---- TaskServices: what nodes and the context call back into ----

  onProcessingError (node: RuntimeNode, error: unknown): void {
    this.handleError('processing', node, error)
  }

  onProductionError (node: RuntimeNode, error: unknown): void {
    this.handleError('production', node, error)
  }

  onSkippedRecord (node: RuntimeNode, reason: string): void {
    this.metrics.skipped++
    this.listener?.onSkippedRecord?.({ taskId: this.id, processor: node.name, reason, source: this.context.metadata })
  }

  send (record: ProducedRecord): void {
    this.collector.send(record)
  }

  partitionsFor (topic: string): number {
    return this.partitionsForTopic(topic)
  }

  schedule (nodeName: string, intervalMs: number, type: PunctuationType, punctuator: Punctuator): Cancellable {
    const schedule = type === 'stream-time'
      // aligned to 0: fires as soon as there is stream time, then at every multiple of the interval
      ? new PunctuationSchedule(nodeName, intervalMs, punctuator, 0)
      : new PunctuationSchedule(nodeName, intervalMs, punctuator, this.clock() + intervalMs)
    ;(type === 'stream-time' ? this.streamPunctuations : this.wallClockPunctuations).add(schedule)
    return schedule
  }

  /** the largest timestamp processed so far; -1 before the first record */
  streamTimeMs (): number {
    return this.streamTime
  }

  systemTimeMs (): number {
    return this.clock()
  }

  store (name: string): StateStore | undefined {
    return this.stores.get(name)
  }

  // ---- internals ----

  private readonly firePunctuation = (schedule: PunctuationSchedule, timeMs: number): void => {
    const node = this.nodes.get(schedule.nodeName) as RuntimeNode
    this.context.currentNode = node
    this.context.currentTimestamp = timeMs
    this.context.metadata = undefined
    try {
      schedule.punctuator(timeMs)
    } catch (error) {
      if (error instanceof TaskFailure) throw error
      this.handleError('processing', node, error)
    } finally {
      this.context.currentNode = this.idle
    }
    this.metrics.punctuations++
    this.needsCommit = true
  }

  private handleError (kind: ErrorKind, node: RuntimeNode, error: unknown): void {
    const source = this.currentSource
    const context: ErrorContext = { kind, error, applicationId: this.applicationId, taskId: this.id, processor: node.name, source }
    let action: ErrorAction
    try {
      action = this.errorHandling[kind](context)
    } catch (handlerError) {
      throw new TaskFailure('DEVTRIP_PROCESSING', `the ${kind} exception handler threw while handling an error at "${node.name}": ${errorMessage(handlerError)}`, { cause: handlerError })
    }
    const where = source === undefined ? 'in a punctuator' : `for ${source.topic}-${source.partition}@${String(source.record.offset)}`
    if (action !== 'continue' && action !== 'dlq' && action !== 'fail') {
      throw new TaskFailure('DEVTRIP_PROCESSING', `the ${kind} exception handler returned ${JSON.stringify(action)}; expected 'continue', 'fail' or 'dlq'`, { cause: error })
    }
    if (action === 'fail') {
      throw new TaskFailure('DEVTRIP_PROCESSING', `${kind} error at "${node.name}" in task ${this.id} ${where}: ${errorMessage(error)}`, {
        cause: error,
        details: { kind, processor: node.name, taskId: this.id, topic: source?.topic, partition: source?.partition, offset: source?.record.offset.toString() }
      })
    }
    let dlqTopic: string | undefined
    // a punctuator has no source record to dead-letter: it is reported, and processing continues
    if (action === 'dlq' && source !== undefined) {
      dlqTopic = source.topic + this.errorHandling.dlqTopicSuffix
      this.collector.send(buildDlqRecord({ dlqTopic, source, error, applicationId: this.applicationId, taskId: this.id, processor: node.name }))
      this.metrics.dlq++
    } else {
      this.metrics.continued++
    }
    this.listener?.onHandledError?.({ ...context, action, dlqTopic })
  }

  private queueOf (tp: TopicPartition): NonNullable<ReturnType<PartitionGroup['queue']>> {
    const queue = tp.partition === this.partition ? this.group.queue(tp.topic) : undefined
    if (queue === undefined) {
      throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `task ${this.id} does not read ${tp.topic}-${tp.partition} (it reads ${this.inputPartitions.map((p) => `${p.topic}-${p.partition}`).join(', ')})`)
    }
    return queue
  }

  private expectState (expected: TaskState, operation: string): void {
    if (this.state !== expected) {
      throw new DevtripError(this.state === 'closed' ? 'DEVTRIP_CLOSED' : 'DEVTRIP_PROCESSING', `task ${this.id}: ${operation}() needs state ${expected}, but the task is ${this.state}`)
    }
  }
}

function errorMessage (error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
