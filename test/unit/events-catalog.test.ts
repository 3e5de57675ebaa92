/**
 * The catalog as a whole: 25 types with schemas, a valid fixture per type, seeded samples, the topic catalog.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import Ajv2020 from 'ajv/dist/2020'
import {
  DOMAIN_TOPICS,
  EVENT_DEFINITIONS,
  EVENT_TYPES,
  TOPIC_CATALOG,
  bundledEventSchema,
  changelogTopicName,
  createSampleGenerator,
  dlqTopicName,
  eventCatalog,
  eventTypesOnTopic,
  findTopic,
  isDevtripError,
  normalizeEvent,
  repartitionTopicName,
  requireEventType,
  sampleEvent,
  topicNameProblem,
  topicOfEventType,
  topicSpec,
  topicsByRole
} from '../../events'

const validDir = join(__dirname, '..', 'fixtures', 'events', 'valid')

describe('event catalog', () => {
  it('has the 25 types of the seed producer tables, 8/2/2/2/6/5 per topic', () => {
    expect(EVENT_TYPES).toHaveLength(25)
    expect(DOMAIN_TOPICS.map((t) => [t, eventTypesOnTopic(t).length])).toEqual([
      ['auth-events', 8], ['user-events', 2], ['payment-events', 2], ['subscription-events', 2], ['mission-events', 6], ['evaluation-events', 5]
    ])
  })

  it('gives each type a draft 2020-12 schema with its own $id, requiring userId', () => {
    const ids = new Set<string>()
    for (const d of EVENT_DEFINITIONS) {
      expect(d.schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema')
      expect(d.schema.$id).toBe(`https://devtrip.dev/schemas/${d.type}/1.json`)
      expect(d.requiredFields).toContain('userId')
      ids.add(d.schemaId)
    }
    expect(ids.size).toBe(25)
  })

  it('records the fields it added to the seed tables', () => {
    const added = Object.fromEntries(EVENT_DEFINITIONS.filter((d) => d.addedFields.length > 0).map((d) => [d.type, d.addedFields]))
    expect(added).toEqual({
      TeamCreated: ['userId'],
      EvaluationRetryRequested: ['userId', 'missionAttemptId'],
      EvaluationRetryCompleted: ['userId', 'missionAttemptId']
    })
    for (const type of ['EvaluationStarted', 'EvaluationFailed', 'EvaluationRetryRequested', 'EvaluationRetryCompleted', 'EvaluationCompleted'] as const) {
      expect(EVENT_DEFINITIONS.find((d) => d.type === type)!.requiredFields).toContain('missionAttemptId')
    }
  })

  it('lists producer, consumers and schema id per type (the `events list` rows)', () => {
    const byType = Object.fromEntries(eventCatalog().map((e) => [e.type, e]))
    expect(byType.UserSignedUp).toMatchObject({ topic: 'auth-events', producer: 'auth-service', consumers: ['user-management-service', 'payment-service'], aliases: ['UserSignedUpEvent', 'auth.user-signed-up'] })
    expect(byType.MissionCompleted).toMatchObject({ topic: 'mission-events', producer: 'mission-service', consumers: ['ai-evaluation-service', 'user-management-service', 'payment-service'], aliases: ['MissionCompletedEvent', 'mission.completed'] })
    expect(byType.PaymentCompleted!.consumers).toEqual(['user-management-service'])
  })

  it('resolves names or throws DEVTRIP_UNKNOWN_EVENT_TYPE', () => {
    expect(requireEventType('evaluation.completed')).toBe('EvaluationCompleted')
    expect(() => requireEventType('auth.*')).toThrow(/unknown event type "auth\.\*"/)
  })

  it('bundles each schema into a standalone document a plain Ajv accepts', () => {
    // a plain Ajv: no custom keywords (strict off) and no format plugin — the structure alone must still hold
    const ajv = new Ajv2020({ strict: false, validateFormats: false, logger: false })
    for (const type of EVENT_TYPES) {
      const schema = bundledEventSchema(type)
      expect(JSON.stringify(schema)).not.toContain('common/1.json')
      const validate = ajv.compile(schema)
      expect(validate(sampleEvent(type))).toBe(true)
    }
  })
})

describe('fixtures: one valid event per type', () => {
  const files = readdirSync(validDir).filter((f) => f.endsWith('.json')).sort()

  it('covers all 25 types', () => {
    expect(files.map((f) => f.replace(/\.json$/, ''))).toEqual([...EVENT_TYPES].sort())
  })

  it.each(EVENT_TYPES.map((t) => [t]))('%s.json validates as %s', (type) => {
    const result = normalizeEvent(JSON.parse(readFileSync(join(validDir, `${type}.json`), 'utf8')))
    if (!result.ok) throw new Error(JSON.stringify(result.errors))
    expect(result.event.eventType).toBe(type)
  })
})

describe('sample events', () => {
  it.each(EVENT_TYPES.map((t) => [t]))('%s: valid, on its topic, identical for the same seed', (type) => {
    const sample = sampleEvent(type)
    const again = normalizeEvent(sample, { topic: topicOfEventType(type) })
    expect(again).toEqual({ ok: true, event: sample })
    expect(sampleEvent(type)).toEqual(sample)
    expect(sampleEvent(type, {}, 2)).not.toEqual(sample)
  })

  it('applies overrides, removes fields given as undefined, and refuses overrides that make it invalid', () => {
    expect(sampleEvent('PaymentCompleted', { amount: 9900, orderId: undefined })).toMatchObject({ amount: 9900 })
    expect(sampleEvent('PaymentCompleted', { orderId: undefined })).not.toHaveProperty('orderId')
    expect(sampleEvent('TeamCreated', { userId: 5 })).toMatchObject({ userId: 5, creatorId: 5 })
    try {
      sampleEvent('PaymentCompleted', { amount: -1 })
      throw new Error('accepted')
    } catch (error) {
      expect(isDevtripError(error, 'DEVTRIP_INVALID_EVENT')).toBe(true)
      expect((error as Error).message).toMatch(/\/amount must be > 0/)
    }
  })

  it('a generator yields a reproducible stream of varied events', () => {
    const a = createSampleGenerator(42)
    const b = createSampleGenerator(42)
    const streamA = Array.from({ length: 50 }, () => a.anyEvent())
    const streamB = Array.from({ length: 50 }, () => b.anyEvent())
    expect(streamA).toEqual(streamB)
    expect(new Set(streamA.map((e) => e.eventType)).size).toBeGreaterThan(10)
    expect(new Set(streamA.map((e) => e.eventId)).size).toBe(50)
    expect(() => createSampleGenerator(1.5)).toThrow(/seed must be an integer/)
  })
})

describe('topic catalog', () => {
  it('has the six domain topics as 6-partition delete sources, each with a long-retention DLQ', () => {
    expect(topicsByRole('source').map((t) => t.name)).toEqual([...DOMAIN_TOPICS])
    for (const topic of DOMAIN_TOPICS) {
      expect(topicSpec(topic)).toMatchObject({ partitions: 6, cleanupPolicy: 'delete', role: 'source' })
      const dlq = topicSpec(dlqTopicName(topic))
      expect(dlq).toMatchObject({ name: `${topic}.dlq`, role: 'dlq', cleanupPolicy: 'delete' })
      expect(Number(dlq.configs!['retention.ms'])).toBeGreaterThan(Number(topicSpec(topic).configs!['retention.ms']))
    }
  })

  it('has the pipeline topics with their roles and cleanup policies', () => {
    const facts = (name: string): [string, string] => [topicSpec(name).role, topicSpec(name).cleanupPolicy]
    expect(facts('resource-events')).toEqual(['output', 'delete'])
    expect(facts('ticket-ledger')).toEqual(['output', 'delete'])
    expect(facts('ticket-balances')).toEqual(['table', 'compact'])
    expect(facts('user-stats')).toEqual(['table', 'compact'])
    expect(facts('mission-results')).toEqual(['output', 'delete'])
    expect(facts('evaluation-review')).toEqual(['output', 'delete'])
  })

  it('uses one partition count everywhere (co-partitioning), valid names, no duplicates, frozen entries', () => {
    expect(new Set(TOPIC_CATALOG.map((t) => t.partitions))).toEqual(new Set([6]))
    expect(new Set(TOPIC_CATALOG.map((t) => t.name)).size).toBe(TOPIC_CATALOG.length)
    for (const t of TOPIC_CATALOG) expect(topicNameProblem(t.name)).toBeUndefined()
    expect(Object.isFrozen(TOPIC_CATALOG[0])).toBe(true)
    expect(() => { (TOPIC_CATALOG as Array<unknown>).push({}) }).toThrow(TypeError)
  })

  it('knows no seed-only names: mission.completed is an event type alias, not a topic', () => {
    expect(findTopic('mission.completed')).toBeUndefined()
    try {
      topicSpec('mission.completed')
    } catch (error) {
      expect(isDevtripError(error, 'DEVTRIP_UNKNOWN_TOPIC')).toBe(true)
    }
    expect.assertions(2)
  })

  it('names internal topics like Kafka Streams and refuses names Kafka would refuse', () => {
    expect(changelogTopicName('devtrip-stats', 'user-stats-store')).toBe('devtrip-stats-user-stats-store-changelog')
    expect(repartitionTopicName('devtrip-stats', 'by-mission')).toBe('devtrip-stats-by-mission-repartition')
    expect(() => changelogTopicName('app', 'bad store')).toThrow(/may only contain letters, digits/)
    expect(() => repartitionTopicName('', 'x')).toThrow(/applicationId must be a non-empty string/)
    expect(() => changelogTopicName('a'.repeat(240), 'store')).toThrow(/Kafka allows 249/)
  })
})
