/**
 * Consumer-group lag over HTTP, from the injected lag service (`buildApiServer({ lag: new StreamsOverview(kafka) })`,
 * streams/tools/overview.ts). Needs a token with the `read` (or `admin`) scope.
 *   GET /v1/lag            the newest lag sample: per group and partition the committed offset, log end offset,
 *                          last stable offset, lag, read_committed lag, lag in seconds, rates and catch-up ETA,
 *                          group state and members — the same JSON as `devtrip-streams lag --json`.
 *                          ?group=G (repeatable) keeps only those groups.
 *   GET /v1/lag/overview   the dashboard document: lag, per-group history, DLQ topics, restore progress
 *   GET /v1/lag/stream     the same document as server-sent events (`event: overview`), one per lag sample
 * 503 when this process was started without a lag service.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { lagSnapshotToJson, type LagSnapshot, type OverviewDocument, type OverviewListener } from '../../streams/tools'
import { ApiError, unavailable } from '../api-error'
import type { LagService } from '../context'
import { READ_SCOPE } from '../tokens'

/** What the lag routes need; StreamsOverview implements it. */
export interface LagServiceMethods {
  lag (): Promise<LagSnapshot>
  overview (): Promise<OverviewDocument>
  subscribe (listener: OverviewListener): () => void
}

declare module '../context' {
  // eslint-disable-next-line @typescript-eslint/no-empty-interface
  interface LagService extends LagServiceMethods {}
}

/** SSE comment lines keep proxies from closing a quiet stream. */
const KEEPALIVE_MS = 15_000

function groupsFilter (query: unknown): string[] | undefined {
  const raw = (query as { group?: unknown } | undefined)?.group
  if (raw === undefined) return undefined
  const list = Array.isArray(raw) ? raw : [raw]
  if (!list.every((g): g is string => typeof g === 'string' && g.length > 0 && g.length <= 255)) {
    throw new ApiError('DEVTRIP_API_BAD_REQUEST', 'group must be a non-empty consumer group id (repeat ?group= for several)', { details: { parameter: 'group' } })
  }
  return list
}

export default async function lagRoutes (app: FastifyInstance): Promise<void> {
  const config = { scopes: [READ_SCOPE] as const }
  const streams = new Set<FastifyReply>()

  function service (): LagService {
    const lag = app.devtrip.lag
    if (lag === undefined) {
      throw unavailable('consumer lag is not available in this process', app.devtrip.config.producer.retryAfterSeconds, {
        hint: 'start the API with a lag service (buildApiServer({ lag: new StreamsOverview(kafka) }))'
      })
    }
    return lag
  }

  app.get('/v1/lag', {
    config: { ...config, description: 'Consumer-group lag per partition: offsets, lag in records and seconds, rates, catch-up ETA, members.' }
  }, async (request) => {
    const wanted = groupsFilter(request.query)
    const snapshot = await service().lag()
    const groups = wanted === undefined ? snapshot.groups : snapshot.groups.filter((g) => wanted.includes(g.groupId))
    return lagSnapshotToJson({ ...snapshot, groups })
  })

  app.get('/v1/lag/overview', {
    config: { ...config, description: 'The dashboard document: lag per group with history, DLQ topics, restore progress.' }
  }, async () => service().overview())

  app.get('/v1/lag/stream', {
    config: { ...config, description: 'The dashboard document as server-sent events, one per lag sample.' }
  }, async (request: FastifyRequest, reply: FastifyReply) => {
    const lag = service()
    const first = await lag.overview()
    reply.hijack()
    const out = reply.raw
    out.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': String(request.id)
    })
    const send = (document: OverviewDocument): void => {
      out.write(`event: overview\nid: ${document.takenAt ?? 0}\ndata: ${JSON.stringify(document)}\n\n`)
    }
    // the browser reconnects after this long if the stream breaks
    out.write('retry: 3000\n\n')
    send(first)
    const unsubscribe = lag.subscribe(send)
    const keepalive = setInterval(() => out.write(': keepalive\n\n'), KEEPALIVE_MS)
    streams.add(reply)
    const done = (): void => {
      clearInterval(keepalive)
      unsubscribe()
      streams.delete(reply)
    }
    request.raw.on('close', done)
    out.on('close', done)
  })

  // an open event stream would hold app.close() until the client leaves: end them first
  app.addHook('preClose', async () => {
    for (const reply of streams) reply.raw.end()
    streams.clear()
  })
}
