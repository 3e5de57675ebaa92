/**
 * Reads fixed offset ranges of partitions once, with a group-less read_committed consumer: the way the DLQ tools
 * look at a topic without touching any consumer group. Ranges are fixed when the scan starts, so a topic that
 * keeps growing cannot keep a scan going forever.
 */
import { DevtripError } from '../../events/errors'
import type { ConsumedRecord, KafkaAdmin, KafkaClientFactory, TopicPartition } from '../kafka/port'
import { topicPartitionKey } from '../kafka/port'

export interface PartitionRange extends TopicPartition {
  /** first offset to read */
  readonly from: bigint
  /** stop before this offset (usually the last stable offset when the scan started) */
  readonly to: bigint
}

export interface ScanOptions {
  /** gives up when no partition moved for this long (default 30 s) */
  readonly stallTimeoutMs?: number
  /** called after every fetch with the offsets read so far out of the total */
  readonly onProgress?: (done: bigint, total: bigint) => void
}

/** What onRecord returns: 'stop' ends the whole scan early. */
export type ScanVerdict = 'stop' | void

/** The read range of every partition of a topic, from `from(partition)` (default: log start) to the last stable offset. */
export async function topicRanges (admin: KafkaAdmin, topic: string, from?: (partition: number, logStart: bigint) => bigint): Promise<PartitionRange[]> {
  const [description] = await admin.describeTopics([topic])
  const tps = description!.partitions.map((p) => ({ topic, partition: p.partition }))
  const [starts, ends] = await Promise.all([admin.listOffsets(tps, 'earliest', 'read_uncommitted'), admin.listOffsets(tps, 'latest', 'read_committed')])
  return tps.map((tp, i) => {
    const logStart = starts[i]!.offset
    const wanted = from === undefined ? logStart : from(tp.partition, logStart)
    return { ...tp, from: wanted < logStart ? logStart : wanted, to: ends[i]!.offset }
  })
}

/**
 * Calls `onRecord` for every committed record in the ranges, partition by partition in offset order (partitions
 * interleave). Records of aborted transactions and transaction markers are skipped, so fewer records than
 * `to − from` may be seen.
 */
export async function scanRanges (kafka: KafkaClientFactory, ranges: readonly PartitionRange[], onRecord: (record: ConsumedRecord) => ScanVerdict | Promise<ScanVerdict>, options: ScanOptions = {}): Promise<void> {
  const open = ranges.filter((r) => r.from < r.to)
  const total = open.reduce((sum, r) => sum + (r.to - r.from), 0n)
  if (open.length === 0) {
    options.onProgress?.(0n, 0n)
    return
  }
  const stallTimeoutMs = options.stallTimeoutMs ?? 30_000
  const consumer = kafka.createAssignedConsumer({ isolationLevel: 'read_committed', autoOffsetReset: 'earliest', clientId: 'devtrip-dlq-scan' })
  try {
    consumer.assign(open)
    for (const r of open) consumer.seek(r, r.from)
    const pending = new Map(open.map((r) => [topicPartitionKey(r), r]))
    let lastMove = Date.now()
    while (pending.size > 0) {
      const batches = await consumer.poll(500)
      let moved = batches.length > 0
      for (const batch of batches) {
        const range = pending.get(topicPartitionKey(batch))
        if (range === undefined) continue
        for (const record of batch.records) {
          if (record.offset >= range.to) break
          if (await onRecord(record) === 'stop') return
        }
      }
      let done = 0n
      for (const state of consumer.partitionStates()) {
        const key = topicPartitionKey(state)
        const range = open.find((r) => topicPartitionKey(r) === key)!
        const position = state.position ?? range.from
        done += (position >= range.to ? range.to : position) - range.from
        if (pending.has(key) && position >= range.to) {
          pending.delete(key)
          consumer.pause([state])
          moved = true
        }
      }
      options.onProgress?.(done < 0n ? 0n : done, total)
      if (moved) lastMove = Date.now()
      else if (Date.now() - lastMove > stallTimeoutMs) {
        throw new DevtripError('DEVTRIP_TIMEOUT', `reading ${[...pending.keys()].join(', ')} made no progress for ${Math.round(stallTimeoutMs / 1000)} s`, {
          canRetry: true, details: { partitions: [...pending.keys()], hint: 'check that the broker is up (bin/devtrip-streams infra status) and try again' }
        })
      }
    }
  } finally {
    await consumer.close()
  }
}
