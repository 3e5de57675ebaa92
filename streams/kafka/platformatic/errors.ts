/**
 * Turns whatever @platformatic/kafka (or a raw protocol response) throws into the port's DevtripErrors.
 *
 * The library reports broker errors as ProtocolError objects (`apiId` = the Kafka error name, `canRetry`)
 * nested inside ResponseError / MultipleErrors aggregates; network failures are NetworkError / TimeoutError.
 * The port only promises a few distinctions (see port.ts), so this file is where they are decided.
 */
import type { DevtripError } from '../../../events/errors'
import { errorTree, kafkaErrorNamesOf, translateByKafkaErrorNames, type ErrorTreeShape } from '../common/error-translation'

/** Library error codes that are about the network, and so may pass on a retry even when the library says no. */
const NETWORK_CODES = new Set(['PLT_KFK_NETWORK', 'PLT_KFK_TIMEOUT'])

/** The library's aggregates (ResponseError, MultipleErrors) only collect; their leaves carry `apiId` and `canRetry`. */
const LIBRARY_ERRORS: ErrorTreeShape = { leavesOnly: true, links: ['cause'] }

/** Every leaf error of a library error tree (aggregates and causes flattened). */
export function leafErrors (error: unknown): Array<Record<string, unknown>> {
  return errorTree(error, LIBRARY_ERRORS)
}

/** The Kafka error names (e.g. "NOT_COORDINATOR", the library's `apiId`) found anywhere in the error. */
export function kafkaErrorNames (error: unknown): string[] {
  return kafkaErrorNamesOf(leafErrors(error), 'apiId')
}

export function hasKafkaError (error: unknown, ...names: string[]): boolean {
  const found = kafkaErrorNames(error)
  return names.some((n) => found.includes(n))
}

/** True when every leaf is retriable in the library's judgement, or is a network failure. */
export function isRetriable (error: unknown): boolean {
  const leaves = leafErrors(error)
  if (leaves.length === 0) return false
  return leaves.every((e) => e.canRetry === true || NETWORK_CODES.has(String(e.code)))
}

/**
 * The DevtripError for a failure of `operation` (e.g. "commitTransaction"). Already-translated errors pass
 * through unchanged, so callers can translate at every boundary without double wrapping. The library reports a
 * topic missing from its metadata as "Unknown topic <name>." without a Kafka error name.
 */
export function translateError (error: unknown, operation: string): DevtripError {
  return translateByKafkaErrorNames(error, operation, kafkaErrorNames(error), {
    isRetriable,
    unknownTopicInMessage: (message) => /^Unknown topic (.+)\.$/.exec(message)?.[1] ?? null
  })
}

/** Where a library call failed, wraps it; use as `.catch(rethrowAs('send'))`. */
export function rethrowAs (operation: string): (error: unknown) => never {
  return (error: unknown) => { throw translateError(error, operation) }
}
