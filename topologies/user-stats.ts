/**
 * The user statistics topology (application id `devtrip-user-stats`): one row per user built from all six domain
 * topics (rules: processors/user-stats-reducer.ts, docs/topologies.md "User stats").
 *
 *   auth-events, user-events, payment-events, subscription-events, mission-events, evaluation-events
 *     → user-stats-processor [rows, dedup]
 *         → user-stats-sink → user-stats (compacted: the latest row per user)
 */
import { DOMAIN_TOPICS, type DomainTopic } from '../events'
import { userStatsProcessorSupplier, type Policies } from '../processors'
import { Topology } from '../streams'
import { addDomainSources, addJsonSink } from './domain-sources'
import { domainTopicMap, resolveTopologyOptions, type TopologyOptions } from './topology-options'

export const USER_STATS_APPLICATION_ID = 'devtrip-user-stats'
export const USER_STATS_SOURCE_TOPICS: readonly DomainTopic[] = Object.freeze([...DOMAIN_TOPICS])
export const USER_STATS_NAMES = Object.freeze({
  processor: 'user-stats-processor',
  statsStore: 'rows',
  dedupStore: 'dedup',
  statsSink: 'user-stats-sink'
})

export function buildUserStatsTopology (policies: Policies, options?: TopologyOptions): Topology {
  const resolved = resolveTopologyOptions(options)
  const n = USER_STATS_NAMES
  const topology = new Topology()
  const sources = addDomainSources(topology, 'user-stats', USER_STATS_SOURCE_TOPICS, resolved)
  topology.addProcessor(n.processor, userStatsProcessorSupplier({
    policies,
    dedupStore: n.dedupStore,
    topicMap: domainTopicMap(resolved, USER_STATS_SOURCE_TOPICS),
    statsStore: n.statsStore,
    statsChild: n.statsSink
  }, resolved.storeKind), ...sources)
  addJsonSink(topology, n.statsSink, resolved.topics['user-stats'], n.processor)
  return topology
}
