/**
 * Request metrics: every answered request is counted by method, route pattern (never the raw URL, whose ids
 * would make the label set unbounded) and status, and timed; error answers are also counted by reason.
 */
import type { ApiMetrics } from '../metrics'
import { ApiMetrics as Metrics } from '../metrics'
import { globalPlugin } from './global-plugin'

export const metricsPlugin = globalPlugin<{ metrics: ApiMetrics }>('devtrip-metrics', async (app, options) => {
  const { metrics } = options
  app.addHook('onResponse', async (request, reply) => {
    const route = request.is404 ? 'unmatched' : (request.routeOptions.url ?? 'unmatched')
    metrics.requests.inc({ method: request.method, route, status: String(reply.statusCode) })
    metrics.latency.observe({ method: request.method, route }, reply.elapsedTime / 1000)
    if (reply.statusCode >= 400) metrics.rejectedRequests.inc({ reason: Metrics.reasonOf(request.errorCode ?? `http_${reply.statusCode}`) })
  })
})
