/**
 * The idempotent-consumer rule of seed §9.1: an input whose eventId was already processed changes nothing.
 *
 * One key-value store per topology (string keys, int64 values) holds two kinds of key, so that expiry is a range
 * scan instead of a full scan:
 *   `id:<eventId>`                  → event time (epoch ms) of the first record with that id
 *   `t:<16-digit event time>:<eventId>` → the same time (an index ordered by time, for purging)
 * Times are zero-padded to 16 decimal digits (enough for the largest JS date, 8.64e15) so that byte order of the
 * UTF-8 keys is time order. An id is forgotten once stream time is `retentionMs` past its event time; a duplicate
 * arriving later than that is processed again (docs/policies.md, dedup.retentionMs).
 */
import type { KeyValueStore } from '../state/base/types'

const ID_PREFIX = 'id:'
const TIME_PREFIX = 't:'
const TIME_DIGITS = 16

export function paddedTime (ms: number): string {
  return String(Math.max(0, Math.trunc(ms))).padStart(TIME_DIGITS, '0')
}

export class EventDeduplicator {
  constructor (private readonly store: KeyValueStore<string, number>, private readonly retentionMs: number) {}

  /** true when a record with this eventId was processed before (and is still remembered) */
  isDuplicate (eventId: string): boolean {
    return this.store.get(ID_PREFIX + eventId) !== undefined
  }

  /**
   * Remembers an id once its record was processed. Called after processing, not before: a record that failed (and
   * went to the dead-letter topic) must be accepted when it is sent again, fixed, with the same id.
   */
  remember (eventId: string, eventTime: number): void {
    if (this.isDuplicate(eventId)) return
    this.store.put(ID_PREFIX + eventId, eventTime)
    this.store.put(`${TIME_PREFIX}${paddedTime(eventTime)}:${eventId}`, eventTime)
  }

  /** Forgets every id whose event time is older than streamTime − retention; returns how many. */
  purge (streamTimeMs: number): number {
    const cutoff = streamTimeMs - this.retentionMs
    if (cutoff <= 0) return 0
    // keys `t:<padded(cutoff − 1)>:…` sort below `t:<padded(cutoff − 1)>;` (';' follows ':'), later times above it
    const expired = this.store.range(TIME_PREFIX, `${TIME_PREFIX}${paddedTime(cutoff - 1)};`)
    for (const { key } of expired) {
      const eventId = key.slice(TIME_PREFIX.length + TIME_DIGITS + 1)
      this.store.delete(key)
      this.store.delete(ID_PREFIX + eventId)
    }
    return expired.length
  }
}
