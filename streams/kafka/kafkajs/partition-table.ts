/**
 * What both kafkajs consumers keep per assigned partition — position, pause flag, pending reset, watermarks — and
 * the conversion of kafkajs's decoded records into the port's. The position here is the truth: whatever kafkajs
 * fetches is accepted only when it starts exactly there (a seek or pause meanwhile makes it stale).
 */
import { DevtripError } from '../../../events/errors'
import type { ConsumedRecord, OffsetSpec, PartitionState, RecordHeader, TopicPartition } from '../port'
import { topicPartitionKey } from '../port'
import { checkOffsetSpec, checkTopicPartition, checkTopicPartitions } from '../validation'
import type { InternalMessage } from './library'

export interface PartitionEntry {
  readonly topic: string
  readonly partition: number
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

  pause (partitions: readonly TopicPartition[], paused: boolean): PartitionEntry[] {
    checkTopicPartitions(paused ? 'pause' : 'resume', 'partitions', partitions)
    const entries = partitions.map((tp) => this.entry(paused ? 'pause' : 'resume', tp))
    for (const e of entries) e.paused = paused
    return entries
  }

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

  /** Notes the watermarks a fetch response reported for a partition (strings as kafkajs decodes int64s). */
  noteWatermarks (topic: string, partition: number, highWatermark: string, lastStableOffset: string | undefined, logStartOffset: string | undefined): void {
    const entry = this.entries.get(topicPartitionKey({ topic, partition }))
    if (entry === undefined) return
    entry.highWatermark = BigInt(highWatermark)
    // -1 means "unknown" (an old message format); the high watermark is then the bound
    const lso = lastStableOffset === undefined ? -1n : BigInt(lastStableOffset)
    entry.lastStableOffset = lso < 0n ? entry.highWatermark : lso
    const start = logStartOffset === undefined ? -1n : BigInt(logStartOffset)
    if (start >= 0n) entry.logStartOffset = start
  }
}

export function dedupe (partitions: readonly TopicPartition[]): TopicPartition[] {
  const seen = new Map<string, TopicPartition>()
  for (const tp of partitions) seen.set(topicPartitionKey(tp), { topic: tp.topic, partition: tp.partition })
  return [...seen.values()]
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
