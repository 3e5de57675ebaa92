/**
 * The consumer positions an adapter keeps itself, per assigned partition: position, pending reset, pause flag and
 * the watermarks of the last fetch that covered it. Used by the adapters that fetch with raw Fetch requests or
 * hand out batches a library prefetched (@platformatic/kafka, kafkajs): their library's idea of the position runs
 * ahead of what the caller was given, so the table is the truth, and fetched data is accepted only when it starts
 * exactly at the position here (a seek or pause meanwhile makes it stale).
 */
import { DevtripError } from '../../../events/errors'
import type { OffsetSpec, PartitionState, TopicPartition } from '../port'
import { topicPartitionKey } from '../port'
import { checkOffsetSpec, checkTopicPartition, checkTopicPartitions } from '../validation'

export interface PartitionEntry {
  readonly topic: string
  readonly partition: number
  /** next offset to hand out; null until resolved (committed offset or reset policy) */
  position: bigint | null
  /** a seek to 'earliest'/'latest' (or an out-of-range reset) waiting to be resolved at the next poll */
  reset: 'earliest' | 'latest' | null
  paused: boolean
  highWatermark: bigint | null
  lastStableOffset: bigint | null
  logStartOffset: bigint | null
}

export class PartitionTable {
  private readonly entries = new Map<string, PartitionEntry>()

  /** Replaces the assignment; kept partitions keep their state, new ones start unresolved. */
  assign (partitions: readonly TopicPartition[]): void {
    const next = new Map<string, PartitionEntry>()
    for (const tp of partitions) {
      const key = topicPartitionKey(tp)
      next.set(key, this.entries.get(key) ?? {
        topic: tp.topic, partition: tp.partition, position: null, reset: null, paused: false, highWatermark: null, lastStableOffset: null, logStartOffset: null
      })
    }
    this.entries.clear()
    for (const [key, entry] of next) this.entries.set(key, entry)
  }

  get (tp: TopicPartition): PartitionEntry | undefined {
    return this.entries.get(topicPartitionKey(tp))
  }

  /** The entry of an assigned partition, or the port's error for an unassigned one. */
  entry (operation: string, tp: TopicPartition): PartitionEntry {
    const entry = this.entries.get(topicPartitionKey(tp))
    if (entry === undefined) {
      throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `${operation}: ${topicPartitionKey(tp)} is not assigned to this consumer`, { details: { ...tp } })
    }
    return entry
  }

  all (): PartitionEntry[] {
    return [...this.entries.values()]
  }

  /** Sets the pause flag of every partition, or of none when one is not assigned; returns their entries. */
  pause (partitions: readonly TopicPartition[], paused: boolean): PartitionEntry[] {
    checkTopicPartitions(paused ? 'pause' : 'resume', 'partitions', partitions)
    const entries = partitions.map((tp) => this.entry(paused ? 'pause' : 'resume', tp))
    for (const e of entries) e.paused = paused
    return entries
  }

  /** An offset becomes the position at once; 'earliest'/'latest' wait as a reset for the next poll to resolve. */
  seek (partition: TopicPartition, offset: OffsetSpec): PartitionEntry {
    checkTopicPartition('seek', '/partition', partition)
    checkOffsetSpec('seek', offset)
    const entry = this.entry('seek', partition)
    if (typeof offset === 'bigint') {
      entry.position = offset
      entry.reset = null
    } else {
      entry.position = null
      entry.reset = offset
    }
    return entry
  }

  position (partition: TopicPartition): bigint | null {
    checkTopicPartition('position', '/partition', partition)
    return this.entry('position', partition).position
  }

  states (): PartitionState[] {
    return this.all().map((e) => ({
      topic: e.topic,
      partition: e.partition,
      position: e.position,
      paused: e.paused,
      highWatermark: e.highWatermark,
      lastStableOffset: e.lastStableOffset,
      logStartOffset: e.logStartOffset
    }))
  }

  assignment (): TopicPartition[] {
    return this.all().map((e) => ({ topic: e.topic, partition: e.partition }))
  }
}

/**
 * Gives `entries` the offsets a ListOffsets answered (keyed by topicPartitionKey). An entry that got a position
 * while the request was out keeps it: a seek made meanwhile wins over the reset policy.
 */
export function applyListedOffsets (entries: readonly PartitionEntry[], offsets: ReadonlyMap<string, bigint>): void {
  for (const e of entries) {
    const offset = offsets.get(topicPartitionKey(e))
    if (offset !== undefined && e.position === null) {
      e.position = offset
      e.reset = null
    }
  }
}
