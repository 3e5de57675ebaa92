/**
 * Request ids: the client's `x-request-id` when it is a sane token (so a caller can follow one request
 * through its own logs and ours), else a new UUID. The id is in every log line of the request (Fastify's
 * `reqId`), in the `x-request-id` response header and in every error body.
 * A client value is checked, not trusted: it ends up in logs, so newlines or a megabyte of text are refused.
 */
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { globalPlugin } from './global-plugin'

export const REQUEST_ID_HEADER = 'x-request-id'
const ACCEPTED_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/

/** Fastify's `genReqId` server option. */
export function generateRequestId (request: IncomingMessage): string {
  const given = request.headers[REQUEST_ID_HEADER]
  return typeof given === 'string' && ACCEPTED_ID.test(given) ? given : randomUUID()
}

export const requestIdPlugin = globalPlugin('devtrip-request-id', async (app) => {
  app.addHook('onRequest', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id)
  })
})
