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
import { groupByTopic } from '../common/topic-partitions'
import type { ResolvedConnectionOptions } from '../options'
import type {
  CreateTopicResult, GroupDescription, GroupListing, IsolationLevel, KafkaAdmin, ListOffsetsSpec, NewTopic, TopicDescription, TopicPartition, TopicPartitionOffset
} from '../port'
import { topicPartitionKey } from '../port'
import { checkOffsets, checkTopicPartitions } from '../validation'
import { hasKafkaError, rethrowAs } from './errors'
import { createClient, createCluster, EARLIEST_TIMESTAMP, kafkajs, LATEST_TIMESTAMP, READ_COMMITTED, type InternalCluster, type KafkaJS } from './library'
import { listOffsets, withRetry } from './offsets'

function invalid (operation: string, problem: string): DevtripError {
  return new DevtripError('DEVTRIP_INVALID_OPTIONS', `${operation}: ${problem}`)
}

function checkNames (operation: string, names: readonly string[]): void {
  if (!Array.isArray(names) || !names.every((n) => typeof n === 'string' && n.length > 0)) throw invalid(operation, '/names must be an array of topic names')
}

function sortOffsets (offsets: TopicPartitionOffset[]): TopicPartitionOffset[] {
  return offsets.sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1))
}

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
    if (!Array.isArray(topics)) throw invalid('createTopics', '/topics must be an array')
    topics.forEach((t, i) => {
      if (t === null || typeof t !== 'object' || typeof t.name !== 'string' || !/^[A-Za-z0-9._-]{1,249}$/.test(t.name)) {
        throw invalid('createTopics', `/topics/${i}/name must be a legal topic name (letters, digits, . _ -; at most 249)`)
      }
      if (!Number.isInteger(t.partitions) || t.partitions < 1) throw invalid('createTopics', `/topics/${i}/partitions must be an integer >= 1`)
      if (!Number.isInteger(t.replicationFactor) || t.replicationFactor < 1) throw invalid('createTopics', `/topics/${i}/replicationFactor must be an integer >= 1`)
      for (const [k, v] of Object.entries(t.configs ?? {})) if (typeof v !== 'string') throw invalid('createTopics', `/topics/${i}/configs/${k} must be a string`)
    })
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
      const metadata = await this.lib.fetchTopicMetadata({ topics: [t.name] }).catch(rethrowAs('createTopics'))
      return { name: t.name, created: false, partitions: metadata.topics[0]?.partitions.length ?? 0 }
    }))
  }

  async describeTopics (names: readonly string[]): Promise<TopicDescription[]> {
    checkNames('describeTopics', names)
    await this.open('describeTopics')
    if (names.length === 0) return []
    const unique = [...new Set(names)]
    const existing = new Set(await this.listTopics())
    const missing = unique.filter((n) => !existing.has(n))
    if (missing.length > 0) {
      throw new DevtripError('DEVTRIP_UNKNOWN_TOPIC', `describeTopics: ${missing.map((m) => `"${m}"`).join(', ')} ${missing.length === 1 ? 'does' : 'do'} not exist`, {
        details: { topics: missing, hint: 'create them first: bin/devtrip-streams topics apply' }
      })
    }
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
    checkNames('deleteTopics', names)
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
    if (isolation !== 'read_committed' && isolation !== 'read_uncommitted') throw invalid('listOffsets', "/isolation must be 'read_committed' or 'read_uncommitted'")
    let timestamp: string
    if (spec === 'earliest') timestamp = EARLIEST_TIMESTAMP
    else if (spec === 'latest') timestamp = LATEST_TIMESTAMP
    else if (spec !== null && typeof spec === 'object' && Number.isSafeInteger(spec.timestamp) && spec.timestamp >= 0) timestamp = String(spec.timestamp)
    else throw invalid('listOffsets', "/spec must be 'earliest', 'latest' or { timestamp: ms >= 0 }")
    await this.open('listOffsets')
    if (partitions.length === 0) return []
    const found = await listOffsets(this.cluster, 'listOffsets', partitions, timestamp, isolation, this.budget)
    // no record at or after the timestamp: answer the end of the log, where such a record would be written
    const notFound = partitions.filter((tp) => (found.get(topicPartitionKey(tp)) ?? -1n) < 0n)
    if (notFound.length > 0) {
      for (const [key, offset] of await listOffsets(this.cluster, 'listOffsets', notFound, LATEST_TIMESTAMP, isolation, this.budget)) found.set(key, offset)
    }
    return partitions.map((tp) => ({ topic: tp.topic, partition: tp.partition, offset: found.get(topicPartitionKey(tp))! }))
  }

  async listGroupOffsets (groupId: string): Promise<TopicPartitionOffset[]> {
    if (typeof groupId !== 'string' || groupId === '') throw invalid('listGroupOffsets', '/groupId must be a non-empty string')
    await this.open('listGroupOffsets')
    const topics = await this.lib.fetchOffsets({ groupId }).catch(rethrowAs('listGroupOffsets'))
    const out: TopicPartitionOffset[] = []
    for (const t of topics) for (const p of t.partitions) if (BigInt(p.offset) >= 0n) out.push({ topic: t.topic, partition: p.partition, offset: BigInt(p.offset) })
    return sortOffsets(out)
  }

  async describeGroups (groupIds: readonly string[]): Promise<GroupDescription[]> {
    if (!Array.isArray(groupIds) || !groupIds.every((g) => typeof g === 'string' && g.length > 0)) throw invalid('describeGroups', '/groupIds must be an array of group ids')
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
        members: g.members.map((m) => ({
          memberId: m.memberId,
          groupInstanceId: null,
          clientId: m.clientId,
          clientHost: m.clientHost,
          assignment: consumer ? safely(() => decodeAssignment(m.memberAssignment), []) : [],
          userData: consumer ? safely(() => decodeSubscription(m.memberMetadata).userData ?? null, null) : null
        }))
      }
    })
  }

  async listGroups (): Promise<GroupListing[]> {
    await this.open('listGroups')
    const { groups } = await this.lib.listGroups().catch(rethrowAs('listGroups'))
    if (groups.length === 0) return []
    const described = await this.lib.describeGroups(groups.map((g) => g.groupId)).catch(rethrowAs('listGroups'))
    const states = new Map(described.groups.map((g) => [g.groupId, g.state]))
    return groups
      .map((g) => ({ groupId: g.groupId, state: states.get(g.groupId) ?? 'Unknown', protocolType: g.protocolType }))
      .sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0))
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
    return sortOffsets(offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: starts.get(topicPartitionKey(o))! })))
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
