/**
 * Scheduled punctuators of one task, one queue per time kind. Tasks hold a handful of punctuators, so a plain array
 * scanned on each check beats a heap.
 */
import type { Cancellable, Punctuator } from '../../processor'

export class PunctuationSchedule implements Cancellable {
  cancelled = false

  constructor (
    readonly nodeName: string,
    readonly intervalMs: number,
    readonly punctuator: Punctuator,
    /** the earliest time this fires next */
    public nextMs: number
  ) {}

  cancel (): void {
    this.cancelled = true
  }
}

export class PunctuationQueue {
  private schedules: PunctuationSchedule[] = []

  add (schedule: PunctuationSchedule): void {
    this.schedules.push(schedule)
  }

  get size (): number {
    return this.schedules.length
  }

  /**
   * Fires every schedule due at `timeMs` once (a punctuator that fell behind several intervals fires once), then
   * moves it to the first multiple of its interval, counted from its previous due time, that lies after `timeMs`.
   * Returns whether anything fired.
   */
  mayPunctuate (timeMs: number, fire: (schedule: PunctuationSchedule, timeMs: number) => void): boolean {
    // checked without allocating: this runs after every record
    let anyDue = false
    for (let i = 0; i < this.schedules.length; i++) {
      const s = this.schedules[i] as PunctuationSchedule
      if (!s.cancelled && s.nextMs <= timeMs) { anyDue = true; break }
    }
    if (!anyDue) return false
    let fired = false
    // a snapshot: punctuators may schedule or cancel others while we iterate
    const due = this.schedules.filter((s) => !s.cancelled && s.nextMs <= timeMs)
    for (const s of due) {
      if (s.cancelled) continue
      s.nextMs += s.intervalMs * (Math.floor((timeMs - s.nextMs) / s.intervalMs) + 1)
      fired = true
      fire(s, timeMs)
    }
    if (this.schedules.some((s) => s.cancelled)) this.schedules = this.schedules.filter((s) => !s.cancelled)
    return fired
  }
}
