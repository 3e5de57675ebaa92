/**
 * The partition a produced record goes to, chosen by the adapter rather than by the library: the libraries'
 * default partitioners hash keys differently from the Java client, and records written by different clients
 * (or by the same application under another adapter) must land in the same partition for the same key.
 */
import { DevtripError } from '../../../events/errors'
import { partitionForKey } from '../../partitioner'
import type { ProducerRecord } from '../port'

/**
 * The record's own partition (checked against the topic's `count`), else Java's murmur2 rule for a keyed record,
 * else the next partition of the topic's round-robin (`roundRobin` holds one counter per topic, kept by the caller
 * across sends so unkeyed records spread over calls too). `index` is the record's place in the send, for the error.
 */
export function choosePartition (record: ProducerRecord, index: number, count: number, roundRobin: Map<string, number>): number {
  const partition = record.partition
  if (partition !== undefined) {
    if (partition >= count) {
      throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `send: /records/${index}/partition ${partition} does not exist (topic "${record.topic}" has ${count})`)
    }
    return partition
  }
  if (record.key !== undefined && record.key !== null) return partitionForKey(record.key, count)
  const next = roundRobin.get(record.topic) ?? 0
  roundRobin.set(record.topic, next + 1)
  return next % count
}
