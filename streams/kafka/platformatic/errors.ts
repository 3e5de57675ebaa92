/**
 * Turns whatever @platformatic/kafka (or a raw protocol response) throws into the port's DevtripErrors.
 *
 * The library reports broker errors as ProtocolError objects (`apiId` = the Kafka error name, `canRetry`)
 * nested inside ResponseError / MultipleErrors aggregates; network failures are NetworkError / TimeoutError.
 * The port only promises a few distinctions (see port.ts), so this file is where they are decided.
 */
import { DevtripError, isDevtripError } from '../../../events/errors'

/** A newer producer or static member holds our identity: the object can never succeed again. */
const FENCED = new Set(['PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH', 'FENCED_INSTANCE_ID', 'INVALID_PRODUCER_ID_MAPPING', 'TRANSACTIONAL_ID_NOT_FOUND'])
/** Our group generation is stale: offsets we commit would belong to partitions that may have moved. */
const MIGRATED = new Set(['ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'REBALANCE_IN_PROGRESS'])
const UNKNOWN_TOPIC = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'UNKNOWN_TOPIC_ID'])
/** Library error codes that are about the network, and so may pass on a retry even when the library says no. */
const NETWORK_CODES = new Set(['PLT_KFK_NETWORK', 'PLT_KFK_TIMEOUT'])

interface LibraryError {
  code?: unknown
  apiId?: unknown
  canRetry?: unknown
  message?: unknown
  errors?: unknown
  cause?: unknown
}

/** Every leaf error of a library error tree (aggregates and causes flattened). */
export function leafErrors (error: unknown, out: LibraryError[] = [], depth = 0): LibraryError[] {
  if (error === null || typeof error !== 'object' || depth > 8) return out
  const e = error as LibraryError
  const children = Array.isArray(e.errors) ? e.errors : []
  if (children.length === 0) out.push(e)
  for (const child of children) leafErrors(child, out, depth + 1)
  if (e.cause !== undefined && e.cause !== error) leafErrors(e.cause, out, depth + 1)
  return out
}

/** The Kafka error names (e.g. "NOT_COORDINATOR") found anywhere in the error. */
export function kafkaErrorNames (error: unknown): string[] {
  return [...new Set(leafErrors(error).map((e) => e.apiId).filter((id): id is string => typeof id === 'string'))]
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
 * through unchanged, so callers can translate at every boundary without double wrapping.
 */
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
  const unknownTopic = /^Unknown topic (.+)\.$/.exec(message)
  if (unknownTopic !== null || (names.length > 0 && names.every((n) => UNKNOWN_TOPIC.has(n)))) {
    const topic = unknownTopic?.[1]
    return new DevtripError('DEVTRIP_UNKNOWN_TOPIC', `${operation}: ${topic === undefined ? 'unknown topic or partition' : `topic "${topic}" does not exist`}`, {
      cause: error,
      details: { ...details, topic, hint: 'create it first: bin/devtrip-streams topics apply' }
    })
  }
  const described = names.length > 0 ? `${message} [${names.join(', ')}]` : message
  return new DevtripError('DEVTRIP_KAFKA', `${operation}: ${described}`, { cause: error, canRetry: isRetriable(error), details })
}

/** Where a library call failed, wraps it; use as `.catch(rethrowAs('send'))`. */
export function rethrowAs (operation: string): (error: unknown) => never {
  return (error: unknown) => { throw translateError(error, operation) }
}
