/**
 * Query routes, answered from the topologies' state through the injected QueriesService (api/queries.ts).
 *   GET /v1/users/:userId/stats
 *   GET /v1/users/:userId/tickets?limit=N        (N: 1–100, default 20)
 *   GET /v1/mission-attempts/:missionAttemptId
 * 200 with the value (and `x-devtrip-served-by: host:port` when the service says which instance answered); 404 for
 * an unknown id; 503 (Retry-After, `details.reason`) while the state restores, while no instance owns the key
 * (rebalancing, not running) or when this process serves no queries. Needs a token with the `read` (or `admin`) scope.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { recordKeyFor } from '../../events'
import { ApiError, unavailable } from '../api-error'
import { DEFAULT_TICKET_LIMIT, isRestoringError, MAX_TICKET_LIMIT, QueryUnavailableError, SERVED_BY_HEADER, type QueriesService, type QueryContext } from '../queries'
import { READ_SCOPE } from '../tokens'

/** An id from the path, held to the same rules as an id in an event (it is a record key). */
function pathId (name: string, value: string): string {
  try {
    return recordKeyFor({ userId: value })
  } catch {
    throw new ApiError('DEVTRIP_API_BAD_REQUEST', `the ${name} in the path must be 1–200 characters without surrounding whitespace`, { details: { parameter: name } })
  }
}

function ticketLimit (query: unknown): number {
  const raw = (query as { limit?: unknown } | undefined)?.limit
  if (raw === undefined) return DEFAULT_TICKET_LIMIT
  const limit = typeof raw === 'string' && /^[0-9]{1,4}$/.test(raw) ? Number(raw) : NaN
  if (!(limit >= 1 && limit <= MAX_TICKET_LIMIT)) {
    throw new ApiError('DEVTRIP_API_BAD_REQUEST', `limit must be a whole number from 1 to ${MAX_TICKET_LIMIT}`, { details: { parameter: 'limit' } })
  }
  return limit
}

export default async function queryRoutes (app: FastifyInstance): Promise<void> {
  const config = { scopes: [READ_SCOPE] as const }

  /** Runs one query with the service's contract: value → 200, undefined → 404, not yet → 503 (details.reason). */
  async function answer<T> (request: FastifyRequest, reply: FastifyReply, what: string, run: (queries: QueriesService, context: QueryContext) => Promise<T | undefined>): Promise<T> {
    const queries = app.devtrip.queries
    if (queries === undefined) {
      throw unavailable('queries not available in this process', app.devtrip.config.producer.retryAfterSeconds, {
        hint: 'run the API in the process that runs the topologies, or ask an instance that does'
      })
    }
    let value: T | undefined
    const context: QueryContext = {}
    try {
      value = await run(queries, context)
    } catch (error) {
      if (isRestoringError(error)) {
        const retry = app.devtrip.config.producer.retryAfterSeconds
        if (error instanceof QueryUnavailableError) {
          const message = error.reason === 'restoring' ? `the state behind ${what} is restoring; try again shortly` : `${what} cannot be answered right now: ${error.message}`
          throw unavailable(message, error.retryAfterSeconds ?? retry, { ...error.details, reason: error.reason }, error)
        }
        throw unavailable(`the state behind ${what} is restoring; try again shortly`, retry, { reason: 'restoring' }, error)
      }
      request.log.error({ err: error, query: what }, 'query failed')
      throw new ApiError('DEVTRIP_API_INTERNAL', `the ${what} query failed: the API log has the details under this requestId`)
    }
    if (context.servedBy !== undefined) reply.header(SERVED_BY_HEADER, context.servedBy)
    if (value === undefined) throw new ApiError('DEVTRIP_API_NOT_FOUND', `no ${what}`)
    return value
  }

  app.get<{ Params: { userId: string } }>('/v1/users/:userId/stats', {
    config: { ...config, description: 'The user-stats topology\'s statistics of one user.' }
  }, async (request, reply) => {
    const userId = pathId('userId', request.params.userId)
    return answer(request, reply, `statistics for user ${userId}`, (q, c) => q.getUserStats(userId, c))
  })

  app.get<{ Params: { userId: string } }>('/v1/users/:userId/tickets', {
    config: { ...config, description: 'The ticketing topology\'s ticket balance and newest ledger entries of one user.' }
  }, async (request, reply) => {
    const userId = pathId('userId', request.params.userId)
    const limit = ticketLimit(request.query)
    return answer(request, reply, `ticket account for user ${userId}`, (q, c) => q.getTickets(userId, limit, c))
  })

  app.get<{ Params: { missionAttemptId: string } }>('/v1/mission-attempts/:missionAttemptId', {
    config: { ...config, description: 'The evaluation topology\'s state of one mission attempt.' }
  }, async (request, reply) => {
    const id = pathId('missionAttemptId', request.params.missionAttemptId)
    return answer(request, reply, `mission attempt ${id}`, (q, c) => q.getMissionAttempt(id, c))
  })
}
