/**
 * Helpers for the StreamsApp integration tests (test/integration/streams-*.test.ts) and the child process
 * (test/support/streams-child.ts): the count-by-key topology, topic creation with unique names, producing input,
 * reading output read_committed, opening a task's RocksDB store after the app closed, and running the child.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { KeyValueStore } from '../../state/base/types'
import { Stores } from '../../state/builders'
import { Serdes } from '../../state/serdes-builtin'
import { Consumed, Materialized, Produced, StreamsBuilder, type Topology } from '../../streams'
import {
  createKafkaClients, type ConsumedRecord, type KafkaAdapterName, type KafkaAdmin, type KafkaClientFactory, type ProducerRecord, type TopicPartition
} from '../../streams/kafka'

export const COUNT_STORE = 'counts'

/** The adapters the child-process tests run once each with: STREAMS_TEST_CLIENTS (comma list), default platformatic,kafkajs. */
export const STREAMS_TEST_CLIENTS = (process.env.STREAMS_TEST_CLIENTS ?? 'platformatic,kafkajs').split(',').map((c) => c.trim()).filter((c) => c !== '') as KafkaAdapterName[]

/** `n` input records numbered from `from` on, over `keys` distinct keys: `${prefix.key}-${i % keys}` → `${prefix.value}-${i}`. */
export function keyedInputs (from: number, n: number, keys: number, prefix: { key: string, value: string }): Array<{ key: string, value: string }> {
  return Array.from({ length: n }, (_v, i) => ({ key: `${prefix.key}-${(from + i) % keys}`, value: `${prefix.value}-${from + i}` }))
}

/** input (String key, String value) → count per key in store "counts" → output (String key, Int64 count) */
export function countTopology (input: string, output: string): Topology {
  const builder = new StreamsBuilder()
  builder.stream(input, Consumed.with(Serdes.String(), Serdes.String()))
    .groupByKey()
    .count(Materialized.as(COUNT_STORE))
    .toStream()
    .to(output, Produced.with(Serdes.String(), Serdes.Int64AsNumber()))
  return builder.build()
}

export function uniqueName (what: string): string {
  return `st-${what}-${randomBytes(4).toString('hex')}`
}

export class KafkaKit {
  readonly kafka: KafkaClientFactory
  readonly admin: KafkaAdmin
  private readonly topics: string[] = []

  constructor (readonly brokers: string[]) {
    this.kafka = createKafkaClients({ brokers, clientId: 'streams-test' })
    this.admin = this.kafka.createAdmin()
  }

  async createTopic (name: string, partitions: number): Promise<string> {
    await this.admin.createTopics([{ name, partitions, replicationFactor: 1 }])
    this.topics.push(name)
    return name
  }

  /** remembers topics the app created, so cleanup deletes them too */
  track (...names: string[]): void {
    this.topics.push(...names)
  }

  async produce (topic: string, records: ReadonlyArray<{ key: string, value: string | Buffer }>): Promise<void> {
    const producer = this.kafka.createProducer()
    try {
      const out: ProducerRecord[] = records.map((r) => ({ topic, key: Buffer.from(r.key), value: Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value) }))
      await producer.send(out)
    } finally {
      await producer.close()
    }
  }

  async partitionsOf (topic: string): Promise<TopicPartition[]> {
    const [d] = await this.admin.describeTopics([topic])
    return (d?.partitions ?? []).map((p) => ({ topic, partition: p.partition }))
  }

  /** true when some partition of `topic` has an open transaction (last stable offset below the high watermark) */
  async hasOpenTransaction (topic: string): Promise<boolean> {
    const tps = await this.partitionsOf(topic)
    const stable = await this.admin.listOffsets(tps, 'latest', 'read_committed')
    const high = await this.admin.listOffsets(tps, 'latest', 'read_uncommitted')
    return stable.some((s, i) => s.offset < (high[i] as { offset: bigint }).offset)
  }

  /** Every committed record of `topic` (waits until no transaction is open on it, up to `settleMs`). */
  async readCommitted (topic: string, settleMs = 30_000): Promise<ConsumedRecord[]> {
    const deadline = Date.now() + settleMs
    while (await this.hasOpenTransaction(topic)) {
      if (Date.now() > deadline) throw new Error(`${topic} still has an open transaction after ${settleMs} ms`)
      await sleep(100)
    }
    const tps = await this.partitionsOf(topic)
    const ends = await this.admin.listOffsets(tps, 'latest', 'read_committed')
    const consumer = this.kafka.createAssignedConsumer({ isolationLevel: 'read_committed' })
    const records: ConsumedRecord[] = []
    try {
      consumer.assign(tps)
      for (const tp of tps) consumer.seek(tp, 'earliest')
      const done = (): boolean => consumer.partitionStates().every((s) => {
        const end = ends.find((e) => e.topic === s.topic && e.partition === s.partition)?.offset ?? 0n
        return s.position !== null && s.position >= end
      })
      const readDeadline = Date.now() + 30_000
      while (!done()) {
        if (Date.now() > readDeadline) throw new Error(`reading ${topic} did not reach its end`)
        for (const b of await consumer.poll(200)) records.push(...b.records)
      }
    } finally {
      await consumer.close()
    }
    return records
  }

  /** sum of the group's committed offsets over all partitions (= records consumed when topics start at 0) */
  async committedTotal (groupId: string): Promise<number> {
    const committed = await this.admin.listGroupOffsets(groupId)
    return committed.reduce((n, o) => n + Number(o.offset), 0)
  }

  async cleanup (): Promise<void> {
    await this.admin.deleteTopics([...new Set(this.topics)]).catch(() => undefined)
    await this.admin.close()
  }
}

/** Output records as key → the list of counts in offset order (per partition order is per key order). */
export function countsByKey (records: readonly ConsumedRecord[]): Map<string, number[]> {
  const out = new Map<string, number[]>()
  const serde = Serdes.Int64AsNumber()
  const sorted = [...records].sort((a, b) => a.partition - b.partition || (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0))
  for (const r of sorted) {
    const key = (r.key as Buffer).toString('utf8')
    const list = out.get(key) ?? []
    list.push(serde.deserialize(r.value as Buffer))
    out.set(key, list)
  }
  return out
}

/** What every key's output must be when each input record was counted exactly once: 1, 2, …, n. */
export function expectedCounts (inputs: ReadonlyArray<{ key: string }>): Map<string, number[]> {
  const n = new Map<string, number>()
  for (const r of inputs) n.set(r.key, (n.get(r.key) ?? 0) + 1)
  return new Map([...n].map(([k, c]) => [k, Array.from({ length: c }, (_v, i) => i + 1)]))
}

/** Reads a closed app's count store of one task straight from RocksDB (the app must not be running). */
export async function readCountStore (stateDir: string, applicationId: string, taskId: string, partition: number): Promise<Map<string, number>> {
  const store = Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(COUNT_STORE), Serdes.String(), Serdes.Int64AsNumber()).withLoggingDisabled().build() as KeyValueStore<string, number>
  await store.init({ applicationId, taskId, partition, taskDir: join(stateDir, applicationId, taskId), currentTimestamp: () => 0 })
  try {
    return new Map(store.all().map((e) => [e.key, e.value]))
  } finally {
    await store.close()
  }
}

export function sleep (ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

export async function waitUntil (what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(50)
  }
}

// ---- the child process ----

export interface ChildConfig {
  brokers: string[]
  applicationId: string
  input: string
  output: string
  stateDir: string
  commitIntervalMs: number
  sessionTimeoutMs?: number
  heartbeatIntervalMs?: number
  transactionTimeoutMs?: number
  producerBatchRecords?: number
  /** kill -9 itself right after the Nth transaction committed at the broker, before the stores wrote their batch */
  killAfterKafkaCommit?: number
  /** the Kafka adapter (default platformatic) */
  client?: KafkaAdapterName
}

/** One JSON line the child printed. */
export interface ChildEvent {
  event: string
  [key: string]: unknown
}

export class StreamsChild {
  readonly events: ChildEvent[] = []
  readonly stderr: string[] = []
  readonly exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  private readonly process: ChildProcess

  constructor (config: ChildConfig) {
    const root = join(__dirname, '..', '..')
    this.process = spawn(process.execPath, ['--require', join(root, 'test/support/swc-register.js'), join(root, 'test/support/streams-child.ts'), JSON.stringify(config)], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe']
    })
    createInterface({ input: this.process.stdout! }).on('line', (line) => {
      try {
        this.events.push(JSON.parse(line) as ChildEvent)
      } catch {
        this.stderr.push(`(stdout) ${line}`)
      }
    })
    createInterface({ input: this.process.stderr! }).on('line', (line) => { this.stderr.push(line) })
    this.exited = new Promise((resolve) => { this.process.on('exit', (code, signal) => { resolve({ code, signal }) }) })
  }

  get pid (): number {
    return this.process.pid as number
  }

  last (event: string): ChildEvent | undefined {
    for (let i = this.events.length - 1; i >= 0; i--) if (this.events[i]?.event === event) return this.events[i]
    return undefined
  }

  all (event: string): ChildEvent[] {
    return this.events.filter((e) => e.event === event)
  }

  async waitFor (what: string, condition: (child: this) => boolean, timeoutMs = 60_000): Promise<void> {
    let exited = false
    void this.exited.then(() => { exited = true })
    await waitUntil(what, () => {
      if (condition(this)) return true
      if (exited) throw new Error(`the child exited while waiting for ${what}; stderr:\n${this.stderr.slice(-30).join('\n')}`)
      return false
    }, timeoutMs)
  }

  /** a number field of the newest `event`, -1 when there is none yet */
  lastNumber (event: string, field: string): number {
    return Number(this.last(event)?.[field] ?? -1)
  }

  signal (signal: NodeJS.Signals): void {
    this.process.kill(signal)
  }

  /** kills the child if it still runs (test cleanup) */
  async stop (): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return
    this.process.kill('SIGKILL')
    await this.exited
  }
}

/** The children a test file starts; stopAll() (its afterAll) kills those still running, thawing a frozen one first. */
export class StreamsChildren {
  private readonly started: StreamsChild[] = []

  start (config: ChildConfig): StreamsChild {
    const child = new StreamsChild(config)
    this.started.push(child)
    return child
  }

  async stopAll (): Promise<void> {
    for (const child of this.started) {
      // a test may leave a child SIGSTOPped (a zombie); the signal fails only for one that already exited
      try { child.signal('SIGCONT') } catch {}
      await child.stop()
    }
  }
}
