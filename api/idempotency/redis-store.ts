/**
 * The idempotency store on Redis (ioredis). One key per eventId: `<keyPrefix><eventId>`, value as described in
 * store.ts, with a TTL (pending: pendingTtlMs, done: retentionMs).
 *
 *   reserve:  SET key pending NX PX ttl GET — one atomic command per id (Redis ≥ 7.0): it sets the value only
 *             when the key is absent and returns the previous value, so "reserved" vs "already there, and
 *             what" comes from one round trip without a race. All ids of a request go in one pipeline.
 *   complete: a Lua compare-and-set: overwrite only while the value is still this owner's reservation.
 *   release:  a Lua compare-and-delete, same condition.
 *   extend:   a Lua compare-and-PEXPIRE, same condition.
 */
import type { Redis } from 'ioredis'
import { encodeDone, encodePending, decodeStored, type IdempotencyRecord, type IdempotencyStore, type ReserveOutcome } from './store'

const COMPLETE_SCRIPT = `
local n = 0
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then
    redis.call('SET', KEYS[i], ARGV[i + 2], 'PX', ARGV[2])
    n = n + 1
  end
end
return n`

const RELEASE_SCRIPT = `
local n = 0
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then
    redis.call('DEL', KEYS[i])
    n = n + 1
  end
end
return n`

const EXTEND_SCRIPT = `
local n = 0
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then
    redis.call('PEXPIRE', KEYS[i], ARGV[2])
    n = n + 1
  end
end
return n`

export interface RedisIdempotencyStoreOptions {
  readonly keyPrefix: string
  /** quit the client on close() (true when the store created it) */
  readonly ownsClient?: boolean
}

export class RedisIdempotencyStore implements IdempotencyStore {
  constructor (private readonly redis: Redis, private readonly options: RedisIdempotencyStoreOptions) {}

  private key (eventId: string): string {
    return this.options.keyPrefix + eventId
  }

  async reserve (eventIds: readonly string[], owner: string, pendingTtlMs: number): Promise<ReserveOutcome[]> {
    if (eventIds.length === 0) return []
    const pending = encodePending(owner)
    const pipeline = this.redis.pipeline()
    for (const id of eventIds) pipeline.set(this.key(id), pending, 'PX', pendingTtlMs, 'NX', 'GET')
    const replies = await pipeline.exec()
    if (replies === null) throw new Error('Redis pipeline was discarded')
    return replies.map(([error, previous]) => {
      if (error !== null) throw error
      return previous === null ? { status: 'reserved' } : decodeStored(String(previous))
    })
  }

  async complete (entries: ReadonlyArray<{ readonly eventId: string, readonly record: IdempotencyRecord }>, owner: string, retentionMs: number): Promise<void> {
    if (entries.length === 0) return
    await this.redis.eval(COMPLETE_SCRIPT, entries.length, ...entries.map((e) => this.key(e.eventId)),
      encodePending(owner), String(retentionMs), ...entries.map((e) => encodeDone(e.record)))
  }

  async release (eventIds: readonly string[], owner: string): Promise<void> {
    if (eventIds.length === 0) return
    await this.redis.eval(RELEASE_SCRIPT, eventIds.length, ...eventIds.map((id) => this.key(id)), encodePending(owner))
  }

  async extend (eventIds: readonly string[], owner: string, pendingTtlMs: number): Promise<void> {
    if (eventIds.length === 0) return
    await this.redis.eval(EXTEND_SCRIPT, eventIds.length, ...eventIds.map((id) => this.key(id)), encodePending(owner), String(pendingTtlMs))
  }

  async ping (): Promise<void> {
    await this.redis.ping()
  }

  async close (): Promise<void> {
    if (this.options.ownsClient === true) await this.redis.quit().catch(() => { this.redis.disconnect() })
  }
}
