/**
 * Starting and stopping the long-lived server processes (the Kafka JVM, redis-server) and running
 * short helper commands (StorageTool, mvn, apt-get).
 *
 * Servers run detached in their own process group so they outlive `infra up` and so `down` can
 * signal the whole group. Before any signal is sent we check /proc that the pid still runs the
 * program we started: pids get reused, and signalling a stranger's process must never happen.
 */
import { spawn } from 'node:child_process'
import { accessSync, closeSync, constants, existsSync, openSync, readdirSync, readFileSync, statSync, writeSync } from 'node:fs'

export interface DetachedOptions {
  cwd: string
  /** stdout and stderr are appended here */
  logFile: string
  env?: NodeJS.ProcessEnv
}

/** Starts `command args…` detached (own session and process group), output appended to logFile. */
export function spawnDetached (command: string, args: readonly string[], options: DetachedOptions): number {
  const fd = openSync(options.logFile, 'a')
  try {
    // a banner makes the restarts of one broker easy to tell apart in an appended log
    writeSync(fd, `\n=== ${new Date().toISOString()} starting ${command} ${args.join(' ')}\n`)
    const child = spawn(command, [...args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true,
      stdio: ['ignore', fd, fd]
    })
    // a spawn failure (ENOENT) is reported below through the missing pid; never as a crash
    child.on('error', () => {})
    if (child.pid === undefined) throw new Error(`could not start ${command} (is it installed and on PATH?)`)
    child.unref()
    return child.pid
  } finally {
    closeSync(fd)
  }
}

/** stands for "still exiting": its command line is no longer readable, but its pid cannot be reused yet */
const EXITING = '\0exiting'

/**
 * The command line of a live process, or undefined when there is none. A zombie leader counts as
 * dead only once all its threads are gone too: a SIGKILLed JVM shows its main thread as a zombie
 * while other threads are still tearing down and still hold its sockets open.
 */
function liveCommandLine (pid: number): string | undefined {
  if (!Number.isInteger(pid) || pid <= 1) return undefined
  try {
    // /proc/<pid>/stat: "pid (comm) S …" — the state letter follows the last ')'
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const state = stat.charAt(stat.lastIndexOf(')') + 2)
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim()
    if (state === 'Z' || state === 'X') return readdirSync(`/proc/${pid}/task`).length > 1 ? EXITING : undefined
    return cmdline
  } catch {
    return undefined
  }
}

/**
 * True when pid is alive and its command line matches `expect` (e.g. /kafka\.Kafka/): a pid from
 * an old state file that now belongs to another program counts as not running.
 */
export function isProcessAlive (pid: number, expect: RegExp): boolean {
  const cmdline = liveCommandLine(pid)
  return cmdline !== undefined && (cmdline === EXITING || expect.test(cmdline))
}

export interface StopOptions {
  /** the command line the pid must still have (see isProcessAlive) */
  expect: RegExp
  /** how long SIGTERM gets before SIGKILL */
  graceMs: number
  /** skip SIGTERM and kill at once (a crash, for chaos tests) */
  kill?: boolean
}

export type StopOutcome = 'not-running' | 'stopped' | 'killed'

function signalGroup (pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    // the group may already be gone; fall back to the leader alone
    try { process.kill(pid, signal) } catch { /* already gone */ }
  }
}

async function waitGone (pid: number, expect: RegExp, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  while (isProcessAlive(pid, expect)) {
    if (Date.now() >= deadline) return false
    await sleep(100)
  }
  return true
}

/** SIGTERM to the process group, then SIGKILL after graceMs; resolves once the process is gone. */
export async function stopProcessGroup (pid: number, options: StopOptions): Promise<StopOutcome> {
  if (!isProcessAlive(pid, options.expect)) return 'not-running'
  if (options.kill !== true) {
    signalGroup(pid, 'SIGTERM')
    if (await waitGone(pid, options.expect, options.graceMs)) return 'stopped'
  }
  signalGroup(pid, 'SIGKILL')
  if (await waitGone(pid, options.expect, 10_000)) return 'killed'
  throw new Error(`process ${pid} survived SIGKILL for 10 s`)
}

export interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  output: string
}

export interface RunOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
  timeoutMs: number
  /** called with each output line as it arrives (progress for the user) */
  onLine?: (line: string) => void
}

/** Runs a short command to completion, collecting stdout+stderr; never throws for a non-zero exit. */
export function runCommand (command: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    let partial = ''
    const onData = (chunk: Buffer): void => {
      const text = chunk.toString('utf8')
      output += text
      if (options.onLine === undefined) return
      const lines = (partial + text).split('\n')
      partial = lines.pop() ?? ''
      for (const line of lines) if (line.trim() !== '') options.onLine(line)
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs)
    child.on('error', (error) => { clearTimeout(timer); reject(error) })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (options.onLine !== undefined && partial.trim() !== '') options.onLine(partial)
      resolve({ code, signal, output })
    })
  })
}

/** The last `lines` lines of a log file ('' when it does not exist), for error messages. */
export function tailFile (path: string, lines: number): string {
  if (!existsSync(path)) return ''
  const text = readFileSync(path, 'utf8')
  return text.split('\n').filter((l) => l.trim() !== '').slice(-lines).join('\n')
}

function isExecutableFile (path: string): boolean {
  try {
    accessSync(path, constants.X_OK)
    return statSync(path).isFile()
  } catch {
    return false
  }
}

/** The path `command` resolves to on PATH (plus extraDirs), or undefined when it is not installed. */
export function findExecutable (command: string, extraDirs: readonly string[] = []): string | undefined {
  if (command.includes('/')) return isExecutableFile(command) ? command : undefined
  const dirs = [...(process.env.PATH ?? '').split(':').filter((d) => d !== ''), ...extraDirs]
  for (const dir of dirs) {
    const candidate = `${dir}/${command}`
    if (isExecutableFile(candidate)) return candidate
  }
  return undefined
}

export function sleep (ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
