/**
 * `run` processes as children: started from the compiled CLI (child-entry.ts), their `--json-events` lines parsed,
 * their stderr kept (last lines, for error reports), stopped gracefully (SIGTERM, then SIGKILL after a grace period)
 * or killed (SIGKILL — the chaos test's crash). Used by `run --instances N` and by the chaos orchestrator.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

/** One parsed `--json-events` line of a `run` child. */
export type RunEvent = { readonly event: string } & Readonly<Record<string, unknown>>

export interface ChildExit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

export interface RunChildOptions {
  /** arguments after the program, e.g. ['run', 'all', '--json-events', ...] */
  readonly args: readonly string[]
  readonly env?: NodeJS.ProcessEnv
  readonly onEvent?: (event: RunEvent) => void
  /** a stdout line that is not a JSON event (e.g. a human line) */
  readonly onLine?: (line: string) => void
  readonly onStderr?: (line: string) => void
  /** how many stderr lines to keep for `stderrTail` */
  readonly keepStderrLines?: number
}

/** How to start the CLI in a child: node + the compiled entry (or the TypeScript entry through swc under jest). */
export function cliChildCommand (): { command: string, args: string[] } {
  const compiled = join(__dirname, 'child-entry.js')
  if (existsSync(compiled)) return { command: process.execPath, args: [compiled] }
  // running from the TypeScript sources (jest): compile on the fly with the test helper
  const register = join(__dirname, '..', '..', 'test', 'support', 'swc-register.js')
  return { command: process.execPath, args: ['--require', register, join(__dirname, 'child-entry.ts')] }
}

export class RunChild {
  readonly process: ChildProcess
  readonly exited: Promise<ChildExit>
  private readonly stderrLines: string[] = []
  private exit: ChildExit | undefined

  constructor (options: RunChildOptions) {
    const { command, args } = cliChildCommand()
    this.process = spawn(command, [...args, ...options.args], { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
    const keep = options.keepStderrLines ?? 40
    createInterface({ input: this.process.stdout! }).on('line', (line) => {
      const event = parseEvent(line)
      if (event !== undefined) options.onEvent?.(event)
      else options.onLine?.(line)
    })
    createInterface({ input: this.process.stderr! }).on('line', (line) => {
      this.stderrLines.push(line)
      if (this.stderrLines.length > keep) this.stderrLines.shift()
      options.onStderr?.(line)
    })
    this.exited = new Promise((resolve) => {
      this.process.once('exit', (code, signal) => {
        this.exit = { code, signal }
        resolve(this.exit)
      })
      this.process.once('error', () => {
        this.exit = { code: null, signal: null }
        resolve(this.exit)
      })
    })
  }

  get pid (): number | undefined {
    return this.process.pid
  }

  get running (): boolean {
    return this.exit === undefined
  }

  get stderrTail (): readonly string[] {
    return this.stderrLines
  }

  /** SIGKILL: no shutdown hook runs, open transactions stay open, stores are not flushed */
  async kill (): Promise<ChildExit> {
    if (this.running) this.process.kill('SIGKILL')
    return await this.exited
  }

  /** SIGTERM (the child closes its apps cleanly), then SIGKILL after `graceMs` */
  async stop (graceMs = 40_000): Promise<ChildExit> {
    if (!this.running) return await this.exited
    this.process.kill('SIGTERM')
    let timer: NodeJS.Timeout | undefined
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        if (this.running) this.process.kill('SIGKILL')
        resolve()
      }, graceMs)
    })
    const exit = await Promise.race([this.exited, killed.then(async () => await this.exited)])
    clearTimeout(timer)
    return exit
  }
}

function parseEvent (line: string): RunEvent | undefined {
  if (!line.startsWith('{')) return undefined
  try {
    const value = JSON.parse(line) as unknown
    if (value !== null && typeof value === 'object' && typeof (value as { event?: unknown }).event === 'string') return value as RunEvent
  } catch {
    // not JSON after all: a plain line
  }
  return undefined
}
