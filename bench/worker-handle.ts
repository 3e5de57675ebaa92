/**
 * The benchmark's side of the engine child process (bench/engine-worker.ts): fork it, wait for its messages,
 * stop it cleanly, or kill it when something went wrong.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { FromWorker, ToWorker } from './engine-workload'

type Closed = Extract<FromWorker, { type: 'closed' }>

export interface WorkerHandleOptions {
  /** extra node flags for the child, e.g. ['--cpu-prof', '--cpu-prof-dir=/tmp/p'] */
  readonly execArgv?: readonly string[]
  /** every message, as it arrives (progress, commit tracking) */
  readonly onMessage?: (message: FromWorker) => void
}

export class WorkerHandle {
  private readonly child: ChildProcess
  private readonly messages: FromWorker[] = []
  private waiters: Array<() => void> = []
  private exitInfo: { code: number | null, signal: NodeJS.Signals | null } | undefined
  private failure: string | undefined

  constructor (options: WorkerHandleOptions = {}) {
    // the compiled worker sits next to this file in dist/bench; the benchmark always runs from dist (bin/devtrip-streams)
    const script = join(__dirname, 'engine-worker.js')
    if (!existsSync(script)) throw new Error(`${script} not found: run the benchmark through bin/devtrip-streams (it builds dist/ first)`)
    this.child = fork(script, [], { execArgv: [...(options.execArgv ?? [])], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    this.child.on('message', (message: FromWorker) => {
      if (message.type === 'error') this.failure = message.message
      this.messages.push(message)
      options.onMessage?.(message)
      this.wake()
    })
    this.child.on('exit', (code, signal) => { this.exitInfo = { code, signal }; this.wake() })
  }

  get pid (): number | undefined {
    return this.child.pid
  }

  send (message: ToWorker): void {
    this.child.send(message)
  }

  private wake (): void {
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w()
  }

  /** Resolves with the first message (received so far or later) matching `match`; fails on a worker error or exit. */
  async waitFor<M extends FromWorker> (what: string, match: (m: FromWorker) => m is M, timeoutMs: number): Promise<M> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const found = this.messages.find(match)
      if (found !== undefined) return found
      if (this.failure !== undefined) throw new Error(`the engine process failed while waiting for ${what}: ${this.failure}`)
      if (this.exitInfo !== undefined) {
        throw new Error(`the engine process exited (${String(this.exitInfo.code ?? this.exitInfo.signal)}) while waiting for ${what}`)
      }
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`the engine process did not reach ${what} within ${timeoutMs} ms`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.waiters.push(() => { clearTimeout(timer); resolve() })
      })
    }
  }

  /** Throws if the worker reported an error or died, so a phase waiting on Kafka does not wait for nothing. */
  assertAlive (): void {
    if (this.failure !== undefined) throw new Error(`the engine process failed: ${this.failure}`)
    if (this.exitInfo !== undefined) throw new Error(`the engine process exited unexpectedly (${String(this.exitInfo.code ?? this.exitInfo.signal)})`)
  }

  /** Asks the app to close and waits for its final counters and the process exit. */
  async stop (timeoutMs = 60_000): Promise<Closed> {
    this.assertAlive()
    this.send({ type: 'stop' })
    const closed = await this.waitFor('a clean close', (m): m is Closed => m.type === 'closed', timeoutMs)
    await this.waitForExit(timeoutMs)
    return closed
  }

  async waitForExit (timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (this.exitInfo === undefined && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()))
        this.waiters.push(() => { clearTimeout(timer); resolve() })
      })
    }
  }

  /** Last resort after a failure: SIGKILL this child (only the process this handle forked). */
  kill (): void {
    if (this.exitInfo === undefined && this.child.pid !== undefined) this.child.kill('SIGKILL')
  }
}
