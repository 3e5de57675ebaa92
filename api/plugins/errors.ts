/**
 * One error body for every failure: `{ error: { code, message, requestId, details? } }`, with the status the
 * code maps to (api-error.ts), Retry-After where waiting helps, and the request id. Fastify's own errors
 * (body parsing, limits, media types) are translated into our codes; anything unexpected is a 500 whose body
 * says only "internal error" — the cause goes to the log line with the same request id.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { isDevtripError, type ErrorCode } from '../../events'
import { ApiError, statusForCode } from '../api-error'
import { globalPlugin } from './global-plugin'

export interface ErrorBody {
  error: {
    code: string
    message: string
    requestId: string
    details?: Record<string, unknown>
  }
}

/** Fastify's error codes → ours (message rewritten where Fastify's says too little). */
const FASTIFY_ERRORS: Readonly<Record<string, { code: ErrorCode, message?: string }>> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'DEVTRIP_API_UNSUPPORTED_MEDIA_TYPE', message: 'the body must be JSON: send Content-Type: application/json' },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'DEVTRIP_API_PAYLOAD_TOO_LARGE' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'DEVTRIP_API_BAD_REQUEST', message: 'the body is empty: send an event object or an array of events' },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'DEVTRIP_API_BAD_REQUEST', message: 'the body is not valid JSON' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'DEVTRIP_API_BAD_REQUEST', message: 'the body length does not match Content-Length' },
  FST_ERR_VALIDATION: { code: 'DEVTRIP_API_BAD_REQUEST' }
}

/** Builds the body and sets status and headers; used by the error handler and by routes that answer errors themselves. */
export function sendError (request: FastifyRequest, reply: FastifyReply, error: ApiError): FastifyReply {
  request.errorCode = error.code
  reply.code(error.statusCode)
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds))
  for (const [name, value] of Object.entries(error.headers)) reply.header(name, value)
  const body: ErrorBody = { error: { code: error.code, message: error.message, requestId: request.id } }
  if (Object.keys(error.details).length > 0) body.error.details = error.details
  return reply.type('application/json; charset=utf-8').send(body)
}

/** Any thrown value → the ApiError to answer with (undefined: an unexpected failure, answered as 500). */
export function toApiError (error: unknown, bodyLimit: number): ApiError | undefined {
  if (error instanceof ApiError) return error
  if (isDevtripError(error)) {
    const status = statusForCode(error.code)
    if (status >= 500) return undefined
    return new ApiError(error.code, error.message, { details: error.details })
  }
  const fastifyError = error as Partial<FastifyError>
  const mapped = fastifyError.code === undefined ? undefined : FASTIFY_ERRORS[fastifyError.code]
  if (mapped !== undefined) {
    if (mapped.code === 'DEVTRIP_API_PAYLOAD_TOO_LARGE') {
      return new ApiError(mapped.code, `the body is larger than ${bodyLimit} bytes (after decompression)`, { details: { maxBodyBytes: bodyLimit, hint: 'split the batch' } })
    }
    const details = fastifyError.validation === undefined ? undefined : { problems: fastifyError.validation.map((v) => `${v.instancePath || '/'} ${v.message ?? 'is invalid'}`) }
    return new ApiError(mapped.code, mapped.message ?? fastifyError.message ?? 'bad request', details === undefined ? {} : { details })
  }
  // a client error Fastify or a parser raised with a status of its own (e.g. prototype poisoning)
  if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return new ApiError('DEVTRIP_API_BAD_REQUEST', fastifyError.message ?? 'bad request')
  }
  return undefined
}

export const errorsPlugin = globalPlugin<{ bodyLimit: number, routesHint?: string }>('devtrip-errors', async (app, options) => {
  app.decorateRequest('errorCode', null)

  app.setErrorHandler(async (error, request, reply) => {
    const apiError = toApiError(error, options.bodyLimit)
    if (apiError !== undefined) {
      if (apiError.statusCode >= 500) request.log.warn({ code: apiError.code, message: apiError.message }, 'request failed')
      else request.log.info({ code: apiError.code }, 'request rejected')
      return sendError(request, reply, apiError)
    }
    request.log.error({ err: error }, 'unexpected error')
    return sendError(request, reply, new ApiError('DEVTRIP_API_INTERNAL', 'internal error: the API log has the details under this requestId'))
  })

  app.setNotFoundHandler(async (request, reply) => {
    return sendError(request, reply, new ApiError('DEVTRIP_API_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]!.slice(0, 200)}`, {
      details: { hint: options.routesHint ?? 'GET /docs lists the routes' }
    }))
  })
})
