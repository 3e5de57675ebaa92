/**
 * The transactional buffer: the layer right above the engine.
 *
 * While a task's Kafka transaction is open its writes stay here (reads, ranges included, see them merged over
 * the engine). When the transaction commits, the runtime calls commit(checkpoint) and the buffer reaches the
 * engine in ONE atomic write together with the changelog checkpoint; when it aborts, abort() forgets them.
 * So the engine only ever holds committed state plus the offset it corresponds to, and a crash at any point
 * leaves it consistent: at worst older than Kafka, never ahead of it (docs/state.md).
 *
 * A commit in flight keeps its buffer readable (reads fold: engine ← committing ← current) so an interactive
 * query arriving mid-commit never sees a hole; writes during that time land in the next buffer.
 */
import type { BytesEngine, ChangelogCheckpoint, ChangelogRecord, StateStoreContext } from '../base/types'
import type { KeyValueBytesStore } from '../base/bytes-store'
import { storeError, storeNotOpen } from '../base/store-errors'
import { MISS, WriteBuffer } from './write-buffer'

export type EngineFactory = (context: StateStoreContext) => BytesEngine

type Phase = 'closed' | 'open' | 'failed'

export class TransactionalBytesStore implements KeyValueBytesStore {
  private engine: BytesEngine | undefined
  private current = new WriteBuffer()
  private committing: WriteBuffer | undefined
  private commitInFlight: Promise<void> | undefined
  private phase: Phase = 'closed'
  private failure: unknown

  constructor (
    readonly name: string,
    readonly persistent: boolean,
    private readonly createEngine: EngineFactory
  ) {}

  async init (context: StateStoreContext): Promise<void> {
    if (this.phase !== 'closed') throw storeError(this.name, 'init() called on a store that is already open')
    const engine = this.createEngine(context)
    await engine.open()
    this.engine = engine
    this.current = new WriteBuffer()
    this.committing = undefined
    this.failure = undefined
    this.phase = 'open'
  }

  isOpen (): boolean {
    return this.phase === 'open'
  }

  checkpoint (): ChangelogCheckpoint {
    return this.openEngine('checkpoint').readCheckpoint() ?? 0n
  }

  get (key: Buffer): Buffer | undefined {
    const engine = this.openEngine('get')
    const mine = this.current.lookup(key)
    if (mine !== MISS) return mine ?? undefined
    if (this.committing !== undefined) {
      const theirs = this.committing.lookup(key)
      if (theirs !== MISS) return theirs ?? undefined
    }
    return engine.get(key)
  }

  range (from: Buffer | undefined, to: Buffer | undefined): Array<[Buffer, Buffer]> {
    const engine = this.openEngine('range')
    let rows = engine.range(from, to)
    if (this.committing !== undefined) rows = this.committing.overlay(rows, from, to)
    return this.current.overlay(rows, from, to)
  }

  put (key: Buffer, value: Buffer | null): void {
    this.openEngine('put')
    this.current.put(key, value)
  }

  /** buffered like any write: drops every key in [from, to] (used to expire window segments) */
  deleteRange (from: Buffer | undefined, to: Buffer | undefined): void {
    this.openEngine('deleteRange')
    this.current.deleteRange(from, to)
  }

  /** writes of the open transaction not yet committed (point writes plus range deletes) */
  uncommittedWrites (): number {
    this.openEngine('uncommittedWrites')
    return this.current.size
  }

  approximateNumEntries (): number {
    const engine = this.openEngine('approximateNumEntries')
    let estimate = engine.approximateNumEntries()
    // buffered writes change the count only where they add a new key or remove an existing one
    for (const [key, value] of this.current.pointWrites()) {
      const exists = engine.get(key) !== undefined
      if (value !== null && !exists) estimate++
      else if (value === null && exists) estimate--
    }
    return Math.max(0, estimate)
  }

  async commit (checkpoint: ChangelogCheckpoint | undefined): Promise<void> {
    const engine = this.openEngine('commit')
    if (this.commitInFlight !== undefined) throw storeError(this.name, 'commit() called while the previous commit is still running')
    if (checkpoint !== undefined && (typeof checkpoint !== 'bigint' || checkpoint < 0n)) {
      throw storeError(this.name, `commit checkpoint must be a non-negative bigint, got ${String(checkpoint)}`)
    }
    if (this.current.isEmpty && checkpoint === undefined) return
    const buffer = this.current
    this.current = new WriteBuffer()
    this.committing = buffer
    const batch = buffer.toBatch((from, to) => engine.range(from, to))
    this.commitInFlight = engine.write(batch, checkpoint).then(
      () => { this.committing = undefined },
      (error: unknown) => {
        // the engine may now hold part of nothing or all of the batch; Kafka already committed it. The only
        // safe way forward is to close, and restore from the changelog past the checkpoint on the next init.
        this.phase = 'failed'
        this.failure = error
        throw storeError(this.name, `commit failed; close the store and restore it: ${(error as Error).message}`, { cause: error })
      }
    ).finally(() => { this.commitInFlight = undefined })
    await this.commitInFlight
  }

  /** forgets the open transaction's writes; a no-op on a closed store (an abort during shutdown is harmless) */
  abort (): void {
    this.current = new WriteBuffer()
  }

  async restore (records: ChangelogRecord[]): Promise<void> {
    if (records.length === 0) {
      this.openEngine('restore')
      return
    }
    let last = -1n
    const batch: Array<[Buffer, Buffer | null]> = new Array(records.length)
    for (let i = 0; i < records.length; i++) {
      const { key, value, offset } = records[i]
      if (!Buffer.isBuffer(key) || (value !== null && !Buffer.isBuffer(value)) || typeof offset !== 'bigint' || offset < 0n) {
        throw storeError(this.name, `restore: record ${i} is malformed (key and value must be Buffers or null, offset a non-negative bigint)`)
      }
      if (offset > last) last = offset
      batch[i] = [key, value]
    }
    await this.restoreBatch(batch, last + 1n)
  }

  /**
   * Applies a restore batch straight to the engine with the given checkpoint, bypassing the buffer.
   * Refused while the open transaction has writes: restoring happens before processing, never during it.
   * The checkpoint never moves backwards (replaying an older tail is harmless, forgetting a newer one is not).
   */
  async restoreBatch (batch: Array<[Buffer, Buffer | null]>, checkpoint: ChangelogCheckpoint): Promise<void> {
    const engine = this.openEngine('restore')
    if (!this.current.isEmpty || this.commitInFlight !== undefined) {
      throw storeError(this.name, 'restore() called while the store has uncommitted writes; restore before processing')
    }
    const existing = engine.readCheckpoint()
    await engine.write(batch, existing !== undefined && existing > checkpoint ? existing : checkpoint)
  }

  async close (): Promise<void> {
    if (this.phase === 'closed') return
    if (this.commitInFlight !== undefined) await this.commitInFlight.catch(() => undefined)
    this.phase = 'closed'
    this.current = new WriteBuffer()
    this.committing = undefined
    await this.engine?.close()
  }

  async destroy (): Promise<void> {
    await this.close()
    await this.engine?.destroy()
    this.engine = undefined
  }

  private openEngine (operation: string): BytesEngine {
    if (this.phase === 'failed') {
      throw storeError(this.name, `${operation}: the store failed during a commit and must be closed and restored`, { cause: this.failure })
    }
    if (this.phase !== 'open' || this.engine === undefined) throw storeNotOpen(this.name, operation)
    return this.engine
  }
}
