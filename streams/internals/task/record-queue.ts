/**
 * Per-partition input buffers of a task and the choice of which record to process next.
 *
 * Like Kafka Streams' PartitionGroup, the next record is the one with the EARLIEST head timestamp across the task's
 * partitions, so that a join sees both sides in event-time order. Equal timestamps go to the partition whose topic
 * was declared first in the sub-topology: a fixed order, so a re-run processes the same input the same way.
 */
import type { ConsumedRecord } from '../../record-collector'

export class RecordQueue {
  /** records not yet handed out are items[head .. items.length) */
  private items: ConsumedRecord[] = []
  private head = 0
  /** the runtime knows this partition has records on the broker that are not buffered yet */
  hasMoreData = false

  constructor (readonly topic: string, readonly order: number) {}

  get size (): number {
    return this.items.length - this.head
  }

  headTimestamp (): number {
    return (this.items[this.head] as ConsumedRecord).timestamp
  }

  push (records: readonly ConsumedRecord[]): void {
    for (let i = 0; i < records.length; i++) this.items.push(records[i] as ConsumedRecord)
  }

  shift (): ConsumedRecord {
    const record = this.items[this.head] as ConsumedRecord
    this.items[this.head] = undefined as unknown as ConsumedRecord // let the record be collected
    this.head++
    if (this.head === this.items.length) {
      this.items.length = 0
      this.head = 0
    } else if (this.head >= 4096 && this.head * 2 >= this.items.length) {
      // drop the consumed prefix now and then instead of on every shift (Array.shift is O(n))
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return record
  }

  clear (): void {
    this.items = []
    this.head = 0
  }
}

export class PartitionGroup {
  readonly queues: readonly RecordQueue[]
  private readonly byTopic = new Map<string, RecordQueue>()
  private idleSinceMs: number | undefined

  /** `topics` in declaration order: that order breaks timestamp ties */
  constructor (topics: readonly string[]) {
    this.queues = topics.map((t, i) => new RecordQueue(t, i))
    for (const q of this.queues) this.byTopic.set(q.topic, q)
  }

  queue (topic: string): RecordQueue | undefined {
    return this.byTopic.get(topic)
  }

  get bufferedRecords (): number {
    let n = 0
    for (const q of this.queues) n += q.size
    return n
  }

  /** The queue holding the next record to process, or undefined when all are empty. */
  nextQueue (): RecordQueue | undefined {
    let best: RecordQueue | undefined
    let bestTs = 0
    for (let i = 0; i < this.queues.length; i++) {
      const q = this.queues[i] as RecordQueue
      if (q.size === 0) continue
      const ts = q.headTimestamp()
      // strict < keeps the earlier-declared topic on ties
      if (best === undefined || ts < bestTs) { best = q; bestTs = ts }
    }
    return best
  }

  /**
   * Whether processing now keeps timestamp order. A partition with an empty buffer but known unfetched data would
   * make us pick a later record too early, so we wait for it — at most `maxTaskIdleMs`, then process anyway
   * (Kafka Streams' max.task.idle.ms). Empty partitions without known data never block.
   */
  isProcessable (nowMs: number, maxTaskIdleMs: number): boolean {
    let buffered = false
    let waiting = false
    for (let i = 0; i < this.queues.length; i++) {
      const q = this.queues[i] as RecordQueue
      if (q.size > 0) buffered = true
      else if (q.hasMoreData) waiting = true
    }
    if (!buffered || !waiting) {
      this.idleSinceMs = undefined
      return buffered
    }
    if (this.idleSinceMs === undefined) this.idleSinceMs = nowMs
    return nowMs - this.idleSinceMs >= maxTaskIdleMs
  }

  clear (): void {
    for (const q of this.queues) q.clear()
    this.idleSinceMs = undefined
  }
}
