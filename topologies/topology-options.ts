/**
 * Options every DevTrip topology builder accepts, validated by one compiled JSON Schema and frozen.
 *
 *   storeKind  'persistent' (RocksDB, the default) or 'in-memory' (restored from the changelog on every start)
 *   topics     physical names for the logical topics, e.g. { "auth-events": "auth-events-test-3f9a" } for a test
 *              that must not share topics with others; unnamed topics keep their logical name
 */
import Ajv from 'ajv'
import { DOMAIN_TOPICS, DevtripError, type DomainTopic } from '../events'
import type { StoreKind } from '../processors'

/** The output topics of the three topologies. */
export const OUTPUT_TOPICS = ['ticket-ledger', 'ticket-balances', 'user-stats', 'mission-results', 'evaluation-review'] as const
export type OutputTopic = (typeof OUTPUT_TOPICS)[number]
export type LogicalTopic = DomainTopic | OutputTopic

export interface TopologyOptions {
  storeKind?: StoreKind
  topics?: Partial<Record<LogicalTopic, string>>
}

export interface ResolvedTopologyOptions {
  readonly storeKind: StoreKind
  /** logical → physical, for every logical topic */
  readonly topics: Readonly<Record<LogicalTopic, string>>
}

const TOPIC_NAME = { type: 'string', pattern: '^(?!\\.{1,2}$)[A-Za-z0-9._-]{1,249}$' } as const
const LOGICAL_TOPICS: readonly LogicalTopic[] = [...DOMAIN_TOPICS, ...OUTPUT_TOPICS]

const validate = new Ajv({ allErrors: true, strict: true, useDefaults: true }).compile({
  type: 'object',
  additionalProperties: false,
  properties: {
    storeKind: { enum: ['persistent', 'in-memory'], default: 'persistent' },
    topics: {
      type: 'object',
      additionalProperties: false,
      properties: Object.fromEntries(LOGICAL_TOPICS.map((t) => [t, TOPIC_NAME]))
    }
  }
})

export function resolveTopologyOptions (options: TopologyOptions = {}): ResolvedTopologyOptions {
  if (options === null || typeof options !== 'object') {
    throw new DevtripError('DEVTRIP_INVALID_OPTIONS', 'topology options must be an object')
  }
  const copy: { [key: string]: unknown } = { ...options, ...(options.topics === undefined ? {} : { topics: { ...options.topics } }) }
  if (!validate(copy)) {
    const problems = (validate.errors ?? []).map((e) => {
      const extra = e.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})` : ''
      return `${e.instancePath === '' ? '/' : e.instancePath} ${e.message ?? 'is invalid'}${extra}`
    })
    throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `invalid topology options: ${problems.join('; ')}`, {
      details: { problems, hint: `topics may rename only ${LOGICAL_TOPICS.join(', ')}; storeKind is persistent or in-memory` }
    })
  }
  const given = (copy.topics ?? {}) as Partial<Record<LogicalTopic, string>>
  const topics = Object.fromEntries(LOGICAL_TOPICS.map((t) => [t, given[t] ?? t])) as Record<LogicalTopic, string>
  const physical = Object.values(topics)
  const clash = physical.find((name, i) => physical.indexOf(name) !== i)
  if (clash !== undefined) {
    throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `invalid topology options: two logical topics are mapped to "${clash}"`, { details: { topics } })
  }
  return Object.freeze({ storeKind: copy.storeKind as StoreKind, topics: Object.freeze(topics) })
}

/** physical → logical, for the domain topics a topology reads (the processors validate event types against it) */
export function domainTopicMap (options: ResolvedTopologyOptions, sources: readonly DomainTopic[]): ReadonlyMap<string, DomainTopic> {
  return new Map(sources.map((t) => [options.topics[t], t]))
}
