/**
 * The idempotency store: `eventId` → where the event was produced, so posting the same event again returns
 * the first result and produces nothing.
 *
 * Every id goes through three states:
 *   (absent) ──reserve──▶ pending(owner) ──complete──▶ done(result)       (kept `retentionMs`)
 *                                └──────release──────▶ (absent)           (the produce certainly failed)
 * `reserve` is atomic per id (Redis SET NX), so of two requests posting the same id at the same moment exactly
 * one gets the reservation and produces; the other sees `pending` and is told to retry (409 + Retry-After),
 * after which it gets the first result. A pending reservation expires `pendingTtlMs` after it was taken or
 * last `extend`ed: the owner extends it for as long as its produce is in flight (a produce can outlive its
 * request by far while the broker is away), so a live owner never loses it, and a crashed API process cannot
 * block an id for ever. `complete`, `release` and `extend` act only on a reservation the caller still owns
 * (compare-and-set on the owner token).
 */

/** Where an accepted event was written (offset as a decimal string: offsets are 64-bit). */
export interface ProducedLocation {
  readonly topic: string
  readonly partition: number
  readonly offset: string
}

/** The stored outcome of an id: where it went and which content it was (to catch an id reused for other content). */
export interface IdempotencyRecord {
  readonly fingerprint: string
  readonly location: ProducedLocation
  /** epoch ms the event was accepted */
  readonly acceptedAt: number
}

export type ReserveOutcome =
  | { readonly status: 'reserved' }
  | { readonly status: 'pending' }
  | { readonly status: 'done', readonly record: IdempotencyRecord }

export interface IdempotencyStore {
  /** For each id, in order: reserve it for `owner`, or report the pending reservation / finished record it has. */
  reserve (eventIds: readonly string[], owner: string, pendingTtlMs: number): Promise<ReserveOutcome[]>
  /** Turns the caller's reservations into finished records (ids the caller no longer owns are left alone). */
  complete (entries: ReadonlyArray<{ readonly eventId: string, readonly record: IdempotencyRecord }>, owner: string, retentionMs: number): Promise<void>
  /** Drops the caller's reservations (after a produce that certainly wrote nothing). */
  release (eventIds: readonly string[], owner: string): Promise<void>
  /** Pushes the expiry of the caller's reservations to `pendingTtlMs` from now (a produce still in flight). */
  extend (eventIds: readonly string[], owner: string, pendingTtlMs: number): Promise<void>
  /** Resolves when the store answers (readiness). */
  ping (): Promise<void>
  close (): Promise<void>
}

/**
 * Stored value layout (JSON text):
 *   pending: {"s":"p","o":"<owner token>"}
 *   done:    {"s":"d","f":"<fingerprint hex>","t":"<topic>","p":<partition>,"x":"<offset>","a":<acceptedAt ms>}
 * Short keys because millions of ids may be kept for the retention time.
 */
export function encodePending (owner: string): string {
  return JSON.stringify({ s: 'p', o: owner })
}

export function encodeDone (record: IdempotencyRecord): string {
  return JSON.stringify({ s: 'd', f: record.fingerprint, t: record.location.topic, p: record.location.partition, x: record.location.offset, a: record.acceptedAt })
}

/** Reads a stored value; a value this code did not write counts as pending (it must not be overwritten or trusted). */
export function decodeStored (text: string): ReserveOutcome {
  try {
    const v = JSON.parse(text) as Record<string, unknown>
    if (v.s === 'd' && typeof v.f === 'string' && typeof v.t === 'string' && typeof v.p === 'number' && typeof v.x === 'string' && typeof v.a === 'number') {
      return { status: 'done', record: { fingerprint: v.f, location: { topic: v.t, partition: v.p, offset: v.x }, acceptedAt: v.a } }
    }
  } catch {
    // fall through
  }
  return { status: 'pending' }
}
