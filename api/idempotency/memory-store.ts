/**
 * The idempotency store in process memory, with the same semantics as the Redis one (store.ts): for tests
 * and for a single API process that can afford to forget on restart. Expired entries are dropped when read.
 */
import { encodeDone, encodePending, decodeStored, type IdempotencyRecord, type IdempotencyStore, type ReserveOutcome } from './store'

export class MemoryIdempotencyStore implements IdempotencyStore {
  private readonly values = new Map<string, { value: string, expiresAt: number }>()

  constructor (private readonly now: () => number = Date.now) {}

  private read (id: string): string | undefined {
    const entry = this.values.get(id)
    if (entry === undefined) return undefined
    if (entry.expiresAt <= this.now()) {
      this.values.delete(id)
      return undefined
    }
    return entry.value
  }

  async reserve (eventIds: readonly string[], owner: string, pendingTtlMs: number): Promise<ReserveOutcome[]> {
    return eventIds.map((id) => {
      const previous = this.read(id)
      if (previous !== undefined) return decodeStored(previous)
      this.values.set(id, { value: encodePending(owner), expiresAt: this.now() + pendingTtlMs })
      return { status: 'reserved' }
    })
  }

  async complete (entries: ReadonlyArray<{ readonly eventId: string, readonly record: IdempotencyRecord }>, owner: string, retentionMs: number): Promise<void> {
    const mine = encodePending(owner)
    for (const { eventId, record } of entries) {
      if (this.read(eventId) === mine) this.values.set(eventId, { value: encodeDone(record), expiresAt: this.now() + retentionMs })
    }
  }

  async release (eventIds: readonly string[], owner: string): Promise<void> {
    const mine = encodePending(owner)
    for (const id of eventIds) if (this.read(id) === mine) this.values.delete(id)
  }

  async extend (eventIds: readonly string[], owner: string, pendingTtlMs: number): Promise<void> {
    const mine = encodePending(owner)
    for (const id of eventIds) if (this.read(id) === mine) this.values.set(id, { value: mine, expiresAt: this.now() + pendingTtlMs })
  }

  async ping (): Promise<void> {}

  async close (): Promise<void> {}

  /** ids currently held (pending or done), for tests and diagnostics */
  get size (): number {
    return [...this.values.keys()].filter((id) => this.read(id) !== undefined).length
  }
}
