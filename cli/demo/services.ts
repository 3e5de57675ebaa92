/**
 * The pipeline's long-running parts as child processes of `demo`: the three topologies (`run all`), the ingest
 * API and the evaluation worker — the same commands a user would start by hand, so the demo proves them.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { projectRoot } from '../paths'

export interface ServiceProcess {
  readonly name: string
  readonly child: ChildProcess
  /** the last lines the service wrote to stderr, for error messages */
  readonly recentErrors: string[]
  /** everything the service printed, for when something goes wrong */
  readonly logFile: string
}

const BIN = join(projectRoot, 'bin', 'devtrip-streams')

export function startService (name: string, args: string[], env: NodeJS.ProcessEnv, logFile: string, onLine?: (line: string) => void): ServiceProcess {
  mkdirSync(dirname(logFile), { recursive: true })
  const log = createWriteStream(logFile, { flags: 'a' })
  log.write(`--- ${new Date().toISOString()} devtrip-streams ${args.join(' ')}\n`)
  const child = spawn(process.execPath, [BIN, ...args], { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] })
  const recentErrors: string[] = []
  createInterface({ input: child.stdout! }).on('line', (line) => {
    log.write(line + '\n')
    onLine?.(line)
  })
  createInterface({ input: child.stderr! }).on('line', (line) => {
    log.write(line + '\n')
    recentErrors.push(line)
    if (recentErrors.length > 20) recentErrors.shift()
  })
  child.once('exit', () => log.end())
  return { name, child, recentErrors, logFile }
}

/** Resolves when `predicate` holds, rejects when the service exits first or the time is up. */
export async function waitFor (service: ServiceProcess, what: string, predicate: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await predicate())) {
    if (service.child.exitCode !== null || service.child.signalCode !== null) {
      throw new Error(`${service.name} exited (${service.child.exitCode ?? service.child.signalCode}) before ${what} (log: ${service.logFile}): ${service.recentErrors.slice(-5).join(' | ')}`)
    }
    if (Date.now() > deadline) throw new Error(`${service.name}: ${what} did not happen within ${Math.round(timeoutMs / 1000)} s (log: ${service.logFile}): ${service.recentErrors.slice(-5).join(' | ')}`)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

/** SIGTERM (each service shuts down gracefully: commits, closes stores), then SIGKILL after `graceMs`. */
export async function stopServices (services: readonly ServiceProcess[], graceMs = 30_000): Promise<void> {
  await Promise.all(services.map(async ({ child }) => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
    await exited
    clearTimeout(timer)
  }))
}
