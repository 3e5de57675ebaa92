/**
 * The one error-code registry of devtrip-streams.
 *
 * Every error the project throws on purpose is a `DevtripError` whose `code` is one of `ERROR_CODES`.
 * `canRetry` tells a caller whether the same call may succeed later (a broker that is restarting)
 * or never will (an invalid option). `docs/errors.md` documents each code; a unit test keeps the two
 * in step.
 *
 * This file lives in events/, the bottom layer, so that every other layer can import it.
 */
export const ERROR_CODES = [
  'DEVTRIP_INVALID_OPTIONS',
  'DEVTRIP_INVALID_EVENT',
  'DEVTRIP_UNKNOWN_EVENT_TYPE',
  'DEVTRIP_UNKNOWN_TOPIC',
  'DEVTRIP_SERDE',
  'DEVTRIP_INFRA',
  'DEVTRIP_KAFKA',
  'DEVTRIP_KAFKA_FENCED',
  'DEVTRIP_KAFKA_ADAPTER_UNAVAILABLE',
  'DEVTRIP_TOPIC_MISMATCH',
  'DEVTRIP_TOPOLOGY',
  'DEVTRIP_STATE_STORE',
  'DEVTRIP_STORE_NOT_OPEN',
  'DEVTRIP_TASK_MIGRATED',
  'DEVTRIP_PROCESSING',
  'DEVTRIP_TIMEOUT',
  'DEVTRIP_CLOSED',
  'DEVTRIP_API_BAD_REQUEST',
  'DEVTRIP_API_UNAUTHORIZED',
  'DEVTRIP_API_FORBIDDEN',
  'DEVTRIP_API_NOT_FOUND',
  'DEVTRIP_API_IDEMPOTENCY_CONFLICT',
  'DEVTRIP_API_PAYLOAD_TOO_LARGE',
  'DEVTRIP_API_UNSUPPORTED_MEDIA_TYPE',
  'DEVTRIP_API_RATE_LIMITED',
  'DEVTRIP_API_UNAVAILABLE',
  'DEVTRIP_API_INTERNAL',
  'DEVTRIP_API_NOT_OWNER'
] as const

export type ErrorCode = (typeof ERROR_CODES)[number]

export interface DevtripErrorOptions {
  cause?: unknown
  canRetry?: boolean
  /** extra, machine-readable facts about the failure (a topic name, a JSON pointer ...) */
  details?: Record<string, unknown>
}

export class DevtripError extends Error {
  readonly code: ErrorCode
  readonly canRetry: boolean
  readonly details: Record<string, unknown>

  constructor (code: ErrorCode, message: string, options: DevtripErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'DevtripError'
    this.code = code
    this.canRetry = options.canRetry ?? false
    this.details = options.details ?? {}
  }

  toJSON (): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, canRetry: this.canRetry, details: this.details }
  }
}

export function isDevtripError (error: unknown, code?: ErrorCode): error is DevtripError {
  return error instanceof DevtripError && (code === undefined || error.code === code)
}
