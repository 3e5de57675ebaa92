/**
 * The read side the query routes call. The API does not own any state: a QueriesService answers from the
 * topologies' state stores and is passed to buildApiServer({ queries }). Without one, the query routes answer
 * 503 "queries not available in this process".
 *
 * Contract of every method: resolve the value, or undefined when the id is unknown (→ 404); throw a
 * QueryUnavailableError (StateRestoringError while restoring; or a DevtripError DEVTRIP_STORE_NOT_OPEN /
 * DEVTRIP_TASK_MIGRATED, which the stores raise while a task is being restored or moved) when the answer cannot
 * be known yet (→ 503 with Retry-After and `details.reason`); anything else thrown is a 500.
 *
 * The implementation for a process that runs no topology is api/queries/remote-queries.ts: it finds the instance
 * holding the key (streams/runtime/query-metadata.ts) and asks it over HTTP (api/instance/).
 */
import { isDevtripError, type Id } from '../events'
import type { AttemptState, LedgerEntry, UserStats } from '../processors'

/** Response header naming the instance (`host:port`) whose store answered a query. */
export const SERVED_BY_HEADER = 'x-devtrip-served-by'

/** How many ledger entries the tickets route returns when not told, and at most. */
export const DEFAULT_TICKET_LIMIT = 20
export const MAX_TICKET_LIMIT = 100

/** A user's ticket account as the tickets route returns it: the balance and the newest ledger entries. */
export interface UserTickets {
  readonly userId: Id
  readonly plan: string
  readonly balance: number
  readonly granted: number
  readonly deducted: number
  readonly rejected: number
  /** newest first, at most the `limit` asked for */
  readonly entries: readonly LedgerEntry[]
}

/**
 * Per-request facts a service may report back to the route (optional: a service that ignores it is fine).
 * `servedBy`: the instance (`host:port`) whose store answered; the route sends it as `x-devtrip-served-by`.
 */
export interface QueryContext {
  servedBy?: string
}

export interface QueriesService {
  /** the user-stats topology's row for the user */
  getUserStats (userId: string, context?: QueryContext): Promise<UserStats | undefined>
  /** the ticketing topology's account for the user, with at most `limit` ledger entries */
  getTickets (userId: string, limit: number, context?: QueryContext): Promise<UserTickets | undefined>
  /** the evaluation topology's state of one mission attempt */
  getMissionAttempt (missionAttemptId: string, context?: QueryContext): Promise<AttemptState | undefined>
}

/** Why an answer cannot be given right now (each is a 503 with Retry-After and `details.reason`). */
export type UnavailableReason =
  /** the owning task is restoring its store from the changelog (or is suspended mid-rebalance) */
  | 'restoring'
  /** the application's group is moving partitions: no owner is known for a moment */
  | 'rebalancing'
  /** no running instance holds the partition (the application is not running, or not with query addresses) */
  | 'no-owner'
  /** the owner is known but did not answer in time */
  | 'owner-unreachable'

/** Thrown by a QueriesService when the answer cannot be known yet; the route answers 503 with `details.reason`. */
export class QueryUnavailableError extends Error {
  readonly reason: UnavailableReason
  /** how long the caller should wait, when the service can tell */
  readonly retryAfterSeconds: number | undefined
  /** more facts for the error body (application id, partition …); never secrets */
  readonly details: Readonly<Record<string, unknown>>
  constructor (reason: UnavailableReason, message: string, retryAfterSeconds?: number, details: Record<string, unknown> = {}) {
    super(message)
    this.name = 'QueryUnavailableError'
    this.reason = reason
    this.retryAfterSeconds = retryAfterSeconds
    this.details = Object.freeze({ ...details })
  }
}

/** Thrown by a QueriesService while the store it reads is being restored. */
export class StateRestoringError extends QueryUnavailableError {
  constructor (message = 'the state is restoring', retryAfterSeconds?: number, details: Record<string, unknown> = {}) {
    super('restoring', message, retryAfterSeconds, details)
    this.name = 'StateRestoringError'
  }
}

/** Whether an error from a QueriesService means "not yet" rather than "broken". */
export function isRestoringError (error: unknown): boolean {
  return error instanceof QueryUnavailableError ||
    isDevtripError(error, 'DEVTRIP_STORE_NOT_OPEN') ||
    isDevtripError(error, 'DEVTRIP_TASK_MIGRATED')
}
