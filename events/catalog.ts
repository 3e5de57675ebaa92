/**
 * The event catalog: one definition per event type (schema, producer, consumers, topic), gathered from the
 * per-topic schema files, plus the TypeScript union of all normalised events.
 */
import { DevtripError } from './errors'
import { EVENT_TOPIC, EVENT_TYPES, canonicalEventType, eventTypeAliases, type DomainTopic, type EventType, type Service } from './event-types'
import type { EventDefinition } from './schemas/common'
import {
  AUTH_EVENT_DEFINITIONS,
  type AccountLockedEvent,
  type PasswordChangedEvent,
  type PasswordResetRequestedEvent,
  type TeamCreatedEvent,
  type TeamMemberAddedEvent,
  type UserLoggedInEvent,
  type UserLoggedOutEvent,
  type UserSignedUpEvent
} from './schemas/auth'
import { USER_EVENT_DEFINITIONS, type UserProfileUpdatedEvent, type UserTeamJoinedEvent } from './schemas/user'
import {
  PAYMENT_EVENT_DEFINITIONS,
  type PaymentCompletedEvent,
  type PaymentFailedEvent,
  type PlanDowngradedEvent,
  type PlanUpgradedEvent
} from './schemas/payment'
import {
  MISSION_EVENT_DEFINITIONS,
  type MissionCompletedEvent,
  type MissionPausedEvent,
  type MissionResumedEvent,
  type MissionStartedEvent,
  type ResourceCleanupCompletedEvent,
  type ResourceProvisioningFailedEvent
} from './schemas/mission'
import {
  EVALUATION_EVENT_DEFINITIONS,
  type EvaluationCompletedEvent,
  type EvaluationFailedEvent,
  type EvaluationRetryCompletedEvent,
  type EvaluationRetryRequestedEvent,
  type EvaluationStartedEvent
} from './schemas/evaluation'

/** The normalised event of each type, as normalizeEvent() returns it. */
export interface EventByType {
  UserSignedUp: UserSignedUpEvent
  UserLoggedIn: UserLoggedInEvent
  UserLoggedOut: UserLoggedOutEvent
  PasswordResetRequested: PasswordResetRequestedEvent
  PasswordChanged: PasswordChangedEvent
  AccountLocked: AccountLockedEvent
  TeamCreated: TeamCreatedEvent
  TeamMemberAdded: TeamMemberAddedEvent
  UserProfileUpdated: UserProfileUpdatedEvent
  UserTeamJoined: UserTeamJoinedEvent
  PaymentCompleted: PaymentCompletedEvent
  PaymentFailed: PaymentFailedEvent
  PlanUpgraded: PlanUpgradedEvent
  PlanDowngraded: PlanDowngradedEvent
  MissionStarted: MissionStartedEvent
  MissionPaused: MissionPausedEvent
  MissionResumed: MissionResumedEvent
  MissionCompleted: MissionCompletedEvent
  ResourceProvisioningFailed: ResourceProvisioningFailedEvent
  ResourceCleanupCompleted: ResourceCleanupCompletedEvent
  EvaluationStarted: EvaluationStartedEvent
  EvaluationCompleted: EvaluationCompletedEvent
  EvaluationFailed: EvaluationFailedEvent
  EvaluationRetryRequested: EvaluationRetryRequestedEvent
  EvaluationRetryCompleted: EvaluationRetryCompletedEvent
}

/** Any normalised DevTrip event; narrow on `eventType`. */
export type DevtripEvent = EventByType[EventType]

/** Every definition, in EVENT_TYPES order. */
export const EVENT_DEFINITIONS: readonly EventDefinition[] = (() => {
  const all = [
    ...AUTH_EVENT_DEFINITIONS,
    ...USER_EVENT_DEFINITIONS,
    ...PAYMENT_EVENT_DEFINITIONS,
    ...MISSION_EVENT_DEFINITIONS,
    ...EVALUATION_EVENT_DEFINITIONS
  ]
  const byType = new Map(all.map((d) => [d.type, d]))
  // exactly one definition per type, or the module refuses to load (a forgotten type would be unvalidatable)
  if (byType.size !== all.length || byType.size !== EVENT_TYPES.length) {
    throw new Error(`event catalog: ${all.length} definitions for ${EVENT_TYPES.length} types`)
  }
  return Object.freeze(EVENT_TYPES.map((t) => byType.get(t)!))
})()

const DEFINITION_BY_TYPE: ReadonlyMap<EventType, EventDefinition> = new Map(EVENT_DEFINITIONS.map((d) => [d.type, d]))

export function eventDefinition (type: EventType): EventDefinition {
  return DEFINITION_BY_TYPE.get(type)!
}

/** Resolves any accepted spelling to its definition; throws DEVTRIP_UNKNOWN_EVENT_TYPE otherwise. */
export function requireEventType (name: string): EventType {
  const type = canonicalEventType(name)
  if (type === undefined) {
    throw new DevtripError('DEVTRIP_UNKNOWN_EVENT_TYPE', `unknown event type ${JSON.stringify(name)}`, {
      details: { eventType: name, hint: 'run `devtrip-streams events list` for the known types' }
    })
  }
  return type
}

export function topicOfEventType (type: EventType): DomainTopic {
  return EVENT_TOPIC[type]
}

export function eventTypesOnTopic (topic: string): EventType[] {
  return EVENT_TYPES.filter((t) => EVENT_TOPIC[t] === topic)
}

/** One row of `events list`: what a reader of the catalog needs to know about a type. */
export interface EventCatalogEntry {
  type: EventType
  topic: DomainTopic
  producer: Service
  consumers: Service[]
  schemaId: string
  aliases: string[]
  requiredFields: string[]
  optionalFields: string[]
  addedFields: string[]
  description: string
}

export function eventCatalog (): EventCatalogEntry[] {
  return EVENT_DEFINITIONS.map((d) => ({
    type: d.type,
    topic: EVENT_TOPIC[d.type],
    producer: d.producer,
    consumers: [...d.consumers],
    schemaId: d.schemaId,
    aliases: eventTypeAliases(d.type).slice(1),
    requiredFields: [...d.requiredFields],
    optionalFields: [...d.optionalFields],
    addedFields: [...d.addedFields],
    description: d.description
  }))
}
