/**
 * TopologyTestDriver: runs a Topology in memory, deterministically, without a broker — with the SAME StreamTask
 * class the Kafka runtime uses. Every topic is an in-memory log; records a task writes to a topic the topology
 * reads (repartition topics, or `to()` a topic another sub-topology reads) are delivered to the reading task.
 *
 * Each pipeInput() is processed to completion (including everything it triggers downstream), then every task
 * commits its stores, as Kafka Streams' driver does; a task failure aborts the stores back to the last commit and
 * is rethrown to the test.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Ajv from 'ajv'
import { DevtripError } from '../events/errors'
import type { KeyValueStore, ReadOnlyKeyValueStore, ReadOnlyWindowStore, StateStore, WindowStore } from '../state/base/types'
import type { Deserializer, Serializer } from '../state/serdes'
import { resolveErrorHandling, type ErrorHandlingOptions } from './error-handling'
import { StreamTask, type TaskListener, type TaskMetrics } from './internals/task/stream-task'
import { changelogTopicName, resolvePartitionCounts, type TopologyMetadata } from './internals/topology/metadata'
import { partitionForKey } from './partitioner'
import type { Headers } from './record'
import type { ProducedRecord, RecordCollector } from './record-collector'
import { TestInputTopic, TestOutputTopic, type DriverTopics, type StoredRecord } from './test-topics'
import type { Topology } from './topology'

export interface TopologyTestDriverOptions {
  applicationId: string
  /** partitions of every user topic; default 1 */
  partitions?: number
  /** the mocked wall clock's start; default 0 */
  initialWallClockMs?: number
  /** default: dlq everywhere, suffix '.dlq' */
  errorHandling?: ErrorHandlingOptions
  /** stores live here; default a fresh temporary directory, deleted by close() */
  stateDir?: string
  listener?: TaskListener
}

const validateOptions = new Ajv({ useDefaults: true, allErrors: true }).compile({
  type: 'object',
  additionalProperties: false,
  required: ['applicationId'],
  properties: {
    applicationId: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,200}$' },
    partitions: { type: 'integer', minimum: 1, maximum: 1000, default: 1 },
    initialWallClockMs: { type: 'integer', minimum: 0, default: 0 },
    errorHandling: { type: 'object' },
    stateDir: { type: 'string', minLength: 1 },
    listener: { type: 'object' }
  }
})

interface TopicLog {
  records: StoredRecord[]
  /** next record to hand out through an output topic */
  readPosition: number
  nextOffset: bigint[]
}

export class TopologyTestDriver implements DriverTopics {
  readonly applicationId: string
  readonly metadata: TopologyMetadata
  private readonly partitions: number
  private readonly tasks: StreamTask[] = []
  /** resolved topic → the task reading each of its partitions */
  private readonly readers = new Map<string, StreamTask[]>()
  private readonly topicPartitions = new Map<string, number>()
  private readonly logs = new Map<string, TopicLog>()
  private readonly roundRobin = new Map<string, number>()
  private readonly pending: Array<{ topic: string, record: StoredRecord }> = []
  private readonly stateDir: string
  private readonly ownsStateDir: boolean
  private nowMs: number
  private readonly ready: Promise<void>
  private chain: Promise<unknown>
  private initialized = false
  private closed = false

  constructor (topology: Topology, options: TopologyTestDriverOptions) {
    const copy: { [key: string]: unknown } = { ...options }
    if (!validateOptions(copy)) {
      const problems = (validateOptions.errors ?? []).map((e) => `${e.instancePath === '' ? '/' : e.instancePath} ${e.message ?? 'is invalid'}`)
      throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `invalid TopologyTestDriver options: ${problems.join('; ')}`, { details: { problems } })
    }
    const errorHandling = resolveErrorHandling(options.errorHandling)
    this.applicationId = options.applicationId
    this.partitions = copy.partitions as number
    this.nowMs = copy.initialWallClockMs as number
    this.metadata = topology.metadata(this.applicationId)
    this.ownsStateDir = options.stateDir === undefined
    this.stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), 'devtrip-ttd-'))

    const counts = resolvePartitionCounts(this.metadata, () => this.partitions)
    for (const [topic, n] of counts.topics) this.topicPartitions.set(topic, n)
    const collector: RecordCollector = { send: (record) => { this.collect(record) } }
    for (const sub of this.metadata.subtopologies) {
      const taskCount = counts.tasksPerSubtopology.get(sub.id) as number
      for (let partition = 0; partition < taskCount; partition++) {
        const inputTopics = sub.sourceTopics.filter((t) => partition < (this.topicPartitions.get(t) as number))
        const task = new StreamTask({
          applicationId: this.applicationId,
          topology,
          subtopologyId: sub.id,
          partition,
          inputTopics,
          collector,
          partitionsFor: (topic) => this.partitionsOf(topic),
          stateDir: this.stateDir,
          errorHandling,
          clock: () => this.nowMs,
          listener: options.listener
        })
        this.tasks.push(task)
        for (const topic of inputTopics) {
          const list = this.readers.get(topic) ?? []
          list[partition] = task
          this.readers.set(topic, list)
        }
      }
    }
    this.ready = this.initialize()
    // a failed initialization surfaces on the first operation (or init()), not as an unhandled rejection
    this.chain = this.ready.catch(() => undefined)
  }

  /** Resolves once every task's stores are open; pipe and advance calls wait for it themselves. */
  async init (): Promise<void> {
    await this.ready
  }

  createInputTopic<K, V> (topic: string, keySerializer: Serializer<K>, valueSerializer: Serializer<V>): TestInputTopic<K, V> {
    if (!this.readers.has(topic)) {
      throw new DevtripError('DEVTRIP_UNKNOWN_TOPIC', `topic "${topic}" is not read by this topology (it reads ${[...this.readers.keys()].join(', ')})`, { details: { topic } })
    }
    return new TestInputTopic(this, topic, keySerializer, valueSerializer)
  }

  createOutputTopic<K, V> (topic: string, keyDeserializer: Deserializer<K>, valueDeserializer: Deserializer<V>): TestOutputTopic<K, V> {
    return new TestOutputTopic(this, topic, keyDeserializer, valueDeserializer)
  }

  /** Moves the mocked wall clock, fires due wall-clock punctuators, processes what they caused and commits. */
  async advanceWallClockTime (ms: number): Promise<void> {
    if (!Number.isSafeInteger(ms) || ms < 0) throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `advanceWallClockTime needs a non-negative integer of ms, got ${String(ms)}`)
    await this.serialized(async () => {
      this.nowMs += ms
      for (const task of this.tasks) task.maybePunctuateSystemTime(this.nowMs)
      await this.drainAndCommit()
    })
  }

  get wallClockMs (): number {
    return this.nowMs
  }

  /** The key-value store `name` of one partition's task (default: partition 0). */
  getKeyValueStore<K, V> (name: string, partition = 0): KeyValueStore<K, V> {
    return this.store(name, partition) as KeyValueStore<K, V>
  }

  getWindowStore<K, V> (name: string, partition = 0): WindowStore<K, V> {
    return this.store(name, partition) as WindowStore<K, V>
  }

  /** A read-only view over the store `name` of every partition (lookups try each partition's task). */
  getKeyValueStoreAcrossPartitions<K, V> (name: string): ReadOnlyKeyValueStore<K, V> {
    const stores = this.tasks.map((t) => t.getStore(name)).filter((s): s is StateStore => s !== undefined) as unknown as Array<KeyValueStore<K, V>>
    if (stores.length === 0) throw this.noStore(name)
    return {
      get: (key) => { for (const s of stores) { const v = s.get(key); if (v !== undefined) return v } return undefined },
      range: (from, to) => stores.flatMap((s) => s.range(from, to)),
      all: () => stores.flatMap((s) => s.all()),
      approximateNumEntries: () => stores.reduce((n, s) => n + s.approximateNumEntries(), 0)
    }
  }

  getWindowStoreAcrossPartitions<K, V> (name: string): ReadOnlyWindowStore<K, V> {
    const stores = this.tasks.map((t) => t.getStore(name)).filter((s): s is StateStore => s !== undefined) as unknown as Array<WindowStore<K, V>>
    if (stores.length === 0) throw this.noStore(name)
    return {
      fetch: (key, from, to) => stores.flatMap((s) => s.fetch(key, from, to)).sort((a, b) => a.windowStart - b.windowStart),
      fetchAll: (from, to) => stores.flatMap((s) => s.fetchAll(from, to))
    }
  }

  /** Every record written to the changelog of store `name`, in write order (not consumed by reading). */
  producedChangelog (storeName: string): StoredRecord[] {
    return [...(this.logs.get(changelogTopicName(this.applicationId, storeName))?.records ?? [])]
  }

  /** Every record ever written to `topic` (also internal and DLQ topics), not consumed by reading. */
  producedRecords (topic: string): StoredRecord[] {
    return [...(this.logs.get(topic)?.records ?? [])]
  }

  /** Task counters summed over all tasks. */
  metrics (): TaskMetrics {
    const sum: TaskMetrics = { processed: 0, punctuations: 0, skipped: 0, dlq: 0, continued: 0 }
    for (const t of this.tasks) for (const k of Object.keys(sum) as Array<keyof TaskMetrics>) sum[k] += t.metrics[k]
    return sum
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.chain.catch(() => undefined)
    const errors: unknown[] = []
    for (const task of this.tasks) {
      try { await task.close() } catch (error) { errors.push(error) }
    }
    if (this.ownsStateDir) rmSync(this.stateDir, { recursive: true, force: true })
    if (errors.length > 0) throw errors[0]
  }

  // ---- DriverTopics ----

  async pipe (topic: string, key: Buffer | null, value: Buffer | null, timestampMs: number | undefined, headers: Headers): Promise<void> {
    const timestamp = timestampMs ?? this.nowMs
    const readers = this.readers.get(topic)
    if (readers === undefined) throw new DevtripError('DEVTRIP_UNKNOWN_TOPIC', `topic "${topic}" is not read by this topology`, { details: { topic } })
    await this.serialized(async () => {
      const partition = key === null ? this.nextRoundRobin(topic) : partitionForKey(key, this.partitionsOf(topic))
      const stored = this.append(topic, { key, value, timestamp, headers, partition })
      this.deliver(readers, topic, stored)
      await this.drainAndCommit()
    })
  }

  take (topic: string, max: number): StoredRecord[] {
    const log = this.logs.get(topic)
    if (log === undefined) return []
    const end = Math.min(log.records.length, log.readPosition + max)
    const out = log.records.slice(log.readPosition, end)
    log.readPosition = end
    return out
  }

  unread (topic: string): number {
    const log = this.logs.get(topic)
    return log === undefined ? 0 : log.records.length - log.readPosition
  }

  // ---- internals ----

  private async initialize (): Promise<void> {
    for (const task of this.tasks) {
      await task.initializeStores()
      // a fresh state directory has nothing to restore; a reused one restores from this driver's (empty) changelogs
      task.startProcessing()
    }
    this.initialized = true
  }

  /**
   * Runs one driver operation after the previous one finished. If it fails (an exception handler said `fail`),
   * everything it wrote is discarded and every store goes back to the last commit — what an aborted Kafka
   * transaction does — and the error is rethrown.
   */
  private async serialized (operation: () => Promise<void>): Promise<void> {
    if (this.closed) throw new DevtripError('DEVTRIP_CLOSED', 'the TopologyTestDriver is closed')
    const run = this.chain.then(async () => {
      await this.ready
      const mark = new Map([...this.logs].map(([topic, log]) => [topic, { length: log.records.length, nextOffset: [...log.nextOffset] }]))
      try {
        await operation()
      } catch (error) {
        for (const task of this.tasks) task.abortStores()
        this.pending.length = 0
        for (const [topic, log] of this.logs) {
          const m = mark.get(topic)
          log.records.length = m?.length ?? 0
          log.nextOffset = m?.nextOffset ?? []
          log.readPosition = Math.min(log.readPosition, log.records.length)
        }
        throw error
      }
    })
    this.chain = run.catch(() => undefined)
    await run
  }

  /** Processes until no task has buffered records and nothing written is waiting for delivery. */
  private async drainAndCommit (): Promise<void> {
    let progress = true
    while (progress) {
      progress = false
      for (const task of this.tasks) {
        while (task.process()) progress = true
      }
      while (this.pending.length > 0) {
        const { topic, record } = this.pending.shift() as { topic: string, record: StoredRecord }
        this.deliver(this.readers.get(topic) as StreamTask[], topic, record)
        progress = true
      }
    }
    for (const task of this.tasks) {
      if (!task.commitNeeded()) continue
      const offsets = new Map<string, bigint>()
      for (const { topic, partition } of task.changelogPartitions()) {
        const next = this.logs.get(topic)?.nextOffset[partition]
        if (next !== undefined) offsets.set(topic, next)
      }
      await task.commitStores(offsets)
    }
  }

  private deliver (readers: StreamTask[], topic: string, record: StoredRecord): void {
    const task = readers[record.partition]
    if (task === undefined) throw new DevtripError('DEVTRIP_PROCESSING', `no task reads ${topic}-${record.partition}`)
    task.addRecords({ topic, partition: record.partition }, [record])
  }

  private collect (record: ProducedRecord): void {
    const n = this.partitionsOf(record.topic)
    const partition = record.partition ?? this.nextRoundRobin(record.topic)
    if (!Number.isInteger(partition) || partition < 0 || partition >= n) {
      throw new DevtripError('DEVTRIP_PROCESSING', `a record for "${record.topic}" names partition ${String(partition)}, but the topic has ${n}`)
    }
    const stored = this.append(record.topic, { ...record, partition })
    if (this.readers.has(record.topic)) this.pending.push({ topic: record.topic, record: stored })
  }

  private append (topic: string, record: Omit<StoredRecord, 'offset'>): StoredRecord {
    let log = this.logs.get(topic)
    if (log === undefined) {
      log = { records: [], readPosition: 0, nextOffset: [] }
      this.logs.set(topic, log)
    }
    const offset = log.nextOffset[record.partition] ?? 0n
    log.nextOffset[record.partition] = offset + 1n
    const stored: StoredRecord = { key: record.key, value: record.value, timestamp: record.timestamp, headers: record.headers, partition: record.partition, offset }
    log.records.push(stored)
    return stored
  }

  private partitionsOf (topic: string): number {
    return this.topicPartitions.get(topic) ?? this.partitions
  }

  private nextRoundRobin (topic: string): number {
    const next = this.roundRobin.get(topic) ?? 0
    this.roundRobin.set(topic, next + 1)
    return next % this.partitionsOf(topic)
  }

  private store (name: string, partition: number): StateStore {
    if (!this.initialized) throw new DevtripError('DEVTRIP_STORE_NOT_OPEN', 'stores are not open yet: await driver.init() (or a pipeInput) first')
    const task = this.tasks.find((t) => t.partition === partition && t.getStore(name) !== undefined)
    const store = task?.getStore(name)
    if (store === undefined) throw this.noStore(name)
    return store
  }

  private noStore (name: string): DevtripError {
    return new DevtripError('DEVTRIP_STATE_STORE', `the topology has no store "${name}" (or not on that partition)`, { details: { store: name } })
  }
}
