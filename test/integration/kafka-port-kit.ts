/**
 * Helpers for the tests of the Kafka port on a real broker (the conformance suite run for every adapter, and the
 * adapter-specific regressions): poll until a condition holds, wait for transaction markers, read a partition
 * back whole. Bound to one client factory and one admin, so each adapter's run uses its own clients throughout.
 * kafkaPortFixture() adds what every such test file sets up: the clients of one adapter, topics and clients that
 * are cleaned up after the file's tests.
 */
import {
  createKafkaClients, type ConsumedRecord, type KafkaAdapterName, type KafkaAdmin, type KafkaClientFactory, type KafkaConsumer,
  type PartitionBatch, type TopicPartition
} from '../../streams/kafka'

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

export interface KafkaPortFixture extends KafkaPortKit {
  /** the adapter's client factory and an admin of it (from beforeAll on) */
  readonly kafka: KafkaClientFactory
  readonly admin: KafkaAdmin
  /** topics deleted after the tests; createTopic adds its own, a test that creates topics otherwise adds them */
  readonly createdTopics: string[]
  /** closes `client` after the tests (newest first) */
  track<T extends { close (): Promise<void> }> (client: T): T
  /**
   * Creates the topic (deleted after the tests) and waits until the cluster's metadata shows all its partitions with
   * a leader: CreateTopics answers before the broker's metadata cache shows the topic, and producers fail fast on
   * topics their Metadata request does not list.
   */
  createTopic (topic: string, partitions: number, configs?: Record<string, string>): Promise<string>
}

/**
 * Registers, in the calling describe block (or the file), a beforeAll that creates `adapter`'s clients and an
 * afterAll that closes the tracked clients, deletes the created topics and closes the admin. An adapter whose
 * library is missing throws DEVTRIP_KAFKA_ADAPTER_UNAVAILABLE (with what to install) in beforeAll, which fails
 * every test of the block with that message.
 */
export function kafkaPortFixture (adapter: KafkaAdapterName, clientId: string): KafkaPortFixture {
  let kafka: KafkaClientFactory | undefined
  let admin: KafkaAdmin | undefined
  const createdTopics: string[] = []
  const toClose: Array<{ close (): Promise<void> }> = []
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error(`the ${adapter} clients are created in beforeAll: use them inside a test or hook`)
    return value
  }
  const kit = kafkaPortKit(() => ready(kafka), () => ready(admin))

  beforeAll(() => {
    kafka = createKafkaClients({ brokers, clientId }, adapter)
    admin = kafka.createAdmin()
  })

  afterAll(async () => {
    for (const client of toClose.reverse()) await client.close().catch(() => undefined)
    if (admin !== undefined) {
      await admin.deleteTopics(createdTopics).catch(() => undefined)
      await admin.close()
    }
  })

  async function createTopic (topic: string, partitions: number, configs?: Record<string, string>): Promise<string> {
    await ready(admin).createTopics([{ name: topic, partitions, replicationFactor: 1, ...(configs === undefined ? {} : { configs }) }])
    createdTopics.push(topic)
    const deadline = Date.now() + 10_000
    for (;;) {
      const described = await ready(admin).describeTopics([topic]).catch(() => null)
      if (described !== null && described[0]!.partitions.length === partitions && described[0]!.partitions.every((p) => p.leader >= 0)) return topic
      if (Date.now() > deadline) throw new Error(`topic ${topic} did not appear in the metadata within 10 s`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  return {
    ...kit,
    get kafka () { return ready(kafka) },
    get admin () { return ready(admin) },
    createdTopics,
    track: (client) => {
      toClose.push(client)
      return client
    },
    createTopic
  }
}
