/**
 * The in-memory bytes engine: a SortedBytesMap plus the checkpoint (persistent = false).
 * close() forgets both, as Kafka Streams' in-memory store clears its map on close: a task that opens it
 * again starts empty with checkpoint "none" and restores its whole changelog. Nothing survives a restart,
 * which is why an in-memory store with logging disabled loses its contents whenever its task moves.
 */
import type { BytesEngine, ChangelogCheckpoint } from '../base/types'
import { SortedBytesMap } from '../base/sorted-bytes-map'
import { storeNotOpen } from '../base/store-errors'

export class MemoryEngine implements BytesEngine {
  readonly persistent = false
  private readonly data = new SortedBytesMap<Buffer>()
  private checkpoint: ChangelogCheckpoint | undefined
  private opened = false

  constructor (private readonly storeName: string) {}

  async open (): Promise<void> {
    this.opened = true
  }

  get (key: Buffer): Buffer | undefined {
    this.assertOpen('get')
    return this.data.get(key)
  }

  range (from: Buffer | undefined, to: Buffer | undefined): Array<[Buffer, Buffer]> {
    this.assertOpen('range')
    return this.data.range(from, to)
  }

  async write (batch: Array<[Buffer, Buffer | null]>, checkpoint: ChangelogCheckpoint | undefined): Promise<void> {
    this.assertOpen('write')
    for (const [key, value] of batch) {
      // copies: the batch's buffers may be views into shared pools or still owned by the caller
      if (value === null) this.data.delete(key)
      else this.data.set(Buffer.from(key), Buffer.from(value))
    }
    if (checkpoint !== undefined) this.checkpoint = checkpoint
  }

  readCheckpoint (): ChangelogCheckpoint | undefined {
    this.assertOpen('readCheckpoint')
    return this.checkpoint
  }

  approximateNumEntries (): number {
    this.assertOpen('approximateNumEntries')
    return this.data.size
  }

  async close (): Promise<void> {
    this.opened = false
    this.data.clear()
    this.checkpoint = undefined
  }

  async destroy (): Promise<void> {
    await this.close()
  }

  private assertOpen (operation: string): void {
    if (!this.opened) throw storeNotOpen(this.storeName, operation)
  }
}
