/**
 * Seeded sample events: a valid, normalised event of any type, the same for the same seed on every run
 * and machine (tests, the chaos generator and the API's examples rely on that).
 *
 *   sampleEvent('MissionCompleted', { userId: 7 })      // one event, seed 1
 *   const gen = createSampleGenerator(42); gen.event('PaymentCompleted'); gen.event(...)  // a reproducible stream
 *
 * Overrides are applied before validation; an override of `undefined` removes the field. A sample that the
 * overrides made invalid throws DEVTRIP_INVALID_EVENT — to get an invalid event on purpose, mutate a sample.
 */
import { DevtripError } from './errors'
import { EVENT_TYPES, type EventType } from './event-types'
import type { EventByType } from './catalog'
import { normalizeEvent } from './normalize'
import type { Id } from './schemas/common'

/** mulberry32: a tiny 32-bit PRNG; plenty for test data, and identical on every platform. */
function mulberry32 (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** 2024-01-15T09:50:00Z, the seed's §5.2 timestamp: samples fall in the 30 days after it. */
const BASE_TIME = 1705312200000
const THIRTY_DAYS = 30 * 24 * 60 * 60 * 1000
const PLANS = ['FREE', 'BASIC', 'PRO', 'TEAM'] as const
const LANGUAGES = ['javascript', 'typescript', 'python', 'java', 'go'] as const

class Draw {
  constructor (private readonly random: () => number) {}
  /** integer in [min, max] */
  int (min: number, max: number): number { return min + Math.floor(this.random() * (max - min + 1)) }
  pick<T> (items: readonly T[]): T { return items[this.int(0, items.length - 1)]! }
  id (prefix: string): string { return `${prefix}_${this.int(1, 99_999)}` }
  userId (): number { return this.int(1, 1000) }
  time (): number { return BASE_TIME + this.int(0, THIRTY_DAYS) }
  ip (): string { return `10.${this.int(0, 255)}.${this.int(0, 255)}.${this.int(1, 254)}` }
  /** a version-4-shaped UUID from the PRNG (so ids are reproducible too) */
  uuid (): string {
    const hex = Array.from({ length: 32 }, () => this.int(0, 15).toString(16))
    hex[12] = '4'
    hex[16] = (8 + this.int(0, 3)).toString(16)
    const s = hex.join('')
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`
  }
}

/** Type-specific payload fields (the envelope is added for all types in event()). */
const PAYLOADS: Readonly<Record<EventType, (d: Draw, userId: Id) => Record<string, unknown>>> = {
  UserSignedUp: (d, userId) => ({ userId, authUserId: `auth_user_${userId}`, email: `user${userId}@devtrip.dev`, ipAddress: d.ip() }),
  UserLoggedIn: (d, userId) => ({ userId, email: `user${userId}@devtrip.dev`, ipAddress: d.ip(), userAgent: d.pick(['Mozilla/5.0 (X11; Linux x86_64)', 'Mozilla/5.0 (Macintosh)', 'DevTripApp/2.1 (iOS)']) }),
  UserLoggedOut: (_d, userId) => ({ userId }),
  PasswordResetRequested: (d, userId) => ({ userId, email: `user${userId}@devtrip.dev`, ipAddress: d.ip() }),
  PasswordChanged: (_d, userId) => ({ userId }),
  AccountLocked: (d, userId) => ({ userId, reason: d.pick(['TOO_MANY_FAILED_LOGINS', 'SUSPICIOUS_ACTIVITY', 'ADMIN_ACTION']) }),
  TeamCreated: (d, userId) => ({ teamId: d.id('team'), creatorId: userId, userId, teamName: `Team ${d.int(1, 999)}` }),
  TeamMemberAdded: (d, userId) => ({ teamId: d.id('team'), userId, role: d.pick(['MEMBER', 'ADMIN']) }),
  UserProfileUpdated: (d, userId) => ({ userId, profileData: { nickname: `dev${userId}`, bio: d.pick(['hello', 'learning Kafka', '']) } }),
  UserTeamJoined: (d, userId) => ({ userId, teamId: d.id('team') }),
  PaymentCompleted: (d, userId) => ({ paymentId: d.id('pay'), userId, amount: d.pick([9900, 19000, 29000]), planType: d.pick(PLANS.slice(1)), currency: 'KRW', orderId: d.id('order') }),
  PaymentFailed: (d, userId) => ({ paymentId: d.id('pay'), userId, failureReason: d.pick(['CARD_DECLINED', 'INSUFFICIENT_FUNDS', 'TIMEOUT']) }),
  PlanUpgraded: (d, userId) => {
    const from = d.int(0, PLANS.length - 2)
    return { userId, fromPlan: PLANS[from], toPlan: PLANS[d.int(from + 1, PLANS.length - 1)] }
  },
  PlanDowngraded: (d, userId) => {
    const from = d.int(1, PLANS.length - 1)
    return { userId, fromPlan: PLANS[from], toPlan: PLANS[d.int(0, from - 1)] }
  },
  MissionStarted: (d, userId) => ({ missionId: d.id('mission'), userId, missionAttemptId: d.id('attempt') }),
  MissionPaused: (d, userId) => ({ missionId: d.id('mission'), userId, pauseReason: d.pick(['USER_REQUEST', 'BREAK', 'NETWORK']) }),
  MissionResumed: (d, userId) => ({ missionId: d.id('mission'), userId, pauseDuration: d.int(1_000, 3_600_000) }),
  MissionCompleted: (d, userId) => ({
    missionAttemptId: d.id('attempt'),
    userId,
    missionId: d.id('mission'),
    code: "function hello() { return 'Hello, DevTrip!'; }",
    language: d.pick(LANGUAGES),
    executionTime: d.int(10, 5_000)
  }),
  ResourceProvisioningFailed: (d, userId) => ({ userId, missionId: d.id('mission'), failureReason: d.pick(['IMAGE_PULL_BACKOFF', 'QUOTA_EXCEEDED']), retryAttempt: d.int(0, 3) }),
  ResourceCleanupCompleted: (d, userId) => ({ userId, missionId: d.id('mission'), cleanupTrigger: d.pick(['MISSION_COMPLETED', 'TIMEOUT']), resourcesCleaned: ['pod', 'service'].slice(0, d.int(1, 2)) }),
  EvaluationStarted: (d, userId) => ({ evaluationId: d.id('eval'), missionAttemptId: d.id('attempt'), userId }),
  EvaluationCompleted: (d, userId) => ({
    evaluationId: d.id('eval'),
    missionAttemptId: d.id('attempt'),
    userId,
    score: d.int(0, 100),
    maxScore: 100,
    feedback: 'Clear structure; add error handling.',
    details: { syntax: d.int(0, 100), logic: d.int(0, 100), performance: d.int(0, 100), bestPractices: d.int(0, 100) }
  }),
  EvaluationFailed: (d, userId) => ({ evaluationId: d.id('eval'), missionAttemptId: d.id('attempt'), userId, failureReason: d.pick(['MODEL_TIMEOUT', 'RATE_LIMITED', 'INVALID_RESPONSE']) }),
  EvaluationRetryRequested: (d, userId) => ({ evaluationId: d.id('eval'), originalEvaluationId: d.id('orig'), retryAttempt: d.int(1, 3), userId, missionAttemptId: d.id('attempt') }),
  EvaluationRetryCompleted: (d, userId) => ({ evaluationId: d.id('eval'), originalEvaluationId: d.id('orig'), retryAttempt: d.int(1, 3), finalScore: d.int(0, 100), needsHumanReview: d.int(0, 3) === 0, userId, missionAttemptId: d.id('attempt') })
}

/** Field overrides: any field, typed where the event type knows it; `undefined` removes the field. */
export type SampleOverrides<T extends EventType> = Partial<EventByType[T]> & Record<string, unknown>

export interface SampleGenerator {
  /** the next sample of one type */
  event<T extends EventType> (type: T, overrides?: SampleOverrides<T>): EventByType[T]
  /** the next sample of a type drawn from `types` (default: all 25) */
  anyEvent (types?: readonly EventType[]): EventByType[EventType]
}

export function createSampleGenerator (seed = 1): SampleGenerator {
  if (!Number.isInteger(seed)) {
    throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `sample seed must be an integer, got ${seed}`, { details: { hint: 'pass a whole number' } })
  }
  const draw = new Draw(mulberry32(seed))
  const event = <T extends EventType>(type: T, overrides: SampleOverrides<T> = {} as SampleOverrides<T>): EventByType[T] => {
    const payload = PAYLOADS[type]
    if (payload === undefined) {
      throw new DevtripError('DEVTRIP_UNKNOWN_EVENT_TYPE', `no sample for event type ${JSON.stringify(type)}`, { details: { hint: 'use a canonical type name from `devtrip-streams events list`' } })
    }
    const drawnUserId = draw.userId()
    const raw: Record<string, unknown> = {
      eventId: draw.uuid(),
      eventType: type,
      timestamp: draw.time(),
      version: '1.0',
      // an overridden userId is used inside the payload too (TeamCreated's creatorId, emails), keeping it consistent
      ...payload(draw, overrides.userId !== undefined ? overrides.userId as Id : drawnUserId),
      ...overrides
    }
    if (type === 'MissionCompleted' && !('completedAt' in overrides)) raw.completedAt = raw.timestamp
    for (const [field, value] of Object.entries(raw)) if (value === undefined) delete raw[field]
    const result = normalizeEvent(raw, { type })
    if (!result.ok) {
      throw new DevtripError('DEVTRIP_INVALID_EVENT', `the overrides make this ${type} sample invalid: ${result.errors.map((e) => `${e.pointer} ${e.message}`).join('; ')}`, {
        details: { errors: result.errors, hint: 'to build an invalid event on purpose, mutate a valid sample' }
      })
    }
    return result.event as EventByType[T]
  }
  return {
    event,
    anyEvent: (types = EVENT_TYPES) => event(draw.pick(types))
  }
}

/** One valid sample of `type`, identical for identical arguments. */
export function sampleEvent<T extends EventType> (type: T, overrides?: SampleOverrides<T>, seed = 1): EventByType[T] {
  return createSampleGenerator(seed).event(type, overrides)
}
