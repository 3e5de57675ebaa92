/**
 * KafkaAssignedConsumer on kafkajs: kafkajs has no consumer without a group (no `assign()`), so this one fetches
 * with the Fetch request of kafkajs's internal Broker objects, from positions it keeps itself (common/partition-table.ts).
 * Used by the runtime to restore state stores from changelogs.
 */
import { DevtripError } from '../../../events/errors'
import { applyListedOffsets, PartitionTable, type PartitionEntry } from '../common/partition-table'
import { consumerClosedError, PollGate } from '../common/poll-gate'
import { dedupePartitions, groupByTopic } from '../common/topic-partitions'
import type { ResolvedConnectionOptions, ResolvedFetchOptions } from '../options'
import type { KafkaAssignedConsumer, OffsetSpec, PartitionBatch, PartitionState, TopicPartition } from '../port'
import { topicPartitionKey } from '../port'
import { checkTopicPartitions } from '../validation'
import { hasKafkaError, isRetriable, translateError } from './errors'
import { collectRecords, noteWatermarks } from './fetch-records'
import { createClient, createCluster, EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, READ_COMMITTED, READ_UNCOMMITTED, type FetchResponse, type InternalCluster } from './library'
import { leaders, listOffsets } from './offsets'

export class KafkajsAssignedConsumer implements KafkaAssignedConsumer {
  private readonly cluster: InternalCluster
  private readonly table = new PartitionTable()
  private readonly polls = new PollGate()
  private connected: Promise<void> | null = null
  private closing = false

  constructor (private readonly connection: ResolvedConnectionOptions, private readonly options: ResolvedFetchOptions) {
    const client = createClient(connection, options.clientId ?? `${connection.clientId}-restore`)
    this.cluster = createCluster(client, options.isolationLevel === 'read_committed' ? READ_COMMITTED : READ_UNCOMMITTED)
  }

  assign (partitions: readonly TopicPartition[]): void {
    checkTopicPartitions('assign', 'partitions', partitions)
    if (this.closing) throw consumerClosedError('assign')
    this.table.assign(dedupePartitions(partitions))
  }

  poll (maxWaitMs: number): Promise<PartitionBatch[]> {
    return this.polls.run(maxWaitMs, this.closing, async () => {
      await this.connect()
      await this.resolvePositions()
      return this.fetch(maxWaitMs)
    })
  }

  pause (partitions: readonly TopicPartition[]): void { this.table.pause(partitions, true) }
  resume (partitions: readonly TopicPartition[]): void { this.table.pause(partitions, false) }
  seek (partition: TopicPartition, offset: OffsetSpec): void { this.table.seek(partition, offset) }
  position (partition: TopicPartition): bigint | null { return this.table.position(partition) }
  partitionStates (): PartitionState[] { return this.table.states() }
  assignment (): TopicPartition[] { return this.table.assignment() }

  async close (): Promise<void> {
    if (this.closing) return
    this.closing = true
    this.polls.wakeUp()
    await this.polls.settled()
    await this.cluster.disconnect().catch((error: unknown) => { throw translateError(error, 'close') })
  }

  private async connect (): Promise<void> {
    this.connected ??= this.cluster.connect().catch((error: unknown) => {
      this.connected = null
      throw translateError(error, 'poll')
    })
    await this.connected
  }

  private async resolvePositions (): Promise<void> {
    const unresolved = this.table.all().filter((e) => e.position === null)
    if (unresolved.length === 0) return
    for (const policy of ['earliest', 'latest'] as const) {
      const list = unresolved.filter((e) => (e.reset ?? this.options.autoOffsetReset) === policy)
      if (list.length === 0) continue
      applyListedOffsets(list, await listOffsets(this.cluster, 'poll', list, policy === 'earliest' ? EARLIEST_TIMESTAMP : LATEST_TIMESTAMP, this.options.isolationLevel, this.connection.operationTimeoutMs))
    }
    const none = unresolved.find((e) => e.position === null && (e.reset ?? this.options.autoOffsetReset) === 'none')
    if (none !== undefined) {
      throw new DevtripError('DEVTRIP_KAFKA', `poll: ${topicPartitionKey(none)} has no position and autoOffsetReset is 'none'`, { details: { topic: none.topic, partition: none.partition } })
    }
  }

  private idle (ms: number): Promise<void> {
    return this.polls.idle(this.closing ? 0 : ms)
  }

  private async fetch (maxWaitMs: number): Promise<PartitionBatch[]> {
    const fetchable = this.table.all().filter((e) => !e.paused && e.position !== null)
    if (fetchable.length === 0) {
      await this.idle(maxWaitMs)
      return []
    }
    let byLeader: Map<number, TopicPartition[]>
    try {
      byLeader = await leaders(this.cluster, 'poll', fetchable, this.connection.operationTimeoutMs)
    } catch (error) {
      throw translateError(error, 'poll')
    }
    const waitMs = Math.min(maxWaitMs, Math.max(0, this.connection.requestTimeoutMs - 2000))
    const settled = await Promise.allSettled([...byLeader].map(async ([nodeId, tps]) => this.fetchFrom(nodeId, tps.map((tp) => this.table.get(tp)!), waitMs)))
    // nothing is applied unless every response can be: a failure must not lose records another broker returned
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed !== undefined) throw translateError(failed.reason, 'poll')
    const batches: PartitionBatch[] = []
    for (const r of settled) {
      const value = (r as PromiseFulfilledResult<{ response: FetchResponse, requested: Map<string, bigint> } | null>).value
      if (value !== null) batches.push(...this.apply(value.response, value.requested))
    }
    return batches
  }

  private async fetchFrom (nodeId: number, entries: readonly PartitionEntry[], waitMs: number): Promise<{ response: FetchResponse, requested: Map<string, bigint> } | null> {
    const requested = new Map<string, bigint>(entries.map((e) => [topicPartitionKey(e), e.position!]))
    const topics = [...groupByTopic(entries, (e) => ({ partition: e.partition, fetchOffset: e.position!.toString(), maxBytes: this.options.maxPartitionFetchBytes }))]
      .map(([topic, partitions]) => ({ topic, partitions }))
    try {
      const broker = await this.cluster.findBroker({ nodeId })
      const response = await broker.fetch({
        replicaId: -1,
        isolationLevel: this.options.isolationLevel === 'read_committed' ? READ_COMMITTED : READ_UNCOMMITTED,
        maxWaitTime: waitMs,
        minBytes: 1,
        maxBytes: this.options.fetchMaxBytes,
        topics
      })
      return { response, requested }
    } catch (error) {
      // kafkajs throws for the first partition error of a response; nothing of it is applied
      if (hasKafkaError(error, 'OFFSET_OUT_OF_RANGE')) {
        await this.resetOutOfRange(entries)
        return null
      }
      if (isRetriable(error)) {
        await this.cluster.refreshMetadata().catch(() => undefined)
        return null
      }
      throw error
    }
  }

  /** Out-of-range positions (e.g. records deleted meanwhile) go back to the reset policy, or fail under 'none'. */
  private async resetOutOfRange (entries: readonly PartitionEntry[]): Promise<void> {
    const budget = this.connection.operationTimeoutMs
    const earliest = await listOffsets(this.cluster, 'poll', entries, EARLIEST_TIMESTAMP, 'read_uncommitted', budget)
    const latest = await listOffsets(this.cluster, 'poll', entries, LATEST_TIMESTAMP, 'read_uncommitted', budget)
    for (const e of entries) {
      const key = topicPartitionKey(e)
      if (e.position === null || (e.position >= earliest.get(key)! && e.position <= latest.get(key)!)) continue
      if (this.options.autoOffsetReset === 'none') {
        throw new DevtripError('DEVTRIP_KAFKA', `poll: offset ${String(e.position)} is out of range for ${key} and autoOffsetReset is 'none'`, {
          details: { topic: e.topic, partition: e.partition, kafkaErrors: ['OFFSET_OUT_OF_RANGE'] }
        })
      }
      e.position = null
      e.reset = this.options.autoOffsetReset
    }
  }

  private apply (response: FetchResponse, requested: ReadonlyMap<string, bigint>): PartitionBatch[] {
    const readCommitted = this.options.isolationLevel === 'read_committed'
    const out: PartitionBatch[] = []
    for (const topicResponse of response.responses) {
      const topic = topicResponse.topicName
      for (const p of topicResponse.partitions) {
        const key = topicPartitionKey({ topic, partition: p.partition })
        const entry = this.table.get({ topic, partition: p.partition })
        const fetchOffset = requested.get(key)
        // unassigned or moved by a seek meanwhile: the data is stale
        if (entry === undefined || fetchOffset === undefined || entry.position !== fetchOffset) continue
        noteWatermarks(this.table, topic, p.partition, p.highWatermark, p.lastStableOffset, p.lastStartOffset)
        // paused while in flight: dropped without moving, fetched again after resume
        if (entry.paused) continue
        const { records, nextOffset } = collectRecords(topic, p.partition, p.messages, fetchOffset, p.abortedTransactions, readCommitted)
        entry.position = nextOffset
        if (records.length > 0) {
          out.push({ topic, partition: p.partition, records, highWatermark: entry.highWatermark!, lastStableOffset: entry.lastStableOffset!, logStartOffset: entry.logStartOffset ?? 0n })
        }
      }
    }
    return out
  }
}
