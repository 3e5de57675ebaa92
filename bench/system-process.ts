/**
 * One running instance of a benchmarked system, whatever it is written in: this engine (a forked Node process,
 * bench/engine-worker.ts, over IPC), Kafka Streams (a java process) or Quix Streams (a python process), the last two
 * speaking a JSON line protocol on stdout (bench/peers/<peer>/). `bench all` drives all of them through this one
 * interface, so every system is started, killed, restarted and measured by the same code.
 *
 * Peak memory: VmHWM ("high water mark" of the resident set) from /proc/<pid>/status of the process and its
 * descendants, sampled every 250 ms and once more right before the process is stopped or killed (the kernel forgets
 * it when the process exits).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import type { KafkaAdapterName } from '../streams/kafka'
import type { FromWorker } from './engine-workload'
import { WorkerHandle } from './worker-handle'

export const SYSTEM_NAMES = ['devtrip-streams', 'kafka-streams', 'quix-streams'] as const
export type SystemName = (typeof SYSTEM_NAMES)[number]

export interface SystemStartOptions {
  readonly brokers: readonly string[]
  readonly applicationId: string
  readonly input: string
  readonly output: string
  /** the system's state directory; a restart reuses it */
  readonly stateDir: string
  /** name of the count store (systems that let one choose it) */
  readonly store: string
  readonly commitIntervalMs: number
  readonly sessionTimeoutMs: number
  /** this engine only: the Kafka client adapter it runs on (default platformatic) */
  readonly client?: KafkaAdapterName
  /** this engine only: write a V8 CPU profile to this file (`node --cpu-prof`) */
  readonly cpuProfile?: { readonly dir: string, readonly name: string } | null
}

/** What a running system reported about itself. */
export interface SystemReport {
  /** changelog records it says it restored (sum over store partitions) */
  readonly restoredRecords: number
  /** how many restore reports (store partitions) that sum covers */
  readonly restoreReports: number
}

export interface SystemProcess {
  readonly pid: number
  report (): SystemReport
  /** throws when the process reported an error or exited */
  assertAlive (): void
  /** the largest VmHWM seen so far, in MiB */
  peakRssMb (): number
  /** clean stop (the system's own shutdown: IPC stop / SIGTERM), SIGKILL when it takes longer than timeoutMs */
  stop (timeoutMs?: number): Promise<void>
  /** SIGKILL, and wait for the exit */
  kill (): Promise<void>
}

export interface BenchSystem {
  readonly name: SystemName
  /** e.g. "Kafka Streams 4.3.1 (Java 17), exactly_once_v2" */
  readonly description: string
  start (options: SystemStartOptions): Promise<SystemProcess>
}

// ---- peak RSS ----

/** VmHWM in kB from the text of /proc/<pid>/status; null when the line is missing. */
export function parseVmHwmKb (status: string): number | null {
  const m = /^VmHWM:\s+([0-9]+)\s+kB/m.exec(status)
  return m === null ? null : Number(m[1])
}

function childrenOf (pid: number): number[] {
  const out: number[] = []
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim()
      if (text !== '') for (const c of text.split(/\s+/)) out.push(Number(c))
    }
  } catch {
    // gone, or a kernel without /proc/<pid>/task/<tid>/children: the process alone is measured
  }
  return out
}

/** Sum of VmHWM (kB) over the process and its descendants, now; 0 when it is gone. */
export function treeVmHwmKb (pid: number): number {
  let total = 0
  const stack = [pid]
  const seen = new Set<number>()
  while (stack.length > 0) {
    const p = stack.pop() as number
    if (seen.has(p)) continue
    seen.add(p)
    try {
      total += parseVmHwmKb(readFileSync(`/proc/${p}/status`, 'utf8')) ?? 0
    } catch {
      continue
    }
    stack.push(...childrenOf(p))
  }
  return total
}

class PeakRssSampler {
  private peakKb = 0
  private readonly timer: NodeJS.Timeout

  constructor (private readonly pid: number) {
    this.sample()
    this.timer = setInterval(() => { this.sample() }, 250)
    this.timer.unref()
  }

  sample (): void {
    this.peakKb = Math.max(this.peakKb, treeVmHwmKb(this.pid))
  }

  stop (): void {
    this.sample()
    clearInterval(this.timer)
  }

  get peakMb (): number {
    return this.peakKb / 1024
  }
}

// ---- this engine: bench/engine-worker.ts over IPC ----

class EngineProcess implements SystemProcess {
  private restored = 0
  private restoreReports = 0
  private readonly rss: PeakRssSampler

  constructor (private readonly handle: WorkerHandle) {
    this.rss = new PeakRssSampler(handle.pid as number)
  }

  onMessage (m: FromWorker): void {
    if (m.type === 'restored') { this.restored += m.records; this.restoreReports++ }
  }

  get pid (): number { return this.handle.pid as number }
  report (): SystemReport { return { restoredRecords: this.restored, restoreReports: this.restoreReports } }
  assertAlive (): void { this.handle.assertAlive() }
  peakRssMb (): number { return this.rss.peakMb }

  async stop (timeoutMs = 60_000): Promise<void> {
    this.rss.stop()
    try {
      await this.handle.stop(timeoutMs)
    } finally {
      this.handle.kill()
    }
  }

  async kill (): Promise<void> {
    this.rss.stop()
    this.handle.kill()
    await this.handle.waitForExit(30_000)
  }
}

export const engineSystem: BenchSystem = {
  name: 'devtrip-streams',
  description: 'devtrip-streams (this engine, Node), processingGuarantee exactly-once',
  async start (options: SystemStartOptions): Promise<SystemProcess> {
    let proc: EngineProcess | undefined
    const early: FromWorker[] = []
    const profile = options.cpuProfile ?? null
    const handle = new WorkerHandle({
      execArgv: profile === null ? [] : ['--cpu-prof', `--cpu-prof-dir=${profile.dir}`, `--cpu-prof-name=${profile.name}`],
      onMessage: (m) => { if (proc === undefined) early.push(m); else proc.onMessage(m) }
    })
    proc = new EngineProcess(handle)
    for (const m of early) proc.onMessage(m)
    try {
      await handle.waitFor('start-up', (m): m is Extract<FromWorker, { type: 'state' }> => m.type === 'state' && m.state === 'FORKED', 60_000)
    } catch (error) {
      handle.kill()
      throw error
    }
    handle.send({
      type: 'start',
      brokers: [...options.brokers],
      client: options.client ?? 'platformatic',
      applicationId: options.applicationId,
      input: options.input,
      output: options.output,
      stateDir: options.stateDir,
      commitIntervalMs: options.commitIntervalMs,
      sessionTimeoutMs: options.sessionTimeoutMs
    })
    return proc
  }
}

// ---- peers: a child process speaking JSON lines on stdout ----

/** One line of a peer's stdout protocol (bench/peers/kafka-streams/…/CountApp.java, bench/peers/quix/count_app.py). */
export type PeerEvent =
  | { readonly event: 'state', readonly state: string, readonly atMs: number }
  | { readonly event: 'restored', readonly records: number, readonly store?: string, readonly partition?: number, readonly atMs: number }
  | { readonly event: 'closed', readonly atMs: number }
  | { readonly event: 'error', readonly message: string }

/** Parses one stdout line of a peer; anything that is not a protocol object is an error (stdout is reserved for it). */
export function parsePeerLine (line: string): PeerEvent {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch {
    throw new Error(`not a JSON line: ${JSON.stringify(line.slice(0, 200))}`)
  }
  const v = value as Record<string, unknown>
  if (typeof v !== 'object' || v === null || typeof v.event !== 'string') throw new Error(`not a protocol object: ${line.slice(0, 200)}`)
  switch (v.event) {
    case 'state':
      if (typeof v.state !== 'string') throw new Error(`state line without a state: ${line}`)
      return { event: 'state', state: v.state, atMs: Number(v.atMs) }
    case 'restored':
      if (typeof v.records !== 'number' || !Number.isInteger(v.records) || v.records < 0) throw new Error(`restored line without a record count: ${line}`)
      return {
        event: 'restored',
        records: v.records,
        ...(typeof v.store === 'string' ? { store: v.store } : {}),
        ...(typeof v.partition === 'number' ? { partition: v.partition } : {}),
        atMs: Number(v.atMs)
      }
    case 'closed':
      return { event: 'closed', atMs: Number(v.atMs) }
    case 'error':
      return { event: 'error', message: String(v.message) }
    default:
      throw new Error(`unknown event ${JSON.stringify(v.event)} in ${line.slice(0, 200)}`)
  }
}

export interface PeerCommand {
  readonly command: string
  readonly args: readonly string[]
  readonly env?: Readonly<Record<string, string>>
  readonly cwd?: string
}

class PeerProcess implements SystemProcess {
  private readonly child: ChildProcess
  private readonly rss: PeakRssSampler
  private restored = 0
  private restoreReports = 0
  private failure: string | undefined
  private closed = false
  private exitInfo: string | undefined
  private readonly exited: Promise<void>
  private readonly stderrTail: string[] = []

  constructor (private readonly name: string, command: PeerCommand) {
    this.child = spawn(command.command, [...command.args], {
      cwd: command.cwd,
      env: { ...process.env, ...(command.env ?? {}) },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => { this.exitInfo = String(code ?? signal); resolve() })
      this.child.on('error', (error) => { this.failure = `cannot start ${command.command}: ${error.message}`; this.exitInfo = 'spawn error'; resolve() })
    })
    if (this.child.pid === undefined) throw new Error(`${name}: could not start ${command.command}`)
    this.rss = new PeakRssSampler(this.child.pid)
    let pending = ''
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk
      let nl: number
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl).trim()
        pending = pending.slice(nl + 1)
        if (line !== '') this.onLine(line)
      }
    })
    // the peers' own logging (WARN and up); kept for error messages, not echoed (the bench's stderr is its progress)
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderrTail.push(...chunk.split('\n').filter((l) => l.trim() !== ''))
      if (this.stderrTail.length > 40) this.stderrTail.splice(0, this.stderrTail.length - 40)
    })
  }

  private onLine (line: string): void {
    let event: PeerEvent
    try {
      event = parsePeerLine(line)
    } catch (error) {
      this.failure = `${this.name} broke its stdout protocol: ${(error as Error).message}`
      return
    }
    if (event.event === 'restored') { this.restored += event.records; this.restoreReports++ } else if (event.event === 'error') this.failure = event.message
    else if (event.event === 'closed') this.closed = true
  }

  private stderrSummary (): string {
    return this.stderrTail.length === 0 ? '' : `; its last stderr lines:\n  ${this.stderrTail.slice(-12).join('\n  ')}`
  }

  get pid (): number { return this.child.pid as number }
  report (): SystemReport { return { restoredRecords: this.restored, restoreReports: this.restoreReports } }
  peakRssMb (): number { return this.rss.peakMb }

  assertAlive (): void {
    if (this.failure !== undefined) throw new Error(`${this.name} failed: ${this.failure}${this.stderrSummary()}`)
    if (this.exitInfo !== undefined) throw new Error(`${this.name} exited unexpectedly (${this.exitInfo})${this.stderrSummary()}`)
  }

  private async waitExit (timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<boolean>((resolve) => { timer = setTimeout(() => { resolve(false) }, timeoutMs) })
    const done = await Promise.race([this.exited.then(() => true), timedOut])
    clearTimeout(timer)
    return done
  }

  async stop (timeoutMs = 60_000): Promise<void> {
    this.rss.stop()
    if (this.exitInfo !== undefined) return
    this.child.kill('SIGTERM')
    if (!(await this.waitExit(timeoutMs))) {
      this.child.kill('SIGKILL')
      await this.waitExit(30_000)
      throw new Error(`${this.name} did not stop within ${timeoutMs} ms of SIGTERM (killed)${this.stderrSummary()}`)
    }
    if (!this.closed && this.failure === undefined) throw new Error(`${this.name} exited (${String(this.exitInfo)}) without reporting a clean close${this.stderrSummary()}`)
  }

  async kill (): Promise<void> {
    this.rss.stop()
    if (this.exitInfo !== undefined) return
    this.child.kill('SIGKILL')
    await this.waitExit(30_000)
  }
}

/** A BenchSystem whose instances are child processes speaking the JSON line protocol. */
export function peerSystem (name: SystemName, description: string, command: (options: SystemStartOptions) => PeerCommand): BenchSystem {
  return {
    name,
    description,
    async start (options: SystemStartOptions): Promise<SystemProcess> {
      return new PeerProcess(name, command(options))
    }
  }
}
