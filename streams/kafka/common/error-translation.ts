/**
 * What the adapters' error translations share. The port promises a few distinctions between failures (port.ts:
 * fenced, task migrated, unknown topic, retriable or not); every library reports them its own way, but the Kafka
 * error names behind them, the messages and the walk through a library's nested errors are the same, so a caller
 * sees the same DevtripError whatever adapter it runs on.
 */
import { DevtripError, isDevtripError } from '../../../events/errors'

/** A newer producer or static member holds our identity: the object can never succeed again. */
export const FENCED_ERROR_NAMES: ReadonlySet<string> = new Set(['PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH', 'FENCED_INSTANCE_ID', 'INVALID_PRODUCER_ID_MAPPING', 'TRANSACTIONAL_ID_NOT_FOUND'])
/** Our group generation is stale: offsets we commit would belong to partitions that may have moved. */
export const MIGRATED_ERROR_NAMES: ReadonlySet<string> = new Set(['ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'REBALANCE_IN_PROGRESS'])
export const UNKNOWN_TOPIC_ERROR_NAMES: ReadonlySet<string> = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'UNKNOWN_TOPIC_ID'])

/** What an unknown-topic error tells the user to do. */
export const CREATE_TOPIC_HINT = 'create it first: bin/devtrip-streams topics apply'

/** How a library nests errors: aggregates list theirs in `errors`; `links` name the fields holding a cause. */
export interface ErrorTreeShape {
  /** only errors without `errors` members (an aggregate's own message and flags say nothing of its members) */
  readonly leavesOnly: boolean
  readonly links: readonly string[]
}

/**
 * The errors of a library error tree, depth first: the error (unless `leavesOnly` and it is an aggregate), the
 * members of its `errors`, then what each link points to. Eight levels at most: trees are shallow, and a cycle
 * (an error that is its own cause's cause) must not hang the translation.
 */
export function errorTree (error: unknown, shape: ErrorTreeShape, out: Array<Record<string, unknown>> = [], depth = 0): Array<Record<string, unknown>> {
  if (error === null || typeof error !== 'object' || depth > 8) return out
  const e = error as Record<string, unknown>
  const children = Array.isArray(e.errors) ? e.errors as unknown[] : []
  if (!shape.leavesOnly || children.length === 0) out.push(e)
  for (const child of children) errorTree(child, shape, out, depth + 1)
  for (const link of shape.links) {
    const next = e[link]
    if (next !== undefined && next !== error) errorTree(next, shape, out, depth + 1)
  }
  return out
}

/** The distinct string values of `field` (the Kafka error name, e.g. "NOT_COORDINATOR") among `errors`. */
export function kafkaErrorNamesOf (errors: ReadonlyArray<Record<string, unknown>>, field: string): string[] {
  return [...new Set(errors.map((e) => e[field]).filter((name): name is string => typeof name === 'string'))]
}

export function fencedError (operation: string, reason: string, cause: unknown, details: Record<string, unknown>): DevtripError {
  return new DevtripError('DEVTRIP_KAFKA_FENCED', `${operation}: fenced by the broker (${reason}); close this client and create a new one`, { cause, details })
}

export function migratedError (operation: string, reason: string, cause: unknown, details: Record<string, unknown>): DevtripError {
  return new DevtripError('DEVTRIP_TASK_MIGRATED', `${operation}: the consumer group generation is stale (${reason}); close the tasks and rejoin`, { cause, details })
}

/** For libraries that name Kafka errors: what the names found in an error decide, beyond fenced and migrated. */
export interface NamedErrorRules {
  /** the library's judgement of a failure the names do not classify */
  readonly isRetriable: (error: unknown) => boolean
  /** a topic the library names in an unknown-topic message of its own, without a Kafka error name */
  readonly unknownTopicInMessage?: (message: string) => string | null
}

/**
 * The DevtripError for a failure of `operation` whose Kafka error names are `names`. Already-translated errors pass
 * through unchanged, so callers can translate at every boundary without double wrapping.
 */
export function translateByKafkaErrorNames (error: unknown, operation: string, names: string[], rules: NamedErrorRules): DevtripError {
  if (isDevtripError(error)) return error
  const message = error instanceof Error ? error.message : String(error)
  const details = { operation, kafkaErrors: names }
  const fenced = names.find((n) => FENCED_ERROR_NAMES.has(n))
  if (fenced !== undefined) return fencedError(operation, fenced, error, details)
  const migrated = names.find((n) => MIGRATED_ERROR_NAMES.has(n))
  if (migrated !== undefined) return migratedError(operation, migrated, error, details)
  const byName = names.length > 0 && names.every((n) => UNKNOWN_TOPIC_ERROR_NAMES.has(n))
  if (rules.unknownTopicInMessage !== undefined) {
    const topic = rules.unknownTopicInMessage(message)
    if (topic !== null || byName) {
      return new DevtripError('DEVTRIP_UNKNOWN_TOPIC', `${operation}: ${topic === null ? 'unknown topic or partition' : `topic "${topic}" does not exist`}`, {
        cause: error,
        details: { ...details, topic: topic ?? undefined, hint: CREATE_TOPIC_HINT }
      })
    }
  } else if (byName) {
    return new DevtripError('DEVTRIP_UNKNOWN_TOPIC', `${operation}: unknown topic or partition`, { cause: error, details: { ...details, hint: CREATE_TOPIC_HINT } })
  }
  const described = names.length > 0 ? `${message} [${names.join(', ')}]` : message
  return new DevtripError('DEVTRIP_KAFKA', `${operation}: ${described}`, { cause: error, canRetry: rules.isRetriable(error), details })
}

