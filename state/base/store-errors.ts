/** The two errors every store layer throws, worded once so messages read the same from every engine. */
import { DevtripError } from '../../events/errors'

export function storeNotOpen (store: string, operation: string): DevtripError {
  return new DevtripError('DEVTRIP_STORE_NOT_OPEN', `state store "${store}" is not open (${operation}); init() it first, and do not use it after close()`, {
    details: { store, operation }
  })
}

export function storeError (store: string, message: string, options: { cause?: unknown, canRetry?: boolean, details?: Record<string, unknown> } = {}): DevtripError {
  return new DevtripError('DEVTRIP_STATE_STORE', `state store "${store}": ${message}`, {
    cause: options.cause,
    canRetry: options.canRetry ?? false,
    details: { store, ...options.details }
  })
}
