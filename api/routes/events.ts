/**
 * Ingest routes.
 *   POST /v1/events                  events of any catalog type; each goes to its type's topic
 *   POST /v1/topics/:topic/events    events of one topic; an event of another topic's type is a 400
 * Body: one event object or an array of them (gzip allowed). Optional query `eventType`: the type of events
 * that do not name one (the seed's §5.2 UserSignedUp example carries no eventType).
 * 202 after the broker committed, with where each event went; see ingest/ingest-service.ts for the rules.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { DOMAIN_TOPICS, isDomainTopic, type DomainTopic } from '../../events'
import { ApiError } from '../api-error'
import type { IngestResult } from '../ingest/ingest-service'
import { canProduceTo } from '../tokens'
import { sendError } from '../plugins/errors'

interface IngestQuery { eventType?: string }
interface TopicParams { topic: string }

/** The 202 body. */
export interface IngestResponse extends IngestResult {
  readonly requestId: string
}

function queryEventType (query: unknown): string | undefined {
  const value = (query as IngestQuery | undefined)?.eventType
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value === '') throw new ApiError('DEVTRIP_API_BAD_REQUEST', 'the eventType query parameter must be given once, as a non-empty type name')
  return value
}

export default async function eventRoutes (app: FastifyInstance): Promise<void> {
  async function ingest (request: FastifyRequest, reply: FastifyReply, topic?: DomainTopic): Promise<IngestResponse> {
    const eventType = queryEventType(request.query)
    const result = await app.devtrip.ingest.ingest({
      body: request.body,
      receivedAt: Date.now(),
      principal: request.principal!,
      requestId: request.id,
      ...(topic === undefined ? {} : { topic }),
      ...(eventType === undefined ? {} : { eventType })
    })
    request.log.info({ principal: request.principal!.name, accepted: result.accepted, duplicates: result.duplicates }, 'events accepted')
    reply.code(202)
    return { requestId: request.id, ...result }
  }

  app.post('/v1/events', {
    config: { description: 'Produce events of any catalog type, each to its catalog topic (all or nothing).' }
  }, async (request, reply) => ingest(request, reply))

  app.post<{ Params: TopicParams }>('/v1/topics/:topic/events', {
    config: { description: 'Produce events of one domain topic (all or nothing).' },
    // checked before the body is read: an unknown topic or one outside the token's scopes costs no parsing
    onRequest: async (request, reply) => {
      const { topic } = request.params
      if (!isDomainTopic(topic)) {
        return sendError(request, reply, new ApiError('DEVTRIP_UNKNOWN_TOPIC', `"${topic.slice(0, 100)}" is not a topic that takes events`, {
          details: { topics: [...DOMAIN_TOPICS], hint: `post to one of: ${DOMAIN_TOPICS.join(', ')}` }
        }))
      }
      const principal = request.principal
      if (principal !== null && !canProduceTo(principal, topic)) {
        return sendError(request, reply, new ApiError('DEVTRIP_API_FORBIDDEN', `the token "${principal.name}" may not produce to ${topic}`, {
          details: { topic, scopes: [...principal.scopes], hint: 'use the token of the service that produces this topic' }
        }))
      }
    }
  }, async (request, reply) => ingest(request, reply, request.params.topic as DomainTopic))
}
