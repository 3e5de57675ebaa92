/**
 * Membership in a classic consumer group, on raw JoinGroup / SyncGroup / Heartbeat / LeaveGroup.
 *
 * Why not the library's Consumer.joinGroup(): when its heartbeat learns of a rebalance it rejoins at once, on
 * its own, so a runtime never gets to commit or close its tasks while it still owns the partitions. Here a
 * heartbeat that learns of a rebalance only raises a flag (and keeps heartbeating, which keeps the session
 * alive); the consumer's next `poll()` runs the revoke callback and only then calls `join()`.
 * The protocol is the eager one: every rebalance revokes everything first. The assignor is sticky, so
 * partitions usually come back to the same member.
 *
 * This class uses its own client (its own socket to the coordinator), because a broker handles one request per
 * connection at a time and a JoinGroup may be held for the whole rebalance timeout: fetches must not queue
 * behind it.
 */
import { DevtripError } from '../../../events/errors'
import { ASSIGNOR_NAME, assignCopartitioned, decodeAssignment, decodeSubscription, encodeAssignment, encodeSubscription } from '../assignor'
import type { ResolvedGroupConsumerOptions } from '../options'
import type { TopicPartition } from '../port'
import { hasKafkaError, isRetriable, leafErrors, translateError } from './errors'
import type { GroupIdentity } from './group-offsets'
import type { Platformatic } from './library'
import { type RawClient, sleep } from './raw-client'

const PROTOCOL_TYPE = 'consumer'

type JoinArgs = [string, number, number, string, string | null, string, Platformatic.joinGroupV9.JoinGroupRequestProtocol[], string | null]
type SyncArgs = [string, number, string, string | null, string, string, Platformatic.syncGroupV5.SyncGroupRequestAssignment[]]

export class GroupMembership {
  private memberId = ''
  private generationId = -1
  private rejoinNeeded = true
  private lost = false
  private fatal: DevtripError | null = null
  private heartbeating = false
  private heartbeatTimer: NodeJS.Timeout | null = null
  private lastHeartbeatOk = 0
  private closed = false

  /**
   * @param raw the coordinator client (its `lib` must be an Admin: the leader lists topics)
   * @param onRejoinNeeded called when a heartbeat finds the group rebalancing, so a waiting poll wakes up
   */
  constructor (
    private readonly raw: RawClient,
    private readonly options: ResolvedGroupConsumerOptions,
    private readonly onRejoinNeeded: () => void
  ) {}

  get needsRejoin (): boolean {
    return this.rejoinNeeded
  }

  /** true when the partitions were lost (generation fenced or session expired) rather than revoked */
  get partitionsLost (): boolean {
    return this.lost
  }

  identity (): GroupIdentity {
    return { groupId: this.options.groupId, generationId: this.generationId, memberId: this.memberId, groupInstanceId: this.options.groupInstanceId }
  }

  throwIfFatal (): void {
    if (this.fatal !== null) throw this.fatal
  }

  requestRejoin (lost: boolean): void {
    this.rejoinNeeded = true
    if (lost) this.lost = true
    this.onRejoinNeeded()
  }

  /**
   * Joins (or rejoins) the group and returns this member's assignment. `owned` is what the member held before
   * (sent in the subscription for stickiness). Retries rebalance races until the rebalance timeout passes.
   */
  async join (topics: readonly string[], owned: readonly TopicPartition[]): Promise<TopicPartition[]> {
    this.stopHeartbeats()
    const { groupId, groupInstanceId, sessionTimeoutMs, rebalanceTimeoutMs } = this.options
    const protocols = [{ name: ASSIGNOR_NAME, metadata: encodeSubscription({ topics, ownedPartitions: owned, userData: this.options.userData }) }]
    const deadline = Date.now() + rebalanceTimeoutMs + this.raw.options.operationTimeoutMs
    let backoff = 50
    for (;;) {
      if (this.closed) throw new DevtripError('DEVTRIP_CLOSED', 'poll: the consumer was closed while joining its group')
      try {
        const connection = await this.raw.coordinatorConnection('group', groupId)
        const joined = await this.raw.request<JoinArgs, Platformatic.joinGroupV9.JoinGroupResponse>(
          'JoinGroup', connection, groupId, sessionTimeoutMs, rebalanceTimeoutMs, this.memberId, groupInstanceId, PROTOCOL_TYPE, protocols, 'devtrip-streams: joining')
        this.memberId = joined.memberId ?? this.memberId
        this.generationId = joined.generationId
        const assignments = joined.leader === this.memberId ? await this.assign(joined.members) : []
        const synced = await this.raw.request<SyncArgs, Platformatic.syncGroupV5.SyncGroupResponse>(
          'SyncGroup', connection, groupId, this.generationId, this.memberId, groupInstanceId, PROTOCOL_TYPE, ASSIGNOR_NAME, assignments)
        const assignment = decodeAssignment(synced.assignment)
        this.rejoinNeeded = false
        this.lost = false
        this.startHeartbeats()
        return assignment
      } catch (error) {
        if (Date.now() > deadline) throw translateError(error, 'poll (joining the group)')
        if (hasKafkaError(error, 'MEMBER_ID_REQUIRED')) {
          // KIP-394: the first JoinGroup only hands out a member id; join again with it
          this.memberId = memberIdOf(error) ?? ''
          continue
        }
        if (hasKafkaError(error, 'UNKNOWN_MEMBER_ID')) {
          this.memberId = ''
          continue
        }
        // the group moved on between our JoinGroup and SyncGroup: join the new round
        if (hasKafkaError(error, 'REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION')) continue
        if (hasKafkaError(error, 'FENCED_INSTANCE_ID')) {
          this.fatal = translateError(error, 'poll (joining the group)')
          throw this.fatal
        }
        if (hasKafkaError(error, 'NOT_COORDINATOR', 'COORDINATOR_NOT_AVAILABLE')) this.raw.forgetCoordinator('group', groupId)
        if (!isRetriable(error)) throw translateError(error, 'poll (joining the group)')
        await sleep(backoff)
        backoff = Math.min(backoff * 2, 1000)
      }
    }
  }

  /** Leaves the group (dynamic members only: a static member keeps its place for a restart). One attempt. */
  async leave (): Promise<void> {
    this.closed = true
    this.stopHeartbeats()
    if (this.memberId === '' || this.options.groupInstanceId !== null) return
    const memberId = this.memberId
    this.memberId = ''
    this.generationId = -1
    try {
      const connection = await this.raw.coordinatorConnection('group', this.options.groupId)
      await this.raw.request<[string, Platformatic.leaveGroupV5.LeaveGroupRequestMember[]], unknown>(
        'LeaveGroup', connection, this.options.groupId, [{ memberId, groupInstanceId: null, reason: 'devtrip-streams: closing' }])
    } catch (error) {
      // already gone (session expired, or removed by a rebalance): nothing to leave
      if (!hasKafkaError(error, 'UNKNOWN_MEMBER_ID')) throw translateError(error, 'close (leaving the group)')
    }
  }

  stopHeartbeats (): void {
    this.heartbeating = false
    if (this.heartbeatTimer !== null) clearTimeout(this.heartbeatTimer)
    this.heartbeatTimer = null
  }

  /** The leader's job: decode every member's subscription and compute the assignment. */
  private async assign (members: readonly Platformatic.joinGroupV9.JoinGroupResponseMember[]): Promise<Platformatic.syncGroupV5.SyncGroupRequestAssignment[]> {
    const subscriptions = members.map((m) => ({ memberId: m.memberId, ...decodeSubscription(m.metadata) }))
    const wanted = [...new Set(subscriptions.flatMap((s) => s.topics))]
    // topics that do not exist (yet) are left unassigned instead of failing the whole group
    const admin = this.raw.lib as Platformatic.Admin
    const existing = new Set(await this.raw.withRetry('poll (assigning partitions)', () => admin.listTopics()))
    const present = wanted.filter((t) => existing.has(t))
    const counts = new Map<string, number>()
    if (present.length > 0) {
      const metadata = await this.raw.withRetry('poll (assigning partitions)', () => this.raw.metadata(present, true))
      for (const t of present) {
        const count = metadata.topics.get(t)?.partitionsCount
        if (count !== undefined) counts.set(t, count)
      }
    }
    return [...assignCopartitioned(subscriptions, counts)].map(([memberId, tps]) => ({ memberId, assignment: encodeAssignment(tps) }))
  }

  private startHeartbeats (): void {
    this.stopHeartbeats()
    this.heartbeating = true
    this.lastHeartbeatOk = Date.now()
    this.scheduleHeartbeat()
  }

  private scheduleHeartbeat (): void {
    if (!this.heartbeating) return
    this.heartbeatTimer = setTimeout(() => { void this.heartbeat() }, this.options.heartbeatIntervalMs)
    // the runtime's poll loop keeps the process alive, heartbeats alone must not
    this.heartbeatTimer.unref()
  }

  private async heartbeat (): Promise<void> {
    const generation = this.generationId
    const stale = (): boolean => !this.heartbeating || generation !== this.generationId
    try {
      const connection = await this.raw.coordinatorConnection('group', this.options.groupId)
      await this.raw.request<[string, number, string, string | null], unknown>('Heartbeat', connection, this.options.groupId, generation, this.memberId, this.options.groupInstanceId)
      if (!stale()) this.lastHeartbeatOk = Date.now()
    } catch (error) {
      if (stale()) return
      if (hasKafkaError(error, 'REBALANCE_IN_PROGRESS')) {
        // keep heartbeating: the session must survive while the runtime commits in its revoke callback
        this.requestRejoin(false)
      } else if (hasKafkaError(error, 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID')) {
        if (hasKafkaError(error, 'UNKNOWN_MEMBER_ID')) this.memberId = ''
        this.stopHeartbeats()
        this.requestRejoin(true)
        return
      } else if (hasKafkaError(error, 'FENCED_INSTANCE_ID')) {
        this.fatal = translateError(error, 'heartbeat')
        this.stopHeartbeats()
        this.onRejoinNeeded()
        return
      } else {
        if (hasKafkaError(error, 'NOT_COORDINATOR', 'COORDINATOR_NOT_AVAILABLE')) this.raw.forgetCoordinator('group', this.options.groupId)
        if (Date.now() - this.lastHeartbeatOk > this.options.sessionTimeoutMs) {
          // the coordinator has certainly expired our session by now
          this.stopHeartbeats()
          this.requestRejoin(true)
          return
        }
      }
    }
    if (!stale()) this.scheduleHeartbeat()
  }
}

/** The member id the coordinator handed out with MEMBER_ID_REQUIRED. */
function memberIdOf (error: unknown): string | undefined {
  const fromResponse = (error as { response?: { memberId?: unknown } }).response?.memberId
  if (typeof fromResponse === 'string' && fromResponse !== '') return fromResponse
  for (const leaf of leafErrors(error)) {
    const id = (leaf as { memberId?: unknown }).memberId
    if (typeof id === 'string' && id !== '') return id
  }
  return undefined
}
