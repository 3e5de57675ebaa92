/**
 * The seed document's own examples (§5.1–5.4), stored verbatim in test/fixtures/events/seed/, must be
 * accepted as given, and normalise to what the catalog promises.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ENVELOPE_FIELDS, ENVELOPE_HEADERS, normalizeEvent, recordKeyFor } from '../../events'

const seedDir = join(__dirname, '..', 'fixtures', 'events', 'seed')
const seedExample = (name: string): Record<string, unknown> => JSON.parse(readFileSync(join(seedDir, name), 'utf8')) as Record<string, unknown>

describe('seed §5 examples', () => {
  it('§5.2 UserSignedUpEvent validates as given once its type is named (the body carries none)', () => {
    const body = seedExample('UserSignedUp.json')
    expect(body.eventType).toBeUndefined()
    const result = normalizeEvent(body, { type: 'UserSignedUpEvent' })
    if (!result.ok) throw new Error(JSON.stringify(result.errors))
    expect(result.event).toMatchObject({
      eventType: 'UserSignedUp',
      userId: 123,
      authUserId: 'auth_user_123',
      email: 'user@devtrip.com',
      ipAddress: '192.168.1.100',
      timestamp: 1705312200000,
      source: 'auth-service',
      version: '1.0'
    })
    expect(result.event.eventId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(recordKeyFor(result.event)).toBe('123')
  })

  it('§5.2 without a type anywhere is rejected at /eventType, not guessed', () => {
    const result = normalizeEvent(seedExample('UserSignedUp.json'))
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.errors.map((e) => e.pointer)).toEqual(['/eventType'])
  })

  it('§5.3 MissionCompletedEvent validates as given; mission.completed → MissionCompleted, completedAt stands in for timestamp', () => {
    const result = normalizeEvent(seedExample('MissionCompleted.json'))
    if (!result.ok) throw new Error(JSON.stringify(result.errors))
    expect(result.event).toMatchObject({
      eventType: 'MissionCompleted',
      missionAttemptId: 'attempt_789',
      missionId: 'mission_1',
      missionTitle: '첫 번째 JavaScript 미션',
      language: 'javascript',
      completedAt: 1705312500000,
      executionTime: 1500,
      timestamp: 1705312500000,
      source: 'mission-service'
    })
    expect(recordKeyFor(result.event)).toBe('123')
  })

  it('§5.4 EvaluationCompletedEvent validates as given, details and all', () => {
    const result = normalizeEvent(seedExample('EvaluationCompleted.json'), { topic: 'evaluation-events' })
    if (!result.ok) throw new Error(JSON.stringify(result.errors))
    expect(result.event).toMatchObject({
      eventType: 'EvaluationCompleted',
      evaluationId: 'eval_999',
      score: 85,
      maxScore: 100,
      details: { syntax: 95, logic: 80, performance: 85, bestPractices: 80 },
      feedback: '우수한 구현입니다. 에러 핸들링을 추가하면 더 좋겠습니다.',
      timestamp: 1705312800000,
      source: 'ai-evaluation-service'
    })
  })

  it('§5.1 names exactly the five envelope fields, which are also the header names', () => {
    const template = seedExample('envelope.json')
    expect(Object.keys(template)).toEqual([...ENVELOPE_FIELDS])
    expect(Object.values(ENVELOPE_HEADERS)).toEqual([...ENVELOPE_FIELDS])
  })

  it('§5.1 taken literally (placeholders as values) is not an event and says why per field', () => {
    const result = normalizeEvent(seedExample('envelope.json'))
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.errors).toEqual([{ pointer: '/eventType', message: expect.stringContaining('"string" is not a known event type') }])
  })
})
