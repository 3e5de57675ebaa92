/**
 * What both consumer kinds share: the table of assigned partitions (positions, pause flags, watermarks:
 * common/partition-table.ts), position resolution, and the fetch loop on the raw Fetch API.
 *
 * Fetching is done here rather than through the library's MessagesStream because a runtime needs to drive it:
 * fetch exactly when it asks (`poll`), from positions it can move (`seek`), skipping partitions it paused,
 * and learn each partition's high watermark and last stable offset from the same responses. Fetches are
 * sessionless (session id 0, epoch -1): every request names all partitions, so no broker-side fetch session
 * can go stale across pauses, seeks and rebalances.
 */
import { DevtripError } from '../../../events/errors'
import { applyListedOffsets, PartitionTable, type PartitionEntry } from '../common/partition-table'
import { consumerClosedError, PollGate } from '../common/poll-gate'
import { groupByTopic } from '../common/topic-partitions'
import type { ResolvedConnectionOptions, ResolvedFetchOptions } from '../options'
import type { OffsetSpec, PartitionBatch, PartitionState, TopicPartition } from '../port'
import { topicPartitionKey } from '../port'
import { checkTopicPartitions } from '../validation'
import { isRetriable, translateError } from './errors'
import { collectRecords } from './fetch-records'
import { kafka, type Platformatic } from './library'
import { createAdminClient, RawClient } from './raw-client'

/** Fetch-partition errors after which the partition is simply fetched again once metadata is refreshed. */
const REFRESH_AND_RETRY = new Set([
  'NOT_LEADER_OR_FOLLOWER', 'LEADER_NOT_AVAILABLE', 'UNKNOWN_TOPIC_OR_PARTITION', 'UNKNOWN_TOPIC_ID',
  'FENCED_LEADER_EPOCH', 'UNKNOWN_LEADER_EPOCH', 'REPLICA_NOT_AVAILABLE', 'KAFKA_STORAGE_ERROR', 'OFFSET_NOT_AVAILABLE'
])

const OFFSET_OUT_OF_RANGE = 1
const READ_UNCOMMITTED = 0
const READ_COMMITTED = 1

/** One broker's Fetch response with what was asked of it. */
interface FetchedResponse {
  readonly response: Platformatic.fetchV17.FetchResponse
  /** position of each partition when the request was built */
  readonly requested: ReadonlyMap<string, bigint>
  /** topic id → topic name (Fetch v13+ answers by topic id) */
  readonly topicNames: ReadonlyMap<string, string>
}

export abstract class ConsumerBase {
  /** the client that fetches and lists offsets (its own connection pool) */
  protected readonly data: RawClient
  protected readonly fetchOptions: ResolvedFetchOptions
  protected readonly connection: ResolvedConnectionOptions
  /** set when close() starts: no new polls */
  protected closing = false
  /** set when close() is done */
  protected closed = false
  private readonly table = new PartitionTable()
  private readonly polls = new PollGate()

  constructor (connection: ResolvedConnectionOptions, fetchOptions: ResolvedFetchOptions, clientId: string) {
    this.connection = connection
    this.fetchOptions = fetchOptions
    const options = { ...connection, clientId }
    this.data = new RawClient(createAdminClient(options), options)
  }

  poll (maxWaitMs: number): Promise<PartitionBatch[]> {
    return this.polls.run(maxWaitMs, this.closing, async () => {
      await this.beforeFetch()
      await this.resolvePositions()
      return this.fetch(maxWaitMs)
    })
  }

  // pause and resume flag partition by partition: those before an unassigned one keep the new flag
  pause (partitions: readonly TopicPartition[]): void {
    checkTopicPartitions('pause', 'partitions', partitions)
    for (const tp of partitions) this.table.entry('pause', tp).paused = true
  }

  resume (partitions: readonly TopicPartition[]): void {
    checkTopicPartitions('resume', 'partitions', partitions)
    for (const tp of partitions) this.table.entry('resume', tp).paused = false
  }

  seek (partition: TopicPartition, offset: OffsetSpec): void { this.table.seek(partition, offset) }
  position (partition: TopicPartition): bigint | null { return this.table.position(partition) }
  partitionStates (): PartitionState[] { return this.table.states() }
  assignment (): TopicPartition[] { return this.table.assignment() }

  /** Waits for a running poll, lets the subclass finish (revoke callback, leave the group), closes connections. */
  async close (): Promise<void> {
    if (this.closing) return
    this.closing = true
    this.polls.wakeUp()
    await this.polls.settled()
    try {
      await this.closeMore()
    } finally {
      this.closed = true
      await this.data.close().catch((error: unknown) => { throw translateError(error, 'close') })
    }
  }

  /** Work before positions are resolved (the group consumer's rebalance). */
  protected abstract beforeFetch (): Promise<void>
  /** Committed offsets for partitions that have no position yet (the group's; none without a group). */
  protected abstract committedPositions (partitions: readonly TopicPartition[]): Promise<Map<string, bigint>>
  /** Closing work of the subclass, before the fetch client closes. */
  protected abstract closeMore (): Promise<void>

  /** Replaces the assignment; kept partitions keep their state, new ones start unresolved. */
  protected setAssignment (partitions: readonly TopicPartition[]): void {
    this.table.assign(partitions)
  }

  /** Ends a wait in `poll` early (a rebalance became due, or the consumer is closing). */
  protected wakeUp (): void {
    this.polls.wakeUp()
  }

  protected closedError (operation: string): DevtripError {
    return consumerClosedError(operation)
  }

  /** Gives every partition without a position one: committed offset first, else the reset policy. */
  private async resolvePositions (): Promise<void> {
    const unresolved = this.table.all().filter((e) => e.position === null)
    if (unresolved.length === 0) return
    const withoutSeek = unresolved.filter((e) => e.reset === null)
    const committed = withoutSeek.length > 0 ? await this.committedPositions(withoutSeek) : new Map<string, bigint>()
    const toList = new Map<'earliest' | 'latest', PartitionEntry[]>()
    for (const e of unresolved) {
      const key = topicPartitionKey(e)
      const offset = e.reset === null ? committed.get(key) : undefined
      if (offset !== undefined) {
        e.position = offset
        continue
      }
      const policy = e.reset ?? this.fetchOptions.autoOffsetReset
      if (policy === 'none') {
        throw new DevtripError('DEVTRIP_KAFKA', `poll: ${key} has no committed offset and autoOffsetReset is 'none'`, { details: { topic: e.topic, partition: e.partition } })
      }
      const list = toList.get(policy) ?? []
      list.push(e)
      toList.set(policy, list)
    }
    for (const [policy, list] of toList) applyListedOffsets(list, await this.listOffsets(list, policy))
  }

  private async listOffsets (entries: readonly PartitionEntry[], policy: 'earliest' | 'latest'): Promise<Map<string, bigint>> {
    const timestamp = policy === 'earliest' ? kafka.ListOffsetTimestamps.EARLIEST : kafka.ListOffsetTimestamps.LATEST
    const byTopic = groupByTopic(entries, (e) => ({ partitionIndex: e.partition, timestamp }))
    const admin = this.data.lib as Platformatic.Admin
    const listed = await this.data.withRetry('poll', () => admin.listOffsets({
      topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
      isolationLevel: this.isolationLevel()
    }))
    const out = new Map<string, bigint>()
    for (const topic of listed) for (const p of topic.partitions) out.set(topicPartitionKey({ topic: topic.name, partition: p.partitionIndex }), p.offset)
    return out
  }

  private isolationLevel (): 0 | 1 {
    return this.fetchOptions.isolationLevel === 'read_committed' ? READ_COMMITTED : READ_UNCOMMITTED
  }

  /** Waits up to `ms` or until woken. */
  private idle (ms: number): Promise<void> {
    return this.polls.idle(this.closing ? 0 : ms)
  }

  private async fetch (maxWaitMs: number): Promise<PartitionBatch[]> {
    const fetchable = this.table.all().filter((e) => !e.paused && e.position !== null)
    if (fetchable.length === 0) {
      await this.idle(maxWaitMs)
      return []
    }
    const topics = [...new Set(fetchable.map((e) => e.topic))]
    const metadata = await this.data.existingTopicsMetadata('poll', topics)
    const byLeader = new Map<number, PartitionEntry[]>()
    let leaderless = false
    for (const e of fetchable) {
      const leader = metadata.topics.get(e.topic)?.partitions[e.partition]?.leader
      if (leader === undefined || leader < 0) {
        leaderless = true
        continue
      }
      const list = byLeader.get(leader) ?? []
      list.push(e)
      byLeader.set(leader, list)
    }
    if (leaderless) this.data.clearMetadata()
    // the broker may hold a fetch for its whole wait; keep that well inside the request timeout
    const waitMs = Math.min(maxWaitMs, Math.max(0, this.connection.requestTimeoutMs - 2000))
    const fetched = await Promise.allSettled([...byLeader].map(([leader, list]) => this.fetchFrom(leader, list, metadata, waitMs)))
    // nothing is applied unless every response can be: a failure must not lose records another broker returned
    const failed = fetched.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed !== undefined) throw translateError(failed.reason, 'poll')
    const responses = fetched.map((r) => (r as PromiseFulfilledResult<FetchedResponse | null>).value).filter((r): r is FetchedResponse => r !== null)
    for (const r of responses) this.checkPartitionErrors(r)
    const batches = responses.flatMap((r) => this.apply(r))
    // a broker was unreachable: pause briefly so a runtime loop does not spin while it is down
    if (responses.length < byLeader.size && batches.length === 0) await this.idle(Math.min(maxWaitMs, 200))
    return batches
  }

  /** Sends one Fetch to one broker; null when it failed in a way the next poll simply retries. */
  private async fetchFrom (leader: number, entries: readonly PartitionEntry[], metadata: Platformatic.ClusterMetadata, waitMs: number): Promise<FetchedResponse | null> {
    const requested = new Map<string, bigint>()
    const topicNames = new Map<string, string>()
    for (const e of entries) requested.set(topicPartitionKey(e), e.position!)
    const byTopic = groupByTopic(entries, (e): Platformatic.fetchV17.FetchRequestPartition => ({
      partition: e.partition, currentLeaderEpoch: -1, fetchOffset: e.position!, lastFetchedEpoch: -1, partitionMaxBytes: this.fetchOptions.maxPartitionFetchBytes
    }))
    const request: Platformatic.fetchV17.FetchRequestTopic[] = [...byTopic].map(([topic, partitions]) => {
      const topicId = metadata.topics.get(topic)!.id
      topicNames.set(topicId, topic)
      return { topicId, partitions }
    })
    try {
      const connection = await this.data.connectionTo(leader)
      const response = await this.data.request<[number, number, number, number, number, number, typeof request, never[], string], Platformatic.fetchV17.FetchResponse>(
        'Fetch', connection, waitMs, 1, this.fetchOptions.fetchMaxBytes, this.isolationLevel(), 0, -1, request, [], '')
      return { response, requested, topicNames }
    } catch (error) {
      // partition-level errors come as an exception carrying the whole response; the other partitions are fine
      const partial = (error as { response?: Platformatic.fetchV17.FetchResponse }).response
      if (partial?.responses !== undefined && partial.errorCode === 0) return { response: partial, requested, topicNames }
      if (isRetriable(error)) {
        this.data.clearMetadata()
        return null
      }
      throw error
    }
  }

  /** Each partition of a response that is still wanted: assigned, and not moved by a seek meanwhile. */
  private * wanted (r: FetchedResponse): Generator<[PartitionEntry, Platformatic.fetchV17.FetchResponsePartition, string, bigint]> {
    for (const topicResponse of r.response.responses) {
      const topic = r.topicNames.get(topicResponse.topicId)
      if (topic === undefined) continue
      for (const p of topicResponse.partitions) {
        const key = topicPartitionKey({ topic, partition: p.partitionIndex })
        const entry = this.table.get({ topic, partition: p.partitionIndex })
        const fetchOffset = r.requested.get(key)
        if (entry === undefined || fetchOffset === undefined || entry.position !== fetchOffset) continue
        yield [entry, p, topic, fetchOffset]
      }
    }
  }

  /** Throws for partition errors a retry cannot fix, before anything is applied. */
  private checkPartitionErrors (r: FetchedResponse): void {
    for (const [entry, p] of this.wanted(r)) {
      if (p.errorCode === 0) continue
      const name = kafka.protocolErrorsCodesById[p.errorCode] ?? `error ${p.errorCode}`
      if (REFRESH_AND_RETRY.has(name)) continue
      if (name === 'OFFSET_OUT_OF_RANGE') {
        if (this.fetchOptions.autoOffsetReset !== 'none') continue
        throw new DevtripError('DEVTRIP_KAFKA', `poll: offset ${String(entry.position)} is out of range for ${topicPartitionKey(entry)} and autoOffsetReset is 'none'`, {
          details: { topic: entry.topic, partition: entry.partition, kafkaErrors: [name] }
        })
      }
      throw translateError(new kafka.ProtocolError(p.errorCode), `poll ${topicPartitionKey(entry)}`)
    }
  }

  private apply (r: FetchedResponse): PartitionBatch[] {
    const readCommitted = this.fetchOptions.isolationLevel === 'read_committed'
    const out: PartitionBatch[] = []
    for (const [entry, p, topic, fetchOffset] of this.wanted(r)) {
      if (p.errorCode !== 0) {
        // only the two kinds checkPartitionErrors let through get here
        if (p.errorCode === OFFSET_OUT_OF_RANGE) {
          entry.position = null
          entry.reset = this.fetchOptions.autoOffsetReset as 'earliest' | 'latest'
        } else {
          this.data.clearMetadata()
        }
        continue
      }
      entry.highWatermark = p.highWatermark
      entry.lastStableOffset = p.lastStableOffset
      entry.logStartOffset = p.logStartOffset
      // paused while in flight: drop the data without moving, it is fetched again after resume
      if (entry.paused) continue
      const { records, nextOffset } = collectRecords(topic, p.partitionIndex, p.records ?? [], fetchOffset, p.abortedTransactions, readCommitted)
      entry.position = nextOffset
      if (records.length > 0) {
        out.push({ topic, partition: p.partitionIndex, records, highWatermark: p.highWatermark, lastStableOffset: p.lastStableOffset, logStartOffset: p.logStartOffset })
      }
    }
    return out
  }
}
