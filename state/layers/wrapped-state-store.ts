/** The lifecycle half of every layer: a wrapping layer passes it through unless it has a reason not to. */
import type { ChangelogCheckpoint, ChangelogRecord, StateStore, StateStoreContext } from '../base/types'

export abstract class WrappedStateStore<I extends StateStore> implements StateStore {
  constructor (protected readonly inner: I) {}

  get name (): string {
    return this.inner.name
  }

  get persistent (): boolean {
    return this.inner.persistent
  }

  async init (context: StateStoreContext): Promise<void> {
    await this.inner.init(context)
  }

  isOpen (): boolean {
    return this.inner.isOpen()
  }

  checkpoint (): ChangelogCheckpoint {
    return this.inner.checkpoint()
  }

  async restore (records: ChangelogRecord[]): Promise<void> {
    await this.inner.restore(records)
  }

  async commit (checkpoint: ChangelogCheckpoint | undefined): Promise<void> {
    await this.inner.commit(checkpoint)
  }

  abort (): void {
    this.inner.abort()
  }

  async close (): Promise<void> {
    await this.inner.close()
  }

  async destroy (): Promise<void> {
    await this.inner.destroy()
  }
}
