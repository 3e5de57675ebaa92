/**
 * Window definitions. All times are milliseconds. Grace is how long after a window ends records for it are still
 * accepted (measured in stream time); a record arriving later is dropped and reported, never silently.
 */
import { DevtripError } from '../../events/errors'
import { checkDuration } from './options'

/** A key together with the time window it was aggregated in. */
export interface Windowed<K> {
  readonly key: K
  /** inclusive start */
  readonly startMs: number
  /** exclusive end */
  readonly endMs: number
}

/**
 * A stream–stream join window: a record at time t joins other-side records with timestamps in
 * [t - beforeMs, t + afterMs]. ofTimeDifference* sets both to the same difference.
 */
export class JoinWindows {
  private constructor (readonly beforeMs: number, readonly afterMs: number, readonly graceMs: number) {}

  static ofTimeDifferenceAndGrace (timeDifferenceMs: number, graceMs: number): JoinWindows {
    checkDuration('join time difference', timeDifferenceMs)
    checkDuration('join grace', graceMs)
    return new JoinWindows(timeDifferenceMs, timeDifferenceMs, graceMs)
  }

  static ofTimeDifferenceWithNoGrace (timeDifferenceMs: number): JoinWindows {
    return JoinWindows.ofTimeDifferenceAndGrace(timeDifferenceMs, 0)
  }

  /** other-side records up to this much EARLIER than this side's record still join */
  before (ms: number): JoinWindows {
    checkDuration('join before', ms)
    return new JoinWindows(ms, this.afterMs, this.graceMs)
  }

  /** other-side records up to this much LATER than this side's record still join */
  after (ms: number): JoinWindows {
    checkDuration('join after', ms)
    return new JoinWindows(this.beforeMs, ms, this.graceMs)
  }

  get sizeMs (): number {
    return this.beforeMs + this.afterMs
  }
}

/** Tumbling (advance = size) or hopping (advance < size) time windows aligned to the epoch. */
export class TimeWindows {
  private constructor (readonly sizeMs: number, readonly advanceMs: number, readonly graceMs: number) {}

  static ofSizeAndGrace (sizeMs: number, graceMs: number): TimeWindows {
    if (checkDuration('window size', sizeMs) === 0) throw new DevtripError('DEVTRIP_TOPOLOGY', 'window size must be at least 1 ms')
    checkDuration('window grace', graceMs)
    return new TimeWindows(sizeMs, sizeMs, graceMs)
  }

  static ofSizeWithNoGrace (sizeMs: number): TimeWindows {
    return TimeWindows.ofSizeAndGrace(sizeMs, 0)
  }

  /** hopping windows: a new window starts every advanceMs (0 < advanceMs <= size) */
  advanceBy (advanceMs: number): TimeWindows {
    if (!Number.isSafeInteger(advanceMs) || advanceMs < 1 || advanceMs > this.sizeMs) {
      throw new DevtripError('DEVTRIP_TOPOLOGY', `window advance must be an integer in [1, ${this.sizeMs}] ms, got ${String(advanceMs)}`)
    }
    return new TimeWindows(this.sizeMs, advanceMs, this.graceMs)
  }

  /** Start times of every window containing `timestampMs`, oldest first. */
  windowStartsFor (timestampMs: number): number[] {
    const starts: number[] = []
    // from the latest start <= timestamp back while the window still covers the timestamp
    const first = Math.max(0, timestampMs - this.sizeMs + 1)
    for (let start = timestampMs - (timestampMs % this.advanceMs); start >= first; start -= this.advanceMs) starts.push(start)
    return starts.reverse()
  }
}
