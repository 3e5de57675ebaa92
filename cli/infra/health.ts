/**
 * "Is it really answering?" checks: a Kafka metadata request through @platformatic/kafka and a
 * Redis PING through ioredis. An open port is not enough — a KRaft broker accepts connections on
 * its client port only once it is unfenced, but we still want one full request/response to succeed.
 */
import type * as PlatformaticKafka from '@platformatic/kafka' with { 'resolution-mode': 'import' }
import type * as IoRedis from 'ioredis'

// @platformatic/kafka is ESM-only; this CommonJS build loads it through require(esm) (Node >= 20.19)
// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadKafka = (): typeof PlatformaticKafka => require('@platformatic/kafka') as typeof PlatformaticKafka
// loaded on first use too, so CLI commands that never probe do not pay for it
// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadRedis = (): typeof IoRedis => require('ioredis') as typeof IoRedis

export interface HealthResult {
  healthy: boolean
  /** why not, when not healthy */
  error?: string
}

export interface KafkaHealth extends HealthResult {
  clusterId?: string
  brokerCount?: number
}

/** Splits a KAFKA_BROKERS value ("h:p,h:p") into its elements. */
export function splitBrokers (brokers: string | readonly string[]): string[] {
  const list = typeof brokers === 'string' ? brokers.split(',') : [...brokers]
  return list.map((b) => b.trim()).filter((b) => b !== '')
}

/** One metadata request (no topics) against the cluster; healthy when it lists at least one broker. */
export async function kafkaHealth (brokers: string | readonly string[], timeoutMs = 5000): Promise<KafkaHealth> {
  const bootstrapBrokers = splitBrokers(brokers)
  if (bootstrapBrokers.length === 0) return { healthy: false, error: 'no broker address given' }
  const { Admin } = loadKafka()
  const admin = new Admin({
    clientId: 'devtrip-infra-probe',
    bootstrapBrokers,
    retries: 0,
    timeout: timeoutMs,
    connectTimeout: timeoutMs,
    requestTimeout: timeoutMs
  })
  try {
    const metadata = await admin.metadata({ topics: [] })
    if (metadata.brokers.size === 0) return { healthy: false, error: 'metadata lists no brokers yet' }
    return { healthy: true, clusterId: metadata.id, brokerCount: metadata.brokers.size }
  } catch (error) {
    return { healthy: false, error: describeError(error) }
  } finally {
    await admin.close().catch(() => {})
  }
}

/** PING → PONG on a fresh connection that never retries (a probe must fail fast). */
export async function redisHealth (url: string, timeoutMs = 3000): Promise<HealthResult> {
  const { Redis } = loadRedis()
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null
  })
  client.on('error', () => {}) // reported through the rejected promise below
  try {
    await client.connect()
    const answer = await client.ping()
    return answer === 'PONG' ? { healthy: true } : { healthy: false, error: `PING answered ${answer}` }
  } catch (error) {
    return { healthy: false, error: describeError(error) }
  } finally {
    client.disconnect()
  }
}

function describeError (error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return describeError(error.errors[0])
  if (error instanceof Error) {
    const nested = (error as { errors?: unknown[] }).errors
    if (Array.isArray(nested) && nested.length > 0) return `${error.message}: ${describeError(nested[0])}`
    return error.message
  }
  return String(error)
}
