/**
 * StreamsApp: runs a Topology against Kafka — the counterpart of Kafka Streams' KafkaStreams with one stream thread.
 *
 * Threading model: everything happens on the Node event loop, in one loop (`runLoop`) that never awaits per record:
 *   restore step → poll → route batches to tasks → process tasks round-robin in bounded chunks → punctuate →
 *   commit when due → setImmediate (so an HTTP server in the same process keeps answering).
 * Rebalance callbacks run inside `poll()`, i.e. inside this loop, so tasks are never touched concurrently.
 * The commit protocol is in checkpoint.ts; docs/runtime.md has the order of every step and what a crash at each
 * step leaves behind.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises'
import type { Registry } from 'prom-client'
import { DevtripError, isDevtripError } from '../../events/errors'
import type { StateStore } from '../../state/base/types'
import { StateDirectory } from '../../state/state-directory'
import { resolveErrorHandling, type ErrorHandling, type ErrorHandlingOptions } from '../error-handling'
import { StreamTask, type HandledErrorEvent, type TaskListener } from '../internals/task/stream-task'
import type { TopologyMetadata } from '../internals/topology/metadata'
import { createKafkaClients } from '../kafka'
import type {
  ConsumedRecord as KafkaRecord, KafkaAdmin, KafkaAssignedConsumer, KafkaClientFactory, KafkaGroupConsumer, KafkaProducer,
  PartitionBatch, TopicPartition, TopicPartitionOffset
} from '../kafka/port'
import { topicPartitionKey } from '../kafka/port'
import type { ConsumedRecord as TaskRecord } from '../record-collector'
import type { Topology } from '../topology'
import { AppStateMachine, type AppState, type StateListener } from './app-state'
import { Checkpoint } from './checkpoint'
import { resolveStreamsConfig, type StreamsConfig, type StreamsConfigInput } from './config'
import { acquireInstanceIdentity, type InstanceIdentity } from './instance-id'
import { prepareTopics, type TopicLayout } from './internal-topics'
import { errorFields, stderrLogger, type StreamsLogger } from './logger'
import { DIAGNOSTICS, StreamsMetrics } from './metrics'
import { ChangelogRestorer, type RestoreProgress } from './restorer'
import { sameSpec, taskSpecsFor, type TaskSpec } from './task-specs'

export interface StreamsAppOptions {
  /** Kafka clients; default: the @platformatic/kafka adapter on `bootstrapServers` */
  readonly clientFactory?: KafkaClientFactory
  readonly metricsRegistry?: Registry
  readonly logger?: StreamsLogger
  /** handler functions; they win over the config's `*ExceptionHandler` strings */
  readonly errorHandling?: ErrorHandlingOptions
}

export interface CloseOptions {
  /** after this, shutdown stops waiting for the loop and closes without committing (default 30 000) */
  readonly timeoutMs?: number
}

export type LocalTaskStatus = 'restoring' | 'running' | 'suspended'

export interface LocalTaskInfo {
  readonly taskId: string
  readonly subtopologyId: number
  readonly partition: number
  readonly status: LocalTaskStatus
  readonly inputPartitions: readonly TopicPartition[]
  readonly stores: readonly string[]
}

interface ManagedTask {
  readonly spec: TaskSpec
  readonly task: StreamTask
  status: LocalTaskStatus
  /** label for records_processed_total: the task's input topics */
  readonly topicLabel: string
}

/** Errors of a commit that a rewind cannot fix: the group or the producer identity moved on. */
const REJOIN_CODES = new Set(['DEVTRIP_TASK_MIGRATED', 'DEVTRIP_KAFKA_FENCED'])
const LAG_SAMPLE_MS = 1000

/** A poll or restore read failed (network, broker): nothing was half-done, so the loop just tries again later. */
class ReadFailure extends Error {
  constructor (readonly error: DevtripError) {
    super(error.message)
  }
}

export class StreamsApp {
  readonly config: StreamsConfig
  readonly metrics: StreamsMetrics
  readonly metadata: TopologyMetadata
  private readonly topology: Topology
  private readonly kafka: KafkaClientFactory
  private readonly logger: StreamsLogger
  private readonly errorHandling: ErrorHandling
  private readonly exactlyOnce: boolean
  /** some exception handler can answer 'dlq', so DLQ topics are created */
  private readonly mayDeadLetter: boolean
  private readonly machine = new AppStateMachine()
  private readonly labels: { application_id: string }
  private readonly stateDirectory: StateDirectory
  private readonly tasks = new Map<string, ManagedTask>()
  private readonly byPartition = new Map<string, ManagedTask>()
  /** input partitions paused because their task buffers too much */
  private readonly backpressured = new Map<string, TopicPartition>()
  /** specs assigned but whose task could not be created yet (e.g. a task directory still locked) */
  private pendingSpecs: TaskSpec[] = []
  private identity: InstanceIdentity | undefined
  private admin: KafkaAdmin | undefined
  private producer: KafkaProducer | undefined
  private consumer: KafkaGroupConsumer | undefined
  private restoreConsumer: KafkaAssignedConsumer | undefined
  private restorer: ChangelogRestorer | undefined
  private checkpoint: Checkpoint | undefined
  private layout: TopicLayout | undefined
  private loop: Promise<void> | undefined
  private stopRequested = false
  private closing: Promise<void> | undefined
  private lastCommitMs = 0
  private lastLagSampleMs = 0
  private consecutiveFailures = 0
  /** an assignment arrived since the last revocation (RUNNING needs one) */
  private assigned = false
  private roundRobin = 0
  private restored = 0
  private processed = 0
  private commitCount = 0

  constructor (topology: Topology, config: StreamsConfigInput, options: StreamsAppOptions = {}) {
    this.config = resolveStreamsConfig(config)
    this.topology = topology
    this.metadata = topology.metadata(this.config.applicationId)
    if (this.metadata.subtopologies.length === 0) {
      throw new DevtripError('DEVTRIP_TOPOLOGY', `application "${this.config.applicationId}": the topology has no sources; add a stream or table first`)
    }
    this.exactlyOnce = this.config.processingGuarantee === 'exactly-once'
    this.kafka = options.clientFactory ?? createKafkaClients({ brokers: this.config.bootstrapServers, clientId: this.config.clientId })
    this.logger = options.logger ?? stderrLogger
    this.metrics = new StreamsMetrics(options.metricsRegistry)
    this.labels = { application_id: this.config.applicationId }
    const handling: ErrorHandlingOptions = {
      deserialization: this.config.deserializationExceptionHandler,
      processing: this.config.processingExceptionHandler,
      production: this.config.productionExceptionHandler,
      dlqTopicSuffix: this.config.dlqTopicSuffix,
      ...options.errorHandling
    }
    this.errorHandling = resolveErrorHandling(handling)
    // a handler function may answer 'dlq' for some errors: assume it can
    this.mayDeadLetter = [handling.deserialization, handling.processing, handling.production].some((h) => h === 'dlq' || typeof h === 'function')
    this.stateDirectory = new StateDirectory(this.config.stateDir, this.config.applicationId)
    this.machine.onChange((next, previous) => {
      this.metrics.state.set(this.labels, ['CREATED', 'REBALANCING', 'RUNNING', 'PENDING_SHUTDOWN', 'NOT_RUNNING', 'ERROR'].indexOf(next))
      if (DIAGNOSTICS.state.hasSubscribers) DIAGNOSTICS.state.publish({ applicationId: this.config.applicationId, from: previous, to: next })
      this.logger.info(`state ${previous} → ${next}`, { applicationId: this.config.applicationId })
    })
    this.metrics.state.set(this.labels, 0)
  }

  get state (): AppState {
    return this.machine.current
  }

  /** changelog records restored by this app object since start (all stores, all tasks) */
  get restoredRecords (): number {
    return this.restored
  }

  /** records processed by this app object since start */
  get processedRecords (): number {
    return this.processed
  }

  /** commits completed since start */
  get commits (): number {
    return this.commitCount
  }

  /** `<applicationId>-<instanceId>` under exactly-once once started, else undefined */
  get transactionalId (): string | undefined {
    return this.exactlyOnce && this.identity !== undefined ? `${this.config.applicationId}-${this.identity.instanceId}` : undefined
  }

  get instanceId (): string | undefined {
    return this.identity?.instanceId
  }

  onStateChange (listener: StateListener): void {
    this.machine.onChange(listener)
  }

  /**
   * Checks and creates topics, creates the clients and starts the loop. Resolves once the loop runs (state
   * REBALANCING); use `waitForState('RUNNING')` to wait for the first assignment to be restored.
   */
  async start (): Promise<void> {
    if (this.state !== 'CREATED') throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `start(): the app is ${this.state}; a StreamsApp starts once (create a new one)`)
    const { applicationId } = this.config
    try {
      this.identity = await acquireInstanceIdentity(this.config.stateDir, applicationId)
      this.admin = this.kafka.createAdmin()
      this.layout = await prepareTopics(this.admin, this.metadata, {
        replicationFactor: this.config.replicationFactor,
        dlqTopicSuffix: this.mayDeadLetter ? this.errorHandling.dlqTopicSuffix : undefined
      })
      this.producer = await this.createProducer()
      this.checkpoint = new Checkpoint(this.producer, {
        exactlyOnce: this.exactlyOnce,
        batchRecords: this.config.producerBatchRecords,
        changelogTopics: new Set(this.metadata.changelogTopics.map((c) => c.topic))
      })
      this.restoreConsumer = this.kafka.createAssignedConsumer({ isolationLevel: 'read_committed', autoOffsetReset: 'earliest', clientId: `${this.config.clientId}-restore` })
      this.restorer = new ChangelogRestorer(this.restoreConsumer, this.admin, this.config.restoreBatchSize, {
        onBatch: (p, n, remaining) => this.onRestoreBatch(p, n, remaining),
        onStoreDone: (p) => this.onRestoreDone(p)
      })
      this.consumer = this.kafka.createGroupConsumer({
        groupId: applicationId,
        isolationLevel: 'read_committed',
        autoOffsetReset: this.config.autoOffsetReset,
        sessionTimeoutMs: this.config.sessionTimeoutMs,
        heartbeatIntervalMs: this.config.heartbeatIntervalMs,
        rebalanceTimeoutMs: this.config.rebalanceTimeoutMs,
        clientId: `${this.config.clientId}-consumer`
      })
      const inputs = [...new Set(this.metadata.subtopologies.flatMap((s) => s.sourceTopics))]
      this.consumer.subscribe(inputs, {
        onPartitionsRevoked: async (tps) => { await this.onRevoked(tps) },
        onPartitionsLost: async (tps) => { await this.onLost(tps) },
        onPartitionsAssigned: async (tps) => { await this.onAssigned(tps) }
      })
    } catch (error) {
      this.logger.error('start failed', { applicationId, ...errorFields(error) })
      await this.releaseResources()
      this.machine.transition('ERROR')
      throw error
    }
    this.machine.transition('REBALANCING')
    this.lastCommitMs = Date.now()
    this.loop = this.runLoop().catch(async (error: unknown) => { await this.fail(error) })
  }

  /** Resolves when the app reaches `target`; rejects on timeout or when it stops (ERROR, NOT_RUNNING) first. */
  async waitForState (target: AppState, timeoutMs = 60_000): Promise<void> {
    if (this.state === target) return
    await new Promise<void>((resolve, reject) => {
      const finish = (error?: Error): void => {
        clearTimeout(timer)
        off()
        if (error === undefined) resolve()
        else reject(error)
      }
      const off = this.machine.onChange((next) => {
        if (next === target) finish()
        else if (next === 'ERROR' || next === 'NOT_RUNNING') finish(new DevtripError('DEVTRIP_PROCESSING', `the app went to ${next} while waiting for ${target}`))
      })
      const timer = setTimeout(() => { finish(new DevtripError('DEVTRIP_TIMEOUT', `the app did not reach ${target} within ${timeoutMs} ms (it is ${this.state})`)) }, timeoutMs)
    })
  }

  /**
   * Graceful shutdown: the loop stops after its current turn, running tasks commit, stores close cleanly (so the
   * next start restores nothing), the member leaves the group, clients close. Idempotent.
   */
  async close (options: CloseOptions = {}): Promise<void> {
    this.closing ??= this.shutdown(options.timeoutMs ?? 30_000)
    await this.closing
  }

  /** SIGTERM / SIGINT → close() → process.exit (0 when the close was clean). Returns a function that uninstalls. */
  installSignalHandlers (options: { timeoutMs?: number, exit?: boolean } = {}): () => void {
    const handler = (signal: NodeJS.Signals): void => {
      this.logger.info(`${signal}: closing`, { applicationId: this.config.applicationId })
      this.close({ timeoutMs: options.timeoutMs }).then(
        () => { if (options.exit !== false) process.exit(this.state === 'NOT_RUNNING' ? 0 : 1) },
        (error: unknown) => {
          this.logger.error('close after a signal failed', errorFields(error))
          if (options.exit !== false) process.exit(1)
        })
    }
    process.once('SIGTERM', handler)
    process.once('SIGINT', handler)
    return () => {
      process.removeListener('SIGTERM', handler)
      process.removeListener('SIGINT', handler)
    }
  }

  /** The store `name` of this instance's running task for `partition` (interactive queries), or undefined. */
  store<S extends StateStore = StateStore> (name: string, partition: number): S | undefined {
    for (const m of this.tasks.values()) {
      if (m.status !== 'running' || m.spec.partition !== partition) continue
      const store = m.task.getStore(name)
      if (store !== undefined) return store as S
    }
    return undefined
  }

  localTasks (): LocalTaskInfo[] {
    return [...this.tasks.values()].map((m) => ({
      taskId: m.spec.id,
      subtopologyId: m.spec.subtopologyId,
      partition: m.spec.partition,
      status: m.status,
      inputPartitions: m.task.inputPartitions,
      stores: (this.metadata.subtopologies.find((s) => s.id === m.spec.subtopologyId)?.stores ?? []).map((s) => s.name)
    }))
  }

  // ---- the loop ----

  private async runLoop (): Promise<void> {
    while (!this.stopRequested) {
      try {
        await this.iteration()
      } catch (error) {
        await this.onLoopError(error)
      }
      await yieldToLoop()
    }
  }

  private async iteration (): Promise<void> {
    const restorer = this.restorer as ChangelogRestorer
    const consumer = this.consumer as KafkaGroupConsumer
    if (this.pendingSpecs.length > 0) await this.createPendingTasks()
    const busy = this.hasProcessableRecords(Date.now())
    let batches: PartitionBatch[]
    try {
      if (restorer.active) {
        for (const task of await restorer.step(busy ? 0 : 10)) this.startTask(task.id)
      }
      batches = await consumer.poll(busy || restorer.active ? 0 : this.config.fetchMaxWaitMs)
    } catch (error) {
      throw isDevtripError(error, 'DEVTRIP_KAFKA') ? new ReadFailure(error) : error
    }
    if (this.stopRequested) return
    this.route(batches)
    const now = Date.now()
    this.updateLag(now)
    this.processTasks(now)
    this.punctuate(now)
    this.relieveBackpressure()
    if (now - this.lastCommitMs >= this.config.commitIntervalMs) await this.commitAll('interval')
    this.updateRunningState()
  }

  private hasProcessableRecords (now: number): boolean {
    for (const m of this.tasks.values()) if (m.status === 'running' && m.task.bufferedRecords() > 0 && m.task.isProcessable(now)) return true
    return false
  }

  private route (batches: readonly PartitionBatch[]): void {
    const consumer = this.consumer as KafkaGroupConsumer
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
      if (buffered >= this.config.maxBufferedRecordsPerPartition && !this.backpressured.has(key)) {
        consumer.pause([batch])
        this.backpressured.set(key, { topic: batch.topic, partition: batch.partition })
      }
    }
  }

  /** Tells tasks which partitions have unfetched data (maxTaskIdleMs) and samples consumer lag. */
  private updateLag (now: number): void {
    const states = (this.consumer as KafkaGroupConsumer).partitionStates()
    const sample = now - this.lastLagSampleMs >= LAG_SAMPLE_MS
    if (sample) this.lastLagSampleMs = now
    for (const s of states) {
      const m = this.byPartition.get(topicPartitionKey(s))
      const lag = s.position !== null && s.lastStableOffset !== null ? s.lastStableOffset - s.position : null
      if (m !== undefined && m.status === 'running') m.task.setPartitionLag(s, lag !== null && lag > 0n)
      if (sample && lag !== null) this.metrics.consumerLag.set({ ...this.labels, topic: s.topic, partition: String(s.partition) }, Number(lag > 0n ? lag : 0n))
    }
  }

  private processTasks (now: number): void {
    const running = [...this.tasks.values()].filter((m) => m.status === 'running')
    if (running.length === 0) return
    const chunk = this.config.processChunkRecords
    const started = performance.now()
    let total = 0
    const first = this.roundRobin++ % running.length
    for (let i = 0; i < running.length; i++) {
      const m = running[(first + i) % running.length] as ManagedTask
      let n = 0
      // a TaskFailure (handler said `fail`) propagates: onLoopError takes the app to ERROR
      while (n < chunk && m.task.isProcessable(now) && m.task.process()) n++
      if (n > 0) {
        total += n
        this.metrics.recordsProcessed.inc({ ...this.labels, topic: m.topicLabel }, n)
      }
    }
    if (total > 0) {
      this.processed += total
      this.metrics.processLatency.observe(this.labels, (performance.now() - started) / 1000 / total)
    }
  }

  private punctuate (now: number): void {
    for (const m of this.tasks.values()) if (m.status === 'running') m.task.maybePunctuateSystemTime(now)
  }

  private relieveBackpressure (): void {
    if (this.backpressured.size === 0) return
    const consumer = this.consumer as KafkaGroupConsumer
    const low = Math.floor(this.config.maxBufferedRecordsPerPartition / 2)
    for (const [key, tp] of this.backpressured) {
      const m = this.byPartition.get(key)
      if (m !== undefined && m.status === 'running' && m.task.bufferedRecords(tp) > low) continue
      this.backpressured.delete(key)
      if (m !== undefined && m.status === 'running') consumer.resume([tp])
    }
  }

  private updateRunningState (): void {
    if (this.stopRequested || this.state !== 'REBALANCING' || !this.assigned) return
    if (this.pendingSpecs.length > 0 || (this.restorer as ChangelogRestorer).active) return
    for (const m of this.tasks.values()) if (m.status !== 'running') return
    this.machine.transition('RUNNING')
  }

  // ---- commit ----

  /**
   * Commits every running task that processed something: Kafka first (checkpoint.ts), then each task's stores
   * with the changelog offsets the commit produced. Throws what the Kafka side threw (the caller recovers).
   */
  private async commitAll (reason: string): Promise<void> {
    const checkpoint = this.checkpoint as Checkpoint
    const consumer = this.consumer as KafkaGroupConsumer
    this.lastCommitMs = Date.now()
    const committing = [...this.tasks.values()].filter((m) => m.status === 'running' && m.task.commitNeeded())
    if (committing.length === 0 && checkpoint.uncommittedRecords === 0 && !checkpoint.inTransaction) return
    const started = performance.now()
    const offsets: TopicPartitionOffset[] = committing.flatMap((m) => m.task.committableOffsets())
    const outcome = await checkpoint.commit({
      offsets,
      groupMetadata: () => consumer.groupMetadata(),
      commitOffsets: async (o) => { await consumer.commitOffsets(o) }
    })
    // Kafka has committed: now the state writes of the transaction become durable, with their checkpoints
    await Promise.all(committing.map(async (m) => {
      const ends = new Map<string, bigint>()
      for (const tp of m.task.changelogPartitions()) {
        const end = outcome.changelogEnds.get(topicPartitionKey(tp))
        if (end !== undefined) ends.set(tp.topic, end)
      }
      await m.task.commitStores(ends)
    }))
    const seconds = (performance.now() - started) / 1000
    this.commitCount++
    this.consecutiveFailures = 0
    this.metrics.commits.inc(this.labels)
    this.metrics.commitLatency.observe(this.labels, seconds)
    this.sampleStoreSizes(committing)
    if (DIAGNOSTICS.commit.hasSubscribers) {
      DIAGNOSTICS.commit.publish({
        applicationId: this.config.applicationId,
        reason,
        tasks: committing.map((m) => m.spec.id),
        offsets,
        records: outcome.records,
        durationMs: seconds * 1000
      })
    }
  }

  private sampleStoreSizes (committed: readonly ManagedTask[]): void {
    for (const m of committed) {
      const sub = this.metadata.subtopologies.find((s) => s.id === m.spec.subtopologyId)
      for (const { name } of sub?.stores ?? []) {
        const store = m.task.getStore(name) as (StateStore & { approximateNumEntries?: () => number }) | undefined
        if (typeof store?.approximateNumEntries !== 'function') continue
        this.metrics.storeEntries.set({ ...this.labels, store: name, partition: String(m.spec.partition) }, store.approximateNumEntries())
      }
    }
  }

  // ---- failures ----

  private async onLoopError (error: unknown): Promise<void> {
    if (this.stopRequested && this.closing !== undefined) return
    this.consecutiveFailures++
    const tooMany = this.consecutiveFailures > this.config.maxConsecutiveFailures
    if (error instanceof ReadFailure) {
      if (tooMany) {
        await this.fail(error.error)
        return
      }
      this.logger.warn('reading from Kafka failed; trying again', { applicationId: this.config.applicationId, attempt: this.consecutiveFailures, ...errorFields(error.error) })
    } else {
      const fatal = tooMany || !isDevtripError(error) || ['DEVTRIP_PROCESSING', 'DEVTRIP_INVALID_OPTIONS', 'DEVTRIP_UNKNOWN_TOPIC', 'DEVTRIP_SERDE'].includes(error.code)
      if (fatal) {
        await this.fail(error)
        return
      }
      this.logger.warn(`recovering from ${error.code}`, { applicationId: this.config.applicationId, attempt: this.consecutiveFailures, ...errorFields(error) })
      try {
        if (REJOIN_CODES.has(error.code)) await this.recoverByRejoining(error)
        else await this.recoverByRewinding(error.code)
      } catch (recoveryError) {
        await this.fail(recoveryError)
        return
      }
    }
    // back off on repeated failures so a broken broker is not hammered (never a tight crash loop)
    await sleep(Math.min(50 * 2 ** (this.consecutiveFailures - 1), 5000))
  }

  /**
   * A failure that left the group identity intact (a send or commit that failed, a broker hiccup): abort, throw
   * away everything uncommitted — tasks are recreated, so processor fields go back too — and fetch again from the
   * committed offsets. Stores restore the changelog tail beyond their checkpoint.
   */
  private async recoverByRewinding (reason: string): Promise<void> {
    await this.abortTransaction(reason)
    const specs = [...this.tasks.values()].map((m) => m.spec)
    await this.closeTasks([...this.tasks.values()], 'dirty')
    const consumer = this.consumer as KafkaGroupConsumer
    const assigned = new Set(consumer.assignment().map(topicPartitionKey))
    const inputs = specs.flatMap((s) => s.inputTopics.map((topic) => ({ topic, partition: s.partition }))).filter((tp) => assigned.has(topicPartitionKey(tp)))
    if (inputs.length > 0) {
      for (const c of await consumer.committed(inputs)) consumer.seek(c, c.offset ?? this.config.autoOffsetReset)
    }
    await this.createTasks(specs.filter((s) => s.inputTopics.some((topic) => assigned.has(topicPartitionKey({ topic, partition: s.partition })))))
  }

  /**
   * Fenced (another producer took our transactional id, or the coordinator aborted an overdue transaction) or
   * migrated (our generation is stale): the partitions may belong to someone else now. Close the tasks dirty,
   * replace a fenced producer, and rejoin the group.
   */
  private async recoverByRejoining (error: DevtripError): Promise<void> {
    const replaced = await this.abortTransaction(error.code)
    await this.closeTasks([...this.tasks.values()], 'dirty')
    this.pendingSpecs = []
    if (error.code === 'DEVTRIP_KAFKA_FENCED' && !replaced) await this.replaceProducer()
    ;(this.consumer as KafkaGroupConsumer).requestRejoin()
    this.assigned = false
    if (this.state === 'RUNNING') this.machine.transition('REBALANCING')
  }

  /** Aborts the open transaction (if any); returns true when the producer had to be replaced (it was fenced). */
  private async abortTransaction (reason: string): Promise<boolean> {
    const checkpoint = this.checkpoint as Checkpoint
    const hadTransaction = checkpoint.inTransaction
    const failure = await checkpoint.abort()
    if (hadTransaction) this.metrics.transactionsAborted.inc({ ...this.labels, reason })
    if (DIAGNOSTICS.commit.hasSubscribers) DIAGNOSTICS.commit.publish({ applicationId: this.config.applicationId, aborted: true, reason })
    if (failure !== undefined) {
      this.logger.warn('aborting the transaction failed; the coordinator aborts it (fenced producer or timeout)', errorFields(failure))
      if (isDevtripError(failure, 'DEVTRIP_KAFKA_FENCED')) {
        await this.replaceProducer()
        return true
      }
    }
    return false
  }

  private async replaceProducer (): Promise<void> {
    await this.producer?.close().catch((e: unknown) => { this.logger.debug('closing the old producer failed', errorFields(e)) })
    this.producer = await this.createProducer()
    ;(this.checkpoint as Checkpoint).replaceProducer(this.producer)
  }

  private async createProducer (): Promise<KafkaProducer> {
    if (!this.exactlyOnce) return this.kafka.createProducer({ clientId: `${this.config.clientId}-producer` })
    const producer = this.kafka.createProducer({
      transactionalId: this.transactionalId as string,
      transactionTimeoutMs: this.config.transactionTimeoutMs,
      clientId: `${this.config.clientId}-producer`
    })
    try {
      // fences an older producer with our id and aborts what it left open (a previous run killed with -9)
      await producer.initTransactions()
    } catch (error) {
      await producer.close().catch(() => undefined)
      throw error
    }
    return producer
  }

  /** Handler said `fail`, or recovery is hopeless: abort, close everything (stores cleanly), state ERROR. */
  private async fail (error: unknown): Promise<void> {
    this.logger.error('stream processing failed; the app stops (state ERROR)', { applicationId: this.config.applicationId, ...errorFields(error) })
    this.stopRequested = true
    try {
      if (this.checkpoint !== undefined) await this.abortTransaction('failure')
      await this.closeTasks([...this.tasks.values()], 'dirty')
    } catch (closeError) {
      this.logger.error('closing tasks after a failure failed', errorFields(closeError))
    }
    await this.releaseResources()
    if (this.state !== 'ERROR' && this.state !== 'NOT_RUNNING') this.machine.transition('ERROR')
  }

  // ---- rebalance callbacks (run inside poll) ----

  private async onRevoked (partitions: readonly TopicPartition[]): Promise<void> {
    this.publishRebalance('revoked', partitions)
    this.assigned = false
    if (this.state === 'RUNNING') this.machine.transition('REBALANCING')
    if (this.stopRequested) return
    try {
      await this.commitAll('rebalance')
      // keep the committed tasks (suspended): if the sticky assignor gives them back, nothing is reopened or restored
      for (const m of this.tasks.values()) {
        if (m.status === 'running') {
          m.task.abortStores()
          m.status = 'suspended'
        } else if (m.status === 'restoring') {
          await this.closeTasks([m], 'clean')
        }
      }
    } catch (error) {
      this.logger.warn('commit before revocation failed; closing the tasks without it', { applicationId: this.config.applicationId, ...errorFields(error) })
      const replaced = await this.abortTransaction(isDevtripError(error) ? error.code : 'revocation')
      await this.closeTasks([...this.tasks.values()], 'dirty')
      if (isDevtripError(error, 'DEVTRIP_KAFKA_FENCED') && !replaced) await this.replaceProducer()
    }
    this.backpressured.clear()
    this.pendingSpecs = []
  }

  private async onLost (partitions: readonly TopicPartition[]): Promise<void> {
    this.publishRebalance('lost', partitions)
    this.assigned = false
    if (this.state === 'RUNNING') this.machine.transition('REBALANCING')
    await this.abortTransaction('partitions-lost')
    await this.closeTasks([...this.tasks.values()], 'dirty')
    this.backpressured.clear()
    this.pendingSpecs = []
  }

  private async onAssigned (partitions: readonly TopicPartition[]): Promise<void> {
    this.publishRebalance('assigned', partitions)
    if (this.stopRequested) return
    const specs = taskSpecsFor(this.metadata, partitions)
    const reused: TaskSpec[] = []
    for (const m of [...this.tasks.values()]) {
      const spec = specs.find((s) => s.id === m.spec.id)
      if (m.status === 'suspended' && spec !== undefined && sameSpec(spec, m.spec)) {
        m.status = 'running'
        reused.push(spec)
      } else {
        await this.closeTasks([m], 'clean')
      }
    }
    await this.createTasks(specs.filter((s) => !reused.includes(s)))
    this.assigned = true
  }

  private publishRebalance (phase: string, partitions: readonly TopicPartition[]): void {
    this.logger.info(`partitions ${phase}`, { applicationId: this.config.applicationId, partitions: partitions.map(topicPartitionKey) })
    if (DIAGNOSTICS.rebalance.hasSubscribers) DIAGNOSTICS.rebalance.publish({ applicationId: this.config.applicationId, phase, partitions })
  }

  // ---- tasks ----

  /** Creates and opens tasks; their input stays paused until their stores are restored. */
  private async createTasks (specs: readonly TaskSpec[]): Promise<void> {
    const consumer = this.consumer as KafkaGroupConsumer
    const opened: StreamTask[] = []
    for (const spec of specs) {
      const inputs = spec.inputTopics.map((topic) => ({ topic, partition: spec.partition }))
      consumer.pause(inputs)
      let task: StreamTask | undefined
      try {
        await this.stateDirectory.lockTask(spec.id)
        task = this.newTask(spec)
        await task.initializeStores()
      } catch (error) {
        await task?.close().catch(() => undefined)
        if (!isDevtripError(error) || !error.canRetry) throw error
        // e.g. the previous owner in this state dir has not let go yet: try again on a later loop turn
        this.logger.warn(`task ${spec.id} cannot open yet; retrying`, errorFields(error))
        this.pendingSpecs.push(spec)
        continue
      }
      const m: ManagedTask = { spec, task, status: 'restoring', topicLabel: spec.inputTopics.join(',') }
      this.tasks.set(spec.id, m)
      for (const tp of inputs) this.byPartition.set(topicPartitionKey(tp), m)
      opened.push(task)
    }
    this.metrics.tasks.set(this.labels, this.tasks.size)
    if (opened.length === 0) return
    let ready: StreamTask[]
    try {
      ready = await (this.restorer as ChangelogRestorer).add(opened)
    } catch (error) {
      // e.g. listing the changelog end offsets failed: close them (nothing was processed) and retry later
      this.logger.warn('cannot start restoring; retrying', errorFields(error))
      const failed = opened.map((t) => this.tasks.get(t.id) as ManagedTask)
      await this.closeTasks(failed, 'clean')
      this.pendingSpecs.push(...failed.map((m) => m.spec))
      return
    }
    for (const task of ready) this.startTask(task.id)
  }

  private async createPendingTasks (): Promise<void> {
    const specs = this.pendingSpecs
    this.pendingSpecs = []
    const assigned = new Set((this.consumer as KafkaGroupConsumer).assignment().map(topicPartitionKey))
    await this.createTasks(specs.filter((s) => s.inputTopics.every((topic) => assigned.has(topicPartitionKey({ topic, partition: s.partition })))))
    if (this.pendingSpecs.length > 0) await sleep(100)
  }

  private newTask (spec: TaskSpec): StreamTask {
    const layout = this.layout as TopicLayout
    const listener: TaskListener = {
      onHandledError: (event) => { this.onHandledError(event) },
      onSkippedRecord: (event) => { this.logger.debug('record skipped', { taskId: event.taskId, processor: event.processor, reason: event.reason }) }
    }
    return new StreamTask({
      applicationId: this.config.applicationId,
      topology: this.topology,
      subtopologyId: spec.subtopologyId,
      partition: spec.partition,
      inputTopics: spec.inputTopics,
      collector: this.checkpoint as Checkpoint,
      partitionsFor: (topic) => {
        const n = layout.partitions.get(topic)
        if (n === undefined) throw new DevtripError('DEVTRIP_UNKNOWN_TOPIC', `the app does not know topic "${topic}" (not a source, sink or internal topic of the topology)`, { details: { topic } })
        return n
      },
      stateDir: this.config.stateDir,
      maxTaskIdleMs: this.config.maxTaskIdleMs,
      errorHandling: this.errorHandling,
      rocksdb: this.config.rocksdb,
      listener
    })
  }

  private startTask (taskId: string): void {
    const m = this.tasks.get(taskId)
    if (m === undefined || m.status !== 'restoring') return
    m.task.startProcessing()
    m.status = 'running'
    const consumer = this.consumer as KafkaGroupConsumer
    const assigned = new Set(consumer.assignment().map(topicPartitionKey))
    consumer.resume(m.task.inputPartitions.filter((tp) => assigned.has(topicPartitionKey(tp))))
  }

  /**
   * Closes tasks. 'clean': after a commit (or with nothing to commit) — processors and stores close normally.
   * 'dirty': uncommitted store writes are dropped first; the stores keep their last committed batch and checkpoint.
   */
  private async closeTasks (tasks: readonly ManagedTask[], mode: 'clean' | 'dirty'): Promise<void> {
    for (const m of tasks) {
      if (mode === 'dirty') m.task.abortStores()
      ;(this.restorer as ChangelogRestorer | undefined)?.remove(m.spec.id)
      try {
        await m.task.close()
      } catch (error) {
        this.logger.warn(`task ${m.spec.id} did not close cleanly`, errorFields(error))
      }
      this.tasks.delete(m.spec.id)
      for (const tp of m.task.inputPartitions) {
        const key = topicPartitionKey(tp)
        if (this.byPartition.get(key) === m) this.byPartition.delete(key)
        this.backpressured.delete(key)
      }
      await this.stateDirectory.unlockTask(m.spec.id).catch((e: unknown) => { this.logger.warn(`unlocking task ${m.spec.id} failed`, errorFields(e)) })
    }
    this.metrics.tasks.set(this.labels, this.tasks.size)
  }

  private onHandledError (event: HandledErrorEvent): void {
    const where = event.source === undefined ? 'a punctuator' : `${event.source.topic}-${event.source.partition}@${String(event.source.record.offset)}`
    if (event.action === 'dlq' && event.dlqTopic !== undefined) {
      this.metrics.dlqRecords.inc({ ...this.labels, topic: event.dlqTopic, reason: event.kind })
    }
    this.logger.warn(`${event.kind} error at "${event.processor}" for ${where}: ${event.action}`, {
      applicationId: this.config.applicationId, taskId: event.taskId, dlqTopic: event.dlqTopic, ...errorFields(event.error)
    })
  }

  private onRestoreBatch (progress: RestoreProgress, records: number, remaining: bigint): void {
    this.restored += records
    const labels = { ...this.labels, store: progress.store, partition: String(progress.partition) }
    this.metrics.restoredRecords.inc({ ...this.labels, store: progress.store }, records)
    this.metrics.restoreRemaining.set(labels, Number(remaining > 0n ? remaining : 0n))
  }

  private onRestoreDone (progress: RestoreProgress): void {
    this.metrics.restoreRemaining.set({ ...this.labels, store: progress.store, partition: String(progress.partition) }, 0)
    this.logger.info(`store ${progress.store} of task ${progress.taskId} restored`, { ...progress })
    if (DIAGNOSTICS.restore.hasSubscribers) {
      DIAGNOSTICS.restore.publish({
        applicationId: this.config.applicationId,
        taskId: progress.taskId,
        store: progress.store,
        partition: progress.partition,
        startOffset: progress.startOffset,
        endOffset: progress.endOffset,
        restoredRecords: progress.restoredRecords
      })
    }
  }

  // ---- shutdown ----

  private async shutdown (timeoutMs: number): Promise<void> {
    const state = this.state
    if (state === 'NOT_RUNNING') return
    if (state === 'CREATED' || state === 'ERROR') {
      if (state === 'CREATED') this.machine.transition('PENDING_SHUTDOWN')
      await this.releaseResources()
      this.machine.transition('NOT_RUNNING')
      return
    }
    this.machine.transition('PENDING_SHUTDOWN')
    this.stopRequested = true
    let timer: NodeJS.Timeout | undefined
    const finished = await Promise.race([
      (this.loop ?? Promise.resolve()).then(() => true),
      new Promise<false>((resolve) => { timer = setTimeout(() => { resolve(false) }, timeoutMs) })
    ])
    clearTimeout(timer)
    if (this.state === 'ERROR') {
      // the loop failed while stopping; fail() already released everything
      this.machine.transition('NOT_RUNNING')
      return
    }
    let clean = finished === true
    if (clean) {
      try {
        await this.commitAll('close')
      } catch (error) {
        clean = false
        this.logger.warn('the final commit failed; closing without it', errorFields(error))
        await this.abortTransaction('close')
      }
    } else {
      this.logger.warn(`the loop did not stop within ${timeoutMs} ms; closing without a final commit`, { applicationId: this.config.applicationId })
    }
    await this.closeTasks([...this.tasks.values()], clean ? 'clean' : 'dirty')
    await this.releaseResources()
    this.machine.transition('NOT_RUNNING')
  }

  /** Closes every client (the consumer leaves the group) and releases the instance lock. Never throws. */
  private async releaseResources (): Promise<void> {
    this.stopRequested = true
    const closeQuietly = async (what: string, client: { close (): Promise<void> } | undefined): Promise<void> => {
      try { await client?.close() } catch (error) { this.logger.warn(`closing the ${what} failed`, errorFields(error)) }
    }
    // the consumer's close runs our revoke callback: tasks are closed by then, so it commits nothing
    await closeQuietly('consumer', this.consumer)
    await closeQuietly('restore consumer', this.restoreConsumer)
    await closeQuietly('producer', this.producer)
    await closeQuietly('admin client', this.admin)
    await this.stateDirectory.unlockAll().catch(() => undefined)
    await this.identity?.release().catch(() => undefined)
    this.consumer = undefined
    this.restoreConsumer = undefined
    this.producer = undefined
    this.admin = undefined
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

async function sleep (ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}
