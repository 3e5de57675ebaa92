/**
 * GET /metrics: the API's Prometheus metrics (api/metrics.ts) in the text exposition format. Public, like
 * every scrape endpoint: keep the port off the internet, or put the scrape behind the network's own auth.
 */
import type { FastifyInstance } from 'fastify'

export default async function metricsRoutes (app: FastifyInstance): Promise<void> {
  app.get('/metrics', {
    config: { auth: 'public', rateLimit: false, description: 'Prometheus metrics.' }
  }, async (_request, reply) => {
    const registry = app.devtrip.metrics.registry
    reply.type(registry.contentType)
    return registry.metrics()
  })
}
