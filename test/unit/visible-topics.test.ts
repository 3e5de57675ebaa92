/**
 * streams/kafka/visible-topics.ts: createTopics returns once the new topics are listed with a leader for every
 * partition, so the next describeTopics or produce never meets "unknown topic"; existing topics cost no waiting.
 * deleteTopics returns once the deleted topics are no longer listed.
 */
import { withVisibleNewTopics } from '../../streams/kafka/visible-topics'
import type { CreateTopicResult, KafkaAdmin, NewTopic, TopicDescription } from '../../streams/kafka'

/** An admin whose new topics appear in metadata only after `lagCalls` listTopics calls, leaderless at first. */
function laggingAdmin (lagCalls: number): KafkaAdmin & { calls: string[] } {
  const known = new Map<string, number>([['old', 1]])
  const createdAt = new Map<string, number>()
  let listCalls = 0
  const calls: string[] = []
  const visible = (name: string): boolean => known.has(name) && (!createdAt.has(name) || listCalls - (createdAt.get(name) as number) >= lagCalls)
  const fake = {
    calls,
    createTopics: async (topics: readonly NewTopic[]): Promise<CreateTopicResult[]> => topics.map((t) => {
      calls.push(`create ${t.name}`)
      if (known.has(t.name)) return { name: t.name, created: false, partitions: known.get(t.name) as number }
      known.set(t.name, t.partitions)
      createdAt.set(t.name, listCalls)
      return { name: t.name, created: true, partitions: t.partitions }
    }),
    listTopics: async () => { listCalls++; calls.push('list'); return [...known.keys()].filter(visible).sort() },
    describeTopics: async (names: readonly string[]): Promise<TopicDescription[]> => names.map((name) => ({
      name,
      // one more round with a leaderless partition after the topic is listed
      partitions: [{ partition: 0, leader: listCalls - (createdAt.get(name) ?? -10) > lagCalls ? 1 : -1, replicas: [1], isr: [1] }],
      configs: {}
    })),
    deleteTopics: async () => {},
    listOffsets: async () => [],
    listGroupOffsets: async () => [],
    describeGroups: async () => [],
    listGroups: async () => [],
    deleteRecords: async () => [],
    close: async () => {}
  }
  return fake
}

test('a new topic is waited for until it is listed and every partition has a leader', async () => {
  const inner = laggingAdmin(3)
  const admin = withVisibleNewTopics(inner, 5000)
  const results = await admin.createTopics([{ name: 'fresh', partitions: 1, replicationFactor: 1 }])
  expect(results).toEqual([{ name: 'fresh', created: true, partitions: 1 }])
  expect(inner.calls.filter((c) => c === 'list').length).toBeGreaterThanOrEqual(4)
  const [described] = await admin.describeTopics(['fresh'])
  expect(described?.partitions[0]?.leader).toBe(1)
})

test('existing topics are reported without waiting; the other methods pass straight through', async () => {
  const inner = laggingAdmin(1000)
  const admin = withVisibleNewTopics(inner, 5000)
  expect(await admin.createTopics([{ name: 'old', partitions: 1, replicationFactor: 1 }])).toEqual([{ name: 'old', created: false, partitions: 1 }])
  expect(inner.calls).toEqual(['create old'])
  expect(await admin.listTopics()).toEqual(['old'])
  expect(Object.isFrozen(admin)).toBe(true)
})

test('a topic that never shows up ends in DEVTRIP_TIMEOUT naming it, with canRetry', async () => {
  const admin = withVisibleNewTopics(laggingAdmin(1_000_000), 100)
  await expect(admin.createTopics([{ name: 'ghost', partitions: 1, replicationFactor: 1 }]))
    .rejects.toMatchObject({ code: 'DEVTRIP_TIMEOUT', canRetry: true, message: expect.stringContaining('ghost') })
})

test('deleteTopics returns once no deleted topic is listed any more; a deletion that never shows is a DEVTRIP_TIMEOUT', async () => {
  const listed = new Set(['gone-soon', 'kept'])
  let lists = 0
  const inner = {
    ...laggingAdmin(0),
    // the deleted topic stays listed for three more listTopics answers
    deleteTopics: async () => { lists = 0 },
    listTopics: async () => { if (++lists > 3) listed.delete('gone-soon'); return [...listed].sort() }
  }
  const admin = withVisibleNewTopics(inner, 5000)
  await admin.deleteTopics(['gone-soon'])
  expect(lists).toBe(4)
  expect(await admin.listTopics()).toEqual(['kept'])

  const stuck = withVisibleNewTopics({ ...inner, listTopics: async () => ['stuck'] }, 100)
  await expect(stuck.deleteTopics(['stuck'])).rejects.toMatchObject({ code: 'DEVTRIP_TIMEOUT', canRetry: true, message: expect.stringContaining('stuck') })
})
