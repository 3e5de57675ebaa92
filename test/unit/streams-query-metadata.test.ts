/**
 * Interactive-query routing without a broker: the advertisement bytes in a member's user data, the owner of a key
 * from a describeGroups answer (partition by murmur2 as the producer does it), the states in which no owner is
 * known, caching, and local reads that tell found / absent / restoring / not-here apart.
 */
import { DEFAULT_POLICIES } from '../../processors'
import {
  decodeAdvertisement, encodeAdvertisement, parseHostInfo, QueryMetadataResolver, readLocalKey,
  type LocalStoreSource, type LocalTaskInfo, type LocalTaskStatus
} from '../../streams'
import type { GroupDescription, GroupMemberDescription, TopicDescription } from '../../streams/kafka'
import { partitionForKey } from '../../streams/partitioner'
import { TOPOLOGIES, USER_STATS_SOURCE_TOPICS } from '../../topologies'

describe('the advertisement in a member\'s user data', () => {
  test('round-trips, with the documented layout', () => {
    const bytes = encodeAdvertisement({ applicationServer: '127.0.0.1:4100', instanceId: 'abc' })
    expect([...bytes.subarray(0, 5)]).toEqual([0x44, 0x51, 1, 0, 14])
    expect(bytes.toString('utf8', 5, 19)).toBe('127.0.0.1:4100')
    expect(bytes.readUInt16BE(19)).toBe(3)
    expect(bytes.length).toBe(24)
    expect(decodeAdvertisement(bytes)).toEqual({ applicationServer: '127.0.0.1:4100', instanceId: 'abc' })
    expect(decodeAdvertisement(encodeAdvertisement({ applicationServer: 'node-2.internal:80' }))).toEqual({ applicationServer: 'node-2.internal:80' })
  })

  test('a later version with appended fields still reads', () => {
    const v1 = encodeAdvertisement({ applicationServer: 'h:1', instanceId: 'i' })
    const v2 = Buffer.concat([v1, Buffer.from([9, 9, 9])])
    v2[2] = 2
    expect(decodeAdvertisement(v2)).toEqual({ applicationServer: 'h:1', instanceId: 'i' })
  })

  test('anything else decodes to undefined, never throws', () => {
    const good = encodeAdvertisement({ applicationServer: 'h:1' })
    for (const bad of [null, undefined, Buffer.alloc(0), Buffer.from('hello world'), good.subarray(0, 6),
      Buffer.from([0x44, 0x51, 0, 0, 0, 0, 0]), Buffer.concat([Buffer.from([0x44, 0x51, 1, 0, 4]), Buffer.from('nope'), Buffer.from([0, 0])])]) {
      expect(decodeAdvertisement(bad)).toBeUndefined()
    }
  })

  test('bad addresses and oversized advertisements are refused when encoding', () => {
    expect(() => encodeAdvertisement({ applicationServer: 'no-port' })).toThrow(/host:port/)
    expect(() => encodeAdvertisement({ applicationServer: 'h:70000' })).toThrow(/1 to 65535/)
    expect(() => encodeAdvertisement({ applicationServer: 'h:1', instanceId: 'x'.repeat(5000) })).toThrow(/at most 4096/)
    expect(parseHostInfo('[::1]:8080')).toEqual({ host: '[::1]', port: 8080 })
  })
})

// ---- owner resolution ----

const appId = 'qm-devtrip-user-stats'
const metadata = TOPOLOGIES['user-stats'].build(DEFAULT_POLICIES, { storeKind: 'in-memory' }).metadata(appId)
const PARTITIONS = 4

function member (id: string, server: string | null, partitions: number[]): GroupMemberDescription {
  return {
    memberId: id,
    groupInstanceId: null,
    clientId: id,
    clientHost: '/127.0.0.1',
    assignment: USER_STATS_SOURCE_TOPICS.flatMap((topic) => partitions.map((partition) => ({ topic, partition }))),
    userData: server === null ? null : encodeAdvertisement({ applicationServer: server })
  }
}

class FakeAdmin {
  group: GroupDescription = { groupId: appId, state: 'Stable', protocolType: 'consumer', protocol: 'x', members: [] }
  describeGroupsCalls = 0
  describeTopicsCalls = 0
  async describeGroups (ids: readonly string[]): Promise<GroupDescription[]> {
    this.describeGroupsCalls++
    expect(ids).toEqual([appId])
    return [this.group]
  }

  async describeTopics (names: readonly string[]): Promise<TopicDescription[]> {
    this.describeTopicsCalls++
    return names.map((name) => ({ name, partitions: Array.from({ length: PARTITIONS }, (_, partition) => ({ partition, leader: 1, replicas: [1], isr: [1] })) }) as unknown as TopicDescription)
  }
}

/** a user id whose key lands on `partition` */
function userOn (partition: number, from = 1): string {
  for (let i = from; ; i++) if (partitionForKey(Buffer.from(String(i)), PARTITIONS) === partition) return String(i)
}

describe('QueryMetadataResolver', () => {
  test('the owner of a key is the member holding its murmur2 partition, at the address it advertises', async () => {
    const admin = new FakeAdmin()
    admin.group = { ...admin.group, members: [member('a', '10.0.0.1:7001', [0, 1]), member('b', '10.0.0.2:7002', [2, 3])] }
    const resolver = new QueryMetadataResolver(admin, metadata)
    for (const p of [0, 1, 2, 3]) {
      const key = userOn(p)
      const meta = await resolver.queryMetadataForKey('rows', key)
      expect(meta).toMatchObject({ applicationId: appId, store: 'rows', partition: p, partitions: PARTITIONS, groupState: 'Stable' })
      expect(meta.activeHost).toEqual(p < 2 ? { host: '10.0.0.1', port: 7001 } : { host: '10.0.0.2', port: 7002 })
    }
    // bytes work as well as strings
    expect((await resolver.queryMetadataForKey('rows', Buffer.from(userOn(3)))).partition).toBe(3)
    // partition counts are described once, the group once per cache period
    expect(admin.describeTopicsCalls).toBe(1)
    expect(admin.describeGroupsCalls).toBe(1)
  })

  test('during a rebalance, with nobody in the group, or without an advertised address, no owner is known and says why', async () => {
    const admin = new FakeAdmin()
    const resolver = new QueryMetadataResolver(admin, metadata, { cacheMs: 0 })
    admin.group = { ...admin.group, state: 'PreparingRebalance', members: [{ ...member('a', '10.0.0.1:7001', []) }] }
    expect(await resolver.queryMetadataForKey('rows', '7')).toMatchObject({ activeHost: null, reason: 'rebalancing', groupState: 'PreparingRebalance' })
    admin.group = { ...admin.group, state: 'Empty', members: [] }
    expect(await resolver.queryMetadataForKey('rows', '7')).toMatchObject({ activeHost: null, reason: 'not-running' })
    admin.group = { ...admin.group, state: 'Stable', members: [member('a', null, [0, 1, 2, 3])] }
    expect(await resolver.queryMetadataForKey('rows', '7')).toMatchObject({ activeHost: null, reason: 'not-advertised' })
  })

  test('answers are cached until invalidate()', async () => {
    let now = 1000
    const admin = new FakeAdmin()
    admin.group = { ...admin.group, members: [member('a', 'a:1', [0, 1, 2, 3])] }
    const resolver = new QueryMetadataResolver(admin, metadata, { cacheMs: 500, now: () => now })
    await resolver.queryMetadataForKey('rows', '1')
    admin.group = { ...admin.group, members: [member('b', 'b:2', [0, 1, 2, 3])] }
    expect((await resolver.queryMetadataForKey('rows', '1')).activeHost).toEqual({ host: 'a', port: 1 })
    resolver.invalidate()
    expect((await resolver.queryMetadataForKey('rows', '1')).activeHost).toEqual({ host: 'b', port: 2 })
    admin.group = { ...admin.group, members: [member('a', 'a:1', [0, 1, 2, 3])] }
    now += 501
    expect((await resolver.queryMetadataForKey('rows', '1')).activeHost).toEqual({ host: 'a', port: 1 })
    expect(admin.describeGroupsCalls).toBe(3)
  })

  test('allMetadataForStore lists every host with its partitions, and the unowned ones', async () => {
    const admin = new FakeAdmin()
    admin.group = { ...admin.group, members: [member('a', 'a:1', [0, 2]), member('b', 'b:2', [1])] }
    const all = await new QueryMetadataResolver(admin, metadata).allMetadataForStore('rows')
    expect(all.hosts).toEqual([{ host: { host: 'a', port: 1 }, partitions: [0, 2] }, { host: { host: 'b', port: 2 }, partitions: [1] }])
    expect(all.unowned).toEqual([3])
    expect(all.partitions).toBe(4)
  })

  test('partition counts an instance already knows are not described again; unknown stores are an error', async () => {
    const admin = new FakeAdmin()
    admin.group = { ...admin.group, members: [member('a', 'a:1', [0, 1, 2, 3, 4, 5, 6, 7])] }
    const resolver = new QueryMetadataResolver(admin, metadata, { partitionsOf: () => 8 })
    expect((await resolver.queryMetadataForKey('rows', '12345')).partition).toBe(partitionForKey(Buffer.from('12345'), 8))
    expect(admin.describeTopicsCalls).toBe(0)
    await expect(resolver.queryMetadataForKey('nope', '1')).rejects.toThrow(/has no store "nope"[\s\S]*/)
  })
})

// ---- local reads ----

class FakeSource implements LocalStoreSource {
  readonly metadata = metadata
  constructor (private readonly tasks: Map<number, { status: LocalTaskStatus, rows: Map<string, unknown> }>) {}
  localTasks (): LocalTaskInfo[] {
    return [...this.tasks].map(([partition, t]) => ({ taskId: `0_${partition}`, subtopologyId: 0, partition, status: t.status, inputPartitions: [], stores: ['rows', 'dedup'] }))
  }

  store (name: string, partition: number): any {
    const t = this.tasks.get(partition)
    if (t === undefined || t.status !== 'running' || name !== 'rows') return undefined
    return { name, persistent: false, get: (key: string) => t.rows.get(key) }
  }
}

test('readLocalKey: found, absent (with the partitions checked), restoring, and not here', () => {
  const source = new FakeSource(new Map([
    [0, { status: 'running' as const, rows: new Map([['u0', { n: 0 }]]) }],
    [1, { status: 'restoring' as const, rows: new Map() }],
    [2, { status: 'running' as const, rows: new Map([['u2', { n: 2 }]]) }]
  ]))
  expect(readLocalKey(source, 'rows', 'u0', { partition: 0 })).toEqual({ status: 'found', partition: 0, value: { n: 0 } })
  expect(readLocalKey(source, 'rows', 'x', { partition: 0 })).toEqual({ status: 'absent', checked: [0], notReady: [] })
  expect(readLocalKey(source, 'rows', 'x', { partition: 1 })).toEqual({ status: 'absent', checked: [], notReady: [1] })
  expect(readLocalKey(source, 'rows', 'x', { partition: 3 })).toEqual({ status: 'absent', checked: [], notReady: [] })
  // every local partition: found anywhere, or what was checked and what could not be
  expect(readLocalKey(source, 'rows', 'u2')).toEqual({ status: 'found', partition: 2, value: { n: 2 } })
  expect(readLocalKey(source, 'rows', 'x')).toEqual({ status: 'absent', checked: [0, 2], notReady: [1] })
  expect(() => readLocalKey(source, 'unknown', 'x')).toThrow(/has no store "unknown"/)
})
