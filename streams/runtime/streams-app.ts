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
import type { TopologyMetadata } from '../internals/topology/metadata'
import type {
  KafkaAdmin, KafkaAssignedConsumer, KafkaClientFactory, KafkaGroupConsumer, KafkaProducer,
  PartitionBatch, TopicPartition, TopicPartitionOffset
} from '../kafka/port'
import { topicPartitionKey } from '../kafka/port'
import type { Topology } from '../topology'
import { AppStateMachine, type AppState, type StateListener } from './app-state'
import { Checkpoint } from './checkpoint'
import { resolveStreamsConfig, type StreamsConfig, type StreamsConfigInput } from './config'
import { acquireInstanceIdentity, type InstanceIdentity } from './instance-id'
import { prepareTopics, type TopicLayout } from './internal-topics'
import { encodeAdvertisement } from './query-advertisement'
import { QueryMetadataResolver, type KeyQueryMetadata, type StoreQueryMetadata } from './query-metadata'
import { errorFields, stderrLogger, type StreamsLogger } from './logger'
import { DIAGNOSTICS, StreamsMetrics } from './metrics'
import { ChangelogRestorer, type RestoreProgress } from './restorer'
import { TaskManager, type LocalTaskInfo } from './task-manager'
import { taskSpecsFor } from './task-specs'
import { NO_SHARED_COLLECTOR, TaskProducers, type CommitSurface } from './task-producers'

export type { LocalTaskInfo, LocalTaskStatus } from './task-manager'

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
  private taskManager: TaskManager | undefined
  private identity: InstanceIdentity | undefined
  private admin: KafkaAdmin | undefined
  private producer: KafkaProducer | undefined
  private consumer: KafkaGroupConsumer | undefined
  private restoreConsumer: KafkaAssignedConsumer | undefined
  private restorer: ChangelogRestorer | undefined
  private checkpoint: Checkpoint | TaskProducers | undefined
  /** exactly-once on a 'group-id-only' adapter: one transactional producer per task (task-producers.ts) */
  private taskProducers: TaskProducers | undefined
  private layout: TopicLayout | undefined
  private resolver: QueryMetadataResolver | undefined
  private loop: Promise<void> | undefined
  private stopRequested = false
  private closing: Promise<void> | undefined
  private lastCommitMs = 0
  private lastLagSampleMs = 0
  private consecutiveFailures = 0
  /** an assignment arrived since the last revocation (RUNNING needs one) */
  private assigned = false
  private restored = 0
  private processed = 0
  private commitCount = 0
  private starting: Promise<void> | undefined
  /** why the app went to ERROR, if it did */
  private failure: unknown

  constructor (topology: Topology, config: StreamsConfigInput, options: StreamsAppOptions = {}) {
    this.config = resolveStreamsConfig(config)
    this.topology = topology
    this.metadata = topology.metadata(this.config.applicationId)
    if (this.metadata.subtopologies.length === 0) {
      throw new DevtripError('DEVTRIP_TOPOLOGY', `application "${this.config.applicationId}": the topology has no sources; add a stream or table first`)
    }
    this.exactlyOnce = this.config.processingGuarantee === 'exactly-once'
    this.kafka = options.clientFactory ?? defaultClients(this.config)
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
    if (this.state !== 'CREATED' || this.starting !== undefined || this.closing !== undefined) {
      throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `start(): the app is ${this.state}; a StreamsApp starts once (create a new one)`)
    }
    this.starting = this.startOnce()
    await this.starting
  }

  private async startOnce (): Promise<void> {
    const { applicationId } = this.config
    try {
      this.identity = await acquireInstanceIdentity(this.config.stateDir, applicationId)
      this.admin = this.kafka.createAdmin()
      this.layout = await prepareTopics(this.admin, this.metadata, {
        replicationFactor: this.config.replicationFactor,
        dlqTopicSuffix: this.mayDeadLetter ? this.errorHandling.dlqTopicSuffix : undefined
      })
      const checkpointOptions = { batchRecords: this.config.producerBatchRecords, changelogTopics: new Set(this.metadata.changelogTopics.map((c) => c.topic)) }
      if (this.exactlyOnce && this.kafka.capabilities.transactionalOffsetFencing === 'group-id-only') {
        const { applicationId: id, clientId, transactionTimeoutMs } = this.config
        this.taskProducers = new TaskProducers(this.kafka, { applicationId: id, clientId, transactionTimeoutMs, checkpoint: checkpointOptions })
        this.checkpoint = this.taskProducers
      } else {
        this.producer = await this.createProducer()
        this.checkpoint = new Checkpoint(this.producer, { exactlyOnce: this.exactlyOnce, ...checkpointOptions })
      }
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
        clientId: `${this.config.clientId}-consumer`,
        // interactive queries: the group tells anyone who asks where this instance serves its stores
        ...(this.config.applicationServer === undefined ? {} : { userData: encodeAdvertisement({ applicationServer: this.config.applicationServer, instanceId: this.identity.instanceId }) })
      })
      this.taskManager = new TaskManager({
        config: this.config,
        topology: this.topology,
        metadata: this.metadata,
        partitions: this.layout.partitions,
        collector: this.taskProducers === undefined ? this.checkpoint as Checkpoint : NO_SHARED_COLLECTOR,
        ...(this.taskProducers === undefined ? {} : { taskCollectors: this.taskProducers }),
        consumer: this.consumer,
        restorer: this.restorer,
        stateDirectory: this.stateDirectory,
        errorHandling: this.errorHandling,
        logger: this.logger,
        metrics: this.metrics
      })
      const inputs = [...new Set(this.metadata.subtopologies.flatMap((s) => s.sourceTopics))]
      this.consumer.subscribe(inputs, {
        onPartitionsRevoked: async (tps) => { await this.onRevoked(tps) },
        onPartitionsLost: async (tps) => { await this.onLost(tps) },
        onPartitionsAssigned: async (tps) => { await this.onAssigned(tps) }
      })
    } catch (error) {
      this.logger.error('start failed', { applicationId, ...errorFields(error) })
      this.failure = error
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
        () => { if (options.exit !== false) process.exit(this.state === 'NOT_RUNNING' && this.failure === undefined ? 0 : 1) },
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
    return this.taskManager?.store(name, partition) as S | undefined
  }

  localTasks (): LocalTaskInfo[] {
    return this.taskManager?.info() ?? []
  }

  /** Which instance holds `key` (the record key: a string or its bytes) of store `storeName` (query-metadata.ts). */
  async queryMetadataForKey (storeName: string, key: string | Uint8Array): Promise<KeyQueryMetadata> {
    return await this.queryMetadata().queryMetadataForKey(storeName, key)
  }

  /** Every instance holding partitions of `storeName`, with its advertised address (query-metadata.ts). */
  async allMetadataForStore (storeName: string): Promise<StoreQueryMetadata> {
    return await this.queryMetadata().allMetadataForStore(storeName)
  }

  private queryMetadata (): QueryMetadataResolver {
    const admin = (): KafkaAdmin => {
      if (this.admin === undefined) throw new DevtripError('DEVTRIP_CLOSED', `application "${this.config.applicationId}" is ${this.state}: query metadata needs a started app`)
      return this.admin
    }
    this.resolver ??= new QueryMetadataResolver({
      describeGroups: async (ids) => await admin().describeGroups(ids),
      describeTopics: async (names) => await admin().describeTopics(names)
    }, this.metadata, { partitionsOf: (topic) => this.layout?.partitions.get(topic) })
    return this.resolver
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
    const tasks = this.taskManager as TaskManager
    if (tasks.hasPending) {
      await tasks.createPendingTasks()
      if (tasks.hasPending) await sleep(100)
    }
    const busy = tasks.hasProcessableRecords(Date.now())
    let batches: PartitionBatch[]
    try {
      if (restorer.active) {
        for (const task of await restorer.step(busy ? 0 : 10)) tasks.startTask(task.id)
      }
      batches = await consumer.poll(busy || restorer.active ? 0 : this.config.fetchMaxWaitMs)
    } catch (error) {
      throw isDevtripError(error, 'DEVTRIP_KAFKA') ? new ReadFailure(error) : error
    }
    if (this.stopRequested) return
    tasks.route(batches)
    const now = Date.now()
    const sampleLag = now - this.lastLagSampleMs >= LAG_SAMPLE_MS
    if (sampleLag) this.lastLagSampleMs = now
    tasks.updateLag(sampleLag)
    const started = performance.now()
    const processed = tasks.processTasks(now)
    if (processed > 0) {
      this.processed += processed
      this.metrics.processLatency.observe(this.labels, (performance.now() - started) / 1000 / processed)
    }
    tasks.punctuate(now)
    tasks.relieveBackpressure()
    if (now - this.lastCommitMs >= this.config.commitIntervalMs) await this.commitAll('interval')
    this.updateRunningState()
  }

  private updateRunningState (): void {
    if (this.stopRequested || this.state !== 'REBALANCING' || !this.assigned) return
    if ((this.restorer as ChangelogRestorer).active || !(this.taskManager as TaskManager).allRunning()) return
    this.machine.transition('RUNNING')
  }

  // ---- commit ----

  /**
   * Commits every running task that processed something: Kafka first (checkpoint.ts), then each task's stores
   * with the changelog offsets the commit produced. Throws what the Kafka side threw (the caller recovers).
   */
  private async commitAll (reason: string): Promise<void> {
    const checkpoint = this.checkpoint as CommitSurface
    const consumer = this.consumer as KafkaGroupConsumer
    this.lastCommitMs = Date.now()
    const committing = (this.taskManager as TaskManager).running().filter((m) => m.task.commitNeeded())
    if (committing.length === 0 && checkpoint.uncommittedRecords === 0 && !checkpoint.inTransaction) return
    const started = performance.now()
    const offsets: TopicPartitionOffset[] = committing.flatMap((m) => m.task.committableOffsets())
    const outcome = await checkpoint.commit({
      offsets,
      groupMetadata: () => consumer.groupMetadata(),
      commitOffsets: async (o) => { await consumer.commitOffsets(o) }
    })
    // Kafka has committed: now the state writes of the transaction become durable, with their checkpoints
    const checkpointed: string[] = []
    await Promise.all(committing.map(async (m) => {
      const ends = new Map<string, bigint>()
      for (const tp of m.task.changelogPartitions()) {
        const end = outcome.changelogEnds.get(topicPartitionKey(tp))
        if (end !== undefined) ends.set(tp.topic, end)
      }
      if (ends.size > 0) checkpointed.push(m.spec.id)
      await m.task.commitStores(ends)
    }))
    const seconds = (performance.now() - started) / 1000
    this.commitCount++
    this.consecutiveFailures = 0
    this.metrics.commits.inc(this.labels)
    this.metrics.commitLatency.observe(this.labels, seconds)
    ;(this.taskManager as TaskManager).sampleStoreSizes(committing)
    if (DIAGNOSTICS.commit.hasSubscribers) {
      DIAGNOSTICS.commit.publish({
        applicationId: this.config.applicationId,
        reason,
        tasks: committing.map((m) => m.spec.id),
        // the tasks whose stores got a new changelog checkpoint (a commit without store writes leaves none)
        checkpointedTasks: checkpointed,
        offsets,
        records: outcome.records,
        durationMs: seconds * 1000
      })
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
        // e.g. reading the committed offsets failed: fall back to a rejoin, whose callbacks rebuild every task
        // from the group's committed offsets; only a hopeless case stops the app
        if (tooMany || !isDevtripError(recoveryError) || !recoveryError.canRetry) {
          await this.fail(recoveryError)
          return
        }
        this.logger.warn('recovery failed; rejoining the group instead', { applicationId: this.config.applicationId, ...errorFields(recoveryError) })
        await (this.taskManager as TaskManager).closeAll('dirty')
        ;(this.consumer as KafkaGroupConsumer).requestRejoin()
        this.assigned = false
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
    const tasks = this.taskManager as TaskManager
    const specs = tasks.all().map((m) => m.spec)
    await tasks.closeAll('dirty')
    const consumer = this.consumer as KafkaGroupConsumer
    const assigned = new Set(consumer.assignment().map(topicPartitionKey))
    const stillAssigned = specs.filter((s) => s.inputTopics.every((topic) => assigned.has(topicPartitionKey({ topic, partition: s.partition }))))
    // the committed offsets are read inside, after the tasks' producers are open again (task-manager.ts assign())
    await tasks.createTasks(stillAssigned, { seekToCommitted: true })
  }

  /**
   * Fenced (another producer took our transactional id, or the coordinator aborted an overdue transaction) or
   * migrated (our generation is stale): the partitions may belong to someone else now. Close the tasks dirty,
   * replace a fenced producer, and rejoin the group.
   */
  private async recoverByRejoining (error: DevtripError): Promise<void> {
    const replaced = await this.abortTransaction(error.code)
    await (this.taskManager as TaskManager).closeAll('dirty')
    if (error.code === 'DEVTRIP_KAFKA_FENCED' && !replaced) await this.replaceProducer()
    ;(this.consumer as KafkaGroupConsumer).requestRejoin()
    this.assigned = false
    if (this.state === 'RUNNING') this.machine.transition('REBALANCING')
  }

  /** Aborts the open transaction (if any); returns true when the producer had to be replaced (it was fenced). */
  private async abortTransaction (reason: string): Promise<boolean> {
    const checkpoint = this.checkpoint as CommitSurface
    const hadTransaction = checkpoint.inTransaction
    const failure = await checkpoint.abort()
    if (hadTransaction) {
      this.metrics.transactionsAborted.inc({ ...this.labels, reason })
      if (DIAGNOSTICS.commit.hasSubscribers) DIAGNOSTICS.commit.publish({ applicationId: this.config.applicationId, aborted: true, reason })
    }
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
    // per-task producers are replaced with their tasks (closed dirty, created again after the rejoin)
    if (this.taskProducers !== undefined) return
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
    this.failure ??= error
    this.logger.error('stream processing failed; the app stops (state ERROR)', { applicationId: this.config.applicationId, ...errorFields(error) })
    this.stopRequested = true
    try {
      if (this.checkpoint !== undefined) await this.abortTransaction('failure')
      await this.taskManager?.closeAll('dirty')
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
    const tasks = this.taskManager as TaskManager
    try {
      // we still own the partitions: commit, then keep the tasks suspended in case they come back
      await this.commitAll('rebalance')
      await tasks.suspendAll()
    } catch (error) {
      this.logger.warn('commit before revocation failed; closing the tasks without it', { applicationId: this.config.applicationId, ...errorFields(error) })
      const replaced = await this.abortTransaction(isDevtripError(error) ? error.code : 'revocation')
      await tasks.closeAll('dirty')
      if (isDevtripError(error, 'DEVTRIP_KAFKA_FENCED') && !replaced) await this.replaceProducer()
    }
  }

  private async onLost (partitions: readonly TopicPartition[]): Promise<void> {
    this.publishRebalance('lost', partitions)
    this.assigned = false
    if (this.state === 'RUNNING') this.machine.transition('REBALANCING')
    await this.abortTransaction('partitions-lost')
    await (this.taskManager as TaskManager).closeAll('dirty')
  }

  private async onAssigned (partitions: readonly TopicPartition[]): Promise<void> {
    this.publishRebalance('assigned', partitions)
    if (this.stopRequested) return
    await (this.taskManager as TaskManager).assign(taskSpecsFor(this.metadata, partitions))
    this.assigned = true
  }

  private publishRebalance (phase: string, partitions: readonly TopicPartition[]): void {
    this.logger.info(`partitions ${phase}`, { applicationId: this.config.applicationId, partitions: partitions.map(topicPartitionKey) })
    if (DIAGNOSTICS.rebalance.hasSubscribers) DIAGNOSTICS.rebalance.publish({ applicationId: this.config.applicationId, phase, partitions })
  }

  // ---- restore progress ----

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
    // a close() during start() waits for the start to finish (or fail) first
    await this.starting?.catch(() => undefined)
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
    await this.taskManager?.closeAll(clean ? 'clean' : 'dirty')
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
    await closeQuietly('task producers', this.taskProducers === undefined ? undefined : { close: async () => { await this.taskProducers?.closeAll() } })
    await closeQuietly('admin client', this.admin)
    await this.stateDirectory.unlockAll().catch(() => undefined)
    await this.identity?.release().catch(() => undefined)
    this.consumer = undefined
    this.restoreConsumer = undefined
    this.producer = undefined
    this.admin = undefined
  }
}

/**
 * The configured adapter (`client`, @platformatic/kafka by default), loaded only when an app is created without a factory: importing streams/
 * (e.g. for the TopologyTestDriver) must not load a Kafka client library.
 */
function defaultClients (config: StreamsConfig): KafkaClientFactory {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createKafkaClients } = require('../kafka') as typeof import('../kafka')
  return createKafkaClients({ brokers: config.bootstrapServers, clientId: config.clientId }, config.client)
}

async function sleep (ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}
