/**
 * The port's admin client on the binding's AdminClient (librdkafka's Admin API), plus what it lacks:
 *  - topic configs: the binding has no DescribeConfigs, so describeTopics reads them through the
 *    @platformatic/kafka adapter's admin (a regular dependency; opened on first use, closed with this one);
 *  - member user data: librdkafka cannot put it in the subscription, so rdkafka members carry it in their client
 *    id (member-user-data.ts), and describeGroups reads it from there.
 */
import { DevtripError } from '../../../events/errors'
import { groupMemberDescription, sortByGroupId } from '../common/admin-answers'
import { checkGroupId, checkGroupIds, checkIsolationLevel, checkNewTopicSizes, checkTopicNames, invalidArgument } from '../common/admin-arguments'
import { sortByTopicPartition } from '../common/topic-partitions'
import type { ResolvedConnectionOptions } from '../options'
import { userDataFromClientId } from '../member-user-data'
import { adapter as platformatic } from '../platformatic'
import {
  topicPartitionKey, type CreateTopicResult, type GroupDescription, type GroupListing, type IsolationLevel, type KafkaAdmin,
  type ListOffsetsSpec, type NewTopic, type TopicDescription, type TopicPartition, type TopicPartitionOffset
} from '../port'
import { checkOffsets, checkTopicPartitions } from '../validation'
import { call, closedError, RD, rdCode, translateError } from './errors'
import { rdkafka, type RdAdmin, type RdTopicDescription } from './library'

/** the binding's ConsumerGroupStates, as the broker names them */
const GROUP_STATES = ['Unknown', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead', 'Empty']

function unknownTopics (operation: string, topics: string[]): DevtripError {
  return new DevtripError('DEVTRIP_UNKNOWN_TOPIC', `${operation}: ${topics.map((t) => `"${t}"`).join(', ')} ${topics.length === 1 ? 'does' : 'do'} not exist`, {
    details: { topics, topic: topics[0], hint: 'create them first: bin/devtrip-streams topics apply' }
  })
}

export class RdkafkaAdmin implements KafkaAdmin {
  private readonly rd: RdAdmin
  private configReader: KafkaAdmin | null = null
  private closed = false

  constructor (private readonly connection: ResolvedConnectionOptions) {
    this.rd = rdkafka.AdminClient.create({
      'bootstrap.servers': connection.brokers.join(','),
      'client.id': `${connection.clientId}-admin`,
      'socket.timeout.ms': connection.requestTimeoutMs,
      'socket.connection.setup.timeout.ms': connection.connectTimeoutMs,
      'log.connection.close': false
    })
  }

  private get timeout (): number {
    return this.connection.requestTimeoutMs
  }

  async createTopics (topics: readonly NewTopic[]): Promise<CreateTopicResult[]> {
    this.assertOpen('createTopics')
    if (!Array.isArray(topics)) throw invalidArgument('createTopics', '/topics must be an array')
    topics.forEach((t, i) => {
      if (t === null || typeof t !== 'object' || typeof t.name !== 'string' || t.name === '') throw invalidArgument('createTopics', `/topics/${i}/name must be a topic name`)
      checkNewTopicSizes(t, i)
    })
    const results: CreateTopicResult[] = []
    for (const t of topics) {
      const spec = { topic: t.name, num_partitions: t.partitions, replication_factor: t.replicationFactor, ...(t.configs === undefined ? {} : { config: { ...t.configs } }) }
      try {
        await call('createTopics', (cb) => this.rd.createTopic(spec, this.timeout, cb))
        results.push({ name: t.name, created: true, partitions: t.partitions })
      } catch (error) {
        if (rdCode((error as DevtripError).cause) !== RD.TOPIC_ALREADY_EXISTS) throw error
        const [existing] = await this.describeExisting(t.name)
        results.push({ name: t.name, created: false, partitions: existing!.partitions.length })
      }
    }
    return results
  }

  async describeTopics (names: readonly string[]): Promise<TopicDescription[]> {
    this.assertOpen('describeTopics')
    checkTopicNames('describeTopics', names)
    if (names.length === 0) return []
    const unique = [...new Set(names)]
    const described = await this.describe('describeTopics', unique)
    this.configReader ??= platformatic.createAdmin(this.connection)
    const configs = await this.configReader.describeTopics(unique)
    return described.map((d, i) => ({
      name: d.name,
      partitions: d.partitions.map((p) => ({ partition: p.partition, leader: p.leader?.id ?? -1, replicas: p.replicas.map((r) => r.id), isr: p.isr.map((r) => r.id) })),
      configs: configs[i]!.configs
    }))
  }

  /**
   * A topic the controller says exists, created a moment ago by another client, may still be unknown to the broker
   * that answers DescribeTopics (the metadata log reaches it a moment later): ask again until the timeout.
   */
  private async describeExisting (name: string): Promise<RdTopicDescription[]> {
    const deadline = Date.now() + this.timeout
    for (;;) {
      try {
        return await this.describe('createTopics', [name])
      } catch (error) {
        if ((error as DevtripError).code !== 'DEVTRIP_UNKNOWN_TOPIC' || Date.now() >= deadline) throw error
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    }
  }

  /** The binding's DescribeTopics, with every missing topic named in one DEVTRIP_UNKNOWN_TOPIC. */
  private async describe (operation: string, names: string[]): Promise<RdTopicDescription[]> {
    let described: RdTopicDescription[]
    try {
      described = await call<RdTopicDescription[]>(operation, (cb) => this.rd.describeTopics(names, { timeout: this.timeout }, cb))
    } catch (error) {
      if ((error as DevtripError).code === 'DEVTRIP_UNKNOWN_TOPIC') throw unknownTopics(operation, names)
      throw error
    }
    const missing = described.filter((d) => d.error !== undefined && d.error !== null).map((d) => d.name)
    if (missing.length > 0) throw unknownTopics(operation, missing)
    return names.map((n) => described.find((d) => d.name === n)!)
  }

  async listTopics (): Promise<string[]> {
    this.assertOpen('listTopics')
    const topics = await call<string[]>('listTopics', (cb) => this.rd.listTopics({ timeout: this.timeout }, cb))
    // internal topics (__consumer_offsets, __transaction_state, ...) start with two underscores
    return topics.filter((t) => !t.startsWith('__')).sort()
  }

  async deleteTopics (names: readonly string[]): Promise<void> {
    this.assertOpen('deleteTopics')
    checkTopicNames('deleteTopics', names)
    for (const name of new Set(names)) {
      await call('deleteTopics', (cb) => this.rd.deleteTopic(name, this.timeout, cb)).catch((error: DevtripError) => {
        if (error.code !== 'DEVTRIP_UNKNOWN_TOPIC') throw error
      })
    }
  }

  async listOffsets (partitions: readonly TopicPartition[], spec: ListOffsetsSpec, isolation: IsolationLevel = 'read_committed'): Promise<TopicPartitionOffset[]> {
    this.assertOpen('listOffsets')
    checkTopicPartitions('listOffsets', 'partitions', partitions)
    if (spec !== 'earliest' && spec !== 'latest' && !(spec !== null && typeof spec === 'object' && Number.isSafeInteger(spec.timestamp))) {
      throw invalidArgument('listOffsets', "/spec must be 'earliest', 'latest' or { timestamp }")
    }
    checkIsolationLevel('listOffsets', isolation)
    if (partitions.length === 0) return []
    const offsetSpec = spec === 'earliest' ? rdkafka.OffsetSpec.EARLIEST : spec === 'latest' ? rdkafka.OffsetSpec.LATEST : new rdkafka.OffsetSpec(spec.timestamp)
    const found = await this.offsets(partitions, offsetSpec, isolation)
    if (typeof spec === 'object') {
      // no record at or after the timestamp: the log end offset, where such a record would go
      const past = partitions.filter((tp) => found.get(topicPartitionKey(tp))! < 0)
      if (past.length > 0) for (const [key, offset] of await this.offsets(past, rdkafka.OffsetSpec.LATEST, 'read_uncommitted')) found.set(key, offset)
    }
    return partitions.map((tp) => ({ topic: tp.topic, partition: tp.partition, offset: BigInt(found.get(topicPartitionKey(tp))!) }))
  }

  private async offsets (partitions: readonly TopicPartition[], offset: unknown, isolation: IsolationLevel): Promise<Map<string, number>> {
    const level = isolation === 'read_committed' ? rdkafka.IsolationLevel.READ_COMMITTED : rdkafka.IsolationLevel.READ_UNCOMMITTED
    const request = partitions.map((tp) => ({ topic: tp.topic, partition: tp.partition, offset }))
    let results: Array<{ topic: string, partition: number, offset: number, error?: unknown }>
    try {
      results = await call('listOffsets', (cb) => this.rd.listOffsets(request, { timeout: this.timeout, isolationLevel: level }, cb))
    } catch (error) {
      // librdkafka answers an unknown topic's partitions with "Local: No such entry" before asking a broker
      if ((error as DevtripError).code === 'DEVTRIP_UNKNOWN_TOPIC' || rdCode((error as DevtripError).cause) === RD.NOENT) {
        throw unknownTopics('listOffsets', [...new Set(partitions.map((tp) => tp.topic))])
      }
      throw error
    }
    const failed = results.find((r) => r.error !== undefined && r.error !== null)
    if (failed !== undefined) {
      const error = translateError(failed.error, 'listOffsets')
      if (error.code === 'DEVTRIP_UNKNOWN_TOPIC') throw unknownTopics('listOffsets', [failed.topic])
      throw error
    }
    return new Map(results.map((r) => [topicPartitionKey(r), r.offset]))
  }

  async listGroupOffsets (groupId: string): Promise<TopicPartitionOffset[]> {
    this.assertOpen('listGroupOffsets')
    checkGroupId('listGroupOffsets', groupId)
    const [result] = await call<Array<{ groupId: string, error?: unknown, partitions: Array<{ topic: string, partition: number, offset?: number }> }>>('listGroupOffsets',
      (cb) => this.rd.listConsumerGroupOffsets([{ groupId }], { timeout: this.timeout, requireStableOffsets: true }, cb))
    if (result?.error !== undefined && result.error !== null) {
      if (rdCode(result.error) === RD.GROUP_ID_NOT_FOUND) return []
      throw translateError(result.error, 'listGroupOffsets')
    }
    return sortByTopicPartition((result?.partitions ?? [])
      .filter((p) => typeof p.offset === 'number' && p.offset >= 0)
      .map((p) => ({ topic: p.topic, partition: p.partition, offset: BigInt(p.offset!) })))
  }

  async describeGroups (groupIds: readonly string[]): Promise<GroupDescription[]> {
    this.assertOpen('describeGroups')
    checkGroupIds('describeGroups', groupIds)
    if (groupIds.length === 0) return []
    const { groups } = await call<{ groups: Array<import('./library').RdGroupDescription> }>('describeGroups', (cb) => this.rd.describeGroups([...groupIds], { timeout: this.timeout }, cb))
    return groupIds.map((groupId) => {
      const g = groups.find((x) => x.groupId === groupId)
      if (g === undefined || (g.error !== undefined && g.error !== null && rdCode(g.error) === RD.GROUP_ID_NOT_FOUND)) {
        return { groupId, state: 'Dead', protocolType: '', protocol: '', members: [] }
      }
      if (g.error !== undefined && g.error !== null) throw translateError(g.error, 'describeGroups')
      return {
        groupId,
        state: GROUP_STATES[g.state] ?? 'Unknown',
        protocolType: g.protocolType,
        protocol: g.protocol,
        members: g.members.map((m) => groupMemberDescription(m,
          (m.assignment?.topicPartitions ?? []).map((tp) => ({ topic: tp.topic, partition: tp.partition })),
          g.protocolType === 'consumer' ? userDataFromClientId(m.clientId) : null))
      }
    })
  }

  async listGroups (): Promise<GroupListing[]> {
    this.assertOpen('listGroups')
    const { groups } = await call<{ groups: Array<{ groupId: string, protocolType: string, state: number }> }>('listGroups', (cb) => this.rd.listGroups({ timeout: this.timeout }, cb))
    return sortByGroupId(groups.map((g) => ({ groupId: g.groupId, state: GROUP_STATES[g.state] ?? 'Unknown', protocolType: g.protocolType })))
  }

  async deleteRecords (offsets: readonly TopicPartitionOffset[]): Promise<TopicPartitionOffset[]> {
    this.assertOpen('deleteRecords')
    checkOffsets('deleteRecords', offsets)
    if (offsets.length === 0) return []
    const request = offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: Number(o.offset) }))
    const results = await call<Array<{ topic: string, partition: number, lowWatermark: number, error?: unknown }>>('deleteRecords',
      (cb) => this.rd.deleteRecords(request, { timeout: this.timeout, operationTimeout: this.connection.operationTimeoutMs }, cb))
    const failed = results.find((r) => r.error !== undefined && r.error !== null)
    if (failed !== undefined) throw translateError(failed.error, 'deleteRecords')
    return offsets.map((o) => {
      const r = results.find((x) => x.topic === o.topic && x.partition === o.partition)!
      return { topic: o.topic, partition: o.partition, offset: BigInt(r.lowWatermark) }
    })
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.configReader?.close().catch(() => undefined)
    this.rd.disconnect()
  }

  private assertOpen (operation: string): void {
    if (this.closed) throw closedError(operation, 'admin client')
  }
}
