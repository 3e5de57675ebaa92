/**
 * What the API's integration tests share: the six domain topics behind a run-unique prefix, an API server
 * on real Kafka and Redis listening on a loopback port, end offsets of every partition, and reading back
 * what was committed.
 */
import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import { DOMAIN_TOPICS, DEFAULT_PARTITIONS } from '../../events'
import {
  createKafkaClients, type ConsumedRecord, type KafkaAdmin, type KafkaClientFactory, type PartitionBatch, type TopicPartition
} from '../../streams/kafka'
import { buildApiServer, type ApiConfigInput, type QueriesService } from '../../api'
import { testTokenConfig } from '../unit/api-fakes'

export { bearer, tokenOf } from '../unit/api-fakes'

export function runId (): string {
  return randomBytes(4).toString('hex')
}

export function brokersFromEnv (): string[] {
  return (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',').map((b) => b.trim()).filter((b) => b !== '')
}

export function redisUrlFromEnv (): string {
  return process.env.REDIS_URL ?? 'redis://127.0.0.1:16379'
}

/** Creates `<prefix><domain topic>` for the six domain topics (catalog partition count). */
export async function createDomainTopics (admin: KafkaAdmin, prefix: string): Promise<string[]> {
  const names = DOMAIN_TOPICS.map((t) => prefix + t)
  await admin.createTopics(names.map((name) => ({ name, partitions: DEFAULT_PARTITIONS, replicationFactor: 1 })))
  return names
}

export function partitionsOf (topics: readonly string[]): TopicPartition[] {
  return topics.flatMap((topic) => Array.from({ length: DEFAULT_PARTITIONS }, (_, partition) => ({ topic, partition })))
}

/** "topic:partition" → high watermark (read_uncommitted: even an aborted write would move it). */
export async function endOffsets (admin: KafkaAdmin, topics: readonly string[]): Promise<Record<string, string>> {
  const offsets = await admin.listOffsets(partitionsOf(topics), 'latest', 'read_uncommitted')
  return Object.fromEntries(offsets.map((o) => [`${o.topic}:${o.partition}`, o.offset.toString()]))
}

/** Waits until no transaction is open on the partitions (the commit markers are written after EndTxn returns). */
export async function settled (admin: KafkaAdmin, topics: readonly string[], timeoutMs = 20_000): Promise<void> {
  const partitions = partitionsOf(topics)
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const stable = await admin.listOffsets(partitions, 'latest', 'read_committed')
    const high = await admin.listOffsets(partitions, 'latest', 'read_uncommitted')
    if (stable.every((s, i) => s.offset === high[i]!.offset)) return
    if (Date.now() > deadline) throw new Error(`transactions still open on ${topics.join(', ')} after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/**
 * Every committed record of the topics (read_committed, from the beginning). `settleTimeoutMs`: how long to wait for
 * open transactions to end first (after a broker outage, the coordinator aborts them only once they time out).
 */
export async function readCommitted (kafka: KafkaClientFactory, admin: KafkaAdmin, topics: readonly string[], settleTimeoutMs = 20_000): Promise<ConsumedRecord[]> {
  await settled(admin, topics, settleTimeoutMs)
  const partitions = partitionsOf(topics)
  const ends = await admin.listOffsets(partitions, 'latest', 'read_committed')
  const consumer = kafka.createAssignedConsumer({ isolationLevel: 'read_committed' })
  const records: ConsumedRecord[] = []
  try {
    consumer.assign(partitions)
    for (const tp of partitions) consumer.seek(tp, 'earliest')
    const deadline = Date.now() + 30_000
    const done = (): boolean => consumer.partitionStates().every((s) => {
      const end = ends.find((e) => e.topic === s.topic && e.partition === s.partition)!.offset
      return s.position !== null && s.position >= end
    })
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`readCommitted: not caught up after 30 s (${records.length} records)`)
      const batches: PartitionBatch[] = await consumer.poll(200)
      for (const b of batches) records.push(...b.records)
    }
    return records
  } finally {
    await consumer.close()
  }
}

export function headerOf (record: ConsumedRecord, name: string): string | undefined {
  const found = record.headers.find(([n]) => n === name)
  return found?.[1]?.toString('utf8')
}

export interface RunningApi {
  app: FastifyInstance
  url: string
  redis: Redis
  kafka: KafkaClientFactory
  close (): Promise<void>
}

/** An API server on real Kafka and Redis, on a free loopback port, with its own idempotency key space. */
export async function startApi (options: { brokers: string[], redisUrl: string, config: ApiConfigInput, connection?: { requestTimeoutMs?: number, connectTimeoutMs?: number, operationTimeoutMs?: number }, queries?: QueriesService }): Promise<RunningApi> {
  const redis = new Redis(options.redisUrl, { enableOfflineQueue: true, maxRetriesPerRequest: 1 })
  const kafka = createKafkaClients({ brokers: options.brokers, clientId: 'api-itest', ...(options.connection ?? {}) })
  const app = await buildApiServer({
    tokens: testTokenConfig,
    kafka,
    redis,
    logger: false,
    ...(options.queries === undefined ? {} : { queries: options.queries }),
    config: {
      port: 0,
      ...options.config,
      idempotency: { keyPrefix: `itest:${runId()}:`, ...(options.config.idempotency ?? {}) },
      producer: { transactionalIdPrefix: `api-itest-${runId()}`, ...(options.config.producer ?? {}) }
    }
  })
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  return {
    app,
    url,
    redis,
    kafka,
    close: async () => {
      await app.close()
      await redis.quit().catch(() => redis.disconnect())
    }
  }
}

export interface HttpResult {
  status: number
  headers: Headers
  json: any
  text: string
}

/** One HTTP request to the API over loopback. */
export async function http (url: string, init: { method?: string, headers?: Record<string, string>, body?: string | Uint8Array }): Promise<HttpResult> {
  const response = await fetch(url, { method: init.method ?? 'POST', headers: init.headers, body: init.body })
  const text = await response.text()
  let json: unknown
  try {
    json = text === '' ? undefined : JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: response.status, headers: response.headers, json, text }
}
