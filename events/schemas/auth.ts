/**
 * auth-events: the eight types the Authentication service produces (seed §2.1, example §5.2).
 */
import { F, defineEvent, sameId, type EventDefinition, type EventShape, type Id } from './common'
import { pointerOf } from '../event-error'

export type UserSignedUpEvent = EventShape<'UserSignedUp', {
  userId: Id
  email: string
  ipAddress: string
}>

export type UserLoggedInEvent = EventShape<'UserLoggedIn', {
  userId: Id
  email: string
  ipAddress: string
  userAgent: string
}>

export type UserLoggedOutEvent = EventShape<'UserLoggedOut', {
  userId: Id
}>

export type PasswordResetRequestedEvent = EventShape<'PasswordResetRequested', {
  userId: Id
  email: string
  ipAddress: string
}>

export type PasswordChangedEvent = EventShape<'PasswordChanged', {
  userId: Id
}>

export type AccountLockedEvent = EventShape<'AccountLocked', {
  userId: Id
  reason: string
}>

export type TeamCreatedEvent = EventShape<'TeamCreated', {
  teamId: Id
  creatorId: Id
  teamName: string
  /** added by this catalog: the creator again, so the event is keyed by user like every other one */
  userId: Id
}>

export type TeamMemberAddedEvent = EventShape<'TeamMemberAdded', {
  teamId: Id
  userId: Id
  role: string
}>

/** Consumers per the seed's "수신 서비스" column. */
const UM = 'user-management-service' as const
const PAY = 'payment-service' as const

export const AUTH_EVENT_DEFINITIONS: readonly EventDefinition[] = [
  defineEvent('UserSignedUp', {
    description: 'A new user signed up (POST /api/auth/signup).',
    producer: 'auth-service',
    consumers: [UM, PAY],
    required: { userId: F.id, email: F.email, ipAddress: F.ipAddress }
  }),
  defineEvent('UserLoggedIn', {
    description: 'A user logged in (POST /api/auth/login).',
    producer: 'auth-service',
    consumers: [UM, PAY],
    required: { userId: F.id, email: F.email, ipAddress: F.ipAddress, userAgent: F.text }
  }),
  defineEvent('UserLoggedOut', {
    description: 'A user logged out (POST /api/auth/logout).',
    producer: 'auth-service',
    consumers: [UM],
    required: { userId: F.id }
  }),
  defineEvent('PasswordResetRequested', {
    description: 'A user asked for a password reset (POST /api/auth/password-reset).',
    producer: 'auth-service',
    consumers: [UM],
    required: { userId: F.id, email: F.email, ipAddress: F.ipAddress }
  }),
  defineEvent('PasswordChanged', {
    description: 'A user changed their password (PUT /api/auth/password).',
    producer: 'auth-service',
    consumers: [UM],
    required: { userId: F.id }
  }),
  defineEvent('AccountLocked', {
    description: 'An account was locked automatically (e.g. too many failed logins).',
    producer: 'auth-service',
    consumers: [UM],
    required: { userId: F.id, reason: F.text }
  }),
  defineEvent('TeamCreated', {
    description: 'A user created a team (POST /api/teams). userId repeats creatorId so the event is keyed by user.',
    producer: 'auth-service',
    consumers: [UM],
    required: { teamId: F.id, creatorId: F.id, teamName: F.text, userId: F.id },
    added: ['userId'],
    check: (body) => sameId(body.userId, body.creatorId)
      ? []
      : [{ pointer: pointerOf('userId'), message: `must equal creatorId (${JSON.stringify(body.creatorId)}): a team event is keyed by its creator` }]
  }),
  defineEvent('TeamMemberAdded', {
    description: 'A member was added to a team (POST /api/teams/{id}/members).',
    producer: 'auth-service',
    consumers: [UM],
    required: { teamId: F.id, userId: F.id, role: F.text }
  })
]
