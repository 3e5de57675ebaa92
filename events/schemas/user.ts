/**
 * user-events: the two types the User Management service produces (seed §2.2).
 */
import { F, defineEvent, type EventDefinition, type EventShape, type Id } from './common'

export type UserProfileUpdatedEvent = EventShape<'UserProfileUpdated', {
  userId: Id
  /** the changed profile fields; the seed does not fix their names, so any JSON object is accepted */
  profileData: Record<string, unknown>
}>

export type UserTeamJoinedEvent = EventShape<'UserTeamJoined', {
  userId: Id
  teamId: Id
}>

const PAY = 'payment-service' as const
const MISSION = 'mission-service' as const

export const USER_EVENT_DEFINITIONS: readonly EventDefinition[] = [
  defineEvent('UserProfileUpdated', {
    description: 'A user updated their profile (PUT /api/users/profile).',
    producer: 'user-management-service',
    consumers: [PAY, MISSION],
    required: { userId: F.id, profileData: F.object }
  }),
  defineEvent('UserTeamJoined', {
    description: 'A user joined a team (POST /api/users/teams/join).',
    producer: 'user-management-service',
    consumers: [PAY, MISSION],
    required: { userId: F.id, teamId: F.id }
  })
]
