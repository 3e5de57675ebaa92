/**
 * The StreamsApp life cycle, as Kafka Streams' KafkaStreams.State:
 *   CREATED → REBALANCING → RUNNING ⇄ REBALANCING → PENDING_SHUTDOWN → NOT_RUNNING, and any state → ERROR.
 * A transition not in this table is a bug in the runtime, so it throws.
 */
import { DevtripError } from '../../events/errors'

export const APP_STATES = ['CREATED', 'REBALANCING', 'RUNNING', 'PENDING_SHUTDOWN', 'NOT_RUNNING', 'ERROR'] as const
export type AppState = (typeof APP_STATES)[number]

const ALLOWED: Record<AppState, readonly AppState[]> = {
  CREATED: ['REBALANCING', 'PENDING_SHUTDOWN', 'ERROR'],
  REBALANCING: ['RUNNING', 'REBALANCING', 'PENDING_SHUTDOWN', 'ERROR'],
  RUNNING: ['REBALANCING', 'PENDING_SHUTDOWN', 'ERROR'],
  PENDING_SHUTDOWN: ['NOT_RUNNING', 'ERROR'],
  NOT_RUNNING: [],
  ERROR: ['PENDING_SHUTDOWN', 'NOT_RUNNING']
}

export type StateListener = (next: AppState, previous: AppState) => void

export class AppStateMachine {
  #state: AppState = 'CREATED'
  readonly #listeners: StateListener[] = []

  get current (): AppState { return this.#state }

  /** returns a function that removes the listener again */
  onChange (listener: StateListener): () => void {
    this.#listeners.push(listener)
    return () => {
      const i = this.#listeners.indexOf(listener)
      if (i >= 0) this.#listeners.splice(i, 1)
    }
  }

  /** returns false when already in `next` (idempotent), throws on a transition the life cycle does not allow */
  transition (next: AppState): boolean {
    const previous = this.#state
    if (previous === next && next !== 'REBALANCING') return false
    if (!ALLOWED[previous].includes(next)) {
      throw new DevtripError('DEVTRIP_PROCESSING', `illegal streams state transition ${previous} → ${next}`)
    }
    this.#state = next
    for (const listener of [...this.#listeners]) listener(next, previous)
    return true
  }

  isRunningOrRebalancing (): boolean { return this.#state === 'RUNNING' || this.#state === 'REBALANCING' }
}
