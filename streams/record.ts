/**
 * The record model every processor sees, as in Kafka Streams' Processor API.
 *
 * Headers stay a list of [key, bytes] pairs because that is what Kafka carries on the wire: keys may repeat and
 * their order is kept, so a record read from one topic and written to another loses nothing.
 */
export type Header = readonly [key: string, value: Buffer]
export type Headers = readonly Header[]

/** Shared by every record without headers so that the common case allocates nothing. */
export const NO_HEADERS: Headers = Object.freeze([]) as Headers

/**
 * One record flowing through a topology. Immutable by convention: a processor that changes something forwards a
 * new object (`{ ...record, value: newValue }`), because siblings downstream may hold the same instance.
 * A null key or value on the wire arrives as null, whatever K and V say (a tombstone on a table topic).
 */
export interface Record<K, V> {
  readonly key: K
  readonly value: V
  /** milliseconds since the epoch; the record's event time */
  readonly timestamp: number
  readonly headers: Headers
}

/** Where the record being processed came from; undefined inside a punctuator, which has no source record. */
export interface RecordMetadata {
  readonly topic: string
  readonly partition: number
  readonly offset: bigint
}

/** The last value of header `key` (Kafka's Headers.lastHeader), or undefined. */
export function lastHeader (headers: Headers, key: string): Buffer | undefined {
  for (let i = headers.length - 1; i >= 0; i--) {
    const header = headers[i] as Header
    if (header[0] === key) return header[1]
  }
  return undefined
}
