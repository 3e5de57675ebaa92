/**
 * Turns the record batches of one partition of a Fetch response into the port's records, dropping what a
 * read_committed reader must not see.
 *
 * The library parses the batches; the meaning of their fields is decided here. Record batch (magic 2) header
 * fields used, as the library exposes them:
 *   firstOffset int64 | lastOffsetDelta int32 | firstTimestamp int64 | maxTimestamp int64 |
 *   producerId int64  | attributes int16, whose bits are:
 *     0-2 compression, 3 timestamp type (1 = LogAppendTime), 4 transactional, 5 control batch
 * A control batch holds one control record whose key is: version int16 | type int16 (0 = ABORT, 1 = COMMIT).
 *
 * Why not the library's own read_committed filter: it only drops an aborted transaction's records when the
 * ABORT marker is in the same response, so a response cut short by the byte limit can leak aborted records.
 * The rule used here is the Java consumer's: the broker lists, per partition, the aborted transactions
 * (producer id, first offset) overlapping the fetched range; walking the batches in order, a producer becomes
 * "aborted" once a batch reaches that first offset, its transactional batches are skipped while it is, and its
 * ABORT marker ends it. That is correct whatever the response length.
 */
import type { ConsumedRecord, RecordHeader } from '../port'
import type { Platformatic } from './library'

const TIMESTAMP_TYPE_LOG_APPEND = 0x08
const IS_TRANSACTIONAL = 0x10
const IS_CONTROL = 0x20
const CONTROL_TYPE_ABORT = 0

export interface AbortedTransaction {
  readonly producerId: bigint
  readonly firstOffset: bigint
}

export interface CollectedRecords {
  readonly records: ConsumedRecord[]
  /** where the next fetch of this partition starts: after the last batch seen, markers and skipped batches included */
  readonly nextOffset: bigint
}

function isAbortMarker (batch: Platformatic.RecordsBatch): boolean {
  const key = batch.records[0]?.key
  return key !== null && key !== undefined && key.length >= 4 && key.readInt16BE(2) === CONTROL_TYPE_ABORT
}

function toHeaders (raw: ReadonlyArray<[Buffer | null, Buffer | null]>): RecordHeader[] {
  return raw.map(([name, value]) => [name === null ? '' : name.toString('utf8'), value])
}

export function collectRecords (
  topic: string,
  partition: number,
  batches: readonly Platformatic.RecordsBatch[],
  fetchOffset: bigint,
  abortedTransactions: readonly AbortedTransaction[],
  readCommitted: boolean
): CollectedRecords {
  const records: ConsumedRecord[] = []
  let nextOffset = fetchOffset
  const aborted = readCommitted ? [...abortedTransactions].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0)) : []
  let nextAborted = 0
  const abortedProducers = new Set<bigint>()

  for (const batch of batches) {
    const lastOffset = batch.firstOffset + BigInt(batch.lastOffsetDelta)
    // a compressed batch may start before the requested offset; a batch wholly before it was already read
    if (lastOffset < fetchOffset) continue
    if (lastOffset + 1n > nextOffset) nextOffset = lastOffset + 1n
    const control = (batch.attributes & IS_CONTROL) !== 0
    if (readCommitted && (batch.attributes & IS_TRANSACTIONAL) !== 0) {
      while (nextAborted < aborted.length && aborted[nextAborted]!.firstOffset <= lastOffset) {
        abortedProducers.add(aborted[nextAborted]!.producerId)
        nextAborted++
      }
      if (control) {
        if (isAbortMarker(batch)) abortedProducers.delete(batch.producerId)
        continue
      }
      if (abortedProducers.has(batch.producerId)) continue
    }
    if (control) continue
    const logAppendTime = (batch.attributes & TIMESTAMP_TYPE_LOG_APPEND) !== 0
    for (const record of batch.records) {
      const offset = batch.firstOffset + BigInt(record.offsetDelta)
      if (offset < fetchOffset) continue
      records.push({
        topic,
        partition,
        offset,
        timestamp: Number(logAppendTime ? batch.maxTimestamp : batch.firstTimestamp + record.timestampDelta),
        key: record.key,
        value: record.value,
        headers: toHeaders(record.headers)
      })
    }
  }
  return { records, nextOffset }
}
