/**
 * What the ingest path needs from Kafka: write a set of records atomically and say where they landed.
 * transactional-publisher.ts implements it on the Kafka port; unit tests inject fakes.
 */
import type { ProducerRecord, RecordMetadata } from '../../streams/kafka'

/**
 * A publish failed. `outcome` tells the caller what it may assume:
 *   'not-written': nothing of the batch is (or will become) visible — the eventIds may be freed;
 *   'unknown':     the commit may have happened (it timed out, or the abort could not be confirmed), so the
 *                  eventIds must stay reserved until their reservation expires.
 */
export class PublishError extends Error {
  readonly outcome: 'not-written' | 'unknown'
  /** 'buffer-full' | 'broker-unavailable' | 'cancelled' | 'closed' | 'failed' */
  readonly reason: string
  constructor (message: string, outcome: 'not-written' | 'unknown', reason: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'PublishError'
    this.outcome = outcome
    this.reason = reason
  }
}

export interface PublishOptions {
  /** aborting it takes the batch back if it is still queued (then the publish rejects 'not-written', 'cancelled') */
  readonly signal?: AbortSignal
}

export interface EventPublisher {
  /**
   * Writes all records in one transaction (all visible to read_committed readers, or none); resolves after
   * the broker acknowledged the commit, with one location per record in input order. Rejects with a
   * PublishError.
   */
  publish (records: readonly ProducerRecord[], options?: PublishOptions): Promise<RecordMetadata[]>
  /** Resolves when the broker answers and the given topics exist; rejects with the reason otherwise. */
  checkReady (topics: readonly string[], timeoutMs: number): Promise<void>
  /** Finishes the queued batches (or fails them), then closes the producers. */
  close (): Promise<void>
}
