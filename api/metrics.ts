/**
 * The API's Prometheus metrics, on a registry of its own (not prom-client's global one), so several servers
 * in one process (tests, a process that also runs topologies) never clash over metric names.
 */
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client'

export class ApiMetrics {
  readonly registry = new Registry()
  readonly requests: Counter<'method' | 'route' | 'status'>
  readonly latency: Histogram<'method' | 'route'>
  readonly producedEvents: Counter<'topic'>
  readonly rejectedRequests: Counter<'reason'>
  readonly idempotentHits: Counter
  readonly transactionsFailed: Counter<'outcome'>

  constructor (options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry]
    this.requests = new Counter({
      name: 'devtrip_api_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status code',
      labelNames: ['method', 'route', 'status'],
      registers
    })
    this.latency = new Histogram({
      name: 'devtrip_api_request_duration_seconds',
      help: 'Time from receiving a request to sending its response',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers
    })
    this.producedEvents = new Counter({
      name: 'devtrip_api_produced_events_total',
      help: 'Events written to Kafka and committed, by catalog topic',
      labelNames: ['topic'],
      registers
    })
    this.rejectedRequests = new Counter({
      name: 'devtrip_api_rejected_requests_total',
      help: 'Requests answered with an error, by reason (the error code without DEVTRIP_ / DEVTRIP_API_, lower case)',
      labelNames: ['reason'],
      registers
    })
    this.idempotentHits = new Counter({
      name: 'devtrip_api_idempotent_hits_total',
      help: 'Events not produced because their eventId had already been accepted',
      registers
    })
    this.transactionsFailed = new Counter({
      name: 'devtrip_api_publish_failures_total',
      help: 'Publishes that failed, by outcome (not-written: nothing visible; unknown: the commit may have happened)',
      labelNames: ['outcome'],
      registers
    })
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'devtrip_api_' })
  }

  /** `DEVTRIP_API_RATE_LIMITED` → `rate_limited`, `DEVTRIP_INVALID_EVENT` → `invalid_event` */
  static reasonOf (code: string): string {
    return code.replace(/^DEVTRIP_(API_)?/, '').toLowerCase()
  }
}
