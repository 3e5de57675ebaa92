/**
 * The engine's metrics on a prom-client registry, and its diagnostics_channel events.
 * Names follow Prometheus conventions (`_total` counters, `_seconds` histograms); the Grafana dashboard and
 * the stream-lag dashboard query exactly these names (a test checks the dashboard against this list).
 */
import { channel } from 'node:diagnostics_channel'
import { Counter, Gauge, Histogram, Registry } from 'prom-client'

export const DIAGNOSTICS = {
  commit: channel('devtrip-streams:commit'),
  rebalance: channel('devtrip-streams:rebalance'),
  restore: channel('devtrip-streams:restore'),
  state: channel('devtrip-streams:state')
} as const

export const METRIC_NAMES = [
  'devtrip_streams_records_processed_total',
  'devtrip_streams_process_latency_seconds',
  'devtrip_streams_commit_latency_seconds',
  'devtrip_streams_commits_total',
  'devtrip_streams_transactions_aborted_total',
  'devtrip_streams_consumer_lag_records',
  'devtrip_streams_restore_remaining_records',
  'devtrip_streams_restored_records_total',
  'devtrip_streams_dlq_records_total',
  'devtrip_streams_store_entries',
  'devtrip_streams_state',
  'devtrip_streams_tasks'
] as const

const LATENCY_BUCKETS = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

export class StreamsMetrics {
  readonly registry: Registry
  readonly recordsProcessed: Counter<'application_id' | 'topic'>
  readonly processLatency: Histogram<'application_id'>
  readonly commitLatency: Histogram<'application_id'>
  readonly commits: Counter<'application_id'>
  readonly transactionsAborted: Counter<'application_id' | 'reason'>
  readonly consumerLag: Gauge<'application_id' | 'topic' | 'partition'>
  readonly restoreRemaining: Gauge<'application_id' | 'store' | 'partition'>
  readonly restoredRecords: Counter<'application_id' | 'store'>
  readonly dlqRecords: Counter<'application_id' | 'topic' | 'reason'>
  readonly storeEntries: Gauge<'application_id' | 'store' | 'partition'>
  readonly state: Gauge<'application_id'>
  readonly tasks: Gauge<'application_id'>

  constructor (registry: Registry = new Registry()) {
    this.registry = registry
    const registers = [registry]
    // a registry shared by several apps in one process (`run all`) must not register the same metric twice
    const existing = <T>(name: string): T | undefined => registry.getSingleMetric(name) as T | undefined
    this.recordsProcessed = existing(METRIC_NAMES[0]) ?? new Counter({ name: METRIC_NAMES[0], help: 'Records processed by stream tasks', labelNames: ['application_id', 'topic'], registers })
    this.processLatency = existing(METRIC_NAMES[1]) ?? new Histogram({ name: METRIC_NAMES[1], help: 'Time to process one batch of records, per record', labelNames: ['application_id'], buckets: LATENCY_BUCKETS, registers })
    this.commitLatency = existing(METRIC_NAMES[2]) ?? new Histogram({ name: METRIC_NAMES[2], help: 'Time of one commit (transaction commit and state flush)', labelNames: ['application_id'], buckets: LATENCY_BUCKETS, registers })
    this.commits = existing(METRIC_NAMES[3]) ?? new Counter({ name: METRIC_NAMES[3], help: 'Commits completed', labelNames: ['application_id'], registers })
    this.transactionsAborted = existing(METRIC_NAMES[4]) ?? new Counter({ name: METRIC_NAMES[4], help: 'Transactions aborted', labelNames: ['application_id', 'reason'], registers })
    this.consumerLag = existing(METRIC_NAMES[5]) ?? new Gauge({ name: METRIC_NAMES[5], help: 'Records between the consumed position and the end of each input partition', labelNames: ['application_id', 'topic', 'partition'], registers })
    this.restoreRemaining = existing(METRIC_NAMES[6]) ?? new Gauge({ name: METRIC_NAMES[6], help: 'Changelog records left to restore', labelNames: ['application_id', 'store', 'partition'], registers })
    this.restoredRecords = existing(METRIC_NAMES[7]) ?? new Counter({ name: METRIC_NAMES[7], help: 'Changelog records restored', labelNames: ['application_id', 'store'], registers })
    this.dlqRecords = existing(METRIC_NAMES[8]) ?? new Counter({ name: METRIC_NAMES[8], help: 'Records sent to a dead-letter topic', labelNames: ['application_id', 'topic', 'reason'], registers })
    this.storeEntries = existing(METRIC_NAMES[9]) ?? new Gauge({ name: METRIC_NAMES[9], help: 'Approximate entries per state store and partition', labelNames: ['application_id', 'store', 'partition'], registers })
    this.state = existing(METRIC_NAMES[10]) ?? new Gauge({ name: METRIC_NAMES[10], help: 'App state: 0 CREATED, 1 REBALANCING, 2 RUNNING, 3 PENDING_SHUTDOWN, 4 NOT_RUNNING, 5 ERROR', labelNames: ['application_id'], registers })
    this.tasks = existing(METRIC_NAMES[11]) ?? new Gauge({ name: METRIC_NAMES[11], help: 'Active tasks on this instance', labelNames: ['application_id'], registers })
  }
}
