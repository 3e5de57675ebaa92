/**
 * What both consumer kinds share: the table of assigned partitions (positions, pause flags, watermarks),
 * position resolution, and the fetch loop on the raw Fetch API.
 *
 * Fetching is done here rather than through the library's MessagesStream because a runtime needs to drive it:
 * fetch exactly when it asks (`poll`), from positions it can move (`seek`), skipping partitions it paused,
 * and learn each partition's high watermark and last stable offset from the same responses. Fetches are
 * sessionless (session id 0, epoch -1): every request names all partitions, so no broker-side fetch session
 * can go stale across pauses, seeks and rebalances.
 */
import { DevtripError } from '../../../events/errors'
import type { ResolvedConnectionOptions, ResolvedFetchOptions } from '../options'
import type { OffsetSpec, PartitionBatch, PartitionState, TopicPartition } from '../port'
import { topicPartitionKey } from '../port'
import { checkOffsetSpec, checkTopicPartition, checkTopicPartitions } from '../validation'
import { isRetriable, translateError } from './errors'
import { collectRecords } from './fetch-records'
import { kafka, type Platformatic } from './library'
import { createAdminClient, RawClient } from './raw-client'

interface PartitionEntry {
  readonly topic: string
  readonly partition: number
  position: bigint | null
  /** a seek to 'earliest'/'latest' (or a reset) waiting to be resolved at the next poll */
  reset: 'earliest' | 'latest' | null
  paused: boolean
  highWatermark: bigint | null
  lastStableOffset: bigint | null
  logStartOffset: bigint | null
}

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
  private readonly entries = new Map<string, PartitionEntry>()
  private polling: Promise<unknown> | null = null
  private wake: (() => void) | null = null

  constructor (connection: ResolvedConnectionOptions, fetchOptions: ResolvedFetchOptions, clientId: string) {
    this.connection = connection
    this.fetchOptions = fetchOptions
    const options = { ...connection, clientId }
    this.data = new RawClient(createAdminClient(options), options)
  }

  poll (maxWaitMs: number): Promise<PartitionBatch[]> {
    if (!Number.isSafeInteger(maxWaitMs) || maxWaitMs < 0) {
      return Promise.reject(new DevtripError('DEVTRIP_INVALID_OPTIONS', `poll: /maxWaitMs must be an integer >= 0, got ${String(maxWaitMs)}`))
    }
    if (this.closing) return Promise.reject(this.closedError('poll'))
    if (this.polling !== null) return Promise.reject(new DevtripError('DEVTRIP_INVALID_OPTIONS', 'poll: already polling (poll is not re-entrant; await the previous call)'))
    const run = (async () => {
      await this.beforeFetch()
      await this.resolvePositions()
      return this.fetch(maxWaitMs)
    })()
    this.polling = run
    return run.finally(() => { this.polling = null })
  }

  pause (partitions: readonly TopicPartition[]): void {
    checkTopicPartitions('pause', 'partitions', partitions)
    for (const tp of partitions) this.entry('pause', tp).paused = true
  }

  resume (partitions: readonly TopicPartition[]): void {
    checkTopicPartitions('resume', 'partitions', partitions)
    for (const tp of partitions) this.entry('resume', tp).paused = false
  }

  seek (partition: TopicPartition, offset: OffsetSpec): void {
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
  }

  position (partition: TopicPartition): bigint | null {
    checkTopicPartition('position', '/partition', partition)
    return this.entry('position', partition).position
  }

  partitionStates (): PartitionState[] {
    return [...this.entries.values()].map((e) => ({
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
    return [...this.entries.values()].map((e) => ({ topic: e.topic, partition: e.partition }))
  }

  /** Waits for a running poll, lets the subclass finish (revoke callback, leave the group), closes connections. */
  async close (): Promise<void> {
    if (this.closing) return
    this.closing = true
    this.wake?.()
    await this.polling?.catch(() => undefined)
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
    const next = new Map<string, PartitionEntry>()
    for (const tp of partitions) {
      const key = topicPartitionKey(tp)
      next.set(key, this.entries.get(key) ?? {
        topic: tp.topic,
        partition: tp.partition,
        position: null,
        reset: null,
        paused: false,
        highWatermark: null,
        lastStableOffset: null,
        logStartOffset: null
      })
    }
    this.entries.clear()
    for (const [key, entry] of next) this.entries.set(key, entry)
  }

  /** Ends a wait in `poll` early (a rebalance became due, or the consumer is closing). */
  protected wakeUp (): void {
    this.wake?.()
  }

  protected closedError (operation: string): DevtripError {
    return new DevtripError('DEVTRIP_CLOSED', `${operation}: the consumer is closed`)
  }

  private entry (operation: string, tp: TopicPartition): PartitionEntry {
    const entry = this.entries.get(topicPartitionKey(tp))
    if (entry === undefined) {
      throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `${operation}: ${topicPartitionKey(tp)} is not assigned to this consumer`, { details: { ...tp } })
    }
    return entry
  }

  /** Gives every partition without a position one: committed offset first, else the reset policy. */
  private async resolvePositions (): Promise<void> {
    const unresolved = [...this.entries.values()].filter((e) => e.position === null)
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
    for (const [policy, list] of toList) {
      const offsets = await this.listOffsets(list, policy)
      for (const e of list) {
        const offset = offsets.get(topicPartitionKey(e))
        if (offset === undefined) continue
        // a seek that happened while we were listing wins
        if (e.position === null) {
          e.position = offset
          e.reset = null
        }
      }
    }
  }

  private async listOffsets (entries: readonly PartitionEntry[], policy: 'earliest' | 'latest'): Promise<Map<string, bigint>> {
    const byTopic = new Map<string, Array<{ partitionIndex: number, timestamp: bigint }>>()
    const timestamp = policy === 'earliest' ? kafka.ListOffsetTimestamps.EARLIEST : kafka.ListOffsetTimestamps.LATEST
    for (const e of entries) {
      const list = byTopic.get(e.topic) ?? []
      list.push({ partitionIndex: e.partition, timestamp })
      byTopic.set(e.topic, list)
    }
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
    if (ms === 0 || this.closing) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      const self = this
      function done (): void {
        clearTimeout(timer)
        if (self.wake === done) self.wake = null
        resolve()
      }
      this.wake = done
    })
  }

  private async fetch (maxWaitMs: number): Promise<PartitionBatch[]> {
    const fetchable = [...this.entries.values()].filter((e) => !e.paused && e.position !== null)
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
    const byTopic = new Map<string, Platformatic.fetchV17.FetchRequestPartition[]>()
    for (const e of entries) {
      requested.set(topicPartitionKey(e), e.position!)
      const list = byTopic.get(e.topic) ?? []
      list.push({ partition: e.partition, currentLeaderEpoch: -1, fetchOffset: e.position!, lastFetchedEpoch: -1, partitionMaxBytes: this.fetchOptions.maxPartitionFetchBytes })
      byTopic.set(e.topic, list)
    }
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
        const entry = this.entries.get(key)
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
