/**
 * Helpers for the evaluator's integration tests (test/integration/evaluator-*.test.ts): uniquely prefixed catalog
 * topics on the shared broker, producing catalog events the way DevTrip producers do (key userId, envelope
 * headers), reading a topic read_committed from the start, and unique queue / group / key-prefix names so runs
 * never meet in the shared Redis.
 */
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { envelopeToHeaders, recordKeyFor, type DevtripEvent } from '../../events'
import type { EvaluatorConfigInput } from '../../evaluator'
import { createKafkaClients, type KafkaAdmin, type KafkaClientFactory, type TopicPartition } from '../../streams/kafka'
import { kafkaBrokers, redisUrl } from '../support/infra-env'

export interface ReadEvent {
  readonly topic: string
  readonly partition: number
  readonly offset: bigint
  readonly key: string | null
  readonly headers: Record<string, string>
  readonly value: Record<string, any>
}

export async function waitFor<T> (what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}

export class EvaluatorKit {
  readonly run = randomBytes(4).toString('hex')
  readonly brokers = kafkaBrokers()
  readonly redisUrl = redisUrl()
  readonly kafka: KafkaClientFactory
  readonly admin: KafkaAdmin
  readonly redis: Redis
  private readonly topics: string[] = []
  private readonly keyPrefixes: string[] = []

  constructor (readonly name: string) {
    this.kafka = createKafkaClients({ brokers: this.brokers, clientId: `evaluator-test-${name}` })
    this.admin = this.kafka.createAdmin()
    this.redis = new Redis(this.redisUrl, { maxRetriesPerRequest: null })
  }

  /** `<prefix>` for catalog topics: `ev-<name>-<run>-<what>-` */
  topicPrefix (what: string): string {
    return `ev-${this.name}-${this.run}-${what}-`
  }

  /** creates `<prefix>mission-events` and `<prefix>evaluation-events` (and further logical topics) */
  async createTopics (prefix: string, logical: readonly string[] = ['mission-events', 'evaluation-events'], partitions = 2): Promise<Record<string, string>> {
    const names = Object.fromEntries(logical.map((t) => [t, prefix + t]))
    await this.admin.createTopics(Object.values(names).map((name) => ({ name, partitions, replicationFactor: 1 })))
    this.topics.push(...Object.values(names))
    return names
  }

  /** what every evaluator instance of a test shares: brokers, Redis, topics, queue, key prefix */
  serviceInput (prefix: string, overrides: EvaluatorConfigInput = {}): EvaluatorConfigInput {
    const keyPrefix = `evt-${this.name}-${this.run}`
    this.keyPrefixes.push(keyPrefix)
    return {
      brokers: this.brokers,
      redisUrl: this.redisUrl,
      missionTopic: `${prefix}mission-events`,
      evaluationTopic: `${prefix}evaluation-events`,
      groupId: `${prefix}evaluator`,
      queueName: `${prefix}queue`,
      keyPrefix,
      pollWaitMs: 200,
      clientId: `evaluator-test-${this.name}`,
      ...overrides
    }
  }

  async produce (topic: string, events: readonly DevtripEvent[]): Promise<void> {
    const producer = this.kafka.createProducer()
    try {
      await producer.send(events.map((event) => ({
        topic,
        key: Buffer.from(recordKeyFor(event as { userId: string | number })),
        value: Buffer.from(JSON.stringify(event)),
        headers: Object.entries(envelopeToHeaders(event)).map(([k, v]) => [k, Buffer.from(v)] as const),
        timestamp: event.timestamp
      })))
    } finally {
      await producer.close()
    }
  }

  /** Every record of `topic` from the start (read_committed), parsed; polls until `done(records)` or the timeout. */
  async readUntil (topic: string, done: (events: ReadEvent[]) => boolean, timeoutMs = 60_000): Promise<ReadEvent[]> {
    const [description] = await this.admin.describeTopics([topic])
    const partitions: TopicPartition[] = description!.partitions.map((p) => ({ topic, partition: p.partition }))
    const consumer = this.kafka.createAssignedConsumer({ isolationLevel: 'read_committed', autoOffsetReset: 'earliest' })
    const events: ReadEvent[] = []
    try {
      consumer.assign(partitions)
      const deadline = Date.now() + timeoutMs
      while (!done(events)) {
        if (Date.now() > deadline) throw new Error(`timed out reading ${topic}: ${events.length} record(s): ${JSON.stringify(events.map((e) => [e.value.eventType, e.value.missionAttemptId]))}`)
        for (const batch of await consumer.poll(200)) {
          for (const r of batch.records) {
            events.push({
              topic: r.topic,
              partition: r.partition,
              offset: r.offset,
              key: r.key?.toString('utf8') ?? null,
              headers: Object.fromEntries(r.headers.map(([k, v]) => [k, v?.toString('utf8') ?? ''])),
              value: JSON.parse(r.value!.toString('utf8')) as Record<string, any>
            })
          }
        }
      }
      return events
    } finally {
      await consumer.close()
    }
  }

  async close (): Promise<void> {
    await this.admin.deleteTopics(this.topics).catch(() => undefined)
    await this.admin.close()
    for (const prefix of this.keyPrefixes) {
      // the test's own keys only: BullMQ's and the submissions, all under its unique prefix
      let cursor = '0'
      do {
        const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500)
        if (keys.length > 0) await this.redis.del(...keys)
        cursor = next
      } while (cursor !== '0')
    }
    this.redis.disconnect()
  }
}

/** events of one mission attempt, by type */
export function ofAttempt (events: readonly ReadEvent[], missionAttemptId: string, type?: string): ReadEvent[] {
  return events.filter((e) => String(e.value.missionAttemptId) === missionAttemptId && (type === undefined || e.value.eventType === type))
}
