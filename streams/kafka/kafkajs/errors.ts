/**
 * Turns whatever kafkajs throws into the port's DevtripErrors.
 *
 * kafkajs reports broker errors as KafkaJSProtocolError (`type` = the Kafka error name, `retriable`), wraps them in
 * KafkaJSNumberOfRetriesExceeded (`cause`) once its retrier gives up, and sometimes in aggregates (`errors`).
 * Network failures are KafkaJSConnectionError / KafkaJSRequestTimeoutError (retriable). The port only promises a
 * few distinctions (port.ts); they are decided here, with the error-name sets and messages all adapters share (common/error-translation.ts).
 */
import type { DevtripError } from '../../../events/errors'
import { errorTree, kafkaErrorNamesOf, translateByKafkaErrorNames, type ErrorTreeShape } from '../common/error-translation'
import { kafkajs } from './library'

const NETWORK_ERRORS = new Set(['KafkaJSConnectionError', 'KafkaJSConnectionClosedError', 'KafkaJSRequestTimeoutError', 'KafkaJSBrokerNotFound', 'KafkaJSNoBrokerAvailableError'])

/** kafkajs keeps every level of its tree meaningful; a retrier's give-up wraps the last error as `cause` or `originalError`. */
const KAFKAJS_ERRORS: ErrorTreeShape = { leavesOnly: false, links: ['cause', 'originalError'] }

/** The Kafka error names (e.g. "NOT_COORDINATOR", kafkajs's `type`) found anywhere in the error. */
export function kafkaErrorNames (error: unknown): string[] {
  return kafkaErrorNamesOf(errorTree(error, KAFKAJS_ERRORS), 'type')
}

export function hasKafkaError (error: unknown, ...names: string[]): boolean {
  const found = kafkaErrorNames(error)
  return names.some((n) => found.includes(n))
}

/** The innermost error decides: a protocol error's own `retriable`, or a network failure. */
export function isRetriable (error: unknown): boolean {
  const chain = errorTree(error, KAFKAJS_ERRORS)
  const innermost = chain[chain.length - 1]
  if (innermost === undefined) return false
  if (chain.some((e) => NETWORK_ERRORS.has(String(e.name)))) return true
  return innermost.retriable === true
}

/** The DevtripError for a failure of `operation`. Already-translated errors pass through unchanged. */
export function translateError (error: unknown, operation: string): DevtripError {
  return translateByKafkaErrorNames(error, operation, kafkaErrorNames(error), { isRetriable })
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
