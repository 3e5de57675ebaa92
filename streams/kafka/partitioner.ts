/**
 * The default partitioner of the Java client, so that records keyed here land on the same partition as records
 * with the same key written by any Java (or Kafka Streams) producer — co-partitioning depends on it.
 *
 * partition = (murmur2(keyBytes) & 0x7fffffff) mod numPartitions, with Kafka's variant of MurmurHash2
 * (32-bit, seed 0x9747b28c, little-endian 4-byte blocks). Written with 32-bit integer arithmetic
 * (Math.imul, >>>) because it runs once per produced record.
 */

const SEED = 0x9747b28c
const M = 0x5bd1e995

/** Kafka's murmur2 of `data`, as a signed 32-bit integer (the value Java's Utils.murmur2 returns). */
export function murmur2 (data: Uint8Array): number {
  const length = data.length
  let h = (SEED ^ length) | 0
  const blocks = length >>> 2
  for (let i = 0; i < blocks; i++) {
    const o = i << 2
    let k = data[o]! | (data[o + 1]! << 8) | (data[o + 2]! << 16) | (data[o + 3]! << 24)
    k = Math.imul(k, M)
    k ^= k >>> 24
    k = Math.imul(k, M)
    h = Math.imul(h, M) ^ k
  }
  const tail = blocks << 2
  const rest = length & 3
  if (rest === 3) h ^= data[tail + 2]! << 16
  if (rest >= 2) h ^= data[tail + 1]! << 8
  if (rest >= 1) {
    h ^= data[tail]!
    h = Math.imul(h, M)
  }
  h ^= h >>> 13
  h = Math.imul(h, M)
  h ^= h >>> 15
  return h | 0
}

/** The partition the Java client's default partitioner picks for a keyed record. */
export function partitionForKey (key: Uint8Array, numPartitions: number): number {
  if (!Number.isInteger(numPartitions) || numPartitions < 1) throw new RangeError(`numPartitions must be a positive integer, got ${numPartitions}`)
  return (murmur2(key) & 0x7fffffff) % numPartitions
}
