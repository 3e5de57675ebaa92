/**
 * The 25 DevTrip event types, their canonical names and the aliases the seed document uses for them.
 *
 * Canonical name = the seed's Java class name without the `Event` suffix (`UserSignedUpEvent` → `UserSignedUp`).
 * The seed writes the same type three more ways, and producers following it will send all of them, so each
 * canonical name accepts exactly these aliases (docs/events.md, "Resolving the seed's inconsistencies"):
 *   - the class name:                  `UserSignedUpEvent`
 *   - the dotted `{domain}.{event}` form, used for mission/evaluation in the seed (§4.3, §5.3, §5.4) and
 *     recommended for every service (§4.1): `mission.completed`, `evaluation.completed`, `auth.user-signed-up`
 *   - the Spring `__TypeId__` header value, a fully-qualified class name: `com.devtrip.auth.UserSignedUpEvent`
 *     (resolved in envelope.ts by taking the part after the last dot).
 * Matching is exact (case-sensitive): a name that differs only in case is more likely a bug than an alias.
 */

/** the six domain topics of seed §1.3, one per producing domain */
export const DOMAIN_TOPICS = [
  'auth-events',
  'user-events',
  'payment-events',
  'subscription-events',
  'mission-events',
  'evaluation-events'
] as const
export type DomainTopic = (typeof DOMAIN_TOPICS)[number]

/** The services of seed §2 (names as in its docker-compose commands, §8.1). */
export const SERVICES = [
  'auth-service',
  'user-management-service',
  'payment-service',
  'mission-service',
  'ai-evaluation-service',
  'monitoring-service'
] as const
export type Service = (typeof SERVICES)[number]

export const EVENT_TYPES = [
  // auth-events (seed §2.1)
  'UserSignedUp',
  'UserLoggedIn',
  'UserLoggedOut',
  'PasswordResetRequested',
  'PasswordChanged',
  'AccountLocked',
  'TeamCreated',
  'TeamMemberAdded',
  // user-events (§2.2)
  'UserProfileUpdated',
  'UserTeamJoined',
  // payment-events and subscription-events (§2.3)
  'PaymentCompleted',
  'PaymentFailed',
  'PlanUpgraded',
  'PlanDowngraded',
  // mission-events (§2.4)
  'MissionStarted',
  'MissionPaused',
  'MissionResumed',
  'MissionCompleted',
  'ResourceProvisioningFailed',
  'ResourceCleanupCompleted',
  // evaluation-events (§2.5)
  'EvaluationStarted',
  'EvaluationCompleted',
  'EvaluationFailed',
  'EvaluationRetryRequested',
  'EvaluationRetryCompleted'
] as const
export type EventType = (typeof EVENT_TYPES)[number]

/** Which domain topic each type is produced to (the seed's producer tables). */
export const EVENT_TOPIC: Readonly<Record<EventType, DomainTopic>> = Object.freeze({
  UserSignedUp: 'auth-events',
  UserLoggedIn: 'auth-events',
  UserLoggedOut: 'auth-events',
  PasswordResetRequested: 'auth-events',
  PasswordChanged: 'auth-events',
  AccountLocked: 'auth-events',
  TeamCreated: 'auth-events',
  TeamMemberAdded: 'auth-events',
  UserProfileUpdated: 'user-events',
  UserTeamJoined: 'user-events',
  PaymentCompleted: 'payment-events',
  PaymentFailed: 'payment-events',
  PlanUpgraded: 'subscription-events',
  PlanDowngraded: 'subscription-events',
  MissionStarted: 'mission-events',
  MissionPaused: 'mission-events',
  MissionResumed: 'mission-events',
  MissionCompleted: 'mission-events',
  ResourceProvisioningFailed: 'mission-events',
  ResourceCleanupCompleted: 'mission-events',
  EvaluationStarted: 'evaluation-events',
  EvaluationCompleted: 'evaluation-events',
  EvaluationFailed: 'evaluation-events',
  EvaluationRetryRequested: 'evaluation-events',
  EvaluationRetryCompleted: 'evaluation-events'
})

const EVENT_TYPE_SET: ReadonlySet<string> = new Set(EVENT_TYPES)

export function isEventType (name: string): name is EventType {
  return EVENT_TYPE_SET.has(name)
}

/** `auth-events` → `auth`: the `{domain}` part of the dotted alias. */
function topicDomain (topic: DomainTopic): string {
  return topic.slice(0, -'-events'.length)
}

/** `ResourceProvisioningFailed` → `resource-provisioning-failed` */
function kebab (pascal: string): string {
  return pascal.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()
}

/**
 * The dotted alias: `{domain}.{event}`, where the event part drops a leading word equal to the domain
 * (MissionCompleted on mission-events → `mission.completed`, exactly the seed's §4.3 names) and keeps
 * the whole name otherwise (UserSignedUp on auth-events → `auth.user-signed-up`, the seed's §4.1 example).
 */
export function dottedEventName (type: EventType): string {
  const domain = topicDomain(EVENT_TOPIC[type])
  const words = kebab(type)
  const rest = words.startsWith(domain + '-') ? words.slice(domain.length + 1) : words
  return `${domain}.${rest}`
}

/** Every accepted spelling of a type, canonical first. */
export function eventTypeAliases (type: EventType): readonly string[] {
  return [type, `${type}Event`, dottedEventName(type)]
}

const ALIAS_TO_TYPE: ReadonlyMap<string, EventType> = (() => {
  const map = new Map<string, EventType>()
  for (const type of EVENT_TYPES) {
    for (const alias of eventTypeAliases(type)) {
      const taken = map.get(alias)
      // the alias rule must stay unambiguous; this fails at load time if a future type breaks it
      if (taken !== undefined && taken !== type) throw new Error(`event type alias ${alias} names both ${taken} and ${type}`)
      map.set(alias, type)
    }
  }
  return map
})()

/** Canonical type for any accepted spelling, or undefined for an unknown name. */
export function canonicalEventType (name: string): EventType | undefined {
  return ALIAS_TO_TYPE.get(name)
}
