/**
 * Turns whatever kafkajs throws into the port's DevtripErrors.
 *
 * kafkajs reports broker errors as KafkaJSProtocolError (`type` = the Kafka error name, `retriable`), wraps them in
 * KafkaJSNumberOfRetriesExceeded (`cause`) once its retrier gives up, and sometimes in aggregates (`errors`).
 * Network failures are KafkaJSConnectionError / KafkaJSRequestTimeoutError (retriable). The port only promises a
 * few distinctions (port.ts); they are decided here, with the same error-name sets as the other adapters.
 */
import { DevtripError, isDevtripError } from '../../../events/errors'
import { kafkajs } from './library'

/** A newer producer holds our transactional id (or the coordinator aborted our overdue transaction). */
const FENCED = new Set(['PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH', 'FENCED_INSTANCE_ID', 'INVALID_PRODUCER_ID_MAPPING', 'TRANSACTIONAL_ID_NOT_FOUND'])
/** Our group generation is stale. */
const MIGRATED = new Set(['ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'REBALANCE_IN_PROGRESS'])
const UNKNOWN_TOPIC = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'UNKNOWN_TOPIC_ID'])
const NETWORK_ERRORS = new Set(['KafkaJSConnectionError', 'KafkaJSConnectionClosedError', 'KafkaJSRequestTimeoutError', 'KafkaJSBrokerNotFound', 'KafkaJSNoBrokerAvailableError'])

interface LibraryError {
  name?: unknown
  type?: unknown
  retriable?: unknown
  message?: unknown
  errors?: unknown
  cause?: unknown
  originalError?: unknown
}

/** Every error of a kafkajs error tree: the error itself, its causes and the members of aggregates. */
function allErrors (error: unknown, out: LibraryError[] = [], depth = 0): LibraryError[] {
  if (error === null || typeof error !== 'object' || depth > 8) return out
  const e = error as LibraryError
  out.push(e)
  if (Array.isArray(e.errors)) for (const child of e.errors) allErrors(child, out, depth + 1)
  if (e.cause !== undefined && e.cause !== error) allErrors(e.cause, out, depth + 1)
  if (e.originalError !== undefined && e.originalError !== error) allErrors(e.originalError, out, depth + 1)
  return out
}

/** The Kafka error names (e.g. "NOT_COORDINATOR") found anywhere in the error. */
export function kafkaErrorNames (error: unknown): string[] {
  return [...new Set(allErrors(error).map((e) => e.type).filter((t): t is string => typeof t === 'string'))]
}

export function hasKafkaError (error: unknown, ...names: string[]): boolean {
  const found = kafkaErrorNames(error)
  return names.some((n) => found.includes(n))
}

/** The innermost error decides: a protocol error's own `retriable`, or a network failure. */
export function isRetriable (error: unknown): boolean {
  const chain = allErrors(error)
  const innermost = chain[chain.length - 1]
  if (innermost === undefined) return false
  if (chain.some((e) => NETWORK_ERRORS.has(String(e.name)))) return true
  return innermost.retriable === true
}

/** The DevtripError for a failure of `operation`. Already-translated errors pass through unchanged. */
export function translateError (error: unknown, operation: string): DevtripError {
  if (isDevtripError(error)) return error
  const names = kafkaErrorNames(error)
  const message = error instanceof Error ? error.message : String(error)
  const details = { operation, kafkaErrors: names }
  const fenced = names.find((n) => FENCED.has(n))
  if (fenced !== undefined) {
    return new DevtripError('DEVTRIP_KAFKA_FENCED', `${operation}: fenced by the broker (${fenced}); close this client and create a new one`, { cause: error, details })
  }
  const migrated = names.find((n) => MIGRATED.has(n))
  if (migrated !== undefined) {
    return new DevtripError('DEVTRIP_TASK_MIGRATED', `${operation}: the consumer group generation is stale (${migrated}); close the tasks and rejoin`, { cause: error, details })
  }
  if (names.length > 0 && names.every((n) => UNKNOWN_TOPIC.has(n))) {
    return new DevtripError('DEVTRIP_UNKNOWN_TOPIC', `${operation}: unknown topic or partition`, {
      cause: error,
      details: { ...details, hint: 'create it first: bin/devtrip-streams topics apply' }
    })
  }
  const described = names.length > 0 ? `${message} [${names.join(', ')}]` : message
  return new DevtripError('DEVTRIP_KAFKA', `${operation}: ${described}`, { cause: error, canRetry: isRetriable(error), details })
}

/** Use as `.catch(rethrowAs('send'))`. */
export function rethrowAs (operation: string): (error: unknown) => never {
  return (error: unknown) => { throw translateError(error, operation) }
}

/** A protocol error object for a partition-level error code of a response kafkajs did not throw for. */
export function protocolError (errorCode: number): Error {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createErrorFromCode } = require('kafkajs/src/protocol/error') as { createErrorFromCode: (code: number) => { type: string, message: string, retriable: boolean } }
  return new kafkajs.KafkaJSProtocolError(createErrorFromCode(errorCode) as never)
}
