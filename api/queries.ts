/**
 * The read side the query routes call. The API does not own any state: a process that runs the topologies
 * implements this interface on their state stores and passes it to buildApiServer({ queries }). Without
 * one, the query routes answer 503 "queries not available in this process".
 *
 * Contract of every method: resolve the value, or undefined when the id is unknown (→ 404); throw a
 * restoring error (StateRestoringError, or a DevtripError DEVTRIP_STORE_NOT_OPEN / DEVTRIP_TASK_MIGRATED,
 * which the stores raise while a task is being restored or moved) when the answer cannot be known yet
 * (→ 503 with Retry-After); anything else thrown is a 500.
 */
import { isDevtripError, type Id } from '../events'
import type { AttemptState, LedgerEntry, UserStats } from '../processors'

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

export interface QueriesService {
  /** the user-stats topology's row for the user */
  getUserStats (userId: string): Promise<UserStats | undefined>
  /** the ticketing topology's account for the user, with at most `limit` ledger entries */
  getTickets (userId: string, limit: number): Promise<UserTickets | undefined>
  /** the evaluation topology's state of one mission attempt */
  getMissionAttempt (missionAttemptId: string): Promise<AttemptState | undefined>
}

/** Thrown by a QueriesService while the store it reads is being restored. */
export class StateRestoringError extends Error {
  /** how long the caller should wait, when the service can tell */
  readonly retryAfterSeconds: number | undefined
  constructor (message = 'the state is restoring', retryAfterSeconds?: number) {
    super(message)
    this.name = 'StateRestoringError'
    this.retryAfterSeconds = retryAfterSeconds
  }
}

/** Whether an error from a QueriesService means "not yet" rather than "broken". */
export function isRestoringError (error: unknown): boolean {
  return error instanceof StateRestoringError ||
    isDevtripError(error, 'DEVTRIP_STORE_NOT_OPEN') ||
    isDevtripError(error, 'DEVTRIP_TASK_MIGRATED')
}
