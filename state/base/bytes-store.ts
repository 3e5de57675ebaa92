/**
 * The contracts between the store layers (metered → change-logging → transactional buffer → engine).
 * They speak bytes: serdes are applied once, at the top (the metered layer), as in Kafka Streams.
 */
import type { StateStore } from './types'

/** A key-value store over bytes; the layer below the metered store. */
export interface KeyValueBytesStore extends StateStore {
  get (key: Buffer): Buffer | undefined
  /** inclusive bounds, ascending byte order */
  range (from: Buffer | undefined, to: Buffer | undefined): Array<[Buffer, Buffer]>
  /** `null` deletes the key */
  put (key: Buffer, value: Buffer | null): void
  approximateNumEntries (): number
}

export interface WindowedBytes {
  key: Buffer
  windowStart: number
  value: Buffer
}

/** A window store over bytes; the layer below the metered window store. */
export interface WindowBytesStore extends StateStore {
  readonly retentionMs: number
  /**
   * Stores `value` for `key` in the window starting at `windowStart`. Returns the changelog key the write
   * must be logged under, or `undefined` when the window had already expired and nothing was stored.
   */
  put (key: Buffer, value: Buffer, windowStart: number): Buffer | undefined
  /** windows of `key` starting in [timeFrom, timeTo] that are still retained, oldest first */
  fetch (key: Buffer, timeFrom: number, timeTo: number): Array<{ windowStart: number, value: Buffer }>
  /** all retained windows starting in [timeFrom, timeTo], by time segment, then key, then window start */
  fetchAll (timeFrom: number, timeTo: number): WindowedBytes[]
}
