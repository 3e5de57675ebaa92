/**
 * Helpers for the tests of the Kafka port on a real broker (the conformance suite run for every adapter, and the
 * adapter-specific regressions): poll until a condition holds, wait for transaction markers, read a partition
 * back whole. Bound to one client factory and one admin, so each adapter's run uses its own clients throughout.
 */
import type { ConsumedRecord, KafkaAdmin, KafkaClientFactory, KafkaConsumer, PartitionBatch, TopicPartition } from '../../streams/kafka'

export const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',').map((b) => b.trim()).filter((b) => b !== '')

export const text = (b: Buffer | null): string | null => (b === null ? null : b.toString('utf8'))

export interface KafkaPortKit {
  /** Polls until `done(records so far)` holds or the deadline passes; returns every record seen. */
  pollUntil (consumer: KafkaConsumer, done: (records: ConsumedRecord[]) => boolean, timeoutMs?: number): Promise<ConsumedRecord[]>
  /**
   * Waits until no transaction is open on the partitions: the last stable offset has caught up with the high
   * watermark. Needed after a commit or abort, because the coordinator writes the transaction markers to the
   * partitions after EndTxn has already returned.
   */
  settled (partitions: TopicPartition[]): Promise<void>
  /** Reads everything currently readable in the given partitions with a fresh assigned consumer. */
  readAll (partitions: TopicPartition[], isolationLevel?: 'read_committed' | 'read_uncommitted', settle?: boolean): Promise<ConsumedRecord[]>
}

export function kafkaPortKit (kafka: () => KafkaClientFactory, admin: () => KafkaAdmin): KafkaPortKit {
  async function pollUntil (consumer: KafkaConsumer, done: (records: ConsumedRecord[]) => boolean, timeoutMs = 20_000): Promise<ConsumedRecord[]> {
    const records: ConsumedRecord[] = []
    const deadline = Date.now() + timeoutMs
    while (!done(records)) {
      if (Date.now() > deadline) throw new Error(`pollUntil: condition not met after ${timeoutMs} ms (${records.length} records seen)`)
      const batches: PartitionBatch[] = await consumer.poll(200)
      for (const b of batches) records.push(...b.records)
    }
    return records
  }

  async function settled (partitions: TopicPartition[]): Promise<void> {
    const deadline = Date.now() + 15_000
    for (;;) {
      const stable = await admin().listOffsets(partitions, 'latest', 'read_committed')
      const high = await admin().listOffsets(partitions, 'latest', 'read_uncommitted')
      if (stable.every((s, i) => s.offset === high[i]!.offset)) return
      if (Date.now() > deadline) throw new Error('transaction markers did not arrive within 15 s')
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  async function readAll (partitions: TopicPartition[], isolationLevel: 'read_committed' | 'read_uncommitted' = 'read_committed', settle = true): Promise<ConsumedRecord[]> {
    if (settle) await settled(partitions)
    const ends = await admin().listOffsets(partitions, 'latest', isolationLevel)
    const consumer = kafka().createAssignedConsumer({ isolationLevel })
    try {
      consumer.assign(partitions)
      for (const tp of partitions) consumer.seek(tp, 'earliest')
      return await pollUntil(consumer, () => consumer.partitionStates().every((s) => {
        const end = ends.find((e) => e.topic === s.topic && e.partition === s.partition)!.offset
        return s.position !== null && s.position >= end
      }))
    } finally {
      await consumer.close()
    }
  }

  return { pollUntil, settled, readAll }
}
