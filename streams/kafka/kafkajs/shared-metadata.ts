/**
 * Partition counts for the producers of one client factory, from one shared kafkajs Cluster (one connection
 * pool), counted by reference and disconnected when its last producer closes. Exactly-once with kafkajs runs one
 * producer per task; without sharing, each would open a second connection just to learn partition counts.
 * kafkajs's Cluster caches the metadata of the topics it was asked about and refreshes it when it ages
 * (metadataMaxAge), so a send costs no Metadata request once its topics are known.
 */
import type { ResolvedConnectionOptions } from '../options'
import { translateError } from './errors'
import { createClient, createCluster, READ_COMMITTED, type InternalCluster } from './library'
import { partitionCounts } from './offsets'

export interface SharedMetadata {
  /** partition count per topic; DEVTRIP_UNKNOWN_TOPIC naming the missing ones */
  partitionCounts (operation: string, topics: readonly string[]): Promise<Map<string, number>>
  release (): void
}

interface Entry {
  readonly cluster: InternalCluster
  users: number
  connected: Promise<void> | null
}

/** keyed by the factory's resolved (frozen) connection options: one per factory */
const shared = new WeakMap<ResolvedConnectionOptions, Entry>()

export function acquireSharedMetadata (connection: ResolvedConnectionOptions): SharedMetadata {
  let entry = shared.get(connection)
  if (entry === undefined) {
    entry = { cluster: createCluster(createClient(connection, `${connection.clientId}-metadata`), READ_COMMITTED), users: 0, connected: null }
    shared.set(connection, entry)
  }
  const mine = entry
  mine.users++
  let released = false
  return {
    async partitionCounts (operation, topics) {
      mine.connected ??= mine.cluster.connect().catch((error: unknown) => {
        mine.connected = null
        throw translateError(error, operation)
      })
      await mine.connected
      const unique = [...new Set(topics)]
      try {
        // known topics come from the cache; new ones are added (one Metadata request)
        await mine.cluster.addMultipleTargetTopics(unique)
        const counts = new Map<string, number>()
        for (const topic of unique) {
          const n = mine.cluster.findTopicPartitionMetadata(topic).length
          if (n > 0) counts.set(topic, n)
        }
        if (counts.size === unique.length) return counts
      } catch {
        // an unknown topic fails the refresh: ask topic by topic below, which names the missing ones
      }
      return partitionCounts(mine.cluster, operation, unique, connection.operationTimeoutMs)
    },
    release () {
      if (released) return
      released = true
      mine.users--
      if (mine.users === 0) {
        shared.delete(connection)
        void mine.cluster.disconnect().catch(() => undefined)
      }
    }
  }
}
