/**
 * KafkaGroupConsumer on kafkajs's push-based consumer, bridged into the port's poll():
 *
 *   kafkajs `consumer.run({ eachBatch, autoCommit: false, eachBatchAutoResolve: false })` fetches in its own loop
 *   and hands each partition's batch to `eachBatch`, which queues it and WAITS until `poll()` took it (that is the
 *   backpressure: kafkajs fetches a partition again only after its previous batch was handled). While it waits it
 *   heartbeats, so kafkajs learns of a rebalance even when the runtime is slow to poll; a rebalance releases the
 *   queue (nothing taken, nothing lost: positions did not move).
 *
 * Positions are ours (common/partition-table.ts). kafkajs is told with `seek` whenever fetching (re)starts for a
 * partition, and a queued batch is handed out only when it starts exactly at our position — a seek or pause
 * meanwhile makes it stale. Partitions are paused in kafkajs while the runtime paused them or their position is
 * not yet resolved.
 *
 * Rebalances are poll-driven, as with the Java consumer's max.poll.interval: kafkajs rejoins on its own inside its
 * loop (when a heartbeat says REBALANCE_IN_PROGRESS or that we are unknown) and offers no hook before partitions
 * are given up, so the adapter holds kafkajs's JoinGroup request itself (cluster-taps.ts, `beforeJoin`) while the
 * runtime still holds partitions. kafkajs's loop is then parked inside its join, so it sends no heartbeats of its
 * own; the adapter heartbeats for it with the current generation, which keeps the session alive during
 * PreparingRebalance. The next `poll()` asks the coordinator once more (a Heartbeat): while the group is still
 * preparing the rebalance our generation is valid, so it reports the partitions through `onPartitionsRevoked` —
 * commits made there succeed — otherwise (the rebalance completed without us because no poll came within
 * `rebalanceTimeoutMs`, the session expired, a commit was refused, or the answer is unclear) through
 * `onPartitionsLost`; then it lets the JoinGroup go (a stale member id is answered UNKNOWN_MEMBER_ID and kafkajs
 * joins afresh). Joins owning nothing (the first one, kafkajs retrying after we let go) are not held. close()
 * reports first, then fails a held join with a non-retriable error, so kafkajs's loop ends instead of restarting.
 * After SyncGroup, kafkajs's GROUP_JOIN event pauses the whole new assignment in kafkajs; the next `poll()` reports
 * it through `onPartitionsAssigned` and only then resolves positions from the committed offsets — after the
 * callback, so a runtime can first fence the tasks' previous owners.
 * Why reporting "lost" is safe with kafkajs: exactly-once runs one transactional producer per task
 * (`<applicationId>-<taskId>`); whoever gets the task initializes that id before reading the committed offsets,
 * which fences us and aborts what we left open. So a transaction we could not commit is aborted, never
 * half-applied, and the new owner restarts from the last commit.
 */
import { DevtripError } from '../../../events/errors'
import { applyListedOffsets, PartitionTable, type PartitionEntry } from '../common/partition-table'
import { consumerClosedError, PollGate } from '../common/poll-gate'
import { dedupePartitions, groupByTopic } from '../common/topic-partitions'
import type { ResolvedConnectionOptions, ResolvedGroupConsumerOptions } from '../options'
import type {
  ConsumerGroupMetadata, KafkaGroupConsumer, OffsetSpec, PartitionBatch, PartitionState, RebalanceListener, TopicPartition, TopicPartitionOffset
} from '../port'
import { topicPartitionKey } from '../port'
import { checkOffsets, checkTopicPartitions } from '../validation'
import { tapCluster } from './cluster-taps'
import { copartitionedAssigner } from './copartitioned-assigner'
import { translateError } from './errors'
import { endOfBatches, noteWatermarks, toConsumedRecord } from './fetch-records'
import { createClient, EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, type InternalBroker, type InternalCluster, type InternalMessage, type KafkaJS } from './library'
import { commitGroupOffsets, fetchCommittedOffsets, listOffsets } from './offsets'

/** A batch eachBatch is holding until poll() takes it (or drops it). */
interface Waiting {
  readonly topic: string
  readonly partition: number
  readonly fetchOffset: bigint
  readonly records: PartitionBatch['records']
  readonly next: bigint
  readonly highWatermark: bigint
  /** the join it was fetched in: batches of an older generation are dropped */
  readonly epoch: number
  settle (taken: boolean): void
}

/** A JoinGroup of kafkajs held until `poll()` told the runtime about the partitions this member gives up. */
interface HeldJoin {
  readonly lib: KafkaJS.Consumer
  readonly coordinator: InternalBroker
  /** a keepalive heartbeat learned that the group completed the rebalance without us */
  gone: boolean
  beating: boolean
  timer: NodeJS.Timeout | null
  release (): void
  abandon (): void
}

/** What one Heartbeat with our generation says about the partitions we hold. */
type Membership = 'member' | 'gone' | 'unknown'

/** kafkajs fetches every assigned partition at once; one worker per partition keeps them from queueing */
const CONCURRENCY = 256
/** how long kafkajs's fetches wait at the broker for data */
const FETCH_WAIT_MS = 500

export class KafkajsGroupConsumer implements KafkaGroupConsumer {
  private readonly table = new PartitionTable()
  private lib: KafkaJS.Consumer | null = null
  private cluster: InternalCluster | null = null
  private running: Promise<void> | null = null
  private topics: string[] = []
  private runningTopics = ''
  private listener: RebalanceListener = {}
  private generationId = -1
  private memberId = ''
  /** the assignment of a join the runtime has not been told about yet */
  private pendingJoin: TopicPartition[] | null = null
  private joinEpoch = 0
  /** kafkajs's rejoin, held until poll() reported the partitions it gives up */
  private heldJoin: HeldJoin | null = null
  /** a held join was let go and kafkajs has not joined yet */
  private joining = false
  /** close() is past its callbacks: a join from now on fails at once */
  private joinsAbandoned = false
  /** a commit was refused for a stale generation: what we hold is lost, not revoked */
  private membershipLost = false
  private rejoinRequested = false
  private lastOwned: TopicPartition[] = []
  private queue: Waiting[] = []
  private fatal: unknown = undefined
  private readonly polls = new PollGate()
  private closing = false
  private closed = false

  constructor (private readonly connection: ResolvedConnectionOptions, private readonly options: ResolvedGroupConsumerOptions) {
    if (options.groupInstanceId !== null) {
      throw new DevtripError('DEVTRIP_INVALID_OPTIONS', 'invalid group consumer options: /groupInstanceId: kafkajs has no static membership (KIP-345); leave it out or pick another --client')
    }
  }

  subscribe (topics: readonly string[], listener: RebalanceListener = {}): void {
    if (!Array.isArray(topics) || topics.length === 0 || !topics.every((t) => typeof t === 'string' && t.length > 0)) {
      throw new DevtripError('DEVTRIP_INVALID_OPTIONS', 'subscribe: /topics must be a non-empty array of topic names')
    }
    if (listener === null || typeof listener !== 'object') throw new DevtripError('DEVTRIP_INVALID_OPTIONS', 'subscribe: /listener must be an object of callbacks')
    if (this.closing) throw consumerClosedError('subscribe')
    this.topics = [...new Set(topics)].sort()
    this.listener = listener
  }

  poll (maxWaitMs: number): Promise<PartitionBatch[]> {
    return this.polls.run(maxWaitMs, this.closing, async () => {
      if (this.fatal !== undefined) throw translateError(this.fatal, 'poll')
      if (this.topics.length === 0) throw new DevtripError('DEVTRIP_INVALID_OPTIONS', 'poll: subscribe to topics first')
      await this.ensureRunning()
      await this.carryOutHeldJoin()
      await this.handleRebalances()
      await this.resolvePositions()
      return this.take(maxWaitMs)
    })
  }

  pause (partitions: readonly TopicPartition[]): void {
    for (const e of this.table.pause(partitions, true)) {
      this.dropQueued(e)
      this.syncLibrary(e, false)
    }
  }

  resume (partitions: readonly TopicPartition[]): void {
    // data dropped while paused is fetched again from our position
    for (const e of this.table.pause(partitions, false)) this.syncLibrary(e, true)
  }

  seek (partition: TopicPartition, offset: OffsetSpec): void {
    const e = this.table.seek(partition, offset)
    this.dropQueued(e)
    this.syncLibrary(e, true)
  }

  position (partition: TopicPartition): bigint | null { return this.table.position(partition) }
  partitionStates (): PartitionState[] { return this.table.states() }
  assignment (): TopicPartition[] { return this.table.assignment() }

  async commitOffsets (offsets: readonly TopicPartitionOffset[]): Promise<void> {
    checkOffsets('commitOffsets', offsets)
    if (this.closed) throw consumerClosedError('commitOffsets')
    if (this.generationId < 0 || this.cluster === null) {
      throw new DevtripError('DEVTRIP_TASK_MIGRATED', 'commitOffsets: the consumer is not a member of its group (poll to join)', { details: { groupId: this.options.groupId } })
    }
    if (offsets.length === 0) return
    try {
      await commitGroupOffsets(this.cluster, this.options.groupId, this.generationId, this.memberId, offsets, this.connection.operationTimeoutMs)
    } catch (error) {
      const translated = translateError(error, 'commitOffsets')
      // the generation is stale, so the partitions are gone: the next poll must treat them as lost
      if (translated.code === 'DEVTRIP_TASK_MIGRATED') {
        this.rejoinRequested = true
        this.membershipLost = true
      }
      throw translated
    }
  }

  async committed (partitions: readonly TopicPartition[]): Promise<Array<TopicPartition & { offset: bigint | null }>> {
    checkTopicPartitions('committed', 'partitions', partitions)
    if (this.closed) throw consumerClosedError('committed')
    if (partitions.length === 0) return []
    const found = new Map((await fetchCommittedOffsets(this.ensureCluster(), 'committed', this.options.groupId, dedupePartitions(partitions), this.connection.operationTimeoutMs))
      .map((o) => [topicPartitionKey(o), o.offset]))
    return partitions.map((tp) => ({ topic: tp.topic, partition: tp.partition, offset: found.get(topicPartitionKey(tp)) ?? null }))
  }

  groupMetadata (): ConsumerGroupMetadata {
    return { groupId: this.options.groupId, generationId: this.generationId, memberId: this.memberId, groupInstanceId: null }
  }

  requestRejoin (): void {
    this.rejoinRequested = true
  }

  async close (): Promise<void> {
    if (this.closing) return
    this.closing = true
    this.polls.wakeUp()
    await this.polls.settled()
    let failure: unknown
    try {
      // still a member of the generation we hold the partitions in: a true revocation (commits succeed)
      const ours = this.pendingJoin === null && (this.heldJoin === null ? !this.membershipLost : await this.heldJoinStillOurs(this.heldJoin))
      await this.giveUpOwned(ours)
    } catch (error) {
      failure = error
    }
    // a join kafkajs started (or starts) now fails at once, so its loop ends and disconnect() can stop it
    this.joinsAbandoned = true
    if (this.heldJoin !== null) this.letGo(this.heldJoin, false)
    this.closed = true
    // stops the loop, leaves the group (LeaveGroup), closes the connections
    await this.lib?.disconnect().catch((error: unknown) => { failure ??= translateError(error, 'close') })
    if (failure !== undefined) throw failure
  }

  // ---- kafkajs side ----

  /** Creates the kafkajs consumer for the current subscription and runs it (resolves once it joined). */
  private async ensureRunning (): Promise<void> {
    const wanted = this.topics.join('\n')
    const rejoining = this.pendingJoin !== null || this.heldJoin !== null || this.joining
    if (this.running !== null && this.runningTopics === wanted && !(this.rejoinRequested && !rejoining)) {
      await this.running
      return
    }
    // first start, a new subscription, or a rejoin the runtime asked for while kafkajs saw no rebalance: a fresh
    // kafkajs consumer leaves the group and joins again, and the join is reported like any other. The runtime
    // hears of the partitions first (a held join of the old consumer is given up with them), so the new
    // consumer's join owns nothing and is not held.
    if (this.running !== null) {
      const held = this.heldJoin
      await this.giveUpOwned(held === null ? !this.membershipLost && this.pendingJoin === null : await this.heldJoinStillOurs(held))
      if (held !== null) this.letGo(held, false)
    }
    this.rejoinRequested = false
    this.runningTopics = wanted
    this.running = this.start()
    try {
      await this.running
    } catch (error) {
      this.running = null
      throw translateError(error, 'poll')
    }
  }

  private async start (): Promise<void> {
    this.releaseQueue()
    this.joining = false
    const old = this.lib
    this.lib = null
    if (old !== null) await old.disconnect().catch(() => undefined)
    const client = createClient(this.connection, this.options.clientId ?? `${this.connection.clientId}-consumer`)
    const lib = client.consumer({
      groupId: this.options.groupId,
      partitionAssigners: [copartitionedAssigner({
        ownedPartitions: () => (this.table.assignment().length > 0 ? this.table.assignment() : this.lastOwned),
        userData: this.options.userData,
        onCluster: (cluster) => {
          this.cluster = cluster
          tapCluster(cluster, {
            beforeJoin: (coordinator) => this.holdJoin(lib, coordinator),
            onJoined: (generationId, memberId) => { if (this.lib === lib) { this.generationId = generationId; this.memberId = memberId } },
            onFetched: (response) => {
              if (this.lib !== lib) return
              for (const t of response.responses) for (const p of t.partitions) noteWatermarks(this.table, t.topicName, p.partition, p.highWatermark, p.lastStableOffset, p.lastStartOffset)
            }
          })
        }
      })],
      sessionTimeout: this.options.sessionTimeoutMs,
      rebalanceTimeout: this.options.rebalanceTimeoutMs,
      heartbeatInterval: this.options.heartbeatIntervalMs,
      maxBytesPerPartition: this.options.maxPartitionFetchBytes,
      maxBytes: this.options.fetchMaxBytes,
      maxWaitTimeInMs: FETCH_WAIT_MS,
      readUncommitted: this.options.isolationLevel === 'read_uncommitted',
      allowAutoTopicCreation: false
    })
    this.lib = lib
    lib.on(lib.events.GROUP_JOIN, (event) => { if (this.lib === lib) this.onJoin(event.payload.memberAssignment, event.payload.memberId) })
    lib.on(lib.events.END_BATCH_PROCESS, (event) => { if (this.lib === lib) this.onBatchEnd(event.payload) })
    lib.on(lib.events.CRASH, (event) => {
      if (this.lib !== lib) return
      this.releaseQueue()
      // kafkajs restarts (and rejoins) after a retriable crash; anything else ends the consumer
      if (!event.payload.restart) {
        this.fatal = event.payload.error
        this.polls.wakeUp()
      }
    })
    await lib.connect()
    await lib.subscribe({ topics: this.topics })
    await lib.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: CONCURRENCY,
      eachBatch: async (payload) => { await this.onBatch(payload, lib) }
    })
  }

  /** GROUP_JOIN: kafkajs joined with a new assignment. Runs synchronously inside kafkajs, before any fetch. */
  private onJoin (memberAssignment: Record<string, number[]>, memberId: string): void {
    this.memberId = memberId
    this.joining = false
    const assignment: TopicPartition[] = []
    for (const [topic, partitions] of Object.entries(memberAssignment)) for (const partition of partitions) assignment.push({ topic, partition })
    this.joinEpoch++
    this.releaseQueue()
    // nothing is fetched until the runtime heard of the assignment and positions are resolved
    if (assignment.length > 0) this.lib?.pause([...groupByTopic(assignment, (tp) => tp.partition)].map(([topic, partitions]) => ({ topic, partitions })))
    this.pendingJoin = assignment
    this.polls.wakeUp()
  }

  private async onBatch (payload: KafkaJS.EachBatchPayload, lib: KafkaJS.Consumer): Promise<void> {
    const { batch } = payload
    const entry = this.table.get(batch)
    const fetchOffset = BigInt((batch as unknown as { fetchedOffset: string }).fetchedOffset)
    if (this.lib !== lib || this.pendingJoin !== null || this.heldJoin !== null || entry === undefined || entry.paused || entry.position !== fetchOffset) return
    const raw = (batch as unknown as { rawMessages: InternalMessage[] }).rawMessages
    const end = endOfBatches(raw)
    const next = end !== null && end > fetchOffset ? end : BigInt(batch.lastOffset()) + 1n
    const records = (batch.messages as unknown as InternalMessage[]).map((m) => toConsumedRecord(batch.topic, batch.partition, m))
    let settled: boolean | undefined
    let settle!: (taken: boolean) => void
    const done = new Promise<boolean>((resolve) => { settle = (taken) => { if (settled === undefined) { settled = taken; resolve(taken) } } })
    this.queue.push({ topic: batch.topic, partition: batch.partition, fetchOffset, records, next, highWatermark: BigInt(batch.highWatermark), epoch: this.joinEpoch, settle })
    this.polls.wakeUp()
    while (settled === undefined) {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([done, new Promise((resolve) => { timer = setTimeout(resolve, this.options.heartbeatIntervalMs) })])
      clearTimeout(timer)
      if (settled !== undefined) break
      if (!payload.isRunning()) {
        settle(false)
        break
      }
      try {
        // keeps the session alive and lets kafkajs learn of a rebalance while the runtime has not polled
        await payload.heartbeat()
      } catch (error) {
        this.releaseQueue()
        throw error
      }
    }
    if (settled === true) payload.resolveOffset((next - 1n).toString())
  }

  /** A batch kafkajs resolved itself (only aborted records or transaction markers): our position moves past it. */
  private onBatchEnd (payload: { topic: string, partition: number, batchSize: number, firstOffset: string | null, lastOffset: string }): void {
    if (payload.batchSize !== 0 || payload.firstOffset === null) return
    const entry = this.table.get(payload)
    if (entry === undefined || entry.position === null || BigInt(payload.firstOffset) < entry.position) return
    if (this.queue.some((w) => w.topic === payload.topic && w.partition === payload.partition)) return
    entry.position = BigInt(payload.lastOffset) + 1n
  }

  /** Tells kafkajs whether to fetch a partition and, when `reposition`, from where (our position). */
  private syncLibrary (e: PartitionEntry, reposition: boolean): void {
    const lib = this.lib
    if (lib === null || this.running === null || this.pendingJoin !== null || this.heldJoin !== null) return
    const tp = [{ topic: e.topic, partitions: [e.partition] }]
    try {
      if (e.paused || e.position === null) {
        lib.pause(tp)
        return
      }
      if (reposition) lib.seek({ topic: e.topic, partition: e.partition, offset: e.position.toString() })
      lib.resume(tp)
    } catch {
      // the kafkajs consumer is between runs (crash restart): the next join pauses and seeks everything anyway
    }
  }

  // ---- held joins ----

  /**
   * beforeJoin tap: kafkajs is about to send JoinGroup. While the runtime still holds partitions, the request waits
   * for the next poll() (carryOutHeldJoin), which first reports them; meanwhile we keep the session alive. A join of
   * a consumer being replaced or closed fails at once (not retriable, so kafkajs does not restart).
   */
  private holdJoin (lib: KafkaJS.Consumer, coordinator: InternalBroker): Promise<void> {
    if (this.joinsAbandoned || this.lib !== lib) return Promise.reject(abandonedJoin())
    // owning nothing there is nothing to report first: the first join, or kafkajs retrying after we let go
    if (this.table.assignment().length === 0 && !this.closing) return Promise.resolve()
    if (this.heldJoin !== null) this.letGo(this.heldJoin, false)
    return new Promise<void>((resolve, reject) => {
      const held: HeldJoin = { lib, coordinator, gone: false, beating: false, timer: null, release: resolve, abandon: () => { reject(abandonedJoin()) } }
      held.timer = setInterval(() => { void this.keepAlive(held) }, this.options.heartbeatIntervalMs)
      this.heldJoin = held
      this.releaseQueue()
      this.polls.wakeUp()
    })
  }

  /**
   * Heartbeats while a join is held: in PreparingRebalance the coordinator answers REBALANCE_IN_PROGRESS and
   * keeps the session alive, so the member drops out when the rebalance timeout passes without a poll() (the
   * rebalance completes without it), not earlier at the session timeout. Stops once the member is gone.
   */
  private async keepAlive (held: HeldJoin): Promise<void> {
    if (held.beating || held.gone || this.heldJoin !== held) return
    held.beating = true
    try {
      held.gone = (await this.membership(held)) === 'gone'
    } finally {
      held.beating = false
    }
    if (held.gone && held.timer !== null) clearInterval(held.timer)
  }

  /** One Heartbeat with the generation we hold the partitions in. */
  private async membership (held: HeldJoin): Promise<Membership> {
    if (this.generationId < 0 || this.memberId === '') return 'gone'
    try {
      await held.coordinator.heartbeat({ groupId: this.options.groupId, groupGenerationId: this.generationId, memberId: this.memberId })
      return 'member'
    } catch (error) {
      const type = (error as { type?: unknown }).type
      // PreparingRebalance: the generation is still valid until the group completes the rebalance
      if (type === 'REBALANCE_IN_PROGRESS') return 'member'
      return type === 'UNKNOWN_MEMBER_ID' || type === 'ILLEGAL_GENERATION' || type === 'FENCED_INSTANCE_ID' ? 'gone' : 'unknown'
    }
  }

  /** Whether the partitions are still ours while a join is held; when in doubt they are lost (the safe side). */
  private async heldJoinStillOurs (held: HeldJoin): Promise<boolean> {
    return !held.gone && !this.membershipLost && (await this.membership(held)) === 'member'
  }

  /** A held join: report what we give up (revoked if the generation still holds, else lost), then let it go out. */
  private async carryOutHeldJoin (): Promise<void> {
    const held = this.heldJoin
    if (held === null) return
    await this.giveUpOwned(await this.heldJoinStillOurs(held))
    if (this.heldJoin === held) this.letGo(held, true)
  }

  /** Tells the runtime it no longer owns its partitions: revoked (it may still commit) or lost. */
  private async giveUpOwned (stillOurs: boolean): Promise<void> {
    this.releaseQueue()
    const owned = this.table.assignment()
    if (owned.length > 0) {
      if (stillOurs) await this.listener.onPartitionsRevoked?.(owned)
      else await this.callLost(owned)
      this.lastOwned = owned
    }
    this.table.assign([])
    this.membershipLost = false
  }

  /** Ends a hold: `release` sends the JoinGroup (kafkajs rejoins), else it fails so kafkajs's loop can stop. */
  private letGo (held: HeldJoin, release: boolean): void {
    if (held.timer !== null) clearInterval(held.timer)
    held.timer = null
    if (this.heldJoin === held) this.heldJoin = null
    if (release) {
      // kafkajs is rejoining: that is the rejoin a refused commit asked for
      this.joining = true
      this.rejoinRequested = false
      held.release()
    } else {
      held.abandon()
    }
  }

  // ---- poll steps ----

  /** Carries out rebalances kafkajs already went through: lost (the old assignment), then assigned (the new). */
  private async handleRebalances (): Promise<void> {
    while (this.pendingJoin !== null) {
      const assigned = this.pendingJoin
      const owned = this.table.assignment()
      if (owned.length > 0) {
        await this.callLost(owned)
        this.lastOwned = owned
      }
      this.releaseQueue()
      // everything restarts from the committed offsets, as kafkajs's own offsets do after a join
      this.table.assign([])
      this.table.assign(assigned)
      this.lastOwned = assigned
      // a join during the callbacks replaces this one; its assignment is reported next
      if (this.pendingJoin === assigned) this.pendingJoin = null
      await this.listener.onPartitionsAssigned?.(assigned)
    }
  }

  private async callLost (owned: TopicPartition[]): Promise<void> {
    if (this.listener.onPartitionsLost !== undefined) await this.listener.onPartitionsLost(owned)
    else await this.listener.onPartitionsRevoked?.(owned)
  }

  /** Committed offset first, else the reset policy; then kafkajs is told where to fetch. */
  private async resolvePositions (): Promise<void> {
    const unresolved = this.table.all().filter((e) => e.position === null)
    if (unresolved.length === 0) return
    const cluster = this.ensureCluster()
    const budget = this.connection.operationTimeoutMs
    const withoutSeek = unresolved.filter((e) => e.reset === null)
    const committed = new Map((await fetchCommittedOffsets(cluster, 'poll', this.options.groupId, withoutSeek, budget)).map((o) => [topicPartitionKey(o), o.offset]))
    for (const e of withoutSeek) {
      const offset = committed.get(topicPartitionKey(e))
      if (offset !== undefined && e.position === null) e.position = offset
    }
    for (const policy of ['earliest', 'latest'] as const) {
      const list = unresolved.filter((e) => e.position === null && (e.reset ?? this.options.autoOffsetReset) === policy)
      if (list.length === 0) continue
      applyListedOffsets(list, await listOffsets(cluster, 'poll', list, policy === 'earliest' ? EARLIEST_TIMESTAMP : LATEST_TIMESTAMP, this.options.isolationLevel, budget))
    }
    const none = unresolved.find((e) => e.position === null && (e.reset ?? this.options.autoOffsetReset) === 'none')
    if (none !== undefined) {
      throw new DevtripError('DEVTRIP_KAFKA', `poll: ${topicPartitionKey(none)} has no committed offset and autoOffsetReset is 'none'`, { details: { topic: none.topic, partition: none.partition } })
    }
    for (const e of unresolved) this.syncLibrary(e, true)
  }

  /** Waits up to `maxWaitMs` for queued batches, then hands out those that start at our positions. */
  private async take (maxWaitMs: number): Promise<PartitionBatch[]> {
    if (this.queue.length === 0 && this.pendingJoin === null && this.heldJoin === null) await this.idle(maxWaitMs)
    if (this.pendingJoin !== null || this.heldJoin !== null) return []
    const out: PartitionBatch[] = []
    for (const w of this.queue.splice(0)) {
      const entry = this.table.get(w)
      if (entry === undefined || w.epoch !== this.joinEpoch || entry.paused || entry.position !== w.fetchOffset) {
        w.settle(false)
        continue
      }
      entry.position = w.next
      w.settle(true)
      if (w.records.length === 0) continue
      const highWatermark = entry.highWatermark ?? w.highWatermark
      out.push({
        topic: w.topic,
        partition: w.partition,
        records: w.records,
        highWatermark,
        lastStableOffset: entry.lastStableOffset ?? highWatermark,
        logStartOffset: entry.logStartOffset ?? 0n
      })
    }
    return out
  }

  private idle (ms: number): Promise<void> {
    return this.polls.idle(this.closing ? 0 : ms)
  }

  private dropQueued (tp: TopicPartition): void {
    this.queue = this.queue.filter((w) => {
      if (w.topic !== tp.topic || w.partition !== tp.partition) return true
      w.settle(false)
      return false
    })
  }

  private releaseQueue (): void {
    for (const w of this.queue.splice(0)) w.settle(false)
  }

  private ensureCluster (): InternalCluster {
    if (this.cluster === null) throw new DevtripError('DEVTRIP_KAFKA', 'the consumer has not connected yet (poll first)', { canRetry: true })
    return this.cluster
  }
}

/** Fails a join of a kafkajs consumer being replaced or closed; `retriable: false` keeps kafkajs from restarting. */
function abandonedJoin (): Error {
  return Object.assign(new Error('the group consumer is closing or being replaced: join abandoned'), { name: 'DevtripJoinAbandoned', retriable: false })
}
