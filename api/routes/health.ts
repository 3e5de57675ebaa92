/**
 * Liveness and readiness, both public (probes carry no tokens).
 *   GET /healthz   the process answers (nothing else is checked: a broker outage must not get it restarted)
 *   GET /readyz    the broker answers and every ingest topic exists, and Redis answers; 503 otherwise, with
 *                  each check's result in details.checks
 */
import type { FastifyInstance } from 'fastify'
import { causeSummary, unavailable } from '../api-error'

export interface CheckResult {
  readonly ok: boolean
  readonly ms: number
  readonly error?: Record<string, unknown>
}

async function timed (work: () => Promise<void>, timeoutMs: number): Promise<CheckResult> {
  const started = Date.now()
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      work(),
      new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs) })
    ])
    return { ok: true, ms: Date.now() - started }
  } catch (error) {
    return { ok: false, ms: Date.now() - started, error: causeSummary(error) }
  } finally {
    clearTimeout(timer)
  }
}

export default async function healthRoutes (app: FastifyInstance): Promise<void> {
  const open = { auth: 'public', rateLimit: false } as const

  app.get('/healthz', { config: { ...open, description: 'Liveness: the process answers.' } }, async () => ({ status: 'ok' }))

  app.get('/readyz', { config: { ...open, description: 'Readiness: the broker (with every ingest topic) and Redis answer.' } }, async () => {
    const { publisher, idempotency, config, ingestTopics } = app.devtrip
    const timeout = config.readinessTimeoutMs
    const [kafka, redis] = await Promise.all([
      timed(() => publisher.checkReady(ingestTopics, timeout), timeout),
      timed(() => idempotency.ping(), timeout)
    ])
    const checks = { kafka, redis }
    if (!kafka.ok || !redis.ok) {
      const down = [kafka.ok ? '' : 'the Kafka broker (or an ingest topic)', redis.ok ? '' : 'Redis'].filter((s) => s !== '').join(' and ')
      throw unavailable(`not ready: ${down} did not answer`, config.producer.retryAfterSeconds, { checks })
    }
    return { status: 'ready', checks }
  })
}
