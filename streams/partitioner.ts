/**
 * Kafka's default partitioner for keyed records, bit for bit, so that a key lands on the same partition whether
 * Java, librdkafka (with murmur2 partitioner) or this engine wrote it. Co-partitioned joins depend on it.
 *
 * partition = toPositive(murmur2(keyBytes)) % numPartitions, where toPositive(n) = n & 0x7fffffff and murmur2 is
 * MurmurHash2 (32 bit) with seed 0x9747b28c, multiplier m = 0x5bd1e995 and shift r = 24:
 *   h = seed ^ length
 *   for each little-endian 4-byte block k:  k *= m; k ^= k >>> r; k *= m; h *= m; h ^= k
 *   tail (length % 4 bytes, highest first): h ^= byte2 << 16; h ^= byte1 << 8; h ^= byte0; h *= m
 *   finalisation: h ^= h >>> 13; h *= m; h ^= h >>> 15
 * All arithmetic is 32-bit two's complement (Math.imul here, int overflow in Java).
 */
const SEED = 0x9747b28c
const M = 0x5bd1e995
const R = 24

/** MurmurHash2 of `data` as Kafka computes it; a signed 32-bit integer, like Java's int. */
export function murmur2 (data: Uint8Array): number {
  const length = data.length
  let h = (SEED ^ length) | 0
  const blocks = length >>> 2
  for (let i = 0; i < blocks; i++) {
    const o = i << 2
    let k = (data[o] as number) | ((data[o + 1] as number) << 8) | ((data[o + 2] as number) << 16) | ((data[o + 3] as number) << 24)
    k = Math.imul(k, M)
    k ^= k >>> R
    k = Math.imul(k, M)
    h = Math.imul(h, M) ^ k
  }
  const tail = blocks << 2
  const rest = length & 3
  // the tail bytes, highest first (a fall-through switch in the reference implementation)
  if (rest === 3) h ^= (data[tail + 2] as number) << 16
  if (rest >= 2) h ^= (data[tail + 1] as number) << 8
  if (rest >= 1) {
    h ^= data[tail] as number
    h = Math.imul(h, M)
  }
  h ^= h >>> 13
  h = Math.imul(h, M)
  h ^= h >>> 15
  return h | 0
}

export function toPositive (n: number): number {
  return n & 0x7fffffff
}

/** The partition Kafka's default partitioner picks for a non-null key. */
export function partitionForKey (keyBytes: Uint8Array, numPartitions: number): number {
  return toPositive(murmur2(keyBytes)) % numPartitions
}

/**
 * Chooses the partition of a record written by a sink; return undefined to fall back to the default
 * (murmur2 of the key bytes, or the producer's choice for a null key).
 */
export type StreamPartitioner<K, V> = (topic: string, key: K, value: V, numPartitions: number) => number | undefined
