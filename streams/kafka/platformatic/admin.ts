/**
 * KafkaAdmin on @platformatic/kafka's Admin client.
 *
 * Mostly a mapping onto the library's methods. Done differently here:
 *   - createTopics sends one request per topic (topics differ in partition count and configs, and one
 *     topic that already exists must not fail the others) and reports existing topics instead of failing;
 *   - describeGroups uses raw DescribeGroups and decodes assignments with the port's own codec (the library's
 *     decoder reads the user-data field in the compact encoding and fails on the null marker Java clients write);
 *   - group offsets come from raw OffsetFetch with require_stable (group-offsets.ts).
 */
import { DevtripError } from '../../../events/errors'
import { decodeAssignment, decodeSubscription } from '../assignor'
import { assertTopicsExist, groupMemberDescription, offsetsOrLogEnd, sortByGroupId } from '../common/admin-answers'
import { checkGroupId, checkGroupIds, checkIsolationLevel, checkNewTopics, checkTopicNames, listOffsetsTarget } from '../common/admin-arguments'
import { groupByTopic, sortByTopicPartition } from '../common/topic-partitions'
import { userDataFromClientId } from '../member-user-data'
import type { ResolvedConnectionOptions } from '../options'
import type {
  CreateTopicResult, GroupDescription, GroupListing, IsolationLevel, KafkaAdmin, ListOffsetsSpec, NewTopic,
  TopicDescription, TopicPartition, TopicPartitionOffset
} from '../port'
import { topicPartitionKey } from '../port'
import { checkOffsets, checkTopicPartitions } from '../validation'
import { hasKafkaError, isRetriable } from './errors'
import { fetchCommittedOffsets } from './group-offsets'
import { kafka, type Platformatic } from './library'
import { createAdminClient, RawClient } from './raw-client'

export class PlatformaticAdmin implements KafkaAdmin {
  private readonly admin: Platformatic.Admin
  private readonly raw: RawClient

  constructor (connection: ResolvedConnectionOptions) {
    const options = { ...connection, clientId: `${connection.clientId}-admin` }
    this.admin = createAdminClient(options)
    this.raw = new RawClient(this.admin, options)
  }

  async createTopics (topics: readonly NewTopic[]): Promise<CreateTopicResult[]> {
    checkNewTopics(topics)
    this.assertOpen('createTopics')
    return Promise.all(topics.map(async (t): Promise<CreateTopicResult> => {
      try {
        const [created] = await this.raw.withRetry('createTopics', () => this.admin.createTopics({
          topics: [t.name],
          partitions: t.partitions,
          replicas: t.replicationFactor,
          configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value: String(value) }))
        }), { retriable: (e) => !hasKafkaError(e, 'TOPIC_ALREADY_EXISTS') && isRetriable(e) })
        return { name: t.name, created: true, partitions: created?.partitions ?? t.partitions }
      } catch (error) {
        if (!hasKafkaError(error, 'TOPIC_ALREADY_EXISTS')) throw error
        const metadata = await this.raw.withRetry('createTopics', () => this.raw.metadata([t.name], true))
        return { name: t.name, created: false, partitions: metadata.topics.get(t.name)?.partitionsCount ?? 0 }
      }
    }))
  }

  async describeTopics (names: readonly string[]): Promise<TopicDescription[]> {
    checkTopicNames('describeTopics', names)
    this.assertOpen('describeTopics')
    if (names.length === 0) return []
    const unique = [...new Set(names)]
    assertTopicsExist('describeTopics', unique, new Set(await this.listTopics()))
    const metadata = await this.raw.withRetry('describeTopics', () => this.raw.metadata(unique, true))
    const configs = await this.raw.withRetry('describeTopics', () => this.admin.describeConfigs({
      resources: unique.map((name) => ({ resourceType: kafka.ConfigResourceTypes.TOPIC, resourceName: name }))
    }))
    const configsByTopic = new Map(configs.map((c) => [c.resourceName, c.configs]))
    return unique.map((name) => {
      const topic = metadata.topics.get(name)!
      const values: Record<string, string> = {}
      // sensitive values come back as null and are left out
      for (const c of configsByTopic.get(name) ?? []) if (typeof c.value === 'string') values[c.name] = c.value
      return {
        name,
        partitions: topic.partitions.map((p, partition) => ({ partition, leader: p.leader, replicas: [...p.replicas], isr: [...p.isr] })),
        configs: values
      }
    })
  }

  async listTopics (): Promise<string[]> {
    this.assertOpen('listTopics')
    const topics = await this.raw.withRetry('listTopics', () => this.admin.listTopics({ includeInternals: false }))
    return [...topics].sort()
  }

  async deleteTopics (names: readonly string[]): Promise<void> {
    checkTopicNames('deleteTopics', names)
    this.assertOpen('deleteTopics')
    const existing = new Set(await this.listTopics())
    const toDelete = [...new Set(names)].filter((n) => existing.has(n))
    if (toDelete.length === 0) return
    await this.raw.withRetry('deleteTopics', () => this.admin.deleteTopics({ topics: toDelete }), {
      retriable: (e) => !hasKafkaError(e, 'UNKNOWN_TOPIC_OR_PARTITION') && isRetriable(e)
    }).catch((error: unknown) => {
      // deleted by someone else in the meantime: the goal is reached
      if (!hasKafkaError(error, 'UNKNOWN_TOPIC_OR_PARTITION')) throw error
    })
  }

  async listOffsets (partitions: readonly TopicPartition[], spec: ListOffsetsSpec, isolation: IsolationLevel = 'read_committed'): Promise<TopicPartitionOffset[]> {
    checkTopicPartitions('listOffsets', 'partitions', partitions)
    checkIsolationLevel('listOffsets', isolation)
    const target = listOffsetsTarget(spec)
    const timestamp = target === 'earliest' ? kafka.ListOffsetTimestamps.EARLIEST : target === 'latest' ? kafka.ListOffsetTimestamps.LATEST : BigInt(target)
    this.assertOpen('listOffsets')
    if (partitions.length === 0) return []
    const found = await this.list(partitions, timestamp, isolation)
    return offsetsOrLogEnd(partitions, found, (notFound) => this.list(notFound, kafka.ListOffsetTimestamps.LATEST, isolation))
  }

  async listGroupOffsets (groupId: string): Promise<TopicPartitionOffset[]> {
    checkGroupId('listGroupOffsets', groupId)
    this.assertOpen('listGroupOffsets')
    return sortByTopicPartition(await fetchCommittedOffsets(this.raw, 'listGroupOffsets', groupId, null, true))
  }

  async describeGroups (groupIds: readonly string[]): Promise<GroupDescription[]> {
    checkGroupIds('describeGroups', groupIds)
    this.assertOpen('describeGroups')
    const unique = [...new Set(groupIds)]
    const described = await Promise.all(unique.map((groupId) => this.raw.withRetry('describeGroups', async () => {
      const connection = await this.raw.coordinatorConnection('group', groupId)
      const response = await this.raw.request<[string[], boolean], Platformatic.describeGroupsV5.DescribeGroupsResponse>('DescribeGroups', connection, [groupId], false)
      return response.groups[0]!
    }, { coordinator: ['group', groupId] })))
    return described.map((g) => ({
      groupId: g.groupId,
      state: g.groupState,
      protocolType: g.protocolType,
      protocol: g.protocolData,
      members: g.members.map((m) => groupMemberDescription(m,
        g.protocolType === 'consumer' ? decodeAssignment(m.memberAssignment) : [],
        // members of the librdkafka adapter carry it in their client id (member-user-data.ts)
        g.protocolType === 'consumer' ? memberUserData(m.memberMetadata) ?? userDataFromClientId(m.clientId) : null))
    }))
  }

  async listGroups (): Promise<GroupListing[]> {
    this.assertOpen('listGroups')
    const groups = await this.raw.withRetry('listGroups', () => this.admin.listGroups())
    return sortByGroupId([...groups.values()].map((g) => ({ groupId: g.id, state: g.state, protocolType: g.protocolType })))
  }

  async deleteRecords (offsets: readonly TopicPartitionOffset[]): Promise<TopicPartitionOffset[]> {
    checkOffsets('deleteRecords', offsets)
    this.assertOpen('deleteRecords')
    if (offsets.length === 0) return []
    const topics = [...groupByTopic(offsets, (o) => ({ partition: o.partition, offset: o.offset }))].map(([name, partitions]) => ({ name, partitions }))
    const deleted = await this.raw.withRetry('deleteRecords', () => this.admin.deleteRecords({ topics }))
    return sortByTopicPartition(deleted.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partition, offset: p.lowWatermark }))))
  }

  async close (): Promise<void> {
    await this.raw.close()
  }

  private async list (partitions: readonly TopicPartition[], timestamp: bigint, isolation: IsolationLevel): Promise<Map<string, bigint>> {
    const topics = [...groupByTopic(partitions, (tp) => ({ partitionIndex: tp.partition, timestamp }))].map(([name, list]) => ({ name, partitions: list }))
    const listed = await this.raw.withRetry('listOffsets', () => this.admin.listOffsets({
      topics,
      isolationLevel: isolation === 'read_committed' ? kafka.FetchIsolationLevels.READ_COMMITTED : kafka.FetchIsolationLevels.READ_UNCOMMITTED
    }))
    const out = new Map<string, bigint>()
    for (const t of listed) for (const p of t.partitions) out.set(topicPartitionKey({ topic: t.name, partition: p.partitionIndex }), p.offset)
    return out
  }

  private assertOpen (operation: string): void {
    if (this.raw.isClosed) throw new DevtripError('DEVTRIP_CLOSED', `${operation}: the admin client is closed`)
  }
}

/** A member's advertised user data, or null when its subscription is not one we can read (another assignor's). */
function memberUserData (metadata: Buffer | null | undefined): Buffer | null {
  if (metadata === null || metadata === undefined || metadata.length === 0) return null
  try {
    return decodeSubscription(metadata).userData ?? null
  } catch {
    return null
  }
}
