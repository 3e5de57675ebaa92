/**
 * Topic I/O shared by the benchmarks that run a count-by-key application (`bench engine`, `bench all`): pre-loading
 * the input, watching the output as a read_committed reader would, and the exactly-once check of the output.
 * Nothing here knows which system produced the output: Kafka Streams and Quix Streams write the same records
 * (String user id → Int64 big-endian count) as the engine, so they are checked and timed by the same code.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { KafkaAdmin, KafkaAssignedConsumer, KafkaClientFactory, ProducerRecord, TopicPartition } from '../streams/kafka'
import { eventValue, userKey } from './engine-workload'

const PRELOAD_CHUNK = 10_000

export interface PreloadOptions {
  readonly events: number
  readonly keys: number
  readonly recordSize: number
  /** index of the first event (keys and event ids go on from there) */
  readonly firstIndex?: number
  readonly onProgress?: (sent: number) => void
}

/** Sends events firstIndex … firstIndex+events−1 (keyed round-robin over `keys` keys) to `topic`; not timed. */
export async function preload (kafka: KafkaClientFactory, topic: string, options: PreloadOptions): Promise<void> {
  const producer = kafka.createProducer()
  const first = options.firstIndex ?? 0
  try {
    const now = Date.now()
    let lastReport = 0
    for (let start = 0; start < options.events; start += PRELOAD_CHUNK) {
      const records: ProducerRecord[] = []
      for (let i = first + start; i < first + Math.min(options.events, start + PRELOAD_CHUNK); i++) {
        records.push({ topic, key: Buffer.from(userKey(i, options.keys), 'utf8'), value: eventValue(i, options.keys, options.recordSize, now) })
      }
      await producer.send(records)
      const sent = Math.min(options.events, start + PRELOAD_CHUNK)
      if (options.onProgress !== undefined && sent - lastReport >= 200_000) { lastReport = sent; options.onProgress(sent) }
    }
  } finally {
    await producer.close()
  }
}

export function partitionsOf (topic: string, count: number): TopicPartition[] {
  return Array.from({ length: count }, (_v, partition) => ({ topic, partition }))
}

/** True when no transaction is open on any partition of the topic (last stable offset = high watermark everywhere). */
export async function noOpenTransaction (admin: KafkaAdmin, tps: readonly TopicPartition[]): Promise<boolean> {
  const [stable, high] = await Promise.all([admin.listOffsets(tps, 'latest', 'read_committed'), admin.listOffsets(tps, 'latest', 'read_uncommitted')])
  return stable.every((s, i) => s.offset === (high[i] as { offset: bigint }).offset)
}

/** How many inputs key k got: inputs are keyed round-robin over `keys` keys. */
export function expectedCountForKey (k: number, totalInputs: number, keys: number): number {
  return Math.floor(totalInputs / keys) + (k < totalInputs % keys ? 1 : 0)
}

/**
 * Reads the whole output read_committed and checks it is exactly one record per input: per key, as many records as
 * inputs and the highest count equal to that number. Returns the number of records read.
 */
export async function verifyOutput (kafka: KafkaClientFactory, admin: KafkaAdmin, output: string, partitions: number, totalInputs: number, keys: number): Promise<number> {
  const tps = partitionsOf(output, partitions)
  const deadline = Date.now() + 60_000
  while (!(await noOpenTransaction(admin, tps))) {
    if (Date.now() > deadline) throw new Error(`exactly-once check: a transaction is still open on ${output} 60 s after the app closed`)
    await sleep(50)
  }
  const ends = await admin.listOffsets(tps, 'latest', 'read_committed')
  const consumer = kafka.createAssignedConsumer({ isolationLevel: 'read_committed', autoOffsetReset: 'earliest' })
  const seen = new Map<string, { records: number, max: number }>()
  let read = 0
  try {
    consumer.assign(tps)
    const done = (): boolean => tps.every((tp, i) => (consumer.position(tp) ?? -1n) >= (ends[i] as { offset: bigint }).offset)
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`exactly-once check: reading ${output} back did not finish (read ${read} records)`)
      for (const batch of await consumer.poll(100)) {
        for (const record of batch.records) {
          if (record.key === null || record.value === null || record.value.length !== 8) {
            throw new Error(`exactly-once check: malformed output record at ${batch.topic}:${batch.partition}@${record.offset}`)
          }
          const key = record.key.toString('utf8')
          const count = Number(record.value.readBigInt64BE(0))
          const entry = seen.get(key) ?? { records: 0, max: 0 }
          entry.records++
          entry.max = Math.max(entry.max, count)
          seen.set(key, entry)
          read++
        }
      }
    }
  } finally {
    await consumer.close().catch(() => undefined)
  }
  if (read !== totalInputs) throw new Error(`exactly-once check failed: ${read} committed output records for ${totalInputs} inputs`)
  for (let k = 0; k < Math.min(keys, totalInputs); k++) {
    const key = userKey(k, keys)
    const expected = expectedCountForKey(k, totalInputs, keys)
    const got = seen.get(key)
    if (got === undefined || got.records !== expected || got.max !== expected) {
      throw new Error(`exactly-once check failed for ${key}: expected ${expected} outputs counting up to ${expected}, ` +
        `got ${got?.records ?? 0} outputs up to ${got?.max ?? 0}`)
    }
  }
  return read
}

/**
 * Counts the output records a read_committed reader sees, from the beginning of the topic, with the time of the
 * first poll that returned any and of every poll since. This is how `bench all` times every system alike: what
 * counts is what a downstream reader can see, whoever wrote it.
 */
export class OutputWatcher {
  private readonly consumer: KafkaAssignedConsumer
  private readonly tps: TopicPartition[]
  /** committed output records seen so far */
  seen = 0
  /** clock time (ms) of the first poll that returned records, and how many it returned */
  firstAtMs: number | null = null
  firstCount = 0
  /** clock time (ms) of the latest poll that returned records */
  lastAtMs: number | null = null

  constructor (kafka: KafkaClientFactory, output: string, partitions: number, private readonly clock: () => number) {
    this.consumer = kafka.createAssignedConsumer({ isolationLevel: 'read_committed', autoOffsetReset: 'earliest' })
    this.tps = partitionsOf(output, partitions)
    this.consumer.assign(this.tps)
  }

  /** One poll; returns how many records it brought. */
  async poll (maxWaitMs = 20): Promise<number> {
    let n = 0
    for (const batch of await this.consumer.poll(maxWaitMs)) n += batch.records.length
    if (n > 0) {
      const now = this.clock()
      if (this.firstAtMs === null) { this.firstAtMs = now; this.firstCount = n }
      this.lastAtMs = now
      this.seen += n
    }
    return n
  }

  /** Polls until every partition's position reached `ends` (e.g. the last stable offsets taken after a kill). */
  async drainTo (ends: ReadonlyArray<{ offset: bigint }>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!this.tps.every((tp, i) => (this.consumer.position(tp) ?? -1n) >= (ends[i] as { offset: bigint }).offset)) {
      if (Date.now() > deadline) throw new Error(`reading the output up to its last stable offsets took longer than ${timeoutMs} ms`)
      await this.poll(50)
    }
  }

  get partitions (): readonly TopicPartition[] {
    return this.tps
  }

  async close (): Promise<void> {
    await this.consumer.close().catch(() => undefined)
  }
}
