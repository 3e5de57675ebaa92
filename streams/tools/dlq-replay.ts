/**
 * `dlq replay`: republishes dead-letter records to their original topic (or another one), exactly once.
 *
 * How "exactly once" holds across crashes and reruns:
 *   - a transactional producer with the fixed id `devtrip-dlq-replay-<dlqTopic>`: initTransactions() fences any
 *     earlier replay of the same DLQ that is still alive (or was killed) and aborts its open transaction;
 *   - a consumer group `devtrip-dlq-replay-<dlqTopic>` reads the DLQ; after each chunk of records the group's
 *     offsets go into the SAME transaction as the republished records (sendOffsetsToTransaction, KIP-447). Either
 *     both become visible or neither does, so a rerun starts exactly after the last committed chunk;
 *   - a filtered replay leaves non-matching records pending; matching records behind such a record are marked in
 *     the marker topic inside the same transaction (dlq-markers.ts), and every replay skips marked records.
 * The replay stops at the last stable offset each partition had when it started, so a DLQ that keeps filling
 * cannot keep it running. A dry run reads with a group-less consumer and writes nothing.
 *
 * Republished records carry the original key, value, timestamp and headers; the `__streams.errors.*` headers
 * are removed and `__streams.replay.*` headers say when and from which DLQ record it came (dlq-record.ts).
 */
import Ajv from 'ajv'
import { DevtripError } from '../../events/errors'
import type {
  ConsumedRecord, KafkaAdmin, KafkaClientFactory, KafkaGroupConsumer, KafkaProducer, ProducerRecord, TopicPartitionOffset
} from '../kafka/port'
import { ensureMarkerTopic, loadMarkers, markerKey, markerRecord, markerTopicName, replayedUpTo, replayGroupId, type MarkerKey } from './dlq-markers'
import { isEmptyFilter, matchesFilter, resolveDlqFilter, type DlqFilter } from './dlq-filter'
import { dlqErrorInfo, replayHeaders } from './dlq-record'
import { scanRanges, topicRanges } from './topic-scan'

export interface ReplayOptions {
  readonly dlqTopic: string
  /** 'original' (default): the topic named in the record's `__streams.errors.topic` header; else a topic name */
  readonly to?: string
  readonly filter?: DlqFilter
  readonly dryRun?: boolean
  /** DLQ records per transaction (default 100) */
  readonly batchSize?: number
  readonly transactionTimeoutMs?: number
  /** how long to wait for the replay group to be joined, e.g. while a killed replay's session expires (default 60 s) */
  readonly joinTimeoutMs?: number
  /** after every transaction (and once at the start): DLQ records dealt with so far out of those to look at */
  readonly onProgress?: (done: number, total: number) => void
  /** inside each transaction, after the records were sent and before the commit (a failure aborts it) */
  readonly beforeCommit?: (chunk: { readonly transaction: number, readonly records: number }) => Promise<void> | void
}

export interface ReplayedRecord {
  readonly partition: number
  readonly offset: string
  readonly to: { readonly topic: string, readonly partition: number | null, readonly offset: string | null }
}

export interface ReplayResult {
  readonly dlqTopic: string
  readonly groupId: string
  readonly dryRun: boolean
  readonly to: string
  readonly filter: DlqFilter
  /** records republished (or, in a dry run, that would be) */
  readonly replayed: number
  /** records that did not match the filter: still pending */
  readonly notMatching: number
  /** records a filtered replay had already republished (marked) */
  readonly alreadyReplayed: number
  readonly transactions: number
  /** republished records per destination topic */
  readonly destinations: Readonly<Record<string, number>>
  /** the first 1000 republished records */
  readonly records: readonly ReplayedRecord[]
}

interface ResolvedReplayOptions {
  readonly dlqTopic: string
  readonly to: string
  readonly filter: DlqFilter
  readonly dryRun: boolean
  readonly batchSize: number
  readonly transactionTimeoutMs: number
  readonly joinTimeoutMs: number
}

const schema = {
  type: 'object',
  required: ['dlqTopic'],
  properties: {
    dlqTopic: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,249}$' },
    to: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,249}$', default: 'original' },
    filter: { type: 'object', default: {} },
    dryRun: { type: 'boolean', default: false },
    batchSize: { type: 'integer', minimum: 1, maximum: 10_000, default: 100 },
    transactionTimeoutMs: { type: 'integer', minimum: 1000, maximum: 900_000, default: 60_000 },
    joinTimeoutMs: { type: 'integer', minimum: 1000, maximum: 600_000, default: 60_000 }
  }
} as const
const validate = new Ajv({ useDefaults: true, allErrors: true }).compile(schema)
const RECORD_LIST_LIMIT = 1000

export function resolveReplayOptions (options: ReplayOptions): ResolvedReplayOptions {
  const { onProgress: _p, beforeCommit: _b, ...data } = options
  const copy: Record<string, unknown> = { ...data }
  if (!validate(copy)) {
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath === '' ? '/' : e.instancePath} ${e.message ?? 'is invalid'}`)
    throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `invalid replay options: ${problems.join('; ')}`, { details: { problems } })
  }
  if (copy.to === copy.dlqTopic) {
    throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `replay: --to ${String(copy.to)} is the dead-letter topic itself`, { details: { hint: 'replay to the original topic (--to original) or another topic' } })
  }
  return Object.freeze({
    dlqTopic: copy.dlqTopic as string,
    to: copy.to as string,
    filter: resolveDlqFilter(copy.filter as DlqFilter),
    dryRun: copy.dryRun as boolean,
    batchSize: copy.batchSize as number,
    transactionTimeoutMs: copy.transactionTimeoutMs as number,
    joinTimeoutMs: copy.joinTimeoutMs as number
  })
}

/** Where one record goes, and the partition counts of destinations (looked up once each). */
class Destinations {
  private readonly partitions = new Map<string, number>()
  constructor (private readonly admin: KafkaAdmin, private readonly options: ResolvedReplayOptions) {}

  async of (record: ConsumedRecord): Promise<{ topic: string, partition: number | undefined }> {
    const info = dlqErrorInfo(record.headers)
    const topic = this.options.to === 'original' ? info.topic : this.options.to
    if (topic === null) {
      throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `replay: ${record.topic}:${record.partition}@${record.offset} has no __streams.errors.topic header, so its original topic is unknown`, {
        details: { hint: 'pass --to <topic> to say where such records go' }
      })
    }
    if (topic === this.options.dlqTopic || topic === markerTopicName(this.options.dlqTopic)) {
      throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `replay: ${record.topic}:${record.partition}@${record.offset} would go back to ${topic}`, { details: { hint: 'pass --to <topic>' } })
    }
    let count = this.partitions.get(topic)
    if (count === undefined) {
      const [description] = await this.admin.describeTopics([topic])
      count = description!.partitions.length
      this.partitions.set(topic, count)
    }
    // back to the partition it failed on (keeps per-key order and co-partitioning); elsewhere the key decides
    const partition = this.options.to === 'original' && info.partition !== null && info.partition < count ? info.partition : undefined
    return { topic, partition }
  }
}

/** Counters shared by the real and the dry run. */
class Tally {
  replayed = 0
  notMatching = 0
  alreadyReplayed = 0
  transactions = 0
  readonly destinations: Record<string, number> = {}
  readonly records: ReplayedRecord[] = []

  add (record: ConsumedRecord, to: { topic: string, partition: number | null, offset: string | null }): void {
    this.replayed++
    this.destinations[to.topic] = (this.destinations[to.topic] ?? 0) + 1
    if (this.records.length < RECORD_LIST_LIMIT) this.records.push({ partition: record.partition, offset: record.offset.toString(), to })
  }

  result (options: ResolvedReplayOptions): ReplayResult {
    return {
      dlqTopic: options.dlqTopic,
      groupId: replayGroupId(options.dlqTopic),
      dryRun: options.dryRun,
      to: options.to,
      filter: options.filter,
      replayed: this.replayed,
      notMatching: this.notMatching,
      alreadyReplayed: this.alreadyReplayed,
      transactions: this.transactions,
      destinations: { ...this.destinations },
      records: [...this.records]
    }
  }
}

/** Per DLQ partition: where the replay must stop, and whether a pending record blocks the committed offset. */
interface PartitionProgress {
  readonly stop: bigint
  start: bigint | null
  /** the offset to commit: every record before it is handled */
  handledUpTo: bigint | null
  /** a non-matching record was met: the committed offset cannot pass it in this run */
  blocked: boolean
  committed: bigint | null
}

export async function replayDlq (kafka: KafkaClientFactory, input: ReplayOptions): Promise<ReplayResult> {
  const options = resolveReplayOptions(input)
  const admin = kafka.createAdmin()
  try {
    const ranges = await topicRanges(admin, options.dlqTopic)
    if (options.to !== 'original') await admin.describeTopics([options.to])
    const markers = await loadMarkers(kafka, admin, options.dlqTopic)
    const destinations = new Destinations(admin, options)
    if (options.dryRun) return await dryRun(kafka, admin, options, markers, destinations, input.onProgress)
    return await realRun(kafka, admin, options, markers, destinations, ranges.map((r) => [r.partition, r.to]), input)
  } finally {
    await admin.close()
  }
}

async function dryRun (kafka: KafkaClientFactory, admin: KafkaAdmin, options: ResolvedReplayOptions, markers: Set<MarkerKey>, destinations: Destinations, onProgress: ReplayOptions['onProgress']): Promise<ReplayResult> {
  const upTo = await replayedUpTo(admin, options.dlqTopic)
  const ranges = await topicRanges(admin, options.dlqTopic, (p, start) => upTo.get(p) ?? start)
  const tally = new Tally()
  await scanRanges(kafka, ranges, async (record) => {
    if (markers.has(markerKey(record.partition, record.offset))) tally.alreadyReplayed++
    else if (!matchesFilter(options.filter, record)) tally.notMatching++
    else {
      const to = await destinations.of(record)
      tally.add(record, { topic: to.topic, partition: to.partition ?? null, offset: null })
    }
  }, { onProgress: onProgress === undefined ? undefined : (done, total) => onProgress(Number(done), Number(total)) })
  return tally.result(options)
}

async function realRun (
  kafka: KafkaClientFactory, admin: KafkaAdmin, options: ResolvedReplayOptions, markers: Set<MarkerKey>,
  destinations: Destinations, stops: Array<[number, bigint]>, input: ReplayOptions
): Promise<ReplayResult> {
  const groupId = replayGroupId(options.dlqTopic)
  const filtered = !isEmptyFilter(options.filter)
  const progress = new Map<number, PartitionProgress>(stops.map(([p, stop]) => [p, { stop, start: null, handledUpTo: null, blocked: false, committed: null }]))
  const tally = new Tally()
  let producer: KafkaProducer | null = null
  let consumer: KafkaGroupConsumer | null = null
  let markerTopicReady = false
  try {
    producer = kafka.createProducer({ transactionalId: groupId, transactionTimeoutMs: options.transactionTimeoutMs, clientId: 'devtrip-dlq-replay' })
    // fences a replay of this DLQ still running (or killed mid-transaction) and aborts what it left open, BEFORE
    // the group's committed offsets are read: those are then final
    await producer.initTransactions()
    consumer = kafka.createGroupConsumer({
      groupId,
      isolationLevel: 'read_committed',
      autoOffsetReset: 'earliest',
      clientId: 'devtrip-dlq-replay',
      // short, so that a killed replay's member is dropped quickly when the next one joins
      sessionTimeoutMs: 10_000,
      heartbeatIntervalMs: 1000,
      rebalanceTimeoutMs: 10_000
    })
    consumer.subscribe([options.dlqTopic])
    const deadline = Date.now() + options.joinTimeoutMs
    const reportProgress = (): void => {
      if (input.onProgress === undefined) return
      let done = 0n
      let total = 0n
      for (const p of progress.values()) {
        if (p.start === null) continue
        const span = p.stop > p.start ? p.stop - p.start : 0n
        total += span
        const at = p.handledUpTo ?? p.start
        done += at > p.start ? (at - p.start > span ? span : at - p.start) : 0n
      }
      input.onProgress(Number(done), Number(total))
    }

    for (;;) {
      const batches = await consumer.poll(500)
      const assigned = consumer.assignment()
      if (assigned.length === 0) {
        if (Date.now() > deadline) throw joinTimeout(options, groupId)
        continue
      }
      if (assigned.length < progress.size) {
        throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `replay: another member of ${groupId} holds ${progress.size - assigned.length} of ${progress.size} partitions (is another replay of ${options.dlqTopic} running?)`, {
          details: { hint: 'wait for the other replay to finish; a killed one drops out within 10 s' }
        })
      }
      for (const state of consumer.partitionStates()) {
        const p = progress.get(state.partition)
        if (p !== undefined && p.start === null && state.position !== null) {
          // the first batch may already be past the committed offset: the start is where the group stood
          p.start = (batches.find((b) => b.partition === state.partition)?.records[0]?.offset ?? state.position)
          if (p.start > state.position) p.start = state.position
        }
      }
      const records = batches.flatMap((b) => b.records.filter((r) => r.offset < progress.get(b.partition)!.stop))
      for (let i = 0; i < records.length; i += options.batchSize) {
        await transaction(records.slice(i, i + options.batchSize))
        reportProgress()
      }
      const finished = consumer.partitionStates().every((s) => s.position !== null && s.position >= progress.get(s.partition)!.stop)
      if (finished) break
    }
    // everything before the stop offsets is handled in unblocked partitions, including trailing transaction
    // markers: commit the stop offsets so the group shows nothing pending
    const tail = [...progress].filter(([, p]) => !p.blocked && (p.handledUpTo ?? p.start ?? 0n) < p.stop).map(([partition, p]) => ({ topic: options.dlqTopic, partition, offset: p.stop }))
    if (tail.length > 0) {
      await producer.beginTransaction()
      try {
        await producer.sendOffsetsToTransaction(tail, consumer.groupMetadata())
        await producer.commitTransaction()
      } catch (error) {
        await producer.abortTransaction().catch(() => undefined)
        throw error
      }
      for (const t of tail) progress.get(t.partition)!.handledUpTo = t.offset
    }
    reportProgress()
    return tally.result(options)
  } finally {
    await Promise.allSettled([consumer?.close(), producer?.close()])
  }

  /** One chunk of DLQ records in one transaction: the republished records, markers, and the group's offsets. */
  async function transaction (chunk: readonly ConsumedRecord[]): Promise<void> {
    const sends: ProducerRecord[] = []
    const sent: Array<{ record: ConsumedRecord, topic: string, partition: number | undefined }> = []
    const now = Date.now()
    const handled = new Map<number, bigint>()
    for (const record of chunk) {
      const p = progress.get(record.partition)!
      const marked = markers.has(markerKey(record.partition, record.offset))
      if (marked) tally.alreadyReplayed++
      else if (!matchesFilter(options.filter, record)) {
        tally.notMatching++
        p.blocked = true
      } else {
        const to = await destinations.of(record)
        sends.push({ topic: to.topic, ...(to.partition === undefined ? {} : { partition: to.partition }), key: record.key, value: record.value, headers: replayHeaders(record, now), timestamp: record.timestamp })
        sent.push({ record, topic: to.topic, partition: to.partition })
        if (p.blocked && filtered) sends.push(markerRecord(options.dlqTopic, record.partition, record.offset, to.topic, now))
      }
      if (!p.blocked) handled.set(record.partition, record.offset + 1n)
    }
    if (sends.some((s) => s.topic === markerTopicName(options.dlqTopic)) && !markerTopicReady) {
      await ensureMarkerTopic(admin, options.dlqTopic)
      markerTopicReady = true
    }
    const offsets: TopicPartitionOffset[] = [...handled].map(([partition, offset]) => ({ topic: options.dlqTopic, partition, offset }))
    if (sends.length === 0 && offsets.length === 0) return
    await producer!.beginTransaction()
    let metadata: Awaited<ReturnType<KafkaProducer['send']>> = []
    try {
      if (sends.length > 0) metadata = await producer!.send(sends)
      if (offsets.length > 0) await producer!.sendOffsetsToTransaction(offsets, consumer!.groupMetadata())
      await input.beforeCommit?.({ transaction: tally.transactions + 1, records: sent.length })
      await producer!.commitTransaction()
    } catch (error) {
      await producer!.abortTransaction().catch(() => undefined)
      throw error
    }
    tally.transactions++
    // metadata holds the republished records and markers in send order; markers follow their record
    let m = 0
    for (const s of sent) {
      while (metadata[m] !== undefined && metadata[m]!.topic !== s.topic) m++
      const where = metadata[m++]
      tally.add(s.record, { topic: s.topic, partition: where?.partition ?? s.partition ?? null, offset: where?.offset.toString() ?? null })
    }
    for (const [partition, offset] of handled) progress.get(partition)!.handledUpTo = offset
  }
}

function joinTimeout (options: ResolvedReplayOptions, groupId: string): DevtripError {
  return new DevtripError('DEVTRIP_TIMEOUT', `replay: could not join ${groupId} within ${Math.round(options.joinTimeoutMs / 1000)} s`, {
    canRetry: true, details: { hint: 'check the broker (bin/devtrip-streams infra status) and that no other replay of this topic is running' }
  })
}
