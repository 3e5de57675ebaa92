/**
 * The two consumer kinds of the port on the shared fetch machinery (consumer-base.ts):
 *   - PlatformaticGroupConsumer: a group member; rebalances happen inside poll(), callbacks first;
 *   - PlatformaticAssignedConsumer: no group, the caller assigns partitions (state restoration).
 */
import { DevtripError } from '../../../events/errors'
import { dedupePartitions } from '../common/topic-partitions'
import type { ResolvedConnectionOptions, ResolvedFetchOptions, ResolvedGroupConsumerOptions } from '../options'
import type { ConsumerGroupMetadata, KafkaAssignedConsumer, KafkaGroupConsumer, RebalanceListener, TopicPartition, TopicPartitionOffset } from '../port'
import { topicPartitionKey } from '../port'
import { checkOffsets, checkTopicPartitions } from '../validation'
import { ConsumerBase } from './consumer-base'
import { translateError } from './errors'
import { commitGroupOffsets, fetchCommittedOffsets } from './group-offsets'
import { GroupMembership } from './group-membership'
import { createAdminClient, RawClient } from './raw-client'

export class PlatformaticGroupConsumer extends ConsumerBase implements KafkaGroupConsumer {
  private readonly options: ResolvedGroupConsumerOptions
  /** group requests travel on their own client: see group-membership.ts */
  private readonly coordinator: RawClient
  private readonly membership: GroupMembership
  private topics: string[] = []
  private listener: RebalanceListener = {}
  /** what this member owned before the last revocation, announced for the sticky assignor */
  private lastOwned: TopicPartition[] = []

  constructor (connection: ResolvedConnectionOptions, options: ResolvedGroupConsumerOptions) {
    const clientId = options.clientId ?? `${connection.clientId}-consumer`
    super(connection, options, clientId)
    this.options = options
    // a JoinGroup may be held for the whole rebalance timeout before the broker answers
    const coordinatorOptions = { ...connection, clientId, requestTimeoutMs: Math.max(connection.requestTimeoutMs, options.rebalanceTimeoutMs + 5000) }
    this.coordinator = new RawClient(createAdminClient(coordinatorOptions), coordinatorOptions)
    this.membership = new GroupMembership(this.coordinator, options, () => this.wakeUp())
  }

  subscribe (topics: readonly string[], listener: RebalanceListener = {}): void {
    if (!Array.isArray(topics) || topics.length === 0 || !topics.every((t) => typeof t === 'string' && t.length > 0)) {
      throw new DevtripError('DEVTRIP_INVALID_OPTIONS', 'subscribe: /topics must be a non-empty array of topic names')
    }
    if (listener === null || typeof listener !== 'object') throw new DevtripError('DEVTRIP_INVALID_OPTIONS', 'subscribe: /listener must be an object of callbacks')
    if (this.closing) throw this.closedError('subscribe')
    this.topics = [...new Set(topics)].sort()
    this.listener = listener
    this.membership.requestRejoin(false)
  }

  async commitOffsets (offsets: readonly TopicPartitionOffset[]): Promise<void> {
    checkOffsets('commitOffsets', offsets)
    if (this.closed) throw this.closedError('commitOffsets')
    const identity = this.membership.identity()
    if (identity.generationId < 0) {
      throw new DevtripError('DEVTRIP_TASK_MIGRATED', 'commitOffsets: the consumer is not a member of its group (poll to join)', { details: { groupId: identity.groupId } })
    }
    try {
      await commitGroupOffsets(this.coordinator, identity, offsets)
    } catch (error) {
      const translated = translateError(error, 'commitOffsets')
      // the generation is stale, so the partitions are gone: the next poll must treat them as lost
      if (translated.code === 'DEVTRIP_TASK_MIGRATED') this.membership.requestRejoin(true)
      throw translated
    }
  }

  async committed (partitions: readonly TopicPartition[]): Promise<Array<TopicPartition & { offset: bigint | null }>> {
    checkTopicPartitions('committed', 'partitions', partitions)
    if (this.closed) throw this.closedError('committed')
    if (partitions.length === 0) return []
    const found = new Map((await fetchCommittedOffsets(this.coordinator, 'committed', this.options.groupId, dedupePartitions(partitions))).map((o) => [topicPartitionKey(o), o.offset]))
    return partitions.map((tp) => ({ topic: tp.topic, partition: tp.partition, offset: found.get(topicPartitionKey(tp)) ?? null }))
  }

  groupMetadata (): ConsumerGroupMetadata {
    return this.membership.identity()
  }

  requestRejoin (): void {
    this.membership.requestRejoin(false)
  }

  protected async beforeFetch (): Promise<void> {
    this.membership.throwIfFatal()
    if (this.topics.length === 0) throw new DevtripError('DEVTRIP_INVALID_OPTIONS', 'poll: subscribe to topics first')
    while (this.membership.needsRejoin) {
      if (this.closing) throw this.closedError('poll')
      await this.rebalance()
      this.membership.throwIfFatal()
    }
  }

  protected async committedPositions (partitions: readonly TopicPartition[]): Promise<Map<string, bigint>> {
    const offsets = await fetchCommittedOffsets(this.coordinator, 'poll', this.options.groupId, partitions)
    return new Map(offsets.map((o) => [topicPartitionKey(o), o.offset]))
  }

  protected async closeMore (): Promise<void> {
    let failure: unknown
    try {
      this.membership.stopHeartbeats()
      const owned = this.assignment()
      if (owned.length > 0 && this.membership.partitionsLost) await this.callLost(owned)
      else if (owned.length > 0) await this.listener.onPartitionsRevoked?.(owned)
      this.setAssignment([])
      await this.membership.leave()
    } catch (error) {
      failure = error
    }
    await this.coordinator.close()
    if (failure !== undefined) throw failure
  }

  /** Eager rebalance: revoke (or lose) everything, rejoin, then hand the new assignment to the listener. */
  private async rebalance (): Promise<void> {
    const owned = this.assignment()
    if (owned.length > 0) {
      if (this.membership.partitionsLost) await this.callLost(owned)
      else await this.listener.onPartitionsRevoked?.(owned)
      this.lastOwned = owned
      this.setAssignment([])
    }
    const assigned = await this.membership.join(this.topics, this.lastOwned)
    this.setAssignment(assigned)
    this.lastOwned = assigned
    await this.listener.onPartitionsAssigned?.(assigned)
  }

  private async callLost (owned: TopicPartition[]): Promise<void> {
    if (this.listener.onPartitionsLost !== undefined) await this.listener.onPartitionsLost(owned)
    else await this.listener.onPartitionsRevoked?.(owned)
  }
}

export class PlatformaticAssignedConsumer extends ConsumerBase implements KafkaAssignedConsumer {
  constructor (connection: ResolvedConnectionOptions, options: ResolvedFetchOptions) {
    super(connection, options, options.clientId ?? `${connection.clientId}-restore`)
  }

  assign (partitions: readonly TopicPartition[]): void {
    checkTopicPartitions('assign', 'partitions', partitions)
    if (this.closing) throw this.closedError('assign')
    this.setAssignment(dedupePartitions(partitions))
  }

  protected async beforeFetch (): Promise<void> {}

  protected async committedPositions (): Promise<Map<string, bigint>> {
    return new Map()
  }

  protected async closeMore (): Promise<void> {}
}
