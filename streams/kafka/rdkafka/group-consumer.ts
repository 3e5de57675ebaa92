/**
 * The port's group consumer on librdkafka's high-level consumer, with the eager protocol ('range' assignor).
 *
 * librdkafka runs the membership (JoinGroup, SyncGroup, heartbeats) on its own threads and hands rebalances to
 * the application through its rebalance callback, then waits for the application's assign/unassign before it
 * goes on. The callback only queues the event here; `poll()` carries the queued events out, in order, so the
 * port's listener runs inside `poll()` as promised: revoke → `onPartitionsRevoked` (or `onPartitionsLost` when
 * librdkafka says the assignment was lost) → unassign; assign → `onPartitionsAssigned` (seeks made there decide
 * where fetching starts) → assign. librdkafka exposes neither the generation nor the member id, so both are read
 * from its consumer-group debug log line for the JoinGroup answer.
 */
import { DevtripError } from '../../../events/errors'
import type { ResolvedConnectionOptions, ResolvedGroupConsumerOptions } from '../options'
import { topicPartitionKey, type ConsumerGroupMetadata, type KafkaGroupConsumer, type RebalanceListener, type TopicPartition, type TopicPartitionOffset } from '../port'
import { checkOffsets } from '../validation'
import { groupConsumerConfig, topicConfig } from './config'
import { checkTopicPartitions, newPartState, OFFSET, RdkafkaConsumerBase } from './consumer-base'
import { call, RD, translateError } from './errors'
import { registerGroupConsumer, unregisterGroupConsumer } from './group-registry'
import { rdkafka, type RdConsumer, type RdTopicPartition } from './library'

/** librdkafka 2.x, rdkafka_cgrp.c: "JoinGroup response: GenerationId %d, Protocol %s, LeaderId %s[ (me)], my MemberId %s, member metadata count %d: %s" */
const JOIN_RESPONSE = /JoinGroup response: GenerationId (-?\d+), Protocol .*?, my MemberId (\S+), member metadata count/

interface RebalanceEvent { readonly code: number, readonly partitions: TopicPartition[] }

export class RdkafkaGroupConsumer extends RdkafkaConsumerBase implements KafkaGroupConsumer {
  protected readonly rd: RdConsumer
  private topics: string[] | null = null
  private listener: RebalanceListener = {}
  private subscriptionPending = false
  private readonly events: RebalanceEvent[] = []
  /** a commit was refused for a stale generation, or librdkafka left the group: the next revoke reports the partitions lost */
  private lostMarked = false
  private generationId = -1
  private memberId = ''
  private readonly registration = { groupMetadata: () => this.groupMetadata(), handle: null as unknown as RdConsumer }

  constructor (connection: ResolvedConnectionOptions, private readonly options: ResolvedGroupConsumerOptions) {
    super(connection, options, 'group consumer')
    const onRebalance = (err: { code: number }, assignment: unknown[]): void => this.queueRebalance(err.code, assignment as RdTopicPartition[])
    const config = groupConsumerConfig(connection, options, onRebalance)
    this.rd = new rdkafka.KafkaConsumer(config, topicConfig(config))
    this.rd.on('event.log', (log: { message?: string }) => this.readLog(String(log.message ?? '')))
    this.start()
    this.registration.handle = this.rd
    registerGroupConsumer(this.registration)
  }

  subscribe (topics: readonly string[], listener: RebalanceListener = {}): void {
    this.assertOpen('subscribe')
    if (!Array.isArray(topics) || topics.length === 0 || !topics.every((t) => typeof t === 'string' && t.length > 0)) {
      throw new DevtripError('DEVTRIP_INVALID_OPTIONS', 'subscribe: /topics must be a non-empty array of topic names')
    }
    this.topics = [...new Set(topics)]
    this.listener = listener ?? {}
    this.subscriptionPending = true
  }

  requestRejoin (): void {
    this.assertOpen('requestRejoin')
    // librdkafka has no rejoin call; subscribing again revokes everything and rejoins (eager protocol)
    if (this.topics !== null) this.subscriptionPending = true
  }

  async commitOffsets (offsets: readonly TopicPartitionOffset[]): Promise<void> {
    this.assertOpen('commitOffsets')
    checkOffsets('commitOffsets', offsets)
    if (offsets.length === 0) return
    await this.connected.catch((error: unknown) => { throw translateError(error, 'commitOffsets') })
    try {
      // synchronous in librdkafka: an asynchronous commit reports back only through the poll queue
      this.rd.commitSync(offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: Number(o.offset) })))
    } catch (error) {
      const failure = translateError(error, 'commitOffsets')
      if (failure.code === 'DEVTRIP_TASK_MIGRATED') {
        this.lostMarked = true
        // librdkafka may not have noticed yet: make the next poll rejoin, reporting the partitions lost
        this.subscriptionPending = true
      }
      throw failure
    }
  }

  async committed (partitions: readonly TopicPartition[]): Promise<Array<TopicPartition & { offset: bigint | null }>> {
    this.assertOpen('committed')
    checkTopicPartitions('committed', 'partitions', partitions)
    if (partitions.length === 0) return []
    await this.connected.catch((error: unknown) => { throw translateError(error, 'committed') })
    const list = partitions.map((tp) => ({ topic: tp.topic, partition: tp.partition }))
    // librdkafka asks with require_stable under read_committed, so offsets of an open transaction are waited for
    const result = await call<RdTopicPartition[]>('committed', (cb) => this.rd.committed(list, this.connection.requestTimeoutMs, cb))
    return partitions.map((tp) => {
      const found = result.find((r) => r.topic === tp.topic && r.partition === tp.partition)
      const offset = found?.offset ?? -1
      return { topic: tp.topic, partition: tp.partition, offset: offset >= 0 ? BigInt(offset) : null }
    })
  }

  groupMetadata (): ConsumerGroupMetadata {
    return { groupId: this.options.groupId, generationId: this.generationId, memberId: this.memberId, groupInstanceId: this.options.groupInstanceId }
  }

  protected async beforeFetch (): Promise<void> {
    if (this.topics === null) throw new DevtripError('DEVTRIP_INVALID_OPTIONS', 'poll: subscribe first')
    if (this.subscriptionPending) {
      this.subscriptionPending = false
      this.rd.subscribe(this.topics)
    }
    await this.runRebalances()
  }

  protected ignorable (code: number | null): boolean {
    if (code === RD.MAX_POLL_EXCEEDED) {
      // librdkafka left the group because poll() came too late: the partitions are lost, the next poll rejoins
      this.lostMarked = true
      return true
    }
    // a subscribed topic that does not exist is left unassigned (the port's rule), and librdkafka keeps retrying
    // the network on its own
    return code === RD.UNKNOWN_TOPIC || code === RD.UNKNOWN_TOPIC_OR_PART || code === RD.UNKNOWN_PARTITION ||
      code === RD.TRANSPORT || code === RD.ALL_BROKERS_DOWN || code === RD.TIMED_OUT
  }

  protected override async beforeDisconnect (): Promise<void> {
    unregisterGroupConsumer(this.registration)
    // the caller's last chance to commit what it owns; librdkafka's own revoke during close only unassigns
    const owned = this.assignment()
    if (owned.length > 0) await this.callListener(this.lostNow() ? 'lost' : 'revoked', owned).catch(() => undefined)
    this.parts.clear()
    this.events.length = 0
  }

  private queueRebalance (code: number, assignment: RdTopicPartition[]): void {
    if (this.closed) {
      // closing: librdkafka waits for this before it leaves the group; nothing is left to tell the caller
      try { this.rd.unassign() } catch { /* already gone */ }
      return
    }
    this.events.push({ code, partitions: (assignment ?? []).map((tp) => ({ topic: tp.topic, partition: tp.partition })) })
  }

  private async runRebalances (): Promise<void> {
    while (this.events.length > 0) {
      const event = this.events.shift()!
      if (event.code === RD.ASSIGN_PARTITIONS) await this.onAssigned(event.partitions)
      else await this.revoked(event.code)
    }
  }

  private async revoked (code: number): Promise<void> {
    const owned = this.assignment()
    const lost = code !== RD.REVOKE_PARTITIONS || this.lostMarked || this.lostNow()
    this.lostMarked = false
    let failure: unknown = null
    if (owned.length > 0) await this.callListener(lost ? 'lost' : 'revoked', owned).catch((error: unknown) => { failure = error })
    this.rd.unassign()
    this.parts.clear()
    this.pendingSeeks.clear()
    if (failure !== null) throw failure
  }

  private async onAssigned (partitions: TopicPartition[]): Promise<void> {
    this.parts.clear()
    this.pendingSeeks.clear()
    for (const tp of partitions) this.parts.set(topicPartitionKey(tp), newPartState(tp))
    let failure: unknown = null
    await this.callListener('assigned', this.assignment()).catch((error: unknown) => { failure = error })
    // seeks made in the callback decide where fetching starts; elsewhere the group's committed offset
    const list = [...this.parts.values()].map((p) => ({ topic: p.topic, partition: p.partition, offset: this.startOffset(p, OFFSET.INVALID) }))
    this.rd.assign(list)
    for (const p of this.parts.values()) p.fetching = true
    this.repause()
    if (failure !== null) throw failure
  }

  private async callListener (kind: 'revoked' | 'lost' | 'assigned', partitions: TopicPartition[]): Promise<void> {
    const l = this.listener
    if (kind === 'assigned') await l.onPartitionsAssigned?.(partitions)
    else if (kind === 'lost') await (l.onPartitionsLost ?? l.onPartitionsRevoked)?.call(l, partitions)
    else await l.onPartitionsRevoked?.(partitions)
  }

  private lostNow (): boolean {
    try {
      return this.rd.assignmentLost()
    } catch {
      return false
    }
  }

  private readLog (message: string): void {
    const m = JOIN_RESPONSE.exec(message)
    if (m === null) return
    const generation = Number(m[1])
    if (generation < 0 || m[2] === undefined || m[2] === '') return
    this.generationId = generation
    this.memberId = m[2]
  }
}
