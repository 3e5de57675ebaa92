/**
 * What the engine benchmark feeds and runs: DevTrip-like JSON events of a fixed size keyed by user id, and the
 * stateful count-by-key topology (RocksDB store with a changelog, one output record per input record).
 * Also the messages between the benchmark and the child process that runs the StreamsApp.
 */
import { Serdes } from '../state/serdes-builtin'
import { Consumed, Materialized, Produced, StreamsBuilder, type Topology } from '../streams'
import type { KafkaAdapterName } from '../streams/kafka'

export const COUNT_STORE = 'bench-counts'

/** One input event; `pad` fills the JSON text up to the configured record size. */
export interface BenchEvent {
  readonly eventId: string
  readonly type: 'MissionSubmitted'
  readonly userId: string
  readonly missionId: string
  readonly attempt: number
  readonly occurredAt: number
  readonly pad: string
}

/** `user-00042`: the key of input record `i` (keys are used round-robin, so every key gets ⌊N/keys⌋ or one more). */
export function userKey (i: number, keys: number): string {
  return `user-${String(i % keys).padStart(5, '0')}`
}

/**
 * The JSON value of input record `i`, exactly `size` bytes of UTF-8 (ASCII only), so the ceiling tools can be run
 * with the same `--record-size`. Throws when `size` is too small to hold the fields.
 */
export function eventValue (i: number, keys: number, size: number, occurredAt: number): Buffer {
  const event: BenchEvent = {
    eventId: `bench-${String(i).padStart(12, '0')}`,
    type: 'MissionSubmitted',
    userId: userKey(i, keys),
    missionId: `mission-${String(i % 97).padStart(4, '0')}`,
    attempt: 1 + (i % 5),
    occurredAt,
    pad: ''
  }
  const bare = JSON.stringify(event)
  const missing = size - Buffer.byteLength(bare)
  if (missing < 0) throw new RangeError(`a bench event needs at least ${Buffer.byteLength(bare)} bytes, record size is ${size}`)
  return Buffer.from(JSON.stringify({ ...event, pad: 'x'.repeat(missing) }), 'utf8')
}

/**
 * input (String user id, JSON event) → groupByKey → count into the persistent store `bench-counts` (RocksDB,
 * change-logged) → toStream → output (String user id, Int64 count). Every input record yields one output record
 * carrying the input's timestamp and headers (the aggregation forwards them), which is how the latency phase finds
 * each record's intended send time on the output side.
 */
export function countTopology (input: string, output: string): Topology {
  const builder = new StreamsBuilder()
  builder.stream(input, Consumed.with(Serdes.String(), Serdes.Json<BenchEvent>()))
    .groupByKey()
    .count(Materialized.as(COUNT_STORE))
    .toStream()
    .to(output, Produced.with(Serdes.String(), Serdes.Int64AsNumber()))
  return builder.build()
}

/** Sent by the benchmark to the child once it is up. */
export interface WorkerStartMessage {
  readonly type: 'start'
  readonly brokers: string[]
  readonly client: KafkaAdapterName
  readonly applicationId: string
  readonly input: string
  readonly output: string
  readonly stateDir: string
  readonly commitIntervalMs: number
  /** the consumer group session (default: the StreamsApp's); `bench all` gives every system the same one */
  readonly sessionTimeoutMs?: number
}

export interface WorkerStopMessage {
  readonly type: 'stop'
}

export type ToWorker = WorkerStartMessage | WorkerStopMessage

/** Sent by the child: state changes (with the child's wall-clock time in ms), the final counters, or a failure. */
export type FromWorker =
  | { readonly type: 'state', readonly state: string, readonly atMs: number }
  /** after every commit: the input records committed so far (sum of the committed input offsets) */
  | { readonly type: 'commit', readonly committedInputRecords: number, readonly atMs: number }
  /** one store partition restored from its changelog (the runtime's `devtrip-streams:restore` event) */
  | { readonly type: 'restored', readonly store: string, readonly partition: number, readonly records: number, readonly atMs: number }
  | { readonly type: 'closed', readonly processedRecords: number, readonly commits: number, readonly restoredRecords: number }
  | { readonly type: 'error', readonly message: string }
