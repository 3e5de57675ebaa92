/**
 * Consumer-group lag, read through the Kafka port: for every group and partition the committed offset, the log end
 * offset (high watermark), the last stable offset, both lags, and the age of the oldest record the group has not
 * consumed yet ("lag in seconds").
 *
 * Record counts follow Kafka's own ConsumerGroupCommand: LAG = log end offset (read_uncommitted "latest") −
 * committed offset, over the partitions the group has committed offsets for plus those assigned to its members.
 * Because a transactional topic carries commit markers and records of open transactions, that number can be
 * above what a read_committed consumer will ever read, so `committedLag` (last stable offset − committed) is
 * reported beside it.
 *
 * Lag in seconds comes from the record itself: an assigned (group-less) read_committed consumer seeks every
 * lagging partition to its committed offset and fetches once or a few times with a small per-partition byte
 * limit; the first record returned is the oldest unconsumed one, and its timestamp is compared with the time of
 * the sample. Partitions whose fetch position passes the last stable offset without a record (only transaction
 * markers were left) have nothing waiting: 0 seconds. The read is bounded by `timestampTimeoutMs`.
 */
import Ajv from 'ajv'
import { DevtripError } from '../../events/errors'
import type { GroupDescription, KafkaAdmin, KafkaAssignedConsumer, KafkaClientFactory, TopicPartition, TopicPartitionOffset } from '../kafka/port'
import { topicPartitionKey } from '../kafka/port'
import { totalsOf } from './lag-rates'
import type { GroupLag, LagMember, LagSnapshot, PartitionLag } from './lag-types'

export interface LagOptions {
  /** exact group ids; default: every consumer group on the cluster */
  groups?: string[]
  /** only groups whose id starts with this (applies to the listed groups, not to `groups`) */
  groupPrefix?: string
  /** read the oldest unconsumed record of each lagging partition for lag in seconds (default true) */
  timestamps?: boolean
  /** upper bound for that read, per sample (default 1500 ms) */
  timestampTimeoutMs?: number
}

export interface ResolvedLagOptions {
  readonly groups: readonly string[] | null
  readonly groupPrefix: string
  readonly timestamps: boolean
  readonly timestampTimeoutMs: number
}

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    groups: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, uniqueItems: true },
    groupPrefix: { type: 'string', default: '' },
    timestamps: { type: 'boolean', default: true },
    timestampTimeoutMs: { type: 'integer', minimum: 50, maximum: 60_000, default: 1500 }
  }
} as const
const validate = new Ajv({ useDefaults: true, allErrors: true }).compile(schema)

export function resolveLagOptions (options: LagOptions = {}): ResolvedLagOptions {
  const copy: Record<string, unknown> = { ...options }
  if (!validate(copy)) {
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath === '' ? '/' : e.instancePath} ${e.message ?? 'is invalid'}`)
    throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `invalid lag options: ${problems.join('; ')}`, { details: { problems } })
  }
  return Object.freeze({
    groups: copy.groups === undefined ? null : Object.freeze([...(copy.groups as string[])]),
    groupPrefix: copy.groupPrefix as string,
    timestamps: copy.timestamps as boolean,
    timestampTimeoutMs: copy.timestampTimeoutMs as number
  })
}

/** Groups the lag tools look at: classic consumer groups, and groups that only store offsets (empty protocol type). */
function isConsumerGroup (protocolType: string): boolean {
  return protocolType === 'consumer' || protocolType === ''
}

/** Per partition of one group: who owns it, from the members' decoded assignments. */
function ownersOf (group: GroupDescription): Map<string, { memberId: string, clientId: string, host: string }> {
  const owners = new Map<string, { memberId: string, clientId: string, host: string }>()
  for (const m of group.members) for (const tp of m.assignment) owners.set(topicPartitionKey(tp), { memberId: m.memberId, clientId: m.clientId, host: m.clientHost })
  return owners
}

function compareTp (a: TopicPartition, b: TopicPartition): number {
  return a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1
}

/**
 * Takes lag samples. Keeps one admin and (lazily) one assigned consumer open between samples, so a monitor that
 * samples every few seconds does not reconnect each time. Not re-entrant: await one `sample` before the next.
 */
export class LagCollector {
  private readonly admin: KafkaAdmin
  private readonly kafka: KafkaClientFactory
  private reader: KafkaAssignedConsumer | null = null
  private closed = false

  constructor (kafka: KafkaClientFactory) {
    this.kafka = kafka
    this.admin = kafka.createAdmin()
  }

  /** The group ids a sample with these options covers (sorted). */
  private async groupIds (options: ResolvedLagOptions): Promise<string[]> {
    if (options.groups !== null) return [...options.groups].sort()
    const listed = await this.admin.listGroups()
    return listed.filter((g) => isConsumerGroup(g.protocolType) && g.groupId.startsWith(options.groupPrefix)).map((g) => g.groupId).sort()
  }

  /** One sample without rates (withRates() in lag-rates.ts adds them from a previous sample). */
  async sample (input: LagOptions = {}): Promise<LagSnapshot> {
    const options = resolveLagOptions(input)
    if (this.closed) throw new DevtripError('DEVTRIP_CLOSED', 'lag: the collector is closed')
    const ids = await this.groupIds(options)
    if (ids.length === 0) return { takenAt: Date.now(), sampleSeconds: null, groups: [] }
    const [descriptions, committed, topics] = await Promise.all([
      this.admin.describeGroups(ids),
      Promise.all(ids.map((id) => this.admin.listGroupOffsets(id))),
      this.admin.listTopics()
    ])
    const existing = new Set(topics)
    // the partitions of every group: committed ones plus assigned ones (as ConsumerGroupCommand shows them)
    const perGroup = ids.map((id, i) => {
      const description = descriptions[i]!
      const owners = ownersOf(description)
      const offsets = new Map<string, TopicPartitionOffset>(committed[i]!.map((o) => [topicPartitionKey(o), o]))
      const keys = new Set<string>([...offsets.keys(), ...owners.keys()])
      const partitions: TopicPartition[] = []
      const missing = new Set<string>()
      for (const key of keys) {
        const tp = offsets.get(key) ?? description.members.flatMap((m) => m.assignment).find((a) => topicPartitionKey(a) === key)!
        if (existing.has(tp.topic)) partitions.push({ topic: tp.topic, partition: tp.partition })
        else missing.add(tp.topic)
      }
      partitions.sort(compareTp)
      return { id, description, owners, offsets, partitions, missing: [...missing].sort() }
    })
    const all = new Map<string, TopicPartition>()
    for (const g of perGroup) for (const tp of g.partitions) all.set(topicPartitionKey(tp), tp)
    const unique = [...all.values()]
    const [ends, stables, starts] = unique.length === 0
      ? [[], [], []]
      : await Promise.all([
        this.admin.listOffsets(unique, 'latest', 'read_uncommitted'),
        this.admin.listOffsets(unique, 'latest', 'read_committed'),
        this.admin.listOffsets(unique, 'earliest', 'read_uncommitted')
      ])
    const takenAt = Date.now()
    const byKey = (list: TopicPartitionOffset[]): Map<string, bigint> => new Map(list.map((o) => [topicPartitionKey(o), o.offset]))
    const end = byKey(ends)
    const stable = byKey(stables)
    const start = byKey(starts)

    // lagging partitions, each read once even when several groups consume it from the same offset
    const wanted = new Map<string, TopicPartitionOffset>()
    for (const g of perGroup) {
      for (const tp of g.partitions) {
        const c = g.offsets.get(topicPartitionKey(tp))?.offset
        const lso = stable.get(topicPartitionKey(tp))!
        if (c !== undefined && c < lso) wanted.set(`${topicPartitionKey(tp)}@${c}`, { ...tp, offset: c })
      }
    }
    const oldest = options.timestamps && wanted.size > 0 ? await this.oldestTimestamps([...wanted.values()], options.timestampTimeoutMs) : new Map<string, number | 'none'>()

    const groups = perGroup.map((g): GroupLag => {
      const partitions = g.partitions.map((tp): PartitionLag => {
        const key = topicPartitionKey(tp)
        const committedOffset = g.offsets.get(key)?.offset ?? null
        const logEndOffset = end.get(key)!
        const lastStableOffset = stable.get(key)!
        const owner = g.owners.get(key)
        const lag = committedOffset === null ? null : logEndOffset - committedOffset
        const committedLag = committedOffset === null ? null : (lastStableOffset > committedOffset ? lastStableOffset - committedOffset : 0n)
        let oldestUnconsumedTimestamp: number | null = null
        let lagSeconds: number | null = null
        if (committedLag === 0n) lagSeconds = 0
        else if (committedOffset !== null) {
          const found = oldest.get(`${key}@${committedOffset}`)
          if (found === 'none') lagSeconds = 0
          else if (found !== undefined) {
            oldestUnconsumedTimestamp = found
            lagSeconds = Math.max(0, (takenAt - found) / 1000)
          }
        }
        return {
          topic: tp.topic,
          partition: tp.partition,
          committedOffset,
          logEndOffset,
          lastStableOffset,
          logStartOffset: start.get(key)!,
          lag,
          committedLag,
          oldestUnconsumedTimestamp,
          lagSeconds,
          consumeRate: null,
          produceRate: null,
          catchUpSeconds: committedLag === 0n ? 0 : null,
          memberId: owner?.memberId ?? null,
          clientId: owner?.clientId ?? null,
          host: owner?.host ?? null
        }
      })
      const members = g.description.members.map((m): LagMember => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        host: m.clientHost,
        partitions: m.assignment.length
      }))
      return {
        groupId: g.id,
        state: g.description.state,
        protocolType: g.description.protocolType,
        protocol: g.description.protocol,
        members,
        partitions,
        totals: totalsOf(partitions),
        missingTopics: g.missing
      }
    })
    return { takenAt, sampleSeconds: null, groups }
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    const reader = this.reader
    this.reader = null
    await Promise.allSettled([this.admin.close(), reader?.close()])
  }

  /**
   * The timestamp of the first read_committed record at or after each given offset ('none' when the fetch
   * position passed the last stable offset without one). Partitions not answered before the deadline are absent.
   */
  private async oldestTimestamps (partitions: readonly TopicPartitionOffset[], timeoutMs: number): Promise<Map<string, number | 'none'>> {
    // several groups may sit at different offsets of one partition: one read per distinct offset, in rounds
    const rounds: TopicPartitionOffset[][] = []
    for (const p of partitions) {
      const round = rounds.find((r) => !r.some((q) => q.topic === p.topic && q.partition === p.partition))
      if (round === undefined) rounds.push([p])
      else round.push(p)
    }
    const found = new Map<string, number | 'none'>()
    const deadline = Date.now() + timeoutMs
    for (const round of rounds) {
      if (Date.now() >= deadline) break
      await this.readRound(round, deadline, found)
    }
    return found
  }

  private async readRound (round: readonly TopicPartitionOffset[], deadline: number, found: Map<string, number | 'none'>): Promise<void> {
    // a small per-partition limit: we need one record, the broker still returns at least one whole batch
    this.reader ??= this.kafka.createAssignedConsumer({ isolationLevel: 'read_committed', autoOffsetReset: 'earliest', maxPartitionFetchBytes: 16 * 1024, fetchMaxBytes: 4 * 1024 * 1024, clientId: 'devtrip-lag' })
    const reader = this.reader
    reader.assign(round)
    reader.resume(round)
    for (const p of round) reader.seek(p, p.offset)
    const pending = new Map(round.map((p) => [topicPartitionKey(p), p]))
    while (pending.size > 0) {
      const left = deadline - Date.now()
      if (left <= 0) break
      const batches = await reader.poll(Math.min(200, left))
      for (const b of batches) {
        const key = topicPartitionKey(b)
        const p = pending.get(key)
        if (p === undefined) continue
        found.set(`${key}@${p.offset}`, b.records[0]!.timestamp)
        pending.delete(key)
        reader.pause([p])
      }
      // fetched past the stable end with no record: only transaction markers were waiting
      for (const state of reader.partitionStates()) {
        const key = topicPartitionKey(state)
        const p = pending.get(key)
        if (p === undefined || state.position === null || state.lastStableOffset === null) continue
        if (state.position >= state.lastStableOffset) {
          found.set(`${key}@${p.offset}`, 'none')
          pending.delete(key)
          reader.pause([p])
        }
      }
    }
  }
}
