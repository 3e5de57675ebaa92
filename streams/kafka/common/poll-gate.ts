/**
 * The calling discipline of the port's `poll(maxWaitMs)` for adapters that implement it as one async run (the
 * @platformatic/kafka and kafkajs consumers): the argument check, no poll after close() began, no second poll
 * while one runs (the port's poll is not re-entrant: positions and rebalances are updated by the run), and the
 * wait for data that close() or a rebalance can cut short, so a closing consumer is not held for `maxWaitMs`.
 */
import { DevtripError } from '../../../events/errors'

export class PollGate {
  private polling: Promise<unknown> | null = null
  private wake: (() => void) | null = null

  /** Starts `work` as the one running poll; rejects (without running it) a bad `maxWaitMs`, a closed consumer or a second poll. */
  run<T> (maxWaitMs: number, closing: boolean, work: () => Promise<T>): Promise<T> {
    if (!Number.isSafeInteger(maxWaitMs) || maxWaitMs < 0) {
      return Promise.reject(new DevtripError('DEVTRIP_INVALID_OPTIONS', `poll: /maxWaitMs must be an integer >= 0, got ${String(maxWaitMs)}`))
    }
    if (closing) return Promise.reject(consumerClosedError('poll'))
    if (this.polling !== null) return Promise.reject(new DevtripError('DEVTRIP_INVALID_OPTIONS', 'poll: already polling (poll is not re-entrant; await the previous call)'))
    const run = work()
    this.polling = run
    return run.finally(() => { this.polling = null })
  }

  /** Resolves once the running poll (if any) has ended, whatever its outcome. */
  async settled (): Promise<void> {
    await this.polling?.catch(() => undefined)
  }

  /** Waits up to `ms`, or until wakeUp(). */
  idle (ms: number): Promise<void> {
    if (ms === 0) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      const self = this
      function done (): void {
        clearTimeout(timer)
        if (self.wake === done) self.wake = null
        resolve()
      }
      this.wake = done
    })
  }

  /** Ends the current idle() early: data arrived, a rebalance became due, or the consumer is closing. */
  wakeUp (): void {
    this.wake?.()
  }
}

/** The port's error for a call on a consumer whose close() has begun. */
export function consumerClosedError (operation: string): DevtripError {
  return new DevtripError('DEVTRIP_CLOSED', `${operation}: the consumer is closed`)
}
