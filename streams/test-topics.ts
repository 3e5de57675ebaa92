/**
 * Typed views on the TopologyTestDriver's in-memory topics, as Kafka Streams' TestInputTopic / TestOutputTopic.
 */
import { DevtripError } from '../events/errors'
import type { Deserializer, Serializer } from '../state/serdes'
import { NO_HEADERS, type Headers } from './record'

export interface TestRecord<K, V> {
  readonly key: K | null
  readonly value: V | null
  readonly timestamp: number
  readonly headers: Headers
  readonly partition: number
  readonly offset: bigint
}

export interface TestInput<K, V> {
  readonly key: K | null
  readonly value: V | null
  readonly timestampMs?: number
  readonly headers?: Headers
}

/** A raw record on a driver topic. */
export interface StoredRecord {
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly timestamp: number
  readonly headers: Headers
  readonly partition: number
  readonly offset: bigint
}

/** What the topics need from the driver. */
export interface DriverTopics {
  pipe (topic: string, key: Buffer | null, value: Buffer | null, timestampMs: number | undefined, headers: Headers): Promise<void>
  /** records of `topic` not yet read through an output topic, oldest first; reading consumes them */
  take (topic: string, max: number): StoredRecord[]
  unread (topic: string): number
}

export class TestInputTopic<K, V> {
  constructor (private readonly driver: DriverTopics, readonly name: string,
    private readonly keySerializer: Serializer<K>, private readonly valueSerializer: Serializer<V>) {}

  /** Serializes and pipes one record, then lets the topology process it (and everything it causes) and commits. */
  async pipeInput (key: K | null, value: V | null, timestampMs?: number, headers: Headers = NO_HEADERS): Promise<void> {
    const k = key === null || key === undefined ? null : this.keySerializer.serialize(key)
    const v = value === null || value === undefined ? null : this.valueSerializer.serialize(value)
    await this.driver.pipe(this.name, k, v, timestampMs, headers)
  }

  /** Pipes the records one after the other (each fully processed and committed before the next). */
  async pipeRecordList (records: ReadonlyArray<TestInput<K, V>>): Promise<void> {
    for (const r of records) await this.pipeInput(r.key, r.value, r.timestampMs, r.headers ?? NO_HEADERS)
  }

  /** Pipes raw bytes unchanged, e.g. a poison record the serializer would refuse to produce. */
  async pipeRawInput (key: Buffer | null, value: Buffer | null, timestampMs?: number, headers: Headers = NO_HEADERS): Promise<void> {
    await this.driver.pipe(this.name, key, value, timestampMs, headers)
  }
}

export class TestOutputTopic<K, V> {
  constructor (private readonly driver: DriverTopics, readonly name: string,
    private readonly keyDeserializer: Deserializer<K>, private readonly valueDeserializer: Deserializer<V>) {}

  /** Reads and removes the next record; throws when the topic has nothing unread. */
  readRecord (): TestRecord<K, V> {
    const [raw] = this.driver.take(this.name, 1)
    if (raw === undefined) throw new DevtripError('DEVTRIP_PROCESSING', `output topic "${this.name}" has no unread records`)
    return this.decode(raw)
  }

  readKeyValue (): { key: K | null, value: V | null } {
    const r = this.readRecord()
    return { key: r.key, value: r.value }
  }

  readValue (): V | null {
    return this.readRecord().value
  }

  readRecordsToList (): Array<TestRecord<K, V>> {
    return this.driver.take(this.name, Number.MAX_SAFE_INTEGER).map((r) => this.decode(r))
  }

  readKeyValuesToList (): Array<{ key: K | null, value: V | null }> {
    return this.readRecordsToList().map((r) => ({ key: r.key, value: r.value }))
  }

  readValuesToList (): Array<V | null> {
    return this.readRecordsToList().map((r) => r.value)
  }

  /** Latest value per key (a tombstone leaves null, as in Kafka Streams); keys are compared as Map keys are. */
  readKeyValuesToMap (): Map<K, V | null> {
    const map = new Map<K, V | null>()
    for (const r of this.readRecordsToList()) {
      if (r.key === null) throw new DevtripError('DEVTRIP_PROCESSING', `readKeyValuesToMap: output topic "${this.name}" has a record with a null key`)
      map.set(r.key, r.value)
    }
    return map
  }

  isEmpty (): boolean {
    return this.driver.unread(this.name) === 0
  }

  getQueueSize (): number {
    return this.driver.unread(this.name)
  }

  private decode (raw: StoredRecord): TestRecord<K, V> {
    return {
      key: raw.key === null ? null : this.keyDeserializer.deserialize(raw.key),
      value: raw.value === null ? null : this.valueDeserializer.deserialize(raw.value),
      timestamp: raw.timestamp,
      headers: raw.headers,
      partition: raw.partition,
      offset: raw.offset
    }
  }
}
