/**
 * KafkaAdmin on kafkajs's admin client, plus its internal Cluster for what the admin lacks: ListOffsets with an
 * isolation level, the internal-topic flag of Metadata. Done differently from kafkajs's defaults:
 *   - createTopics sends one request per topic (one that exists must not fail the others) and reports existing
 *     topics with their real partition count;
 *   - listGroups answers states through DescribeGroups (kafkajs's ListGroups is v0–v2, which carries none);
 *   - describeGroups decodes assignments and user data with the port's codec.
 */
import { DevtripError } from '../../../events/errors'
import { decodeAssignment, decodeSubscription } from '../assignor'
import { assertTopicsExist, groupMemberDescription, offsetsOrLogEnd, sortByGroupId } from '../common/admin-answers'
import { checkGroupId, checkGroupIds, checkIsolationLevel, checkNewTopics, checkTopicNames, listOffsetsTarget } from '../common/admin-arguments'
import { groupByTopic, sortByTopicPartition } from '../common/topic-partitions'
import type { ResolvedConnectionOptions } from '../options'
import type {
  CreateTopicResult, GroupDescription, GroupListing, IsolationLevel, KafkaAdmin, ListOffsetsSpec, NewTopic, TopicDescription, TopicPartition, TopicPartitionOffset
} from '../port'
import { topicPartitionKey } from '../port'
import { checkOffsets, checkTopicPartitions } from '../validation'
import { hasKafkaError, rethrowAs } from './errors'
import { createClient, createCluster, EARLIEST_TIMESTAMP, kafkajs, LATEST_TIMESTAMP, READ_COMMITTED, type InternalCluster, type KafkaJS } from './library'
import { listOffsets, withRetry } from './offsets'

export class KafkajsAdmin implements KafkaAdmin {
  private readonly lib: KafkaJS.Admin
  private readonly cluster: InternalCluster
  private connected: Promise<void> | null = null
  private closed = false
  private readonly budget: number

  constructor (connection: ResolvedConnectionOptions) {
    const client = createClient(connection, `${connection.clientId}-admin`)
    this.lib = client.admin()
    this.cluster = createCluster(client, READ_COMMITTED)
    this.budget = connection.operationTimeoutMs
  }

  async createTopics (topics: readonly NewTopic[]): Promise<CreateTopicResult[]> {
    checkNewTopics(topics)
    await this.open('createTopics')
    return Promise.all(topics.map(async (t): Promise<CreateTopicResult> => {
      let created: boolean
      try {
        created = await this.lib.createTopics({
          // the port's entry point waits until new topics are listed with leaders (visible-topics.ts); kafkajs's own wait
          // retries LEADER_NOT_AVAILABLE only and fails on the UNKNOWN_TOPIC_OR_PARTITION a KRaft broker answers meanwhile
          waitForLeaders: false,
          topics: [{ topic: t.name, numPartitions: t.partitions, replicationFactor: t.replicationFactor, configEntries: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value: String(value) })) }]
        })
      } catch (error) {
        if (!hasKafkaError(error, 'TOPIC_ALREADY_EXISTS')) throw rethrowAs('createTopics')(error)
        created = false
      }
      if (created) return { name: t.name, created: true, partitions: t.partitions }
      // created a moment ago by another client, the topic may not have reached this broker's metadata yet: its
      // UNKNOWN_TOPIC_OR_PARTITION is retriable here (two instances starting together create the same internal topics)
      const metadata = await withRetry(this.cluster, 'createTopics', this.budget, async () => this.lib.fetchTopicMetadata({ topics: [t.name] }))
      return { name: t.name, created: false, partitions: metadata.topics[0]?.partitions.length ?? 0 }
    }))
  }

  async describeTopics (names: readonly string[]): Promise<TopicDescription[]> {
    checkTopicNames('describeTopics', names)
    await this.open('describeTopics')
    if (names.length === 0) return []
    const unique = [...new Set(names)]
    assertTopicsExist('describeTopics', unique, new Set(await this.listTopics()))
    const metadata = await this.lib.fetchTopicMetadata({ topics: unique }).catch(rethrowAs('describeTopics'))
    const configs = await this.lib.describeConfigs({
      includeSynonyms: false,
      resources: unique.map((name) => ({ type: kafkajs.ConfigResourceTypes.TOPIC, name }))
    }).catch(rethrowAs('describeTopics'))
    const configsByTopic = new Map(configs.resources.map((r) => [r.resourceName, r.configEntries]))
    const byName = new Map(metadata.topics.map((t) => [t.name, t]))
    return unique.map((name) => {
      const values: Record<string, string> = {}
      // sensitive values come back as null and are left out
      for (const c of configsByTopic.get(name) ?? []) if (typeof c.configValue === 'string' && !c.isSensitive) values[c.configName] = c.configValue
      const partitions = [...(byName.get(name)?.partitions ?? [])].sort((a, b) => a.partitionId - b.partitionId)
      return {
        name,
        partitions: partitions.map((p) => ({ partition: p.partitionId, leader: p.leader, replicas: [...p.replicas], isr: [...p.isr] })),
        configs: values
      }
    })
  }

  async listTopics (): Promise<string[]> {
    await this.open('listTopics')
    const metadata = await withRetry(this.cluster, 'listTopics', this.budget, () => this.cluster.metadata({ topics: [] }))
    return metadata.topicMetadata.filter((t) => !(t as { isInternal?: boolean }).isInternal && !t.topic.startsWith('__')).map((t) => t.topic).sort()
  }

  async deleteTopics (names: readonly string[]): Promise<void> {
    checkTopicNames('deleteTopics', names)
    await this.open('deleteTopics')
    const existing = new Set(await this.listTopics())
    const toDelete = [...new Set(names)].filter((n) => existing.has(n))
    if (toDelete.length === 0) return
    await this.lib.deleteTopics({ topics: toDelete }).catch((error: unknown) => {
      // deleted by someone else meanwhile: the goal is reached
      if (!hasKafkaError(error, 'UNKNOWN_TOPIC_OR_PARTITION')) throw rethrowAs('deleteTopics')(error)
    })
  }

  async listOffsets (partitions: readonly TopicPartition[], spec: ListOffsetsSpec, isolation: IsolationLevel = 'read_committed'): Promise<TopicPartitionOffset[]> {
    checkTopicPartitions('listOffsets', 'partitions', partitions)
    checkIsolationLevel('listOffsets', isolation)
    const target = listOffsetsTarget(spec)
    const timestamp = target === 'earliest' ? EARLIEST_TIMESTAMP : target === 'latest' ? LATEST_TIMESTAMP : String(target)
    await this.open('listOffsets')
    if (partitions.length === 0) return []
    const found = await listOffsets(this.cluster, 'listOffsets', partitions, timestamp, isolation, this.budget)
    return offsetsOrLogEnd(partitions, found, (notFound) => listOffsets(this.cluster, 'listOffsets', notFound, LATEST_TIMESTAMP, isolation, this.budget))
  }

  async listGroupOffsets (groupId: string): Promise<TopicPartitionOffset[]> {
    checkGroupId('listGroupOffsets', groupId)
    await this.open('listGroupOffsets')
    const topics = await this.lib.fetchOffsets({ groupId }).catch(rethrowAs('listGroupOffsets'))
    const out: TopicPartitionOffset[] = []
    for (const t of topics) for (const p of t.partitions) if (BigInt(p.offset) >= 0n) out.push({ topic: t.topic, partition: p.partition, offset: BigInt(p.offset) })
    return sortByTopicPartition(out)
  }

  async describeGroups (groupIds: readonly string[]): Promise<GroupDescription[]> {
    checkGroupIds('describeGroups', groupIds)
    await this.open('describeGroups')
    const unique = [...new Set(groupIds)]
    if (unique.length === 0) return []
    const { groups } = await this.lib.describeGroups(unique).catch(rethrowAs('describeGroups'))
    const byId = new Map(groups.map((g) => [g.groupId, g]))
    return unique.map((id) => {
      const g = byId.get(id)!
      const consumer = g.protocolType === 'consumer'
      return {
        groupId: g.groupId,
        state: g.state,
        protocolType: g.protocolType,
        protocol: g.protocol,
        // kafkajs has no static membership: no group instance ids
        members: g.members.map((m) => groupMemberDescription({ ...m, groupInstanceId: null },
          consumer ? safely(() => decodeAssignment(m.memberAssignment), []) : [],
          consumer ? safely(() => decodeSubscription(m.memberMetadata).userData ?? null, null) : null))
      }
    })
  }

  async listGroups (): Promise<GroupListing[]> {
    await this.open('listGroups')
    const { groups } = await this.lib.listGroups().catch(rethrowAs('listGroups'))
    if (groups.length === 0) return []
    const described = await this.lib.describeGroups(groups.map((g) => g.groupId)).catch(rethrowAs('listGroups'))
    const states = new Map(described.groups.map((g) => [g.groupId, g.state]))
    return sortByGroupId(groups.map((g) => ({ groupId: g.groupId, state: states.get(g.groupId) ?? 'Unknown', protocolType: g.protocolType })))
  }

  async deleteRecords (offsets: readonly TopicPartitionOffset[]): Promise<TopicPartitionOffset[]> {
    checkOffsets('deleteRecords', offsets)
    await this.open('deleteRecords')
    if (offsets.length === 0) return []
    for (const [topic, partitions] of groupByTopic(offsets, (o) => ({ partition: o.partition, offset: o.offset.toString() }))) {
      await this.lib.deleteTopicRecords({ topic, partitions }).catch(rethrowAs('deleteRecords'))
    }
    // kafkajs does not return the new low watermarks: read them back
    const starts = await listOffsets(this.cluster, 'deleteRecords', offsets, EARLIEST_TIMESTAMP, 'read_uncommitted', this.budget)
    return sortByTopicPartition(offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: starts.get(topicPartitionKey(o))! })))
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    await Promise.all([this.lib.disconnect(), this.cluster.disconnect()]).catch(rethrowAs('close'))
  }

  private async open (operation: string): Promise<void> {
    if (this.closed) throw new DevtripError('DEVTRIP_CLOSED', `${operation}: the admin client is closed`)
    this.connected ??= Promise.all([this.lib.connect(), this.cluster.connect()]).then(() => undefined, (error: unknown) => {
      this.connected = null
      throw error
    })
    await this.connected.catch(rethrowAs(operation))
  }
}

function safely<T> (work: () => T, fallback: T): T {
  try {
    return work()
  } catch {
    return fallback
  }
}
