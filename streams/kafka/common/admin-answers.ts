/**
 * How the port's admin calls answer, where the adapters' libraries differ and the port promises one behaviour:
 * the order of listings, which topics count as missing, and the offset for a timestamp no record reaches.
 */
import { DevtripError } from '../../../events/errors'
import type { GroupListing, GroupMemberDescription, TopicPartition, TopicPartitionOffset } from '../port'
import { topicPartitionKey } from '../port'

/** Sorts in place by group id (the libraries list groups in the coordinators' order). */
export function sortByGroupId<T extends Pick<GroupListing, 'groupId'>> (groups: T[]): T[] {
  return groups.sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0))
}

/** The port's description of a group member from what every library reports of one, plus the decoded parts. */
export function groupMemberDescription (member: { memberId: string, groupInstanceId?: string | null, clientId: string, clientHost: string },
  assignment: GroupMemberDescription['assignment'], userData: Buffer | null): GroupMemberDescription {
  return { memberId: member.memberId, groupInstanceId: member.groupInstanceId ?? null, clientId: member.clientId, clientHost: member.clientHost, assignment, userData }
}

/** Fails naming every one of `names` that is not among the `existing` topics (describeTopics answers all or nothing). */
export function assertTopicsExist (operation: string, names: readonly string[], existing: ReadonlySet<string>): void {
  const missing = names.filter((n) => !existing.has(n))
  if (missing.length > 0) {
    throw new DevtripError('DEVTRIP_UNKNOWN_TOPIC', `${operation}: ${missing.map((m) => `"${m}"`).join(', ')} ${missing.length === 1 ? 'does' : 'do'} not exist`, {
      details: { topics: missing, hint: 'create them first: bin/devtrip-streams topics apply' }
    })
  }
}

/**
 * listOffsets' answer in the order asked. A partition without a record at or after the asked timestamp (-1, or
 * absent) gets the end of its log, where such a record would be written;
 * `listLatest` lists those ends.
 */
export async function offsetsOrLogEnd (partitions: readonly TopicPartition[], found: Map<string, bigint>,
  listLatest: (partitions: TopicPartition[]) => Promise<Map<string, bigint>>): Promise<TopicPartitionOffset[]> {
  const notFound = partitions.filter((tp) => (found.get(topicPartitionKey(tp)) ?? -1n) < 0n)
  if (notFound.length > 0) {
    for (const [key, offset] of await listLatest(notFound)) found.set(key, offset)
  }
  return partitions.map((tp) => ({ topic: tp.topic, partition: tp.partition, offset: found.get(topicPartitionKey(tp))! }))
}
