/**
 * Errors the HTTP API answers with: a DevtripError (so the code comes from the one registry in
 * events/errors.ts) plus the HTTP status and, for 429/503/409-in-progress, how long to wait before retrying.
 *
 * Every failure reaches the client as `{ error: { code, message, requestId, details? } }` (plugins/errors.ts);
 * the status is derived from the code, so one code always means one status.
 */
import { DevtripError, isDevtripError, type ErrorCode } from '../events'

const STATUS_BY_CODE: Readonly<Partial<Record<ErrorCode, number>>> = Object.freeze({
  DEVTRIP_API_BAD_REQUEST: 400,
  DEVTRIP_INVALID_EVENT: 400,
  DEVTRIP_UNKNOWN_EVENT_TYPE: 400,
  DEVTRIP_INVALID_OPTIONS: 400,
  DEVTRIP_API_UNAUTHORIZED: 401,
  DEVTRIP_API_FORBIDDEN: 403,
  DEVTRIP_API_NOT_FOUND: 404,
  DEVTRIP_UNKNOWN_TOPIC: 404,
  DEVTRIP_API_IDEMPOTENCY_CONFLICT: 409,
  DEVTRIP_API_PAYLOAD_TOO_LARGE: 413,
  DEVTRIP_API_UNSUPPORTED_MEDIA_TYPE: 415,
  DEVTRIP_API_NOT_OWNER: 421,
  DEVTRIP_API_RATE_LIMITED: 429,
  DEVTRIP_API_INTERNAL: 500,
  DEVTRIP_API_UNAVAILABLE: 503
})

export interface ApiErrorOptions {
  details?: Record<string, unknown>
  /** sent as Retry-After (whole seconds, at least 1) */
  retryAfterSeconds?: number
  /** extra response headers (WWW-Authenticate ...) */
  headers?: Record<string, string>
  cause?: unknown
}

export class ApiError extends DevtripError {
  readonly statusCode: number
  readonly retryAfterSeconds: number | undefined
  readonly headers: Readonly<Record<string, string>>

  constructor (code: ErrorCode, message: string, options: ApiErrorOptions = {}) {
    const status = STATUS_BY_CODE[code] ?? 500
    super(code, message, {
      cause: options.cause,
      canRetry: status === 429 || status === 503 || (status === 409 && options.retryAfterSeconds !== undefined),
      ...(options.details === undefined ? {} : { details: options.details })
    })
    this.name = 'ApiError'
    this.statusCode = status
    this.retryAfterSeconds = options.retryAfterSeconds === undefined ? undefined : Math.max(1, Math.ceil(options.retryAfterSeconds))
    this.headers = Object.freeze({ ...(options.headers ?? {}) })
  }
}

/** The HTTP status a DevtripError code maps to (500 for codes that only a bug lets through). */
export function statusForCode (code: ErrorCode): number {
  return STATUS_BY_CODE[code] ?? 500
}

export function isApiError (error: unknown): error is ApiError {
  return error instanceof ApiError
}

/** A 503 that tells the client when to come back. */
export function unavailable (message: string, retryAfterSeconds: number, details?: Record<string, unknown>, cause?: unknown): ApiError {
  return new ApiError('DEVTRIP_API_UNAVAILABLE', message, { retryAfterSeconds, cause, ...(details === undefined ? {} : { details }) })
}

/** Short, secret-free description of a lower-layer failure for an error body's details. */
export function causeSummary (error: unknown): Record<string, unknown> {
  if (isDevtripError(error)) return { code: error.code, message: error.message }
  return { message: error instanceof Error ? error.message : String(error) }
}
