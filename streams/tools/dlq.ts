/**
 * Looking at dead-letter topics: `listDlqTopics` (every `*.dlq` topic with counts, oldest/newest record, the most
 * frequent error classes and the last error) and `showDlqRecords` (decoded records with their error headers).
 * Both read with a group-less read_committed consumer and never move any consumer group.
 *
 * Counting reads the records rather than subtracting offsets: the engine writes dead letters inside its
 * transactions, so a DLQ partition holds commit markers (and maybe aborted records) that take offsets. A topic
 * larger than `maxScanRecords` offsets is read only over its newest offsets; its counts are then estimates
 * (`approximate: true`).
 */
import { DLQ_SUFFIX } from '../../events/topics'
import type { ConsumedRecord, KafkaAdmin, KafkaClientFactory } from '../kafka/port'
import { loadMarkers, markerKey, replayedUpTo, replayGroupId } from './dlq-markers'
import { matchesFilter, type DlqFilter } from './dlq-filter'
import { dlqErrorInfo, viewDlqRecord, type DlqRecordView } from './dlq-record'
import { scanRanges, topicRanges, type PartitionRange, type ScanOptions } from './topic-scan'

export interface DlqRecordRef {
  readonly partition: number
  readonly offset: string
  readonly timestamp: number
}

export interface DlqTopicSummary {
  readonly topic: string
  readonly partitions: number
  /** committed records in the topic (an estimate when approximate) */
  readonly records: number
  /** records not yet replayed or purged */
  readonly pending: number
  readonly approximate: boolean
  readonly oldest: DlqRecordRef | null
  readonly newest: DlqRecordRef | null
  /** exception classes (the `__streams.errors.exception` header), most frequent first */
  readonly topErrors: ReadonlyArray<{ readonly exception: string, readonly count: number }>
  readonly lastError: (DlqRecordRef & { readonly exception: string | null, readonly message: string | null, readonly sourceTopic: string | null }) | null
  readonly replayGroup: string
}

export interface ListDlqOptions {
  /** only topics starting with this */
  readonly prefix?: string
  /** read at most this many offsets per topic (default 10 000) */
  readonly maxScanRecords?: number
  readonly topErrors?: number
  readonly onProgress?: ScanOptions['onProgress']
}

export function isDlqTopic (name: string): boolean {
  return name.endsWith(DLQ_SUFFIX) && name.length > DLQ_SUFFIX.length
}

/** Splits `limit` offsets over the ranges, newest first, so a large topic is read only over its recent end. */
function newestRanges (ranges: readonly PartitionRange[], limit: number): { ranges: PartitionRange[], approximate: boolean } {
  const total = ranges.reduce((s, r) => s + (r.to - r.from), 0n)
  if (total <= BigInt(limit)) return { ranges: [...ranges], approximate: false }
  const share = BigInt(Math.max(1, Math.floor(limit / Math.max(1, ranges.length))))
  return { ranges: ranges.map((r) => ({ ...r, from: r.to - r.from > share ? r.to - share : r.from })), approximate: true }
}

const ref = (r: ConsumedRecord): DlqRecordRef => ({ partition: r.partition, offset: r.offset.toString(), timestamp: r.timestamp })

export async function summarizeDlqTopic (kafka: KafkaClientFactory, admin: KafkaAdmin, topic: string, options: ListDlqOptions = {}): Promise<DlqTopicSummary> {
  const all = await topicRanges(admin, topic)
  const { ranges, approximate } = newestRanges(all, options.maxScanRecords ?? 10_000)
  const [upTo, markers] = await Promise.all([replayedUpTo(admin, topic), loadMarkers(kafka, admin, topic)])
  let seen = 0
  let pending = 0
  let oldest: ConsumedRecord | null = null
  let newest: ConsumedRecord | null = null
  const classes = new Map<string, number>()
  await scanRanges(kafka, ranges, (record) => {
    seen++
    const handled = record.offset < (upTo.get(record.partition) ?? 0n) || markers.has(markerKey(record.partition, record.offset))
    if (!handled) pending++
    if (oldest === null || record.timestamp < oldest.timestamp) oldest = record
    if (newest === null || record.timestamp >= newest.timestamp) newest = record
    const exception = dlqErrorInfo(record.headers).exception ?? 'unknown'
    classes.set(exception, (classes.get(exception) ?? 0) + 1)
  }, { onProgress: options.onProgress })
  const scannedOffsets = ranges.reduce((s, r) => s + Number(r.to - r.from), 0)
  const allOffsets = all.reduce((s, r) => s + Number(r.to - r.from), 0)
  // scale the counts of a partial read by the share of offsets it covered
  const scale = approximate && scannedOffsets > 0 ? allOffsets / scannedOffsets : 1
  const last = newest as ConsumedRecord | null
  const info = last === null ? null : dlqErrorInfo(last.headers)
  return {
    topic,
    partitions: all.length,
    records: Math.round(seen * scale),
    pending: Math.round(pending * scale),
    approximate,
    oldest: oldest === null ? null : ref(oldest),
    newest: last === null ? null : ref(last),
    topErrors: [...classes].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, options.topErrors ?? 5).map(([exception, count]) => ({ exception, count })),
    lastError: last === null || info === null ? null : { ...ref(last), exception: info.exception, message: info.message, sourceTopic: info.topic },
    replayGroup: replayGroupId(topic)
  }
}

/** Every dead-letter topic (name ends in `.dlq`), sorted by name. */
export async function listDlqTopics (kafka: KafkaClientFactory, admin: KafkaAdmin, options: ListDlqOptions = {}): Promise<DlqTopicSummary[]> {
  const names = (await admin.listTopics()).filter((n) => isDlqTopic(n) && n.startsWith(options.prefix ?? ''))
  const out: DlqTopicSummary[] = []
  // one topic at a time: a laptop broker and the progress bar both prefer it
  for (const name of names) out.push(await summarizeDlqTopic(kafka, admin, name, options))
  return out
}

export interface ShowDlqOptions {
  readonly filter?: DlqFilter
  /** only records at this offset (of every partition, or of filter.partition) */
  readonly offset?: bigint
  /** at most this many records, the newest (default 10) */
  readonly limit?: number
  readonly maxScanRecords?: number
  readonly onProgress?: ScanOptions['onProgress']
}

export interface ShowDlqResult {
  readonly topic: string
  /** matching records found (before the limit) */
  readonly matched: number
  readonly records: DlqRecordView[]
  /** true when the topic had more offsets than maxScanRecords and only its newest part was read */
  readonly partial: boolean
}

export async function showDlqRecords (kafka: KafkaClientFactory, admin: KafkaAdmin, topic: string, options: ShowDlqOptions = {}): Promise<ShowDlqResult> {
  const filter = options.filter ?? {}
  const limit = options.limit ?? 10
  let ranges = await topicRanges(admin, topic)
  if (filter.partition !== undefined) ranges = ranges.filter((r) => r.partition === filter.partition)
  let partial = false
  if (options.offset !== undefined) {
    const at = options.offset
    ranges = ranges.filter((r) => at >= r.from && at < r.to).map((r) => ({ ...r, from: at, to: at + 1n }))
  } else {
    const newest = newestRanges(ranges, options.maxScanRecords ?? 10_000)
    ranges = newest.ranges
    partial = newest.approximate
  }
  const matches: ConsumedRecord[] = []
  await scanRanges(kafka, ranges, (record) => {
    if (matchesFilter(filter, record)) matches.push(record)
  }, { onProgress: options.onProgress })
  matches.sort((a, b) => a.timestamp - b.timestamp || a.partition - b.partition || (a.offset < b.offset ? -1 : 1))
  return { topic, matched: matches.length, records: matches.slice(Math.max(0, matches.length - limit)).map(viewDlqRecord), partial }
}
