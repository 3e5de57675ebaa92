/**
 * From one partition of a Fetch response to the port's records, the next position and the watermarks.
 *
 * Under read_committed, records of aborted transactions are dropped by aborted-transactions.ts (the Java consumer's
 * rule; kafkajs's own filter gets it wrong when transactions end in another order than they began); control
 * records never reach the caller. The next position is the end of the last record BATCH returned (first offset +
 * last offset delta + 1), not the last record: a batch can end in a control record or in records compaction
 * removed, and a position left before them would fetch the same batch forever.
 */
import type { PartitionTable } from '../common/partition-table'
import type { ConsumedRecord, RecordHeader } from '../port'
import { filterAbortedTransactions } from './aborted-transactions'
import type { InternalMessage } from './library'


/** The offset after the last record batch among `messages` (null when there are none). */
export function endOfBatches (messages: readonly InternalMessage[]): bigint | null {
  let end: bigint | null = null
  for (const m of messages) {
    const context = m.batchContext
    const next = context === undefined ? BigInt(m.offset) + 1n : BigInt(context.firstOffset) + BigInt(context.lastOffsetDelta) + 1n
    if (end === null || next > end) end = next
  }
  return end
}

export function collectRecords (topic: string, partition: number, messages: readonly InternalMessage[], fetchOffset: bigint,
  abortedTransactions: ReadonlyArray<{ producerId: string, firstOffset: string }>, readCommitted: boolean): { records: ConsumedRecord[], nextOffset: bigint } {
  const visible = readCommitted ? filterAbortedTransactions({ messages, abortedTransactions }) : messages
  // a fetch may return a whole batch that starts before the requested offset
  const records = visible.filter((m) => m.isControlRecord !== true && BigInt(m.offset) >= fetchOffset).map((m) => toConsumedRecord(topic, partition, m))
  const end = endOfBatches(messages)
  return { records, nextOffset: end !== null && end > fetchOffset ? end : fetchOffset }
}

/** Notes the watermarks a fetch response reported for an assigned partition (strings, as kafkajs decodes int64s). */
export function noteWatermarks (table: PartitionTable, topic: string, partition: number, highWatermark: string, lastStableOffset: string | undefined, logStartOffset: string | undefined): void {
  const entry = table.get({ topic, partition })
  if (entry === undefined) return
  entry.highWatermark = BigInt(highWatermark)
  // -1 means "unknown" (an old message format); the high watermark is then the bound
  const lso = lastStableOffset === undefined ? -1n : BigInt(lastStableOffset)
  entry.lastStableOffset = lso < 0n ? entry.highWatermark : lso
  const start = logStartOffset === undefined ? -1n : BigInt(logStartOffset)
  if (start >= 0n) entry.logStartOffset = start
}

/**
 * kafkajs decodes headers into an object keyed by name, a repeated name becoming an array of its values in order.
 * The port's ordered list is rebuilt from it: names in first-appearance order, each name's values in order. Values
 * of one name keep their order and null values survive; what cannot be recovered is the interleaving of different
 * names (a, b, a comes back as a, a, b) and the order of integer-like names, which JavaScript objects sort first.
 */
export function toHeaders (headers: InternalMessage['headers']): RecordHeader[] {
  if (headers === undefined) return []
  const out: RecordHeader[] = []
  for (const [name, value] of Object.entries(headers)) {
    if (Array.isArray(value)) for (const v of value) out.push([name, v ?? null])
    else out.push([name, value ?? null])
  }
  return out
}

export function toConsumedRecord (topic: string, partition: number, m: InternalMessage): ConsumedRecord {
  return {
    topic,
    partition,
    offset: BigInt(m.offset),
    timestamp: Number(m.timestamp),
    key: m.key ?? null,
    value: m.value ?? null,
    headers: toHeaders(m.headers)
  }
}
