/**
 * mission-events: the six types the Mission Management service produces (seed §2.4, example §5.3).
 * The two Resource* types also appear here, not on resource-events (docs/events.md explains why).
 */
import { F, defineEvent, type EventDefinition, type EventShape, type Id } from './common'

export type MissionStartedEvent = EventShape<'MissionStarted', {
  missionId: Id
  userId: Id
  missionAttemptId?: Id
  missionTitle?: string
}>

export type MissionPausedEvent = EventShape<'MissionPaused', {
  missionId: Id
  userId: Id
  pauseReason: string
  missionAttemptId?: Id
}>

export type MissionResumedEvent = EventShape<'MissionResumed', {
  missionId: Id
  userId: Id
  /** how long the mission was paused, in milliseconds */
  pauseDuration: number
  missionAttemptId?: Id
}>

export type MissionCompletedEvent = EventShape<'MissionCompleted', {
  missionAttemptId: Id
  userId: Id
  missionId: Id
  /** the submitted source code */
  code: string
  email?: string
  missionTitle?: string
  language?: string
  /** epoch ms; also stands in for `timestamp` when the event has none (the §5.3 example) */
  completedAt?: number
  /** milliseconds the submission ran */
  executionTime?: number
}>

export type ResourceProvisioningFailedEvent = EventShape<'ResourceProvisioningFailed', {
  userId: Id
  missionId: Id
  failureReason: string
  /** 0 = the first attempt failed, n = the n-th retry failed */
  retryAttempt: number
  missionAttemptId?: Id
}>

export type ResourceCleanupCompletedEvent = EventShape<'ResourceCleanupCompleted', {
  userId: Id
  missionId: Id
  /** what started the clean-up (e.g. "MISSION_COMPLETED", "TIMEOUT") */
  cleanupTrigger: string
  /** the names of the cleaned resources, or just how many there were */
  resourcesCleaned: string[] | number
  missionAttemptId?: Id
}>

const AUTH = 'auth-service' as const
const UM = 'user-management-service' as const
const PAY = 'payment-service' as const
const AI = 'ai-evaluation-service' as const

/** the seed does not say whether resourcesCleaned is a list or a count; both are plausible, both are accepted */
const resourcesCleaned = {
  type: ['array', 'integer'],
  items: { type: 'string', minLength: 1 },
  minimum: 0
}

export const MISSION_EVENT_DEFINITIONS: readonly EventDefinition[] = [
  defineEvent('MissionStarted', {
    description: 'A user started a mission (POST /api/missions/{id}/start).',
    producer: 'mission-service',
    consumers: [AUTH, UM, PAY],
    required: { missionId: F.id, userId: F.id },
    optional: { missionAttemptId: F.id, missionTitle: F.text }
  }),
  defineEvent('MissionPaused', {
    description: 'A user paused a mission (POST /api/missions/{id}/pause).',
    producer: 'mission-service',
    consumers: [AUTH, UM],
    required: { missionId: F.id, userId: F.id, pauseReason: F.text },
    optional: { missionAttemptId: F.id }
  }),
  defineEvent('MissionResumed', {
    description: 'A user resumed a paused mission (POST /api/missions/{id}/resume).',
    producer: 'mission-service',
    consumers: [AUTH, UM],
    required: { missionId: F.id, userId: F.id, pauseDuration: F.durationMs },
    optional: { missionAttemptId: F.id }
  }),
  defineEvent('MissionCompleted', {
    description: 'A user submitted a mission (POST /api/missions/{id}/complete); triggers the AI evaluation.',
    producer: 'mission-service',
    consumers: [AI, UM, PAY],
    required: { missionAttemptId: F.id, userId: F.id, missionId: F.id, code: F.string },
    optional: {
      email: F.email,
      missionTitle: F.text,
      language: F.text,
      completedAt: F.timestamp,
      executionTime: F.durationMs
    },
    timestampFallback: 'completedAt'
  }),
  defineEvent('ResourceProvisioningFailed', {
    description: 'Kubernetes resources for a mission could not be provisioned (automatic).',
    producer: 'mission-service',
    consumers: [AUTH],
    required: { userId: F.id, missionId: F.id, failureReason: F.text, retryAttempt: F.count },
    optional: { missionAttemptId: F.id }
  }),
  defineEvent('ResourceCleanupCompleted', {
    description: "A mission's Kubernetes resources were cleaned up (automatic).",
    producer: 'mission-service',
    consumers: [AUTH],
    required: { userId: F.id, missionId: F.id, cleanupTrigger: F.text, resourcesCleaned },
    optional: { missionAttemptId: F.id }
  })
]
