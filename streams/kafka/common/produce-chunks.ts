/**
 * Splitting one `send` into several produce requests, so none grows past what the broker accepts: its default
 * message limit (message.max.bytes) is 1 MiB per record batch, and a request carries one batch per partition.
 * Half of that leaves room for the batch headers and for the libraries' own framing.
 */

/** One produce request carries at most about this many bytes of records. */
export const CHUNK_BYTES = 512 * 1024
/** bytes a record costs beyond its key, value and headers (lengths, deltas, attributes) */
export const RECORD_OVERHEAD = 24

/**
 * Decides, for one chunk being built, whether a record may still join it (and takes note of it when it does); a
 * fresh one is made for every chunk. For a limit beyond size, such as the @platformatic/kafka adapter's timestamp
 * deltas.
 */
export type ChunkAdmission<T> = (item: T) => boolean

/**
 * Splits `items` (in order) into runs of at most `maxBytes`; a single bigger item travels alone. With
 * `newAdmission`, an item the current chunk does not admit starts the next one.
 */
export function * chunksBySize<T extends { readonly size: number }> (items: readonly T[], maxBytes: number = CHUNK_BYTES, newAdmission?: () => ChunkAdmission<T>): Generator<T[]> {
  let current: T[] = []
  let bytes = 0
  let admits = newAdmission?.()
  for (const item of items) {
    const admitted = admits === undefined || admits(item)
    if (current.length > 0 && (bytes + item.size > maxBytes || !admitted)) {
      yield current
      current = []
      bytes = 0
      admits = newAdmission?.()
      admits?.(item)
    }
    current.push(item)
    bytes += item.size
  }
  if (current.length > 0) yield current
}
