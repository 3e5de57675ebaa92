/**
 * The options both benchmarks of the count-by-key workload take (`bench engine`, bench/engine-bench.ts, and `bench
 * all`, bench/compare-bench.ts): the same flags with the same meaning and limits, kept in one place so that the two
 * cannot drift apart. Each benchmark adds its own options and compiles its one schema from these properties.
 */

export interface WorkloadOptionsInput {
  /** events pre-loaded for each throughput run (and the ceiling's record count) */
  events?: number
  runs?: number
  /** latency-phase length in seconds */
  durationSec?: number
  /** distinct user ids (keys) */
  keys?: number
  /** bytes of each event's JSON value (the ceiling tools use the same --record-size) */
  recordSize?: number
  partitions?: number
  commitIntervalMs?: number
  /** run Kafka's ProducerPerformance / ConsumerPerformance as the ceiling */
  ceiling?: boolean
  /** write a V8 CPU profile (`node --cpu-prof`) of each of our engine's runs into this folder */
  profileDir?: string | null
}

/** JSON-schema properties of WorkloadOptionsInput, with their defaults. */
export const WORKLOAD_OPTION_PROPERTIES = {
  events: { type: 'integer', minimum: 10_000, maximum: 100_000_000, default: 200_000 },
  runs: { type: 'integer', minimum: 1, maximum: 50, default: 3 },
  durationSec: { type: 'number', minimum: 1, maximum: 3600, default: 20 },
  keys: { type: 'integer', minimum: 1, maximum: 10_000_000, default: 10_000 },
  recordSize: { type: 'integer', minimum: 200, maximum: 1_000_000, default: 200 },
  partitions: { type: 'integer', minimum: 1, maximum: 256, default: 6 },
  commitIntervalMs: { type: 'integer', minimum: 1, maximum: 60_000, default: 100 },
  ceiling: { type: 'boolean', default: true },
  profileDir: { type: ['string', 'null'], minLength: 1, default: null }
} as const
