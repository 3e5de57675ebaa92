/**
 * The port's co-partitioned sticky assignor (../assignor.ts) as a kafkajs partition assigner, so kafkajs members
 * share groups with members of the other adapters: same protocol name, standard ConsumerProtocol encodings.
 * The subscription carries the member's previously owned partitions (stickiness) and its user data (the
 * interactive-query address), which describeGroups then shows. kafkajs hands every assigner factory the consumer's
 * internal Cluster; `onCluster` passes it on (the group consumer taps it, cluster-taps.ts).
 */
import { assignCopartitioned, ASSIGNOR_NAME, decodeSubscription, encodeAssignment, encodeSubscription } from '../assignor'
import type { TopicPartition } from '../port'
import type { InternalCluster, KafkaJS } from './library'

export interface AssignerHooks {
  /** what this member owns now (or owned before the last rebalance), announced for stickiness */
  ownedPartitions (): readonly TopicPartition[]
  readonly userData: Buffer | null
  onCluster (cluster: InternalCluster): void
}

export function copartitionedAssigner (hooks: AssignerHooks): KafkaJS.PartitionAssigner {
  return ({ cluster }) => {
    const internal = cluster as unknown as InternalCluster
    hooks.onCluster(internal)
    return {
      name: ASSIGNOR_NAME,
      version: 1,
      // run by the group leader; kafkajs refreshed the metadata of the subscribed topics just before
      async assign ({ members, topics }) {
        const subscriptions = members.map((m) => ({ memberId: m.memberId, ...decodeSubscription(m.memberMetadata) }))
        const counts = new Map<string, number>()
        for (const topic of topics) {
          const partitions = internal.findTopicPartitionMetadata(topic)
          if (partitions.length > 0) counts.set(topic, partitions.length)
        }
        const assignment = assignCopartitioned(subscriptions, counts)
        return members.map((m) => ({ memberId: m.memberId, memberAssignment: encodeAssignment(assignment.get(m.memberId) ?? []) }))
      },
      protocol ({ topics }) {
        return { name: ASSIGNOR_NAME, metadata: encodeSubscription({ topics, ownedPartitions: hooks.ownedPartitions(), userData: hooks.userData }) }
      }
    }
  }
}
