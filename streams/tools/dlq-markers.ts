/**
 * What a DLQ replay has already dealt with.
 *
 * The main record is the replay group's committed offset per DLQ partition (`devtrip-dlq-replay-<dlqTopic>`):
 * every record before it was replayed or purged. It can only cover a contiguous prefix, so a FILTERED replay that
 * republishes record 12 while record 10 (not matching) stays pending cannot express "12 is done" with it. For
 * those records it writes a marker, in the same transaction as the republished record, to the marker topic
 * `<dlqTopic>.replayed` (same partition as the DLQ record; key = the DLQ offset as decimal text; value = JSON
 * {"at": ms, "to": "topic"}). Every replay and `list` read the markers at or after the committed offset and treat
 * those records as done, so no record is republished twice whatever mix of filters was used.
 */
import { DevtripError } from '../../events/errors'
import type { KafkaAdmin, KafkaClientFactory, ProducerRecord } from '../kafka/port'
import { scanRanges, topicRanges } from './topic-scan'

export const REPLAY_GROUP_PREFIX = 'devtrip-dlq-replay-'

export function replayGroupId (dlqTopic: string): string {
  return REPLAY_GROUP_PREFIX + dlqTopic
}

export function markerTopicName (dlqTopic: string): string {
  return `${dlqTopic}.replayed`
}

/** "partition:offset" */
export type MarkerKey = string
export const markerKey = (partition: number, offset: bigint): MarkerKey => `${partition}:${offset}`

/** The replay group's committed offset per partition (absent = nothing handled yet). */
export async function replayedUpTo (admin: KafkaAdmin, dlqTopic: string): Promise<Map<number, bigint>> {
  const offsets = await admin.listGroupOffsets(replayGroupId(dlqTopic))
  return new Map(offsets.filter((o) => o.topic === dlqTopic).map((o) => [o.partition, o.offset]))
}

/** DLQ records marked as replayed by a filtered replay (committed markers only). Empty when there is no marker topic. */
export async function loadMarkers (kafka: KafkaClientFactory, admin: KafkaAdmin, dlqTopic: string): Promise<Set<MarkerKey>> {
  const topic = markerTopicName(dlqTopic)
  const markers = new Set<MarkerKey>()
  if (!(await admin.listTopics()).includes(topic)) return markers
  await scanRanges(kafka, await topicRanges(admin, topic), (record) => {
    const text = record.key?.toString('utf8') ?? ''
    if (/^[0-9]+$/.test(text)) markers.add(markerKey(record.partition, BigInt(text)))
  })
  return markers
}

/** Creates the marker topic like the DLQ topic (partitions, retention) when it does not exist yet. */
export async function ensureMarkerTopic (admin: KafkaAdmin, dlqTopic: string): Promise<string> {
  const topic = markerTopicName(dlqTopic)
  const [dlq] = await admin.describeTopics([dlqTopic])
  const retention = dlq!.configs['retention.ms']
  const [result] = await admin.createTopics([{
    name: topic,
    partitions: dlq!.partitions.length,
    replicationFactor: dlq!.partitions[0]?.replicas.length ?? 1,
    configs: { 'cleanup.policy': 'delete', ...(retention === undefined ? {} : { 'retention.ms': retention }) }
  }])
  if (result!.partitions < dlq!.partitions.length) {
    throw new DevtripError('DEVTRIP_TOPIC_MISMATCH', `${topic} has ${result!.partitions} partitions, fewer than ${dlqTopic} (${dlq!.partitions.length})`, {
      details: { topic, hint: `delete ${topic} only if no filtered replay is pending, or replay without a filter` }
    })
  }
  return topic
}

export function markerRecord (dlqTopic: string, partition: number, offset: bigint, to: string, at: number): ProducerRecord {
  return {
    topic: markerTopicName(dlqTopic),
    partition,
    key: Buffer.from(offset.toString(), 'utf8'),
    value: Buffer.from(JSON.stringify({ at, to }), 'utf8')
  }
}
