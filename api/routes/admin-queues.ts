/**
 * GET /admin/queues: the BullMQ dashboard (bull-board) for the evaluation queue — jobs waiting, running, done,
 * failed, their data, progress (the events a job saved) and results; retry and clean actions. Admin only: every
 * route bull-board adds here (the page, its JSON API, its static files) gets `config.scopes = ['admin']`, so the
 * API's auth plugin asks for a bearer token with the admin scope (401 without one, 403 with another scope).
 *
 * The queues come from `buildApiServer({ extras: { adminQueues } })`: this module cannot open them itself (api/
 * does not depend on evaluator/, and the server hands routes no Redis connection). The process that starts the
 * API opens them — `openDashboardQueues(redisUrl)` in evaluator/ names the evaluation queue exactly as the
 * evaluator does — and closes them after the server. Without queues, /admin/queues answers 503 saying so.
 */
import type { Queue } from 'bullmq'
import type { FastifyInstance } from 'fastify'
import { unavailable } from '../api-error'
import { ADMIN_SCOPE } from '../tokens'

export const ADMIN_QUEUES_PATH = '/admin/queues'

declare module '../context' {
  interface ExtraServices {
    /** BullMQ queues shown by the dashboard at /admin/queues */
    adminQueues: readonly Queue[]
  }
}

export default async function adminQueuesRoutes (app: FastifyInstance): Promise<void> {
  // every route of this plugin, bull-board's included, needs the admin scope; it is admin traffic, so not rate limited
  app.addHook('onRoute', (route) => {
    route.config = { ...(route.config ?? {}), scopes: [ADMIN_SCOPE], rateLimit: false, description: (route.config as { description?: string } | undefined)?.description ?? 'BullMQ dashboard (bull-board); admin only.' }
  })

  const queues = app.devtrip.extras.adminQueues ?? []
  if (queues.length === 0) {
    app.get(ADMIN_QUEUES_PATH, { config: { description: 'BullMQ dashboard; 503 when this API process was started without queues.' } }, async () => {
      throw unavailable('no queues are configured for the dashboard in this API process', app.devtrip.config.producer.retryAfterSeconds, {
        hint: 'start the API with buildApiServer({ extras: { adminQueues: openDashboardQueues(redisUrl).queues } })'
      })
    })
    return
  }

  // loaded only when there is something to show: bull-board brings @fastify/static, view engines and ESM-only
  // helpers that an API process without queues (and its tests) need not load
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { createBullBoard } = require('@bull-board/api') as typeof import('@bull-board/api')
  const { BullMQAdapter } = require('@bull-board/api/bullMQAdapter') as typeof import('@bull-board/api/bullMQAdapter')
  const { FastifyAdapter } = require('@bull-board/fastify') as typeof import('@bull-board/fastify')
  /* eslint-enable @typescript-eslint/no-require-imports */
  const serverAdapter = new FastifyAdapter()
  serverAdapter.setBasePath(ADMIN_QUEUES_PATH)
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue)),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'DevTrip queues' } }
  })
  await app.register(serverAdapter.registerPlugin(), { prefix: ADMIN_QUEUES_PATH })
}
