/**
 * Store suppliers and builders, shaped like Kafka Streams' `Stores`:
 *
 *   Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore('counts'), Serdes.String(), Serdes.Int64())
 *     .withLoggingEnabled()            // the default
 *   Stores.windowStoreBuilder(Stores.persistentWindowStore('joins', retentionMs, windowSizeMs, true), kSerde, vSerde)
 *
 * A supplier says which engine and where; a builder adds serdes and logging and builds one fresh store per
 * task (the layer stack metered → change-logging → transactional buffer → engine). Every option goes
 * through one compiled JSON Schema and is frozen.
 */
import { join } from 'node:path'
import Ajv from 'ajv'
import { DevtripError } from '../events/errors'
import type { BytesEngine, KeyValueStore, StateStoreContext, StoreBuilder, WindowStore } from './base/types'
import type { KeyValueBytesStore, WindowBytesStore } from './base/bytes-store'
import type { Serde } from './serdes'
import { MemoryEngine } from './memory/memory-engine'
import { type RocksDBConfig, resolveRocksDBConfig } from './rocksdb/rocksdb-config'
import { RocksDBEngine } from './rocksdb/rocksdb-engine'
import { ChangeLoggingBytesStore } from './layers/change-logging-bytes-store'
import { ChangeLoggingWindowBytesStore } from './layers/change-logging-window-bytes-store'
import { MeteredKeyValueStore } from './layers/metered-key-value-store'
import { MeteredWindowStore } from './layers/metered-window-store'
import { SegmentedWindowBytesStore } from './layers/segmented-window-bytes-store'
import { TransactionalBytesStore } from './layers/transactional-bytes-store'

/** one engine per store per task; called from the store's init() with the task's context */
export type BytesEngineFactory = (context: StateStoreContext) => BytesEngine

export interface KeyValueBytesStoreSupplier {
  readonly kind: 'key-value'
  readonly name: string
  readonly persistent: boolean
  createEngine: BytesEngineFactory
}

export interface WindowBytesStoreSupplier {
  readonly kind: 'window'
  readonly name: string
  readonly persistent: boolean
  readonly retentionMs: number
  readonly windowSizeMs: number
  readonly segmentIntervalMs: number
  readonly retainDuplicates: boolean
  createEngine: BytesEngineFactory
}

export interface PersistentStoreOptions {
  /** memory bounds for this store only; win over the runtime's (context.rocksdb) and the defaults */
  rocksdb?: Partial<RocksDBConfig>
}

export interface WindowStoreOptions extends PersistentStoreOptions {
  /** width of one time segment; default max(retentionMs / 2, 60 000), as Kafka Streams */
  segmentIntervalMs?: number
}

/** Kafka Streams' default extra changelog retention for window stores (windowstore.changelog.additional.retention.ms) */
export const WINDOW_CHANGELOG_ADDITIONAL_RETENTION_MS = 24 * 60 * 60 * 1000

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true })

// store names become directory names and part of the changelog topic name `<app>-<store>-changelog`
const STORE_NAME = { type: 'string', pattern: '^(?!\\.{1,2}$)[A-Za-z0-9._-]{1,200}$' } as const
const MS = { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } as const

const validateName = ajv.compile({ type: 'object', additionalProperties: false, required: ['name'], properties: { name: STORE_NAME } })
const validateWindow = ajv.compile({
  type: 'object',
  additionalProperties: false,
  required: ['name', 'retentionMs', 'windowSizeMs', 'retainDuplicates'],
  properties: {
    name: STORE_NAME,
    retentionMs: MS,
    windowSizeMs: MS,
    retainDuplicates: { type: 'boolean' },
    segmentIntervalMs: MS
  }
})
const validateTopicConfig = ajv.compile({
  type: 'object',
  propertyNames: { pattern: '^[a-z0-9][a-z0-9._-]*$' },
  additionalProperties: { type: 'string' }
})

function check (what: string, validate: ReturnType<typeof ajv.compile>, input: Record<string, unknown>): void {
  if (validate(input)) return
  const problems = (validate.errors ?? []).map((e) => `${e.instancePath === '' ? '(options)' : e.instancePath} ${e.message ?? 'is invalid'}`)
  throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `invalid ${what}: ${problems.join('; ')}`, { details: { problems } })
}

function rocksEngine (name: string, options: PersistentStoreOptions | undefined): BytesEngineFactory {
  // validate now, at topology build time, rather than at the first task's init
  resolveRocksDBConfig(options?.rocksdb)
  return (context) => new RocksDBEngine(name, join(context.taskDir, 'rocksdb', name), resolveRocksDBConfig(context.rocksdb, options?.rocksdb))
}

function windowSupplier (name: string, retentionMs: number, windowSizeMs: number, retainDuplicates: boolean, options: WindowStoreOptions | undefined, persistent: boolean): WindowBytesStoreSupplier {
  const input: Record<string, unknown> = { name, retentionMs, windowSizeMs, retainDuplicates }
  if (options?.segmentIntervalMs !== undefined) input.segmentIntervalMs = options.segmentIntervalMs
  check(`window store "${String(name)}" options`, validateWindow, input)
  if (windowSizeMs > retentionMs) {
    throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `window store "${name}": retentionMs (${retentionMs}) must be at least windowSizeMs (${windowSizeMs})`)
  }
  const segmentIntervalMs = options?.segmentIntervalMs ?? Math.max(Math.floor(retentionMs / 2), 60_000)
  const createEngine: BytesEngineFactory = persistent ? rocksEngine(name, options) : () => new MemoryEngine(name)
  return Object.freeze({ kind: 'window', name, persistent, retentionMs, windowSizeMs, segmentIntervalMs, retainDuplicates, createEngine })
}

abstract class BaseStoreBuilder<S, K, V> {
  private logging = true
  private topicConfig: Readonly<Record<string, string>> = Object.freeze({})

  constructor (readonly name: string, readonly keySerde: Serde<K>, readonly valueSerde: Serde<V>) {
    for (const [role, serde] of [['key', keySerde], ['value', valueSerde]] as const) {
      if (serde === null || typeof serde !== 'object' || typeof serde.serialize !== 'function' || typeof serde.deserialize !== 'function') {
        throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `store "${name}": the ${role} serde must have serialize() and deserialize()`)
      }
    }
  }

  get loggingEnabled (): boolean {
    return this.logging
  }

  /** topic configs for the changelog: the store's own defaults, overridden by withLoggingEnabled(config) */
  get changelogConfig (): Readonly<Record<string, string>> {
    return Object.freeze({ ...this.defaultChangelogConfig(), ...this.topicConfig })
  }

  protected defaultChangelogConfig (): Record<string, string> {
    return {}
  }

  /** log every write to `<applicationId>-<name>-changelog` (the default); `config` adds changelog topic configs */
  withLoggingEnabled (config: Record<string, string> = {}): this {
    check(`changelog topic config of store "${this.name}"`, validateTopicConfig, config)
    this.logging = true
    this.topicConfig = Object.freeze({ ...config })
    return this
  }

  /** no changelog: the store cannot be restored; a persistent one keeps only what its own disk holds */
  withLoggingDisabled (): this {
    this.logging = false
    this.topicConfig = Object.freeze({})
    return this
  }

  abstract build (): S
}

export class KeyValueStoreBuilder<K, V> extends BaseStoreBuilder<KeyValueStore<K, V>, K, V> implements StoreBuilder<KeyValueStore<K, V>> {
  constructor (private readonly supplier: KeyValueBytesStoreSupplier, keySerde: Serde<K>, valueSerde: Serde<V>) {
    super(supplier.name, keySerde, valueSerde)
  }

  build (): KeyValueStore<K, V> {
    const buffered = new TransactionalBytesStore(this.supplier.name, this.supplier.persistent, this.supplier.createEngine)
    const logged: KeyValueBytesStore = this.loggingEnabled ? new ChangeLoggingBytesStore(buffered) : buffered
    return new MeteredKeyValueStore(logged, this.keySerde, this.valueSerde)
  }
}

export class WindowStoreBuilder<K, V> extends BaseStoreBuilder<WindowStore<K, V>, K, V> implements StoreBuilder<WindowStore<K, V>> {
  constructor (private readonly supplier: WindowBytesStoreSupplier, keySerde: Serde<K>, valueSerde: Serde<V>) {
    super(supplier.name, keySerde, valueSerde)
  }

  get retentionMs (): number {
    return this.supplier.retentionMs
  }

  get windowSizeMs (): number {
    return this.supplier.windowSizeMs
  }

  /** as Kafka Streams: compacted and time-deleted, kept a day longer than the store keeps windows */
  protected override defaultChangelogConfig (): Record<string, string> {
    return { 'cleanup.policy': 'compact,delete', 'retention.ms': String(this.supplier.retentionMs + WINDOW_CHANGELOG_ADDITIONAL_RETENTION_MS) }
  }

  build (): WindowStore<K, V> {
    const { name, persistent, createEngine, retentionMs, segmentIntervalMs, retainDuplicates, windowSizeMs } = this.supplier
    const segmented = new SegmentedWindowBytesStore(new TransactionalBytesStore(name, persistent, createEngine), { retentionMs, segmentIntervalMs, retainDuplicates })
    const logged: WindowBytesStore = this.loggingEnabled ? new ChangeLoggingWindowBytesStore(segmented) : segmented
    return new MeteredWindowStore(logged, this.keySerde, this.valueSerde, windowSizeMs)
  }
}

export const Stores = Object.freeze({
  /** RocksDB under `<taskDir>/rocksdb/<name>`; survives restarts, restores only the changelog tail */
  persistentKeyValueStore (name: string, options?: PersistentStoreOptions): KeyValueBytesStoreSupplier {
    check('store name', validateName, { name })
    return Object.freeze({ kind: 'key-value', name, persistent: true, createEngine: rocksEngine(name, options) })
  },

  /** a sorted in-memory map; empty on every start, restored from the whole changelog */
  inMemoryKeyValueStore (name: string): KeyValueBytesStoreSupplier {
    check('store name', validateName, { name })
    return Object.freeze({ kind: 'key-value', name, persistent: false, createEngine: () => new MemoryEngine(name) })
  },

  /** retention >= window size; retainDuplicates keeps every put (stream-stream joins) */
  persistentWindowStore (name: string, retentionMs: number, windowSizeMs: number, retainDuplicates: boolean, options?: WindowStoreOptions): WindowBytesStoreSupplier {
    return windowSupplier(name, retentionMs, windowSizeMs, retainDuplicates, options, true)
  },

  inMemoryWindowStore (name: string, retentionMs: number, windowSizeMs: number, retainDuplicates: boolean, options?: Omit<WindowStoreOptions, 'rocksdb'>): WindowBytesStoreSupplier {
    return windowSupplier(name, retentionMs, windowSizeMs, retainDuplicates, options, false)
  },

  keyValueStoreBuilder<K, V> (supplier: KeyValueBytesStoreSupplier, keySerde: Serde<K>, valueSerde: Serde<V>): KeyValueStoreBuilder<K, V> {
    if (supplier?.kind !== 'key-value') throw new DevtripError('DEVTRIP_INVALID_OPTIONS', 'keyValueStoreBuilder needs a key-value store supplier (Stores.persistentKeyValueStore / inMemoryKeyValueStore)')
    return new KeyValueStoreBuilder(supplier, keySerde, valueSerde)
  },

  windowStoreBuilder<K, V> (supplier: WindowBytesStoreSupplier, keySerde: Serde<K>, valueSerde: Serde<V>): WindowStoreBuilder<K, V> {
    if (supplier?.kind !== 'window') throw new DevtripError('DEVTRIP_INVALID_OPTIONS', 'windowStoreBuilder needs a window store supplier (Stores.persistentWindowStore / inMemoryWindowStore)')
    return new WindowStoreBuilder(supplier, keySerde, valueSerde)
  }
})
