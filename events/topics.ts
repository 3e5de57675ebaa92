/**
 * The topic catalog: every topic the DevTrip pipeline reads or writes, with partitions, cleanup policy and
 * role. `devtrip-streams topics`-style tooling creates topics from this list; the engine creates its own
 * internal topics (changelogs, repartitions), whose names come from the two functions at the bottom.
 *
 * All catalog topics have the same partition count (DEFAULT_PARTITIONS): every topic is keyed by userId
 * (events/keys.ts), and equal counts are what make a user's records land on the same partition number
 * everywhere (co-partitioning), so joins and per-user tables need no repartition.
 */
import { DevtripError } from './errors'
import { DOMAIN_TOPICS, type DomainTopic, type Service } from './event-types'

export type CleanupPolicy = 'delete' | 'compact'
/**
 * source: events produced by the DevTrip services (the seed's domain topics);
 * table: compacted latest-value-per-key topics (a KTable's source or sink);
 * changelog: a state store's backup (engine-created, never listed here);
 * dlq: records a processor could not accept, with the reason in headers;
 * output: append-only results of the pipeline.
 */
export type TopicRole = 'source' | 'table' | 'changelog' | 'dlq' | 'output'

export interface TopicSpec {
  name: string
  partitions: number
  cleanupPolicy: CleanupPolicy
  role: TopicRole
  description: string
  /** services or pipeline components that write it */
  producers?: readonly string[]
  /** services or pipeline components that read it */
  consumers?: readonly string[]
  /** extra topic-level configs, as Kafka names them */
  configs?: Readonly<Record<string, string>>
}

export const DEFAULT_PARTITIONS = 6
export const DLQ_SUFFIX = '.dlq'

const DAY_MS = 24 * 60 * 60 * 1000
/** source and output topics keep a week, like Kafka's default, stated explicitly so tooling can show it */
const WEEK_RETENTION = String(7 * DAY_MS)
/** a dead letter waits for a person: a month gives time for a holiday and a fix */
const DLQ_RETENTION = String(30 * DAY_MS)

/** Consumer services of each domain topic, from the seed's consumer tables (§2.1–2.6). */
const DOMAIN_TOPIC_FACTS: Readonly<Record<DomainTopic, { producer: Service, consumers: readonly Service[], description: string }>> = {
  'auth-events': {
    producer: 'auth-service',
    consumers: ['user-management-service', 'payment-service', 'monitoring-service'],
    description: 'Sign-up, login/logout, password, account-lock and team events from the Authentication service.'
  },
  'user-events': {
    producer: 'user-management-service',
    consumers: ['payment-service', 'mission-service'],
    description: 'Profile updates and team joins from the User Management service.'
  },
  'payment-events': {
    producer: 'payment-service',
    consumers: ['auth-service', 'user-management-service', 'monitoring-service'],
    description: 'Toss payment completions and failures from the Payment service.'
  },
  'subscription-events': {
    producer: 'payment-service',
    consumers: ['auth-service', 'user-management-service'],
    description: 'Plan upgrades and downgrades from the Payment service.'
  },
  'mission-events': {
    producer: 'mission-service',
    consumers: ['auth-service', 'user-management-service', 'payment-service', 'ai-evaluation-service', 'monitoring-service'],
    description: 'Mission lifecycle (start, pause, resume, complete) and Kubernetes resource events from the Mission service.'
  },
  'evaluation-events': {
    producer: 'ai-evaluation-service',
    consumers: ['auth-service', 'user-management-service', 'payment-service', 'mission-service', 'monitoring-service'],
    description: 'AI evaluation lifecycle (start, complete, fail, retry) from the AI Evaluation service.'
  }
}

export function dlqTopicName (topic: string): string {
  return requireTopicName(topic + DLQ_SUFFIX)
}

function sourceTopics (): TopicSpec[] {
  return DOMAIN_TOPICS.map((name) => ({
    name,
    partitions: DEFAULT_PARTITIONS,
    cleanupPolicy: 'delete',
    role: 'source',
    description: DOMAIN_TOPIC_FACTS[name].description,
    producers: [DOMAIN_TOPIC_FACTS[name].producer],
    consumers: [...DOMAIN_TOPIC_FACTS[name].consumers, 'devtrip-streams'],
    configs: { 'retention.ms': WEEK_RETENTION }
  }))
}

function dlqTopics (): TopicSpec[] {
  return DOMAIN_TOPICS.map((name) => ({
    name: dlqTopicName(name),
    partitions: DEFAULT_PARTITIONS,
    cleanupPolicy: 'delete',
    role: 'dlq',
    description: `Records from ${name} that failed validation or processing; the original bytes, with the reason in headers.`,
    producers: ['devtrip-streams'],
    consumers: ['operators'],
    configs: { 'retention.ms': DLQ_RETENTION }
  }))
}

/** Topics the pipeline itself writes. */
const PIPELINE_TOPICS: readonly TopicSpec[] = [
  {
    name: 'resource-events',
    partitions: DEFAULT_PARTITIONS,
    cleanupPolicy: 'delete',
    role: 'output',
    description: 'ResourceProvisioningFailed and ResourceCleanupCompleted, copied from mission-events for infrastructure consumers ' +
      '(the seed names this topic in the Mission service config but produces both types to mission-events).',
    producers: ['devtrip-streams'],
    consumers: ['auth-service', 'monitoring-service'],
    configs: { 'retention.ms': WEEK_RETENTION }
  },
  {
    name: 'ticket-ledger',
    partitions: DEFAULT_PARTITIONS,
    cleanupPolicy: 'delete',
    role: 'output',
    description: 'Append-only ticket movements per user: credits from payments and plan changes, debits for completed missions.',
    producers: ['devtrip-streams'],
    consumers: ['payment-service'],
    configs: { 'retention.ms': WEEK_RETENTION }
  },
  {
    name: 'ticket-balances',
    partitions: DEFAULT_PARTITIONS,
    cleanupPolicy: 'compact',
    role: 'table',
    description: 'Latest ticket balance per user (the ledger folded into a table).',
    producers: ['devtrip-streams'],
    consumers: ['payment-service', 'devtrip-api']
  },
  {
    name: 'user-stats',
    partitions: DEFAULT_PARTITIONS,
    cleanupPolicy: 'compact',
    role: 'table',
    description: 'Latest statistics per user: logins, missions started/completed, evaluation scores.',
    producers: ['devtrip-streams'],
    consumers: ['user-management-service', 'devtrip-api']
  },
  {
    name: 'mission-results',
    partitions: DEFAULT_PARTITIONS,
    cleanupPolicy: 'delete',
    role: 'output',
    description: 'A mission attempt joined with its final evaluation: one record per finished attempt.',
    producers: ['devtrip-streams'],
    consumers: ['mission-service', 'devtrip-api'],
    configs: { 'retention.ms': WEEK_RETENTION }
  },
  {
    name: 'evaluation-review',
    partitions: DEFAULT_PARTITIONS,
    cleanupPolicy: 'delete',
    role: 'output',
    description: 'Evaluations a person must look at (needsHumanReview, exhausted retries).',
    producers: ['devtrip-streams'],
    consumers: ['operators'],
    configs: { 'retention.ms': DLQ_RETENTION }
  }
]

function freezeSpec (spec: TopicSpec): TopicSpec {
  return Object.freeze({
    ...spec,
    ...(spec.producers === undefined ? {} : { producers: Object.freeze([...spec.producers]) }),
    ...(spec.consumers === undefined ? {} : { consumers: Object.freeze([...spec.consumers]) }),
    ...(spec.configs === undefined ? {} : { configs: Object.freeze({ ...spec.configs }) })
  })
}

export const TOPIC_CATALOG: readonly TopicSpec[] = Object.freeze(
  [...sourceTopics(), ...PIPELINE_TOPICS, ...dlqTopics()].map(freezeSpec)
)

const BY_NAME: ReadonlyMap<string, TopicSpec> = new Map(TOPIC_CATALOG.map((t) => [t.name, t]))

export function findTopic (name: string): TopicSpec | undefined {
  return BY_NAME.get(name)
}

/** The catalog entry of a topic; throws DEVTRIP_UNKNOWN_TOPIC for a name the catalog does not know. */
export function topicSpec (name: string): TopicSpec {
  const spec = BY_NAME.get(name)
  if (spec === undefined) {
    throw new DevtripError('DEVTRIP_UNKNOWN_TOPIC', `topic ${JSON.stringify(name)} is not in the DevTrip topic catalog`, {
      details: { topic: name, hint: `known topics: ${TOPIC_CATALOG.map((t) => t.name).join(', ')}` }
    })
  }
  return spec
}

export function topicsByRole (role: TopicRole): TopicSpec[] {
  return TOPIC_CATALOG.filter((t) => t.role === role)
}

export function isDomainTopic (name: string): name is DomainTopic {
  return (DOMAIN_TOPICS as readonly string[]).includes(name)
}

/** Kafka's own rule: 1–249 characters of [a-zA-Z0-9._-], and not "." or "..". */
export function topicNameProblem (name: string): string | undefined {
  if (name.length === 0) return 'must not be empty'
  if (name.length > 249) return `is ${name.length} characters long; Kafka allows 249`
  if (name === '.' || name === '..') return 'must not be "." or ".."'
  if (!/^[a-zA-Z0-9._-]+$/.test(name)) return 'may only contain letters, digits, ".", "_" and "-"'
  return undefined
}

function requireTopicName (name: string): string {
  const problem = topicNameProblem(name)
  if (problem !== undefined) {
    throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `invalid topic name ${JSON.stringify(name)}: ${problem}`, {
      details: { topic: name, hint: 'application ids, store and topic names must use only [a-zA-Z0-9._-]' }
    })
  }
  return name
}

/** Engine-internal names are built from parts; an empty part would silently produce a different topic. */
function internalTopicName (applicationId: string, partName: string, part: string, suffix: string): string {
  for (const [what, value] of [['applicationId', applicationId], [partName, part]] as const) {
    if (typeof value !== 'string' || value.length === 0) {
      throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `${what} must be a non-empty string to name an internal topic`, {
        details: { [what]: value, hint: `pass the ${what} the application was configured with` }
      })
    }
  }
  return requireTopicName(`${applicationId}-${part}-${suffix}`)
}

/** `<applicationId>-<store>-changelog`: the topic backing a state store (created by the engine, compacted). */
export function changelogTopicName (applicationId: string, store: string): string {
  return internalTopicName(applicationId, 'store', store, 'changelog')
}

/** `<applicationId>-<name>-repartition`: the internal topic a key change writes through (created by the engine). */
export function repartitionTopicName (applicationId: string, name: string): string {
  return internalTopicName(applicationId, 'name', name, 'repartition')
}
