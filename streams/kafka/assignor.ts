/**
 * The group's partition assignor and the consumer-protocol codec, shared by every adapter.
 *
 * Why our own assignor: a Kafka Streams-style runtime joins and aggregates co-partitioned topics, so partition N
 * of every source topic must land on the same member (a "task" is one partition number). The usual round-robin
 * and range assignors do not promise that. This assignor hands out partition NUMBERS: a member that gets number
 * N gets partition N of every topic it subscribes to. It is also sticky: a member keeps the numbers it owned
 * before the rebalance (sent in its subscription) as far as balance allows, so local state stays where it is.
 * Every adapter must announce the same protocol name, or members on different adapters could not share a group.
 */
import { DevtripError } from '../../events/errors'
import type { TopicPartition } from './port'

/** The protocol name announced in JoinGroup. */
export const ASSIGNOR_NAME = 'devtrip-copartitioned'

export interface Subscription {
  readonly topics: readonly string[]
  /** what the member owned before this rebalance (for stickiness) */
  readonly ownedPartitions: readonly TopicPartition[]
  /** opaque bytes the member advertises (the runtime's interactive-query address); null when none */
  readonly userData?: Buffer | null
}

export interface MemberSubscription extends Subscription {
  readonly memberId: string
}

/*
 * ConsumerProtocolSubscription, classic (non-flexible) encoding, big-endian:
 *   version           int16            (we write 1)
 *   topics            int32 count, then per topic: int16 length + UTF-8 name
 *   user_data         int32 length (-1 = null) + bytes           (GroupConsumerOptions.userData, or null)
 *   -- version >= 1 --
 *   owned_partitions  int32 count, then per topic: int16 length + UTF-8 name, int32 count + int32 partitions
 *   -- version >= 2: generation_id int32; version >= 3: rack_id int16 length + UTF-8 (not written, skipped)
 *
 * ConsumerProtocolAssignment:
 *   version              int16            (we write 0)
 *   assigned_partitions  int32 count, then per topic: int16 length + UTF-8 name, int32 count + int32 partitions
 *   user_data            int32 length (-1 = null) + bytes   (we write an empty, non-null value: some decoders
 *                                                            mis-read the null marker)
 */

class ProtocolWriter {
  private readonly parts: Buffer[] = []
  int16 (v: number): this { const b = Buffer.alloc(2); b.writeInt16BE(v); this.parts.push(b); return this }
  int32 (v: number): this { const b = Buffer.alloc(4); b.writeInt32BE(v); this.parts.push(b); return this }
  string (s: string): this { const utf8 = Buffer.from(s, 'utf8'); this.int16(utf8.length); this.parts.push(utf8); return this }
  bytes (b: Buffer | null): this { if (b === null) return this.int32(-1); this.int32(b.length); this.parts.push(b); return this }
  partitionsByTopic (tps: readonly TopicPartition[]): this {
    const byTopic = groupByTopic(tps)
    this.int32(byTopic.size)
    for (const [topic, partitions] of byTopic) {
      this.string(topic).int32(partitions.length)
      for (const p of partitions) this.int32(p)
    }
    return this
  }

  done (): Buffer { return Buffer.concat(this.parts) }
}

class ProtocolReader {
  private offset = 0
  constructor (private readonly buffer: Buffer, private readonly what: string) {}
  get remaining (): number { return this.buffer.length - this.offset }
  private need (n: number): void {
    if (this.remaining < n) throw new DevtripError('DEVTRIP_KAFKA', `malformed ${this.what}: truncated at byte ${this.offset}`)
  }

  int16 (): number { this.need(2); const v = this.buffer.readInt16BE(this.offset); this.offset += 2; return v }
  int32 (): number { this.need(4); const v = this.buffer.readInt32BE(this.offset); this.offset += 4; return v }
  string (): string {
    const n = this.int16()
    if (n < 0) throw new DevtripError('DEVTRIP_KAFKA', `malformed ${this.what}: null string at byte ${this.offset}`)
    this.need(n)
    const s = this.buffer.toString('utf8', this.offset, this.offset + n)
    this.offset += n
    return s
  }

  bytes (): Buffer | null {
    const n = this.int32()
    if (n < 0) return null
    this.need(n)
    const b = Buffer.from(this.buffer.subarray(this.offset, this.offset + n))
    this.offset += n
    return b
  }
  count (): number {
    const n = this.int32()
    if (n < 0) return 0
    // each element takes at least 2 bytes, so a bigger count can only be garbage
    if (n > this.remaining) throw new DevtripError('DEVTRIP_KAFKA', `malformed ${this.what}: array count ${n} exceeds the data`)
    return n
  }

  partitionsByTopic (): TopicPartition[] {
    const out: TopicPartition[] = []
    for (let t = this.count(); t > 0; t--) {
      const topic = this.string()
      for (let p = this.count(); p > 0; p--) out.push({ topic, partition: this.int32() })
    }
    return out
  }
}

export function encodeSubscription (subscription: Subscription): Buffer {
  const w = new ProtocolWriter().int16(1).int32(subscription.topics.length)
  for (const t of subscription.topics) w.string(t)
  return w.bytes(subscription.userData ?? null).partitionsByTopic(subscription.ownedPartitions).done()
}

export function decodeSubscription (data: Buffer | null): Subscription {
  if (data === null || data.length === 0) return { topics: [], ownedPartitions: [], userData: null }
  const r = new ProtocolReader(data, 'consumer subscription')
  const version = r.int16()
  const topics: string[] = []
  for (let n = r.count(); n > 0; n--) topics.push(r.string())
  const userData = r.bytes()
  const ownedPartitions = version >= 1 && r.remaining > 0 ? r.partitionsByTopic() : []
  return { topics, ownedPartitions, userData }
}

export function encodeAssignment (partitions: readonly TopicPartition[]): Buffer {
  return new ProtocolWriter().int16(0).partitionsByTopic(partitions).bytes(Buffer.alloc(0)).done()
}

export function decodeAssignment (data: Buffer | null): TopicPartition[] {
  if (data === null || data.length === 0) return []
  const r = new ProtocolReader(data, 'consumer assignment')
  r.int16()
  return r.partitionsByTopic()
}

function groupByTopic (tps: readonly TopicPartition[]): Map<string, number[]> {
  const byTopic = new Map<string, number[]>()
  for (const { topic, partition } of tps) {
    const list = byTopic.get(topic)
    if (list === undefined) byTopic.set(topic, [partition])
    else list.push(partition)
  }
  for (const list of byTopic.values()) list.sort((a, b) => a - b)
  return byTopic
}

/**
 * Computes the group's assignment (run by the group leader).
 * `partitionCounts` holds the partition count of every subscribed topic that exists; topics missing from it
 * are left unassigned (they do not exist yet).
 *
 * 1. The units are partition numbers 0 … max(count) - 1.
 * 2. Balance: with U units and M members, every member gets ⌊U/M⌋ units and U mod M members get one more.
 * 3. Stickiness: in memberId order, each member first keeps the numbers it owned before, up to its quota.
 * 4. The remaining numbers go, in ascending order, to the member with the fewest units (ties: memberId order).
 * 5. A member receives partition N of each topic it subscribes to for each number N it holds. If members
 *    subscribe to different topics (a rolling upgrade), a partition whose number went to a member that does not
 *    subscribe to its topic goes to the least-loaded member that does — co-partitioning can then not be kept.
 */
export function assignCopartitioned (members: readonly MemberSubscription[], partitionCounts: ReadonlyMap<string, number>): Map<string, TopicPartition[]> {
  const result = new Map<string, TopicPartition[]>()
  const sorted = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0))
  for (const m of sorted) result.set(m.memberId, [])
  if (sorted.length === 0) return result

  const subscribed = new Set<string>()
  for (const m of sorted) for (const t of m.topics) if (partitionCounts.has(t)) subscribed.add(t)
  let units = 0
  for (const t of subscribed) units = Math.max(units, partitionCounts.get(t)!)

  const base = Math.floor(units / sorted.length)
  let extraSlots = units % sorted.length
  const unitsOf = new Map<string, number[]>(sorted.map((m) => [m.memberId, []]))
  const taken = new Set<number>()

  for (const m of sorted) {
    const owned = [...new Set(m.ownedPartitions.map((tp) => tp.partition))].filter((n) => n < units).sort((a, b) => a - b)
    const mine = unitsOf.get(m.memberId)!
    for (const n of owned) {
      if (taken.has(n)) continue
      if (mine.length < base || (mine.length === base && extraSlots > 0)) {
        if (mine.length === base) extraSlots--
        mine.push(n)
        taken.add(n)
      }
    }
  }
  for (let n = 0; n < units; n++) {
    if (taken.has(n)) continue
    let best: string | undefined
    for (const m of sorted) {
      const count = unitsOf.get(m.memberId)!.length
      const capacity = base + (count === base && extraSlots > 0 ? 1 : 0)
      if (count >= capacity) continue
      if (best === undefined || count < unitsOf.get(best)!.length) best = m.memberId
    }
    // every unit fits: the capacities add up to exactly `units`
    const chosen = unitsOf.get(best!)!
    if (chosen.length === base) extraSlots--
    chosen.push(n)
    taken.add(n)
  }

  const subscriptions = new Map(sorted.map((m) => [m.memberId, new Set(m.topics)]))
  const load = (memberId: string): number => result.get(memberId)!.length
  for (const m of sorted) {
    for (const n of unitsOf.get(m.memberId)!) {
      for (const topic of [...subscribed].sort()) {
        if (n >= partitionCounts.get(topic)!) continue
        if (subscriptions.get(m.memberId)!.has(topic)) {
          result.get(m.memberId)!.push({ topic, partition: n })
          continue
        }
        let fallback: string | undefined
        for (const other of sorted) {
          if (!subscriptions.get(other.memberId)!.has(topic)) continue
          if (fallback === undefined || load(other.memberId) < load(fallback)) fallback = other.memberId
        }
        result.get(fallback!)!.push({ topic, partition: n })
      }
    }
  }
  return result
}
