/**
 * Everything the operator dashboard shows, kept up to date in one place: lag per group (sampled by a LagMonitor,
 * with history for the charts), the dead-letter topics (re-read every `dlqIntervalMs`, they change slowly and are
 * read record by record) and the restore progress of state stores.
 *
 * It samples only while someone looks: the first request starts it, and it stops itself once nobody subscribed
 * and no request came for `idleStopMs`, so an API nobody watches puts no load on the broker. The API's lag route
 * (`GET /v1/lag`, `GET /v1/lag/stream`) and the dashboard read it; the process that builds the API owns it.
 */
import Ajv from 'ajv'
import type { Registry } from 'prom-client'
import { DevtripError } from '../../events/errors'
import type { KafkaAdmin, KafkaClientFactory } from '../kafka/port'
import { listDlqTopics, type DlqTopicSummary } from './dlq'
import { LagCollector } from './lag'
import { LAG_MONITOR_OPTION_PROPERTIES, LagMonitor, type LagHistoryPoint, type LagMonitorOptions } from './lag-monitor'
import { lagSnapshotToJson, type LagSnapshot } from './lag-types'
import { readRestoreProgress, type StoreRestoreProgress } from './restore-progress'

/** The lag monitor's options (lag, intervalMs, historySeconds: validated here, passed on to it) and the overview's own. */
export interface OverviewOptions extends LagMonitorOptions {
  /** how often the DLQ summaries and restore progress are re-read (default 10 000 ms) */
  dlqIntervalMs?: number
  /** only DLQ topics starting with this */
  dlqPrefix?: string
  /** stop sampling after this long without a request or subscriber (default 60 000 ms) */
  idleStopMs?: number
  /** the in-process stream apps' metrics registry, for exact restore progress */
  metricsRegistry?: Registry
}

/** The JSON document GET /v1/lag?history=1 and every SSE event carry. */
export interface OverviewDocument {
  readonly takenAt: number | null
  readonly sampleSeconds: number | null
  readonly intervalMs: number
  /** groups as in lagSnapshotToJson (offsets as strings) */
  readonly groups: unknown[]
  readonly history: Record<string, LagHistoryPoint[]>
  readonly dlq: readonly DlqTopicSummary[]
  readonly dlqReadAt: number | null
  readonly restore: readonly StoreRestoreProgress[]
  /** the last failed sample or DLQ read, when the newest data is older than it */
  readonly error: { readonly message: string, readonly at: number } | null
}

export type OverviewListener = (document: OverviewDocument) => void

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...LAG_MONITOR_OPTION_PROPERTIES,
    dlqIntervalMs: { type: 'integer', minimum: 500, maximum: 3_600_000, default: 10_000 },
    dlqPrefix: { type: 'string', default: '' },
    idleStopMs: { type: 'integer', minimum: 1000, maximum: 86_400_000, default: 60_000 },
    metricsRegistry: { type: 'object' }
  }
} as const
const validate = new Ajv({ useDefaults: true, allErrors: true }).compile(schema)

export class StreamsOverview {
  readonly monitor: LagMonitor
  private readonly kafka: KafkaClientFactory
  private readonly admin: KafkaAdmin
  private readonly collector: LagCollector
  private readonly options: Required<Omit<OverviewOptions, 'metricsRegistry' | 'lag'>> & Pick<OverviewOptions, 'metricsRegistry' | 'lag'>
  private readonly listeners = new Set<OverviewListener>()
  private dlq: DlqTopicSummary[] = []
  private dlqReadAt: number | null = null
  private restore: StoreRestoreProgress[] = []
  private sideRead: Promise<void> | null = null
  private sideError: { message: string, at: number } | null = null
  private lastTouch = Date.now()
  private closed = false

  constructor (kafka: KafkaClientFactory, options: OverviewOptions = {}) {
    const { metricsRegistry, ...rest } = options
    const copy: Record<string, unknown> = { ...rest }
    if (!validate(copy)) {
      const problems = (validate.errors ?? []).map((e) => `${e.instancePath === '' ? '/' : e.instancePath} ${e.message ?? 'is invalid'}`)
      throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `invalid overview options: ${problems.join('; ')}`, { details: { problems } })
    }
    this.options = Object.freeze({ ...(copy as Required<Omit<OverviewOptions, 'metricsRegistry' | 'lag'>>), lag: options.lag, metricsRegistry })
    this.kafka = kafka
    this.admin = kafka.createAdmin()
    this.collector = new LagCollector(kafka)
    this.monitor = new LagMonitor(this.collector, { lag: options.lag ?? {}, intervalMs: this.options.intervalMs, historySeconds: this.options.historySeconds })
    this.monitor.subscribe((event) => {
      if (event.kind === 'sample') this.afterSample()
      else this.publish()
    })
  }

  /** The newest lag sample; waits for the first one when sampling just started. */
  async lag (): Promise<LagSnapshot> {
    this.touch()
    return this.monitor.latest() ?? await this.firstSample()
  }

  /** The whole dashboard document (waits for the first lag sample and DLQ read). */
  async overview (): Promise<OverviewDocument> {
    this.touch()
    if (this.monitor.latest() === null) await this.firstSample()
    if (this.dlqReadAt === null) await this.readSide()
    return this.document()
  }

  /** Calls `listener` with a fresh document after every lag sample, until the returned function is called. */
  subscribe (listener: OverviewListener): () => void {
    this.touch()
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
      this.lastTouch = Date.now()
    }
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.listeners.clear()
    await this.monitor.stop()
    await this.sideRead?.catch(() => undefined)
    await Promise.allSettled([this.collector.close(), this.admin.close()])
  }

  private touch (): void {
    if (this.closed) throw new DevtripError('DEVTRIP_CLOSED', 'the streams overview is closed')
    this.lastTouch = Date.now()
    this.monitor.start()
  }

  private async firstSample (): Promise<LagSnapshot> {
    const failed = this.monitor.lastError()
    // a broker that is down: answer with the failure instead of waiting for ever
    const sample = this.monitor.nextSample()
    const timeout = new Promise<never>((_resolve, reject) => {
      const timer = setTimeout(() => reject(new DevtripError('DEVTRIP_TIMEOUT', `no lag sample within 30 s${failed === null ? '' : ` (last failure: ${failed.error.message})`}`, { canRetry: true })), 30_000)
      sample.finally(() => clearTimeout(timer)).catch(() => undefined)
    })
    return Promise.race([sample, timeout])
  }

  private afterSample (): void {
    if (this.listeners.size === 0 && Date.now() - this.lastTouch > this.options.idleStopMs) {
      // nobody is looking: stop until the next request
      void this.monitor.stop()
      return
    }
    const stale = this.dlqReadAt === null || Date.now() - this.dlqReadAt >= this.options.dlqIntervalMs
    if (stale && this.sideRead === null) void this.readSide().then(() => this.publish(), () => this.publish())
    this.publish()
  }

  /** Re-reads the DLQ summaries and restore progress (one read at a time). */
  private readSide (): Promise<void> {
    this.sideRead ??= (async () => {
      try {
        const groups = (this.monitor.latest()?.groups ?? []).map((g) => g.groupId)
        const [dlq, restore] = await Promise.all([
          listDlqTopics(this.kafka, this.admin, { prefix: this.options.dlqPrefix, maxScanRecords: 5000 }),
          readRestoreProgress(this.admin, groups, this.options.metricsRegistry)
        ])
        this.dlq = dlq
        this.restore = restore
        this.sideError = null
      } catch (error) {
        this.sideError = { message: error instanceof Error ? error.message : String(error), at: Date.now() }
      } finally {
        this.dlqReadAt = Date.now()
        this.sideRead = null
      }
    })()
    return this.sideRead
  }

  private document (): OverviewDocument {
    const latest = this.monitor.latest()
    const lagError = this.monitor.lastError()
    const error = lagError !== null ? { message: lagError.error.message, at: lagError.at } : this.sideError
    return {
      takenAt: latest?.takenAt ?? null,
      sampleSeconds: latest?.sampleSeconds ?? null,
      intervalMs: this.options.intervalMs,
      groups: latest === null ? [] : (lagSnapshotToJson(latest) as { groups: unknown[] }).groups,
      history: this.monitor.history(),
      dlq: this.dlq,
      dlqReadAt: this.dlqReadAt,
      restore: this.restore,
      error
    }
  }

  private publish (): void {
    if (this.listeners.size === 0) return
    const document = this.document()
    for (const listener of this.listeners) {
      try {
        listener(document)
      } catch {
        // a listener whose connection broke is removed by its own close handler
      }
    }
  }
}
