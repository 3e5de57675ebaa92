/**
 * Turns librdkafka's errors (as the binding reports them: a numeric `code`, broker codes > 0 and local ones
 * < 0, plus isFatal / isRetriable / isTxnRequiresAbort flags) into the port's DevtripErrors, and wraps the
 * binding's callback-style calls into promises.
 */
import { DevtripError, isDevtripError } from '../../../events/errors'
import { CREATE_TOPIC_HINT, fencedError, migratedError } from '../common/error-translation'
import type { RdError } from './library'

/** librdkafka error codes this adapter tells apart (rdkafka.h: RD_KAFKA_RESP_ERR_*). */
export const RD = {
  DESTROY: -197,
  FAIL: -196,
  TRANSPORT: -195,
  ALL_BROKERS_DOWN: -187,
  PARTITION_EOF: -191,
  UNKNOWN_PARTITION: -190,
  UNKNOWN_TOPIC: -188,
  INVALID_ARG: -186,
  TIMED_OUT: -185,
  QUEUE_FULL: -184,
  ASSIGN_PARTITIONS: -175,
  REVOKE_PARTITIONS: -174,
  STATE: -172,
  FATAL: -150,
  FENCED: -144,
  MAX_POLL_EXCEEDED: -147,
  NOENT: -156,
  OFFSET_OUT_OF_RANGE: 1,
  UNKNOWN_TOPIC_OR_PART: 3,
  ILLEGAL_GENERATION: 22,
  UNKNOWN_MEMBER_ID: 25,
  REBALANCE_IN_PROGRESS: 27,
  TOPIC_ALREADY_EXISTS: 36,
  INVALID_PRODUCER_EPOCH: 47,
  INVALID_TXN_STATE: 48,
  INVALID_PRODUCER_ID_MAPPING: 49,
  GROUP_ID_NOT_FOUND: 69,
  FENCED_INSTANCE_ID: 82,
  PRODUCER_FENCED: 90,
  TRANSACTIONAL_ID_NOT_FOUND: 105
} as const

/** A newer producer or static member holds our identity: the object can never succeed again. */
const FENCED = new Set<number>([RD.FENCED, RD.PRODUCER_FENCED, RD.INVALID_PRODUCER_EPOCH, RD.INVALID_PRODUCER_ID_MAPPING, RD.TRANSACTIONAL_ID_NOT_FOUND, RD.FENCED_INSTANCE_ID])
/** Our group generation is stale: offsets we commit would belong to partitions that may have moved. */
const MIGRATED = new Set<number>([RD.ILLEGAL_GENERATION, RD.UNKNOWN_MEMBER_ID, RD.REBALANCE_IN_PROGRESS])
const UNKNOWN_TOPIC = new Set<number>([RD.UNKNOWN_TOPIC, RD.UNKNOWN_TOPIC_OR_PART])
/** local failures that are about the network or time, so a later call may succeed */
const TRANSIENT = new Set<number>([RD.TRANSPORT, RD.ALL_BROKERS_DOWN, RD.TIMED_OUT, RD.QUEUE_FULL])

export function rdCode (error: unknown): number | null {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'number' ? code : null
}

export function isFenced (error: unknown): boolean {
  const code = rdCode(error)
  return code !== null && FENCED.has(code)
}

/**
 * The DevtripError for a failure of `operation`. Already-translated errors pass through unchanged. A fatal
 * librdkafka error (the client can do nothing more: e.g. the producer was fenced) is DEVTRIP_KAFKA_FENCED.
 */
export function translateError (error: unknown, operation: string): DevtripError {
  if (isDevtripError(error)) return error
  const code = rdCode(error)
  const e = error as Partial<RdError>
  const message = error instanceof Error ? error.message : String((e as { message?: unknown })?.message ?? error)
  const details = { operation, librdkafkaCode: code }
  if (code !== null && (FENCED.has(code) || e.isFatal === true)) {
    return fencedError(operation, message, error, details)
  }
  if (code !== null && MIGRATED.has(code)) {
    return migratedError(operation, message, error, details)
  }
  if (code !== null && UNKNOWN_TOPIC.has(code)) {
    return new DevtripError('DEVTRIP_UNKNOWN_TOPIC', `${operation}: unknown topic or partition (${message})`, {
      cause: error,
      details: { ...details, hint: CREATE_TOPIC_HINT }
    })
  }
  const canRetry = e.isRetriable === true || (code !== null && TRANSIENT.has(code))
  return new DevtripError('DEVTRIP_KAFKA', `${operation}: ${message}`, { cause: error, canRetry, details })
}

/** Runs a binding call that takes a node-style callback as a promise, translating its error. */
export function call<T = void> (operation: string, start: (cb: (err: RdError | null | undefined, result?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    try {
      start((err, result) => {
        if (err !== null && err !== undefined) reject(translateError(err, operation))
        else resolve(result as T)
      })
    } catch (error) {
      reject(translateError(error, operation))
    }
  })
}

export function closedError (operation: string, what: string): DevtripError {
  return new DevtripError('DEVTRIP_CLOSED', `${operation}: the ${what} is closed`)
}
