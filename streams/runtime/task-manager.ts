/**
 * The stream tasks of one StreamsApp instance and everything that is per task: creating them for an assignment
 * (task lock, stores opened, input paused until restored), starting them, suspending them across a rebalance,
 * closing them clean or dirty, routing fetched records to them with per-partition backpressure, telling them
 * which partitions have unfetched data, and processing them round-robin in bounded chunks.
 * The StreamsApp owns the loop, the commit and the failure handling; this class never talks to the producer.
 */
import { DevtripError, isDevtripError } from '../../events/errors'
import type { StateStore } from '../../state/base/types'
import type { StateDirectory } from '../../state/state-directory'
import type { ErrorHandling } from '../error-handling'
import { StreamTask, type HandledErrorEvent, type TaskListener } from '../internals/task/stream-task'
import type { TopologyMetadata } from '../internals/topology/metadata'
import type { ConsumedRecord as KafkaRecord, KafkaGroupConsumer, PartitionBatch, TopicPartition } from '../kafka/port'
import { topicPartitionKey } from '../kafka/port'
import type { ConsumedRecord as TaskRecord, RecordCollector } from '../record-collector'
import type { Topology } from '../topology'
import type { StreamsConfig } from './config'
import { errorFields, type StreamsLogger } from './logger'
import type { StreamsMetrics } from './metrics'
import type { ChangelogRestorer } from './restorer'
import { sameSpec, type TaskSpec } from './task-specs'

export type LocalTaskStatus = 'restoring' | 'running' | 'suspended'

export interface LocalTaskInfo {
  readonly taskId: string
  readonly subtopologyId: number
  readonly partition: number
  readonly status: LocalTaskStatus
  readonly inputPartitions: readonly TopicPartition[]
  readonly stores: readonly string[]
}

export interface ManagedTask {
  readonly spec: TaskSpec
  readonly task: StreamTask
  status: LocalTaskStatus
  /** label for records_processed_total: the task's input topics */
  readonly topicLabel: string
}

export interface TaskManagerDeps {
  readonly config: StreamsConfig
  readonly topology: Topology
  readonly metadata: TopologyMetadata
  /** partition count of every topic the app knows */
  readonly partitions: ReadonlyMap<string, number>
  readonly collector: RecordCollector
  /**
   * Per-task record collectors (exactly-once with a 'group-id-only' adapter: one transactional producer per task,
   * task-producers.ts): opened when a task is created — before its positions are read — and closed with it.
   * Without it every task writes through `collector`.
   */
  readonly taskCollectors?: {
    open (taskId: string, inputs: readonly TopicPartition[]): Promise<RecordCollector>
    close (taskId: string): Promise<void>
  }
  readonly consumer: KafkaGroupConsumer
  readonly restorer: ChangelogRestorer
  readonly stateDirectory: StateDirectory
  readonly errorHandling: ErrorHandling
  readonly logger: StreamsLogger
  readonly metrics: StreamsMetrics
}

export class TaskManager {
  private readonly tasks = new Map<string, ManagedTask>()
  private readonly byPartition = new Map<string, ManagedTask>()
  /** input partitions paused because their task buffers too much */
  private readonly backpressured = new Map<string, TopicPartition>()
  /** specs assigned but whose task could not be created yet (e.g. a task directory still locked) */
  private pendingSpecs: TaskSpec[] = []
  /** ids among pendingSpecs created by a rewind: their inputs go back to the committed offsets once created */
  private pendingRewinds = new Set<string>()
  private roundRobin = 0
  private readonly labels: { application_id: string }

  constructor (private readonly deps: TaskManagerDeps) {
    this.labels = { application_id: deps.config.applicationId }
  }

  all (): ManagedTask[] {
    return [...this.tasks.values()]
  }

  running (): ManagedTask[] {
    return this.all().filter((m) => m.status === 'running')
  }

  get hasPending (): boolean {
    return this.pendingSpecs.length > 0
  }

  /** every assigned task exists and processes (none pending, restoring or suspended) */
  allRunning (): boolean {
    if (this.pendingSpecs.length > 0) return false
    for (const m of this.tasks.values()) if (m.status !== 'running') return false
    return true
  }

  hasProcessableRecords (now: number): boolean {
    for (const m of this.tasks.values()) if (m.status === 'running' && m.task.bufferedRecords() > 0 && m.task.isProcessable(now)) return true
    return false
  }

  /**
   * Creates and opens tasks; their input stays paused until their stores are restored. With `seekToCommitted`
   * (a rewind after a failed commit) the inputs of the created tasks are moved back to the group's committed offsets —
   * read only after every task's producer was opened (see assign() for why the order matters); tasks that cannot
   * be created yet keep the flag until they are.
   */
  async createTasks (specs: readonly TaskSpec[], options: { seekToCommitted?: boolean } = {}): Promise<void> {
    const { consumer, stateDirectory, logger } = this.deps
    const opened: StreamTask[] = []
    for (const spec of specs) {
      const inputs = spec.inputTopics.map((topic) => ({ topic, partition: spec.partition }))
      consumer.pause(inputs)
      let task: StreamTask | undefined
      let producerOpened = false
      try {
        await stateDirectory.lockTask(spec.id)
        const collector = this.deps.taskCollectors === undefined ? this.deps.collector : await this.deps.taskCollectors.open(spec.id, inputs)
        producerOpened = this.deps.taskCollectors !== undefined
        task = this.newTask(spec, collector)
        await task.initializeStores()
      } catch (error) {
        await task?.close().catch(() => undefined)
        if (producerOpened) await this.deps.taskCollectors?.close(spec.id).catch(() => undefined)
        if (!isDevtripError(error) || !error.canRetry) throw error
        // e.g. the previous owner in this state dir has not let go yet: try again on a later loop turn
        logger.warn(`task ${spec.id} cannot open yet; retrying`, errorFields(error))
        this.pendingSpecs.push(spec)
        if (options.seekToCommitted === true) this.pendingRewinds.add(spec.id)
        continue
      }
      const m: ManagedTask = { spec, task, status: 'restoring', topicLabel: spec.inputTopics.join(',') }
      this.tasks.set(spec.id, m)
      for (const tp of inputs) this.byPartition.set(topicPartitionKey(tp), m)
      opened.push(task)
    }
    this.deps.metrics.tasks.set(this.labels, this.tasks.size)
    if (opened.length === 0) return
    if (options.seekToCommitted === true) await this.seekToCommitted(opened)
    let ready: StreamTask[]
    try {
      ready = await this.deps.restorer.add(opened)
    } catch (error) {
      // e.g. listing the changelog end offsets failed: close them (nothing was processed) and retry later
      logger.warn('cannot start restoring; retrying', errorFields(error))
      const failed = opened.map((t) => this.tasks.get(t.id) as ManagedTask)
      await this.closeTasks(failed, 'clean')
      this.pendingSpecs.push(...failed.map((m) => m.spec))
      return
    }
    for (const task of ready) this.startTask(task.id)
  }

  /** Retries tasks that could not be created yet (only those still assigned). */
  async createPendingTasks (): Promise<void> {
    const specs = this.pendingSpecs
    this.pendingSpecs = []
    const assigned = new Set(this.deps.consumer.assignment().map(topicPartitionKey))
    const still = specs.filter((s) => s.inputTopics.every((topic) => assigned.has(topicPartitionKey({ topic, partition: s.partition }))))
    const rewinds = this.pendingRewinds
    this.pendingRewinds = new Set()
    await this.createTasks(still.filter((s) => !rewinds.has(s.id)))
    await this.createTasks(still.filter((s) => rewinds.has(s.id)), { seekToCommitted: true })
  }

  private async seekToCommitted (tasks: readonly StreamTask[]): Promise<void> {
    const consumer = this.deps.consumer
    const inputs = tasks.flatMap((t) => t.inputPartitions)
    for (const c of await consumer.committed(inputs)) consumer.seek(c, c.offset ?? this.deps.config.autoOffsetReset)
  }

  /** Restoration finished: processors start and the input is fetched. */
  startTask (taskId: string): void {
    const m = this.tasks.get(taskId)
    if (m === undefined || m.status !== 'restoring') return
    m.task.startProcessing()
    m.status = 'running'
    const consumer = this.deps.consumer
    const assigned = new Set(consumer.assignment().map(topicPartitionKey))
    consumer.resume(m.task.inputPartitions.filter((tp) => assigned.has(topicPartitionKey(tp))))
  }

  /**
   * After the pre-revocation commit: running tasks keep their (committed) state but drop buffered input;
   * restoring ones close. A suspended task the sticky assignor gives back resumes without reopening anything.
   */
  async suspendAll (): Promise<void> {
    for (const m of this.all()) {
      if (m.status === 'running') {
        m.task.abortStores()
        m.status = 'suspended'
      } else if (m.status === 'restoring') {
        await this.closeTasks([m], 'clean')
      }
    }
    this.backpressured.clear()
    this.pendingSpecs = []
    this.pendingRewinds = new Set()
  }

  /**
   * The new assignment: resume suspended tasks that came back, close the others, create the new ones.
   * With per-task producers nothing is resumed: each task comes back through createTasks, so its producer runs
   * initTransactions again before the consumer reads the task's committed offsets. Those adapters read committed
   * offsets without require_stable, and the offsets our own pre-revocation commit just wrote show only once the
   * transaction's markers landed — initTransactions waits for exactly that. A resumed task whose positions were read
   * before it re-processed what it had already committed (its dead letters came out twice in the chaos run).
   */
  async assign (specs: readonly TaskSpec[]): Promise<void> {
    const reused: TaskSpec[] = []
    const reusable = this.deps.taskCollectors === undefined
    for (const m of this.all()) {
      const spec = specs.find((s) => s.id === m.spec.id)
      if (reusable && m.status === 'suspended' && spec !== undefined && sameSpec(spec, m.spec)) {
        m.status = 'running'
        reused.push(spec)
      } else {
        await this.closeTasks([m], 'clean')
      }
    }
    await this.createTasks(specs.filter((s) => !reused.includes(s)))
  }

  /**
   * Closes tasks. 'clean': after a commit (or with nothing to commit) — processors and stores close normally.
   * 'dirty': uncommitted store writes are dropped first; the stores keep their last committed batch and checkpoint.
   */
  async closeTasks (tasks: readonly ManagedTask[], mode: 'clean' | 'dirty'): Promise<void> {
    const { restorer, stateDirectory, logger } = this.deps
    for (const m of tasks) {
      if (mode === 'dirty') m.task.abortStores()
      restorer.remove(m.spec.id)
      try {
        await m.task.close()
      } catch (error) {
        logger.warn(`task ${m.spec.id} did not close cleanly`, errorFields(error))
      }
      await this.deps.taskCollectors?.close(m.spec.id).catch((e: unknown) => { logger.warn(`closing the producer of task ${m.spec.id} failed`, errorFields(e)) })
      this.tasks.delete(m.spec.id)
      for (const tp of m.task.inputPartitions) {
        const key = topicPartitionKey(tp)
        if (this.byPartition.get(key) === m) this.byPartition.delete(key)
        this.backpressured.delete(key)
      }
      await stateDirectory.unlockTask(m.spec.id).catch((e: unknown) => { logger.warn(`unlocking task ${m.spec.id} failed`, errorFields(e)) })
    }
    this.deps.metrics.tasks.set(this.labels, this.tasks.size)
  }

  async closeAll (mode: 'clean' | 'dirty'): Promise<void> {
    this.pendingSpecs = []
    this.pendingRewinds = new Set()
    await this.closeTasks(this.all(), mode)
  }

  /** Hands fetched records to their tasks; a partition whose task buffers too much is paused. */
  route (batches: readonly PartitionBatch[]): void {
    const { consumer, config } = this.deps
    for (const batch of batches) {
      const key = topicPartitionKey(batch)
      const m = this.byPartition.get(key)
      if (m === undefined || m.status !== 'running') {
        // data for a partition whose task is not processing (it was paused meanwhile): fetch it again later
        consumer.seek(batch, (batch.records[0] as KafkaRecord).offset)
        consumer.pause([batch])
        continue
      }
      const buffered = m.task.addRecords(batch, toTaskRecords(batch.records))
      if (buffered >= config.maxBufferedRecordsPerPartition && !this.backpressured.has(key)) {
        consumer.pause([batch])
        this.backpressured.set(key, { topic: batch.topic, partition: batch.partition })
      }
    }
  }

  /** Resumes backpressured partitions whose task drained below half the limit. */
  relieveBackpressure (): void {
    if (this.backpressured.size === 0) return
    const low = Math.floor(this.deps.config.maxBufferedRecordsPerPartition / 2)
    for (const [key, tp] of this.backpressured) {
      const m = this.byPartition.get(key)
      if (m !== undefined && m.status === 'running' && m.task.bufferedRecords(tp) > low) continue
      this.backpressured.delete(key)
      if (m !== undefined && m.status === 'running') this.deps.consumer.resume([tp])
    }
  }

  /**
   * Tells tasks which partitions may have unfetched data (maxTaskIdleMs) and, when `sampleLag`, sets the consumer
   * lag gauges. A partition may have unfetched data when its position is below its last stable offset or below its
   * high watermark (records of an open transaction, visible once it commits), and also
   * when either is still unknown — right after an assignment or a resume, before a fetch response covered the
   * partition: a task that took "unknown" for "fully read" processed the first batch of one input partition
   * before the older records of another arrived (Kafka Streams waits on an unknown lag too).
   */
  updateLag (sampleLag: boolean): void {
    for (const s of this.deps.consumer.partitionStates()) {
      const m = this.byPartition.get(topicPartitionKey(s))
      const lag = s.position !== null && s.lastStableOffset !== null ? s.lastStableOffset - s.position : null
      // records of a transaction still open (position at the LSO, below the high watermark) may be older than what
      // another input holds: wait for them like for fetchable ones (still bounded by maxTaskIdleMs). Kafka Streams
      // looks at the LSO only, and applies a later record of one partition before a committed-a-moment-later
      // earlier one of another.
      const hidden = s.position !== null && s.highWatermark !== null && s.highWatermark > s.position
      if (m !== undefined && m.status === 'running') m.task.setPartitionLag(s, lag === null || lag > 0n || hidden)
      if (sampleLag && lag !== null) this.deps.metrics.consumerLag.set({ ...this.labels, topic: s.topic, partition: String(s.partition) }, Number(lag > 0n ? lag : 0n))
    }
  }

  /**
   * One round over the running tasks, each processing up to `processChunkRecords`; the starting task rotates so
   * none starves. Returns how many records were processed. A TaskFailure (a handler said `fail`) propagates.
   */
  processTasks (now: number): number {
    const running = this.running()
    if (running.length === 0) return 0
    const chunk = this.deps.config.processChunkRecords
    let total = 0
    const first = this.roundRobin++ % running.length
    for (let i = 0; i < running.length; i++) {
      const m = running[(first + i) % running.length] as ManagedTask
      let n = 0
      while (n < chunk && m.task.isProcessable(now) && m.task.process()) n++
      if (n > 0) {
        total += n
        this.deps.metrics.recordsProcessed.inc({ ...this.labels, topic: m.topicLabel }, n)
      }
    }
    return total
  }

  punctuate (now: number): void {
    for (const m of this.tasks.values()) if (m.status === 'running') m.task.maybePunctuateSystemTime(now)
  }

  /** Store sizes of the given tasks into the store_entries gauge (key-value stores report approximateNumEntries). */
  sampleStoreSizes (tasks: readonly ManagedTask[]): void {
    for (const m of tasks) {
      for (const name of this.storeNames(m.spec.subtopologyId)) {
        const store = m.task.getStore(name) as (StateStore & { approximateNumEntries?: () => number }) | undefined
        if (typeof store?.approximateNumEntries !== 'function') continue
        this.deps.metrics.storeEntries.set({ ...this.labels, store: name, partition: String(m.spec.partition) }, store.approximateNumEntries())
      }
    }
  }

  store (name: string, partition: number): StateStore | undefined {
    for (const m of this.tasks.values()) {
      if (m.status !== 'running' || m.spec.partition !== partition) continue
      const store = m.task.getStore(name)
      if (store !== undefined) return store
    }
    return undefined
  }

  info (): LocalTaskInfo[] {
    return this.all().map((m) => ({
      taskId: m.spec.id,
      subtopologyId: m.spec.subtopologyId,
      partition: m.spec.partition,
      status: m.status,
      inputPartitions: m.task.inputPartitions,
      stores: this.storeNames(m.spec.subtopologyId)
    }))
  }

  private storeNames (subtopologyId: number): string[] {
    return (this.deps.metadata.subtopologies.find((s) => s.id === subtopologyId)?.stores ?? []).map((s) => s.name)
  }

  private newTask (spec: TaskSpec, collector: RecordCollector): StreamTask {
    const { config, partitions, logger } = this.deps
    const listener: TaskListener = {
      onHandledError: (event) => { this.onHandledError(event) },
      onSkippedRecord: (event) => { logger.debug('record skipped', { taskId: event.taskId, processor: event.processor, reason: event.reason }) }
    }
    return new StreamTask({
      applicationId: config.applicationId,
      topology: this.deps.topology,
      subtopologyId: spec.subtopologyId,
      partition: spec.partition,
      inputTopics: spec.inputTopics,
      collector,
      partitionsFor: (topic) => {
        const n = partitions.get(topic)
        if (n === undefined) throw new DevtripError('DEVTRIP_UNKNOWN_TOPIC', `the app does not know topic "${topic}" (not a source, sink or internal topic of the topology)`, { details: { topic } })
        return n
      },
      stateDir: config.stateDir,
      maxTaskIdleMs: config.maxTaskIdleMs,
      errorHandling: this.deps.errorHandling,
      rocksdb: config.rocksdb,
      listener
    })
  }

  private onHandledError (event: HandledErrorEvent): void {
    const where = event.source === undefined ? 'a punctuator' : `${event.source.topic}-${event.source.partition}@${String(event.source.record.offset)}`
    if (event.action === 'dlq' && event.dlqTopic !== undefined) {
      this.deps.metrics.dlqRecords.inc({ ...this.labels, topic: event.dlqTopic, reason: event.kind })
    }
    this.deps.logger.warn(`${event.kind} error at "${event.processor}" for ${where}: ${event.action}`, {
      applicationId: this.deps.config.applicationId, taskId: event.taskId, dlqTopic: event.dlqTopic, ...errorFields(event.error)
    })
  }
}

/** The port allows null header values; the task's records do not — an absent value becomes empty bytes. */
function toTaskRecords (records: readonly KafkaRecord[]): readonly TaskRecord[] {
  let converted: TaskRecord[] | undefined
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as KafkaRecord
    if (r.headers.length === 0 || !r.headers.some((h) => h[1] === null)) continue
    converted ??= records.slice() as unknown as TaskRecord[]
    converted[i] = { ...r, headers: r.headers.map(([k, v]) => [k, v ?? Buffer.alloc(0)] as const) }
  }
  return converted ?? (records as unknown as readonly TaskRecord[])
}
