/**
 * Samples lag on a timer and keeps a short history: the engine behind `lag --watch`, `GET /v1/lag`, the
 * dashboard's charts and its server-sent events. Rates come from consecutive samples (lag-rates.ts), so they
 * are measured over the sampling interval.
 *
 * A failed sample (broker restarting) is reported to the listeners and sampling goes on; the history keeps the
 * last good samples. Samples never overlap: the next one is scheduled when the previous one has finished.
 */
import Ajv from 'ajv'
import { DevtripError } from '../../events/errors'
import type { LagCollector, LagOptions } from './lag'
import { withRates } from './lag-rates'
import type { LagSnapshot } from './lag-types'

export interface LagMonitorOptions {
  /** what to sample (groups, prefix, timestamps) */
  lag?: LagOptions
  /** time between the end of one sample and the start of the next (default 2000) */
  intervalMs?: number
  /** how much history to keep for charts (default 600 s) */
  historySeconds?: number
}

interface ResolvedMonitorOptions {
  readonly lag: LagOptions
  readonly intervalMs: number
  readonly historySeconds: number
}

/** One group's totals at one instant: what the dashboard charts draw. Numbers, not bigints: JSON-ready. */
export interface LagHistoryPoint {
  readonly t: number
  readonly lag: number | null
  readonly committedLag: number | null
  readonly lagSeconds: number | null
  readonly consumeRate: number | null
  readonly produceRate: number | null
}

export type LagEvent = { kind: 'sample', snapshot: LagSnapshot } | { kind: 'error', error: Error, at: number }
export type LagListener = (event: LagEvent) => void

/** JSON-schema properties of LagMonitorOptions; StreamsOverview (overview.ts) takes the same options and passes them on. */
export const LAG_MONITOR_OPTION_PROPERTIES = {
  lag: { type: 'object' },
  intervalMs: { type: 'integer', minimum: 100, maximum: 3_600_000, default: 2000 },
  historySeconds: { type: 'integer', minimum: 10, maximum: 86_400, default: 600 }
} as const

const schema = { type: 'object', additionalProperties: false, properties: LAG_MONITOR_OPTION_PROPERTIES } as const
const validate = new Ajv({ useDefaults: true, allErrors: true }).compile(schema)

function resolveOptions (options: LagMonitorOptions): ResolvedMonitorOptions {
  const copy: Record<string, unknown> = { ...options }
  if (!validate(copy)) {
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath === '' ? '/' : e.instancePath} ${e.message ?? 'is invalid'}`)
    throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `invalid lag monitor options: ${problems.join('; ')}`, { details: { problems } })
  }
  return Object.freeze({ lag: { ...(options.lag ?? {}) }, intervalMs: copy.intervalMs as number, historySeconds: copy.historySeconds as number })
}

const toNumber = (v: bigint | null): number | null => (v === null ? null : Number(v))

export class LagMonitor {
  readonly options: ResolvedMonitorOptions
  private readonly collector: LagCollector
  private readonly listeners = new Set<LagListener>()
  private readonly points = new Map<string, LagHistoryPoint[]>()
  private current: LagSnapshot | null = null
  private lastErrorValue: { error: Error, at: number } | null = null
  private timer: NodeJS.Timeout | null = null
  private running: Promise<void> | null = null
  private stopped = true
  private waiters: Array<(s: LagSnapshot) => void> = []

  constructor (collector: LagCollector, options: LagMonitorOptions = {}) {
    this.options = resolveOptions(options)
    this.collector = collector
  }

  /** Starts sampling now (idempotent). */
  start (): void {
    if (!this.stopped) return
    this.stopped = false
    this.schedule(0)
  }

  get isRunning (): boolean { return !this.stopped }

  /** The newest sample, with rates measured against the one before it. */
  latest (): LagSnapshot | null { return this.current }

  lastError (): { error: Error, at: number } | null { return this.lastErrorValue }

  /** Per group, its totals over the kept history, oldest first. */
  history (): Record<string, LagHistoryPoint[]> {
    return Object.fromEntries([...this.points].map(([g, list]) => [g, [...list]]))
  }

  /** The next sample taken from now on (starts the monitor if needed). */
  nextSample (): Promise<LagSnapshot> {
    this.start()
    return new Promise((resolve) => { this.waiters.push(resolve) })
  }

  subscribe (listener: LagListener): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  /** Stops the timer and waits for a sample in progress; the collector stays open (its owner closes it). */
  async stop (): Promise<void> {
    this.stopped = true
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    await this.running
  }

  private schedule (delayMs: number): void {
    if (this.stopped) return
    this.timer = setTimeout(() => {
      this.timer = null
      this.running = this.tick().finally(() => {
        this.running = null
        this.schedule(this.options.intervalMs)
      })
    }, delayMs)
    // a monitor must not keep a process alive on its own (the CLI exits on Ctrl-C, the API on close)
    this.timer.unref()
  }

  private async tick (): Promise<void> {
    let snapshot: LagSnapshot
    try {
      snapshot = withRates(this.current, await this.collector.sample(this.options.lag))
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error))
      this.lastErrorValue = { error: e, at: Date.now() }
      this.emit({ kind: 'error', error: e, at: this.lastErrorValue.at })
      return
    }
    this.current = snapshot
    this.lastErrorValue = null
    this.record(snapshot)
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w(snapshot)
    this.emit({ kind: 'sample', snapshot })
  }

  private record (snapshot: LagSnapshot): void {
    const oldest = snapshot.takenAt - this.options.historySeconds * 1000
    const seen = new Set<string>()
    for (const g of snapshot.groups) {
      seen.add(g.groupId)
      const list = this.points.get(g.groupId) ?? []
      list.push({
        t: snapshot.takenAt,
        lag: toNumber(g.totals.lag),
        committedLag: toNumber(g.totals.committedLag),
        lagSeconds: g.totals.lagSeconds,
        consumeRate: g.totals.consumeRate,
        produceRate: g.totals.produceRate
      })
      while (list.length > 0 && list[0]!.t < oldest) list.shift()
      this.points.set(g.groupId, list)
    }
    // a group that disappeared (deleted) drops out once its last point is older than the history
    for (const [g, list] of this.points) {
      if (seen.has(g)) continue
      while (list.length > 0 && list[0]!.t < oldest) list.shift()
      if (list.length === 0) this.points.delete(g)
    }
  }

  private emit (event: LagEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event)
      } catch {
        // one broken listener (a closed HTTP stream) must not stop the others or the monitor
      }
    }
  }
}
