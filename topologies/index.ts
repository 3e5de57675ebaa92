/**
 * The DevTrip topologies and their registry. The `run` command and the chaos test look topologies up here by name:
 *
 *   const def = TOPOLOGIES['evaluation']
 *   const topology = def.build(loadPolicies(), { storeKind: 'persistent' })
 *   // run it with applicationId def.applicationId and def.errorHandling
 */
import { DLQ_SUFFIX, DevtripError, type DomainTopic } from '../events'
import type { Policies } from '../processors'
import type { ErrorHandlingOptions, Topology } from '../streams'
import { buildEvaluationTopology, EVALUATION_APPLICATION_ID, EVALUATION_NAMES, EVALUATION_SOURCE_TOPICS } from './evaluation'
import { buildTicketingTopology, TICKETING_APPLICATION_ID, TICKETING_NAMES, TICKETING_SOURCE_TOPICS } from './ticketing'
import { buildUserStatsTopology, USER_STATS_APPLICATION_ID, USER_STATS_NAMES, USER_STATS_SOURCE_TOPICS } from './user-stats'
import type { OutputTopic, TopologyOptions } from './topology-options'

export * from './topology-options'
export * from './ticketing'
export * from './user-stats'
export * from './evaluation'

export type TopologyName = 'ticketing' | 'user-stats' | 'evaluation'

export interface TopologyDefinition {
  readonly name: TopologyName
  /** also the consumer group, the transactional id prefix and the prefix of changelog topics */
  readonly applicationId: string
  readonly description: string
  /** logical domain topics read (rename with TopologyOptions.topics) */
  readonly sourceTopics: readonly DomainTopic[]
  /** logical topics written; evaluation also writes evaluation-events, which it reads */
  readonly outputTopics: ReadonlyArray<OutputTopic | DomainTopic>
  /** `<source topic>.dlq` for every source: where unreadable or invalid records go */
  readonly dlqTopics: readonly string[]
  readonly stores: readonly string[]
  /** what to run it with: dead-letter every failing record (the engine's default is to fail) */
  readonly errorHandling: Readonly<ErrorHandlingOptions>
  build (policies: Policies, options?: TopologyOptions): Topology
}

const DLQ_EVERYWHERE: Readonly<ErrorHandlingOptions> = Object.freeze({
  deserialization: 'dlq', processing: 'dlq', production: 'dlq', dlqTopicSuffix: DLQ_SUFFIX
})

function define (definition: Omit<TopologyDefinition, 'dlqTopics' | 'errorHandling'>): TopologyDefinition {
  return Object.freeze({
    ...definition,
    sourceTopics: Object.freeze([...definition.sourceTopics]),
    outputTopics: Object.freeze([...definition.outputTopics]),
    stores: Object.freeze([...definition.stores]),
    dlqTopics: Object.freeze(definition.sourceTopics.map((t) => t + DLQ_SUFFIX)),
    errorHandling: DLQ_EVERYWHERE
  })
}

export const TOPOLOGIES: Readonly<Record<TopologyName, TopologyDefinition>> = Object.freeze({
  ticketing: define({
    name: 'ticketing',
    applicationId: TICKETING_APPLICATION_ID,
    description: 'Ticket ledger: grants from signup and payments, one deduction per completed mission, evaluation cost settlement.',
    sourceTopics: TICKETING_SOURCE_TOPICS,
    outputTopics: ['ticket-ledger', 'ticket-balances'],
    stores: [TICKETING_NAMES.accountsStore, TICKETING_NAMES.dedupStore],
    build: buildTicketingTopology
  }),
  'user-stats': define({
    name: 'user-stats',
    applicationId: USER_STATS_APPLICATION_ID,
    description: 'Per-user statistics from all six domain topics: logins, payments, missions, evaluation scores.',
    sourceTopics: USER_STATS_SOURCE_TOPICS,
    outputTopics: ['user-stats'],
    stores: [USER_STATS_NAMES.statsStore, USER_STATS_NAMES.dedupStore],
    build: buildUserStatsTopology
  }),
  evaluation: define({
    name: 'evaluation',
    applicationId: EVALUATION_APPLICATION_ID,
    description: 'Evaluation retries (timeouts, backoff, human review) and mission results joined with their evaluation.',
    sourceTopics: EVALUATION_SOURCE_TOPICS,
    outputTopics: ['evaluation-events', 'mission-results', 'evaluation-review'],
    stores: [EVALUATION_NAMES.attemptsStore, EVALUATION_NAMES.deadlinesStore, EVALUATION_NAMES.dedupStore],
    build: buildEvaluationTopology
  })
})

export const TOPOLOGY_NAMES: readonly TopologyName[] = Object.freeze(Object.keys(TOPOLOGIES) as TopologyName[])

/** The definition of a topology by name; DEVTRIP_INVALID_OPTIONS listing the known names otherwise. */
export function topologyDefinition (name: string): TopologyDefinition {
  if (!Object.prototype.hasOwnProperty.call(TOPOLOGIES, name)) {
    throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `unknown topology ${JSON.stringify(name)}`, {
      details: { hint: `known topologies: ${TOPOLOGY_NAMES.join(', ')}` }
    })
  }
  return TOPOLOGIES[name as TopologyName]
}
