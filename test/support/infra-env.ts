/**
 * Where integration tests find the broker and Redis. The jest global setup puts the addresses in
 * KAFKA_BROKERS / REDIS_URL (either the ones you gave it or those of the isolated infra it started);
 * jest workers inherit them.
 */

function required (name: string): string {
  const value = process.env[name]
  if (value === undefined || value.trim() === '') {
    throw new Error(`${name} is not set: run integration tests through jest's "integration" project (its global setup provides it), or export ${name}`)
  }
  return value.trim()
}

/** KAFKA_BROKERS split into "host:port" strings, ready for a client's bootstrapBrokers. */
export function kafkaBrokers (): string[] {
  const brokers = required('KAFKA_BROKERS').split(',').map((b) => b.trim()).filter((b) => b !== '')
  if (brokers.length === 0) throw new Error('KAFKA_BROKERS holds no broker address')
  return brokers
}

/** REDIS_URL, e.g. "redis://127.0.0.1:16379". */
export function redisUrl (): string {
  return required('REDIS_URL')
}
