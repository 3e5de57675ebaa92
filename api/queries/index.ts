/**
 * Queries answered by the `run` instances (api/queries/remote-queries.ts), built for the three DevTrip topologies:
 *
 *   const queries = createRemoteQueries({ admin: kafka.createAdmin(), applicationIdPrefix: 'test-', topicPrefix: 'test-' })
 *   await buildApiServer({ ..., queries })
 *   ...
 *   queries.close()     // the HTTP agent; the admin client stays the caller's
 *
 * Each topology's metadata (its stores, sub-topologies and source topics, behind the prefixes) is built here the
 * same way `run` builds it, so the owner lookup routes keys exactly as the running instances partition them.
 */
import { DEFAULT_POLICIES } from '../../processors'
import { QueryMetadataResolver, type QueryMetadataAdmin } from '../../streams'
import { OUTPUT_TOPICS, TOPOLOGIES, type TopologyName } from '../../topologies'
import { DOMAIN_TOPICS } from '../../events'
import { InstanceClient } from './instance-client'
import { RemoteQueries } from './remote-queries'

export { InstanceClient, type InstanceAnswer, type InstanceClientOptions, type InstanceRequest } from './instance-client'
export { RemoteQueries, type InstanceGetter, type OwnerLookup, type RemoteQueriesOptions } from './remote-queries'

export interface RemoteQueriesSetup {
  /** describeGroups and describeTopics are all it uses; the caller closes it */
  readonly admin: QueryMetadataAdmin
  /** before every application id (what `run --topic-prefix` puts there) */
  readonly applicationIdPrefix: string
  /** before every topic name */
  readonly topicPrefix: string
  /** per instance request (ms) */
  readonly timeoutMs?: number
  /** how long a describeGroups answer is reused (ms) */
  readonly metadataCacheMs?: number
  /** Retry-After of 503s (seconds) */
  readonly retryAfterSeconds?: number
}

/** The owner lookup of one DevTrip topology, as `run` names and wires it under the prefixes. */
export function topologyResolver (name: TopologyName, setup: Pick<RemoteQueriesSetup, 'admin' | 'applicationIdPrefix' | 'topicPrefix' | 'metadataCacheMs'>): QueryMetadataResolver {
  const definition = TOPOLOGIES[name]
  const topics = Object.fromEntries([...DOMAIN_TOPICS, ...OUTPUT_TOPICS].map((t) => [t, setup.topicPrefix + t]))
  // the policies shape processing, not the layout: the defaults give the same stores and topics as any policy file
  const topology = definition.build(DEFAULT_POLICIES, { storeKind: 'in-memory', topics })
  const metadata = topology.metadata(setup.applicationIdPrefix + definition.applicationId)
  return new QueryMetadataResolver(setup.admin, metadata, setup.metadataCacheMs === undefined ? {} : { cacheMs: setup.metadataCacheMs })
}

export function createRemoteQueries (setup: RemoteQueriesSetup): RemoteQueries & { close (): void } {
  const instances = new InstanceClient(setup.timeoutMs === undefined ? {} : { timeoutMs: setup.timeoutMs })
  const queries = new RemoteQueries({
    ticketing: topologyResolver('ticketing', setup),
    userStats: topologyResolver('user-stats', setup),
    evaluation: topologyResolver('evaluation', setup),
    instances,
    ...(setup.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: setup.retryAfterSeconds })
  })
  return Object.assign(queries, { close: () => { instances.close() } })
}
