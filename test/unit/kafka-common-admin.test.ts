import { assertTopicsExist, groupMemberDescription, offsetsOrLogEnd, sortByGroupId } from '../../streams/kafka/common/admin-answers'
import { checkGroupIds, checkNewTopics, listOffsetsTarget } from '../../streams/kafka/common/admin-arguments'

describe('admin arguments', () => {
  test('createTopics: names, sizes and configs are checked, naming the field', () => {
    expect(() => checkNewTopics([{ name: 'ok', partitions: 1, replicationFactor: 1, configs: { 'cleanup.policy': 'compact' } }])).not.toThrow()
    expect(() => checkNewTopics([{ name: 'bad name', partitions: 1, replicationFactor: 1 }])).toThrow('createTopics: /topics/0/name must be a legal topic name')
    expect(() => checkNewTopics([{ name: 'a', partitions: 1, replicationFactor: 1 }, { name: 'b', partitions: 0, replicationFactor: 1 }])).toThrow('createTopics: /topics/1/partitions must be an integer >= 1')
    expect(() => checkNewTopics([{ name: 'a', partitions: 1, replicationFactor: 1, configs: { x: 1 as unknown as string } }])).toThrow('createTopics: /topics/0/configs/x must be a string')
  })

  test('listOffsets spec: earliest, latest, or a timestamp >= 0', () => {
    expect(listOffsetsTarget('earliest')).toBe('earliest')
    expect(listOffsetsTarget({ timestamp: 1700000000000 })).toBe(1700000000000)
    expect(() => listOffsetsTarget({ timestamp: -1 })).toThrow("listOffsets: /spec must be 'earliest', 'latest' or { timestamp: ms >= 0 }")
    expect(() => checkGroupIds('describeGroups', ['g', ''])).toThrow('describeGroups: /groupIds must be an array of group ids')
  })
})

describe('admin answers', () => {
  test('a partition no record reaches gets its log end; the answer keeps the asked order', async () => {
    const asked = [{ topic: 't', partition: 1 }, { topic: 't', partition: 0 }]
    const listed: string[] = []
    const answer = await offsetsOrLogEnd(asked, new Map([['t:1', -1n], ['t:0', 4n]]), async (notFound) => {
      listed.push(...notFound.map((tp) => `${tp.topic}:${tp.partition}`))
      return new Map([['t:1', 9n]])
    })
    expect(listed).toEqual(['t:1'])
    expect(answer).toEqual([{ topic: 't', partition: 1, offset: 9n }, { topic: 't', partition: 0, offset: 4n }])
  })

  test('missing topics are all named; listings sort by group id; members get null for a missing instance id', () => {
    expect(() => assertTopicsExist('describeTopics', ['a', 'b', 'c'], new Set(['b']))).toThrow('describeTopics: "a", "c" do not exist')
    expect(() => assertTopicsExist('describeTopics', ['b'], new Set(['b']))).not.toThrow()
    expect(sortByGroupId([{ groupId: 'b' }, { groupId: 'a' }]).map((g) => g.groupId)).toEqual(['a', 'b'])
    expect(groupMemberDescription({ memberId: 'm', clientId: 'c', clientHost: '/h' }, [], null))
      .toEqual({ memberId: 'm', groupInstanceId: null, clientId: 'c', clientHost: '/h', assignment: [], userData: null })
  })
})
