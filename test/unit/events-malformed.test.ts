/**
 * Malformed events fail with the exact JSON pointer of the bad field and a reason naming the problem.
 * Each case starts from a valid fixture (test/fixtures/events/valid/<Type>.json) and breaks one thing.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { normalizeEvent, type EventType, type NormalizeOptions } from '../../events'

type Body = Record<string, unknown>
const validDir = join(__dirname, '..', 'fixtures', 'events', 'valid')
const fixture = (type: EventType): Body => JSON.parse(readFileSync(join(validDir, `${type}.json`), 'utf8')) as Body

interface Case {
  name: string
  type: EventType
  mutate: (body: Body) => unknown
  pointer: string
  message: RegExp
  options?: NormalizeOptions
}

const without = (field: string) => (b: Body): Body => { delete b[field]; return b }
const set = (field: string, value: unknown) => (b: Body): Body => ({ ...b, [field]: value })

const CASES: Case[] = [
  { name: 'missing required email', type: 'UserSignedUp', mutate: without('email'), pointer: '/email', message: /^is required$/ },
  { name: 'email that is not an address', type: 'UserSignedUp', mutate: set('email', 'not-an-email'), pointer: '/email', message: /email address, got "not-an-email"/ },
  { name: 'impossible IPv4 address', type: 'UserLoggedIn', mutate: set('ipAddress', '999.1.1.1'), pointer: '/ipAddress', message: /IPv4 or IPv6/ },
  { name: 'userId 0', type: 'UserLoggedOut', mutate: set('userId', 0), pointer: '/userId', message: /positive integer, got 0/ },
  { name: 'empty userId string', type: 'PasswordChanged', mutate: set('userId', ''), pointer: '/userId', message: /must not be empty/ },
  { name: 'userId with surrounding whitespace (a different record key)', type: 'PasswordChanged', mutate: set('userId', ' 123'), pointer: '/userId', message: /whitespace/ },
  { name: 'fractional userId', type: 'AccountLocked', mutate: set('userId', 1.5), pointer: '/userId', message: /must be integer or string, got number 1.5/ },
  { name: 'boolean userId', type: 'AccountLocked', mutate: set('userId', true), pointer: '/userId', message: /must be integer or string, got boolean/ },
  { name: 'userId beyond 2^53 (already rounded by JSON.parse)', type: 'UserTeamJoined', mutate: set('userId', 2 ** 60), pointer: '/userId', message: /send it as a string/ },
  { name: 'timestamp in epoch seconds', type: 'UserLoggedIn', mutate: set('timestamp', 1705312200), pointer: '/timestamp', message: /epoch seconds/ },
  { name: 'date-time without a zone', type: 'UserLoggedIn', mutate: set('timestamp', '2024-01-15T09:50:00'), pointer: '/timestamp', message: /no time-zone offset/ },
  { name: 'a date that does not exist', type: 'UserLoggedIn', mutate: set('timestamp', '2024-02-30T00:00:00Z'), pointer: '/timestamp', message: /not a real calendar date-time/ },
  { name: 'epoch ms as a string in the body', type: 'UserLoggedIn', mutate: set('timestamp', '1705312200000'), pointer: '/timestamp', message: /must be a JSON number/ },
  { name: 'the §5.1 placeholder "uuid" as eventId', type: 'UserSignedUp', mutate: set('eventId', 'uuid'), pointer: '/eventId', message: /UUID/ },
  { name: 'schema version 2', type: 'PasswordChanged', mutate: set('version', '2.0'), pointer: '/version', message: /only schema version 1 exists/ },
  { name: 'team creator and userId differ', type: 'TeamCreated', mutate: set('userId', 999), pointer: '/userId', message: /must equal creatorId \(123\)/ },
  { name: 'TeamCreated as the seed table has it (no userId)', type: 'TeamCreated', mutate: without('userId'), pointer: '/userId', message: /^is required$/ },
  { name: 'score above maxScore', type: 'EvaluationCompleted', mutate: (b) => ({ ...b, score: 120, maxScore: 100 }), pointer: '/score', message: /at most maxScore \(100\), got 120/ },
  { name: 'score above the default scale of 100', type: 'EvaluationCompleted', mutate: set('score', 100.5), pointer: '/score', message: /at most maxScore \(100\)/ },
  { name: 'detail criterion above 100', type: 'EvaluationCompleted', mutate: set('details', { syntax: 95, logic: 101 }), pointer: '/details/logic', message: /must be <= 100, got 101/ },
  { name: 'detail criterion as a string', type: 'EvaluationCompleted', mutate: set('details', { syntax: '95' }), pointer: '/details/syntax', message: /must be number, got string "95"/ },
  { name: 'extra criterion key with a slash is escaped in the pointer', type: 'EvaluationCompleted', mutate: set('details', { 'a/b~c': 'high' }), pointer: '/details/a~1b~0c', message: /must be number/ },
  { name: 'plan "upgrade" to the same plan', type: 'PlanUpgraded', mutate: set('toPlan', 'FREE'), pointer: '/toPlan', message: /must differ from fromPlan/ },
  { name: 'negative pause duration', type: 'MissionResumed', mutate: set('pauseDuration', -1), pointer: '/pauseDuration', message: /must be >= 0, got -1/ },
  { name: 'fractional retry attempt', type: 'ResourceProvisioningFailed', mutate: set('retryAttempt', 1.5), pointer: '/retryAttempt', message: /must be integer, got number 1.5/ },
  { name: 'evaluation retry attempt 0', type: 'EvaluationRetryRequested', mutate: set('retryAttempt', 0), pointer: '/retryAttempt', message: /must be >= 1, got 0/ },
  { name: 'retry without missionAttemptId (added field)', type: 'EvaluationRetryRequested', mutate: without('missionAttemptId'), pointer: '/missionAttemptId', message: /^is required$/ },
  { name: 'retry of itself', type: 'EvaluationRetryRequested', mutate: set('originalEvaluationId', 'eval_1002'), pointer: '/originalEvaluationId', message: /must differ from evaluationId/ },
  { name: 'needsHumanReview as a string', type: 'EvaluationRetryCompleted', mutate: set('needsHumanReview', 'yes'), pointer: '/needsHumanReview', message: /must be boolean, got string "yes"/ },
  { name: 'profileData that is not an object', type: 'UserProfileUpdated', mutate: set('profileData', 'nickname=x'), pointer: '/profileData', message: /must be object, got string/ },
  { name: 'zero payment amount', type: 'PaymentCompleted', mutate: set('amount', 0), pointer: '/amount', message: /must be > 0, got 0/ },
  { name: 'lower-case currency code', type: 'PaymentCompleted', mutate: set('currency', 'krw'), pointer: '/currency', message: /must match \^\[A-Z\]\{3\}\$/ },
  { name: 'empty resource name in resourcesCleaned', type: 'ResourceCleanupCompleted', mutate: set('resourcesCleaned', ['pod/a', '']), pointer: '/resourcesCleaned/1', message: /must not be empty/ },
  { name: 'unknown event type name', type: 'MissionCompleted', mutate: set('eventType', 'mission.finished'), pointer: '/eventType', message: /"mission.finished" is not a known event type/ },
  { name: 'eventType that is not a string', type: 'MissionCompleted', mutate: set('eventType', 7), pointer: '/eventType', message: /must be a string naming the event type, got integer/ },
  { name: 'body and expected type disagree', type: 'MissionCompleted', mutate: (b) => b, options: { type: 'evaluation.completed' }, pointer: '/eventType', message: /the expected type says EvaluationCompleted but the body says MissionCompleted/ },
  { name: 'event on the wrong topic', type: 'MissionCompleted', mutate: (b) => b, options: { topic: 'auth-events' }, pointer: '/eventType', message: /belongs on mission-events, not on auth-events/ },
  { name: 'MissionCompleted with neither timestamp nor completedAt', type: 'MissionCompleted', mutate: without('timestamp'), pointer: '/timestamp', message: /is required: give it in the body, in the timestamp header or as the record timestamp/ },
  { name: 'an array instead of one event', type: 'UserSignedUp', mutate: (b) => [b], pointer: '', message: /must be a JSON object \(one event\), got array/ },
  { name: 'null', type: 'UserSignedUp', mutate: () => null, pointer: '', message: /got null/ }
]

describe('malformed events fail with the exact pointer', () => {
  it('has at least twenty cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(20)
  })

  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const result = normalizeEvent(c.mutate(fixture(c.type)), c.options)
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.errors).toHaveLength(1)
    expect(result.errors[0]!.pointer).toBe(c.pointer)
    expect(result.errors[0]!.message).toMatch(c.message)
  })

  it('reports every problem at once (allErrors), one per pointer', () => {
    const body: Body = { ...fixture('EvaluationCompleted'), userId: 0, score: -1, feedback: 5, details: { logic: 'x', syntax: 200 } }
    delete body.evaluationId
    const result = normalizeEvent(body)
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.eventType).toBe('EvaluationCompleted')
    expect(result.errors.map((e) => e.pointer).sort()).toEqual(['/details/logic', '/details/syntax', '/evaluationId', '/feedback', '/score', '/userId'])
  })

  it('accepts unknown extra fields but still type-checks the known optional ones', () => {
    const extra = normalizeEvent({ ...fixture('MissionCompleted'), ideName: 'vscode', attempts: [1, 2] })
    expect(extra.ok && extra.event).toMatchObject({ ideName: 'vscode', attempts: [1, 2] })
    const badOptional = normalizeEvent({ ...fixture('MissionCompleted'), executionTime: '1500ms' })
    expect(!badOptional.ok && badOptional.errors).toEqual([{ pointer: '/executionTime', message: 'must be number, got string "1500ms"' }])
  })
})
