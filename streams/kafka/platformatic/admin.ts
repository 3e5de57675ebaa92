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

function invalid (operation: string, problem: string): DevtripError {
  return new DevtripError('DEVTRIP_INVALID_OPTIONS', `${operation}: ${problem}`)
}

function checkNames (operation: string, names: readonly string[]): void {
  if (!Array.isArray(names) || !names.every((n) => typeof n === 'string' && n.length > 0)) throw invalid(operation, '/names must be an array of topic names')
}

function byTopic<T extends TopicPartition, P> (items: readonly T[], map: (item: T) => P): Map<string, P[]> {
  const out = new Map<string, P[]>()
  for (const item of items) {
    const list = out.get(item.topic) ?? []
    list.push(map(item))
    out.set(item.topic, list)
  }
  return out
}

function sortOffsets (offsets: TopicPartitionOffset[]): TopicPartitionOffset[] {
  return offsets.sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1))
}

export class PlatformaticAdmin implements KafkaAdmin {
  private readonly admin: Platformatic.Admin
  private readonly raw: RawClient

  constructor (connection: ResolvedConnectionOptions) {
    const options = { ...connection, clientId: `${connection.clientId}-admin` }
    this.admin = createAdminClient(options)
    this.raw = new RawClient(this.admin, options)
  }

  async createTopics (topics: readonly NewTopic[]): Promise<CreateTopicResult[]> {
    if (!Array.isArray(topics)) throw invalid('createTopics', '/topics must be an array')
    topics.forEach((t, i) => {
      if (t === null || typeof t !== 'object' || typeof t.name !== 'string' || !/^[A-Za-z0-9._-]{1,249}$/.test(t.name)) {
        throw invalid('createTopics', `/topics/${i}/name must be a legal topic name (letters, digits, . _ -; at most 249)`)
      }
      if (!Number.isInteger(t.partitions) || t.partitions < 1) throw invalid('createTopics', `/topics/${i}/partitions must be an integer >= 1`)
      if (!Number.isInteger(t.replicationFactor) || t.replicationFactor < 1) throw invalid('createTopics', `/topics/${i}/replicationFactor must be an integer >= 1`)
      for (const [k, v] of Object.entries(t.configs ?? {})) {
        if (typeof v !== 'string') throw invalid('createTopics', `/topics/${i}/configs/${k} must be a string`)
      }
    })
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
    checkNames('describeTopics', names)
    this.assertOpen('describeTopics')
    if (names.length === 0) return []
    const unique = [...new Set(names)]
    const existing = new Set(await this.listTopics())
    const missing = unique.filter((n) => !existing.has(n))
    if (missing.length > 0) {
      throw new DevtripError('DEVTRIP_UNKNOWN_TOPIC', `describeTopics: ${missing.map((m) => `"${m}"`).join(', ')} ${missing.length === 1 ? 'does' : 'do'} not exist`, {
        details: { topics: missing, hint: 'create them first: bin/devtrip-streams topics apply' }
      })
    }
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
    checkNames('deleteTopics', names)
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
    if (isolation !== 'read_committed' && isolation !== 'read_uncommitted') throw invalid('listOffsets', "/isolation must be 'read_committed' or 'read_uncommitted'")
    let timestamp: bigint
    if (spec === 'earliest') timestamp = kafka.ListOffsetTimestamps.EARLIEST
    else if (spec === 'latest') timestamp = kafka.ListOffsetTimestamps.LATEST
    else if (spec !== null && typeof spec === 'object' && Number.isSafeInteger(spec.timestamp) && spec.timestamp >= 0) timestamp = BigInt(spec.timestamp)
    else throw invalid('listOffsets', "/spec must be 'earliest', 'latest' or { timestamp: ms >= 0 }")
    this.assertOpen('listOffsets')
    if (partitions.length === 0) return []
    const found = await this.list(partitions, timestamp, isolation)
    // no record at or after the timestamp: answer the end of the log, where such a record would be written
    const notFound = partitions.filter((tp) => (found.get(topicPartitionKey(tp)) ?? -1n) < 0n)
    if (notFound.length > 0) {
      for (const [key, offset] of await this.list(notFound, kafka.ListOffsetTimestamps.LATEST, isolation)) found.set(key, offset)
    }
    return partitions.map((tp) => ({ topic: tp.topic, partition: tp.partition, offset: found.get(topicPartitionKey(tp))! }))
  }

  async listGroupOffsets (groupId: string): Promise<TopicPartitionOffset[]> {
    if (typeof groupId !== 'string' || groupId === '') throw invalid('listGroupOffsets', '/groupId must be a non-empty string')
    this.assertOpen('listGroupOffsets')
    return sortOffsets(await fetchCommittedOffsets(this.raw, 'listGroupOffsets', groupId, null, true))
  }

  async describeGroups (groupIds: readonly string[]): Promise<GroupDescription[]> {
    if (!Array.isArray(groupIds) || !groupIds.every((g) => typeof g === 'string' && g.length > 0)) throw invalid('describeGroups', '/groupIds must be an array of group ids')
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
      members: g.members.map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId ?? null,
        clientId: m.clientId,
        clientHost: m.clientHost,
        assignment: g.protocolType === 'consumer' ? decodeAssignment(m.memberAssignment) : [],
        // members of the librdkafka adapter carry it in their client id (member-user-data.ts)
        userData: g.protocolType === 'consumer' ? memberUserData(m.memberMetadata) ?? userDataFromClientId(m.clientId) : null
      }))
    }))
  }

  async listGroups (): Promise<GroupListing[]> {
    this.assertOpen('listGroups')
    const groups = await this.raw.withRetry('listGroups', () => this.admin.listGroups())
    return [...groups.values()]
      .map((g) => ({ groupId: g.id, state: g.state, protocolType: g.protocolType }))
      .sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0))
  }

  async deleteRecords (offsets: readonly TopicPartitionOffset[]): Promise<TopicPartitionOffset[]> {
    checkOffsets('deleteRecords', offsets)
    this.assertOpen('deleteRecords')
    if (offsets.length === 0) return []
    const topics = [...byTopic(offsets, (o) => ({ partition: o.partition, offset: o.offset }))].map(([name, partitions]) => ({ name, partitions }))
    const deleted = await this.raw.withRetry('deleteRecords', () => this.admin.deleteRecords({ topics }))
    return sortOffsets(deleted.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partition, offset: p.lowWatermark }))))
  }

  async close (): Promise<void> {
    await this.raw.close()
  }

  private async list (partitions: readonly TopicPartition[], timestamp: bigint, isolation: IsolationLevel): Promise<Map<string, bigint>> {
    const topics = [...byTopic(partitions, (tp) => ({ partitionIndex: tp.partition, timestamp }))].map(([name, list]) => ({ name, partitions: list }))
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
