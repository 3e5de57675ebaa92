/**
 * The small immutable option objects of the DSL, named as in Kafka Streams. Every `withX` returns a new object.
 * Names given here end up in node, store and topic names, so they are checked the way Kafka checks topic names.
 */
import { DevtripError } from '../../events/errors'
import type { Serde } from '../../state/serdes'
import type { StreamPartitioner } from '../partitioner'
import type { KStream } from './kstream'

const LEGAL_NAME = /^[A-Za-z0-9._-]{1,200}$/

function checkName (what: string, name: string): string {
  if (typeof name !== 'string' || !LEGAL_NAME.test(name)) {
    throw new DevtripError('DEVTRIP_TOPOLOGY', `${what} name ${JSON.stringify(name)} must be 1-200 characters of [A-Za-z0-9._-] (it becomes part of node, store or topic names)`)
  }
  return name
}

/** Names a processor node. */
export class Named {
  private constructor (readonly name: string) {}
  static as (name: string): Named {
    return new Named(checkName('processor', name))
  }
}

/** Serdes (and optionally a node name) of a source topic. */
export class Consumed<K, V> {
  private constructor (readonly keySerde: Serde<K>, readonly valueSerde: Serde<V>, readonly name: string | undefined) {}
  static with<K, V> (keySerde: Serde<K>, valueSerde: Serde<V>): Consumed<K, V> {
    checkSerde('Consumed key', keySerde)
    checkSerde('Consumed value', valueSerde)
    return new Consumed(keySerde, valueSerde, undefined)
  }

  withName (name: string): Consumed<K, V> {
    return new Consumed(this.keySerde, this.valueSerde, checkName('source', name))
  }
}

/** Serdes, partitioner and node name of a sink. */
export class Produced<K, V> {
  private constructor (readonly keySerde: Serde<K> | undefined, readonly valueSerde: Serde<V> | undefined,
    readonly partitioner: StreamPartitioner<K, V> | undefined, readonly name: string | undefined) {}

  static with<K, V> (keySerde: Serde<K>, valueSerde: Serde<V>): Produced<K, V> {
    checkSerde('Produced key', keySerde)
    checkSerde('Produced value', valueSerde)
    return new Produced(keySerde, valueSerde, undefined, undefined)
  }

  withStreamPartitioner (partitioner: StreamPartitioner<K, V>): Produced<K, V> {
    return new Produced(this.keySerde, this.valueSerde, partitioner, this.name)
  }

  withName (name: string): Produced<K, V> {
    return new Produced(this.keySerde, this.valueSerde, this.partitioner, checkName('sink', name))
  }
}

/** 'persistent' = the RocksDB engine, 'in-memory' = the memory engine; both are change-logged unless disabled. */
export type StoreType = 'persistent' | 'in-memory'

/** Names (always: nothing is auto-named) and configures the store behind a KTable or an aggregation. */
export class Materialized<K, V> {
  private constructor (readonly storeName: string, readonly keySerde: Serde<K> | undefined, readonly valueSerde: Serde<V> | undefined,
    readonly loggingEnabled: boolean, readonly retentionMs: number | undefined, readonly storeType: StoreType | undefined) {}

  static as<K, V> (storeName: string): Materialized<K, V> {
    return new Materialized<K, V>(checkName('store', storeName), undefined, undefined, true, undefined, undefined)
  }

  withKeySerde (keySerde: Serde<K>): Materialized<K, V> {
    checkSerde('Materialized key', keySerde)
    return new Materialized(this.storeName, keySerde, this.valueSerde, this.loggingEnabled, this.retentionMs, this.storeType)
  }

  withValueSerde (valueSerde: Serde<V>): Materialized<K, V> {
    checkSerde('Materialized value', valueSerde)
    return new Materialized(this.storeName, this.keySerde, valueSerde, this.loggingEnabled, this.retentionMs, this.storeType)
  }

  /** no changelog topic: the store is rebuilt from nothing after a failover */
  withLoggingDisabled (): Materialized<K, V> {
    return new Materialized(this.storeName, this.keySerde, this.valueSerde, false, this.retentionMs, this.storeType)
  }

  /** window stores: keep windows this long (at least window size + grace) */
  withRetention (retentionMs: number): Materialized<K, V> {
    checkDuration('retention', retentionMs)
    return new Materialized(this.storeName, this.keySerde, this.valueSerde, this.loggingEnabled, retentionMs, this.storeType)
  }

  withStoreType (storeType: StoreType): Materialized<K, V> {
    return new Materialized(this.storeName, this.keySerde, this.valueSerde, this.loggingEnabled, this.retentionMs, checkStoreType(storeType))
  }
}

/** Names the repartition topic of a grouping (`<applicationId>-<name>-repartition`) and gives its serdes. */
export class Grouped<K, V> {
  private constructor (readonly name: string | undefined, readonly keySerde: Serde<K> | undefined, readonly valueSerde: Serde<V> | undefined) {}

  static as<K, V> (name: string): Grouped<K, V> {
    return new Grouped<K, V>(checkName('repartition', name), undefined, undefined)
  }

  static with<K, V> (keySerde: Serde<K>, valueSerde: Serde<V>): Grouped<K, V> {
    checkSerde('Grouped key', keySerde)
    checkSerde('Grouped value', valueSerde)
    return new Grouped(undefined, keySerde, valueSerde)
  }

  withName (name: string): Grouped<K, V> {
    return new Grouped(checkName('repartition', name), this.keySerde, this.valueSerde)
  }

  withKeySerde (keySerde: Serde<K>): Grouped<K, V> {
    checkSerde('Grouped key', keySerde)
    return new Grouped(this.name, keySerde, this.valueSerde)
  }

  withValueSerde (valueSerde: Serde<V>): Grouped<K, V> {
    checkSerde('Grouped value', valueSerde)
    return new Grouped(this.name, this.keySerde, valueSerde)
  }
}

/** An explicit repartition: topic `<applicationId>-<name>-repartition`, optional partition count and partitioner. */
export class Repartitioned<K, V> {
  private constructor (readonly name: string, readonly keySerde: Serde<K> | undefined, readonly valueSerde: Serde<V> | undefined,
    readonly numPartitions: number | undefined, readonly partitioner: StreamPartitioner<K, V> | undefined) {}

  static as<K, V> (name: string): Repartitioned<K, V> {
    return new Repartitioned<K, V>(checkName('repartition', name), undefined, undefined, undefined, undefined)
  }

  withKeySerde (keySerde: Serde<K>): Repartitioned<K, V> {
    checkSerde('Repartitioned key', keySerde)
    return new Repartitioned(this.name, keySerde, this.valueSerde, this.numPartitions, this.partitioner)
  }

  withValueSerde (valueSerde: Serde<V>): Repartitioned<K, V> {
    checkSerde('Repartitioned value', valueSerde)
    return new Repartitioned(this.name, this.keySerde, valueSerde, this.numPartitions, this.partitioner)
  }

  withNumberOfPartitions (numPartitions: number): Repartitioned<K, V> {
    if (!Number.isInteger(numPartitions) || numPartitions < 1) throw new DevtripError('DEVTRIP_TOPOLOGY', `number of partitions must be a positive integer, got ${String(numPartitions)}`)
    return new Repartitioned(this.name, this.keySerde, this.valueSerde, numPartitions, this.partitioner)
  }

  withStreamPartitioner (partitioner: StreamPartitioner<K, V>): Repartitioned<K, V> {
    return new Repartitioned(this.name, this.keySerde, this.valueSerde, this.numPartitions, partitioner)
  }
}

/** Names a branch of split(); optionally hands the branch stream to a consumer or a function right away. */
export class Branched<K, V> {
  private constructor (readonly name: string | undefined,
    readonly chain: ((stream: KStream<K, V>) => KStream<K, V> | undefined | void) | undefined) {}

  static as<K, V> (name: string): Branched<K, V> {
    return new Branched<K, V>(checkName('branch', name), undefined)
  }

  /** the consumer gets the branch stream; the returned map then has no entry for this branch (as in Kafka Streams) */
  static withConsumer<K, V> (consumer: (stream: KStream<K, V>) => void, name?: string): Branched<K, V> {
    return new Branched<K, V>(name === undefined ? undefined : checkName('branch', name), (s) => { consumer(s) })
  }

  /** the function's result replaces the branch stream in the returned map */
  static withFunction<K, V> (fn: (stream: KStream<K, V>) => KStream<K, V>, name?: string): Branched<K, V> {
    return new Branched<K, V>(name === undefined ? undefined : checkName('branch', name), fn)
  }
}

/** Names a stream–table join (and its repartition topic `<name>-repartition` if the stream's key changed). */
export class Joined<K, V, VT> {
  private constructor (readonly name: string | undefined, readonly keySerde: Serde<K> | undefined, readonly valueSerde: Serde<V> | undefined,
    readonly otherValueSerde: Serde<VT> | undefined) {}

  static as<K, V, VT> (name: string): Joined<K, V, VT> {
    return new Joined<K, V, VT>(checkName('join', name), undefined, undefined, undefined)
  }

  static with<K, V, VT> (keySerde: Serde<K>, valueSerde: Serde<V>, otherValueSerde?: Serde<VT>): Joined<K, V, VT> {
    return new Joined(undefined, keySerde, valueSerde, otherValueSerde)
  }

  withName (name: string): Joined<K, V, VT> {
    return new Joined(checkName('join', name), this.keySerde, this.valueSerde, this.otherValueSerde)
  }
}

/**
 * Names a stream–stream join: stores `<name>-this-join-store` / `<name>-other-join-store` (plus
 * `<name>-outer-shared-join-store` for left joins), repartition topics `<name>-left-repartition` /
 * `<name>-right-repartition` when a side's key changed.
 */
export class StreamJoined<K, V, VO> {
  private constructor (readonly name: string, readonly keySerde: Serde<K> | undefined, readonly valueSerde: Serde<V> | undefined,
    readonly otherValueSerde: Serde<VO> | undefined, readonly loggingEnabled: boolean, readonly storeType: StoreType | undefined) {}

  static as<K, V, VO> (name: string): StreamJoined<K, V, VO> {
    return new StreamJoined<K, V, VO>(checkName('join', name), undefined, undefined, undefined, true, undefined)
  }

  withKeySerde (keySerde: Serde<K>): StreamJoined<K, V, VO> {
    checkSerde('StreamJoined key', keySerde)
    return new StreamJoined(this.name, keySerde, this.valueSerde, this.otherValueSerde, this.loggingEnabled, this.storeType)
  }

  withValueSerde (valueSerde: Serde<V>): StreamJoined<K, V, VO> {
    checkSerde('StreamJoined value', valueSerde)
    return new StreamJoined(this.name, this.keySerde, valueSerde, this.otherValueSerde, this.loggingEnabled, this.storeType)
  }

  withOtherValueSerde (otherValueSerde: Serde<VO>): StreamJoined<K, V, VO> {
    checkSerde('StreamJoined other value', otherValueSerde)
    return new StreamJoined(this.name, this.keySerde, this.valueSerde, otherValueSerde, this.loggingEnabled, this.storeType)
  }

  withLoggingDisabled (): StreamJoined<K, V, VO> {
    return new StreamJoined(this.name, this.keySerde, this.valueSerde, this.otherValueSerde, false, this.storeType)
  }

  withStoreType (storeType: StoreType): StreamJoined<K, V, VO> {
    return new StreamJoined(this.name, this.keySerde, this.valueSerde, this.otherValueSerde, this.loggingEnabled, checkStoreType(storeType))
  }
}

function checkSerde (what: string, serde: Serde<unknown>): void {
  if (serde === null || typeof serde !== 'object' || typeof serde.serialize !== 'function' || typeof serde.deserialize !== 'function') {
    throw new DevtripError('DEVTRIP_TOPOLOGY', `${what} serde must be a Serde (serialize + deserialize), e.g. Serdes.String()`)
  }
}

function checkStoreType (storeType: StoreType): StoreType {
  if (storeType !== 'persistent' && storeType !== 'in-memory') throw new DevtripError('DEVTRIP_TOPOLOGY', `store type must be 'persistent' or 'in-memory', got ${String(storeType)}`)
  return storeType
}

export function checkDuration (what: string, ms: number): number {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new DevtripError('DEVTRIP_TOPOLOGY', `${what} must be a non-negative integer of milliseconds, got ${String(ms)}`)
  return ms
}
