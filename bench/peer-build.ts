/**
 * Builds that `bench all` does itself, once, and keeps: the Kafka Streams peer (Maven) and the Quix Streams peer
 * (a Python venv). A build goes into `<cacheRoot>/<name>-<hash>/`, where hash covers every input file of the build
 * (pom.xml and sources, requirements.txt): an unchanged peer is never rebuilt, a changed one gets a new folder.
 * A `.complete` marker is written last, so an interrupted build is redone instead of half used.
 */
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'

const MARKER = '.complete'

/** Every file under `dir` (sorted, relative paths), skipping folders named in `skip` (build output, venvs). */
export function filesUnder (dir: string, skip: readonly string[] = ['target', '.venv', '__pycache__']): string[] {
  const out: string[] = []
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name)
      if (statSync(path).isDirectory()) { if (!skip.includes(name)) walk(path) } else out.push(path)
    }
  }
  walk(dir)
  return out
}

/** sha256 over the files' paths (relative to `base`) and contents, first 16 hex digits. */
export function hashFiles (base: string, files: readonly string[]): string {
  const hash = createHash('sha256')
  for (const file of [...files].sort()) {
    hash.update(relative(base, file)).update('\u0000').update(readFileSync(file)).update('\u0000')
  }
  return hash.digest('hex').slice(0, 16)
}

export interface CommandResult {
  readonly code: number | null
  readonly output: string
}

/** Runs a command to completion; stdout and stderr together; `onLine` gets each non-empty line (progress). */
export async function runCommand (command: string, args: readonly string[], options: { cwd?: string, timeoutMs: number, onLine?: (line: string) => void }): Promise<CommandResult> {
  const child = spawn(command, [...args], { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  const chunks: string[] = []
  const onData = (chunk: Buffer): void => {
    const text = chunk.toString('utf8')
    chunks.push(text)
    // maven colours its output even with -B; what is left after removing the codes may be nothing
    for (const line of text.split('\n')) { const plain = line.replace(/\u001b\[[0-9;]*m/g, '').trim(); if (plain !== '') options.onLine?.(plain) }
  }
  child.stdout.on('data', onData)
  child.stderr.on('data', onData)
  return await new Promise<CommandResult>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${command} ${args.join(' ')} did not finish within ${options.timeoutMs} ms`)) }, options.timeoutMs)
    child.on('error', (error) => { clearTimeout(timer); reject(new Error(`cannot run ${command}: ${error.message}`)) })
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, output: chunks.join('') }) })
  })
}

/** Throws with the command's last output lines when it failed. */
export function assertSucceeded (what: string, result: CommandResult): void {
  if (result.code === 0) return
  const tail = result.output.replace(/\u001b\[[0-9;]*m/g, '').split('\n').filter((l) => l.trim() !== '').slice(-25).join('\n  ')
  throw new Error(`${what} failed (exit ${String(result.code)}):\n  ${tail}`)
}

export interface CachedBuild {
  /** the folder holding the build's output */
  readonly dir: string
  /** false when an earlier build was reused */
  readonly built: boolean
}

/**
 * Returns `<cacheRoot>/<name>-<hash of inputs>`, running `build(staging)` first when it is not there yet. The build
 * writes into a private staging folder that is renamed into place when it succeeded.
 */
export async function cachedBuild (cacheRoot: string, name: string, inputsBase: string, inputs: readonly string[], build: (dir: string) => Promise<void>): Promise<CachedBuild> {
  const dir = join(cacheRoot, `${name}-${hashFiles(inputsBase, inputs)}`)
  if (existsSync(join(dir, MARKER))) return { dir, built: false }
  mkdirSync(cacheRoot, { recursive: true })
  const staging = `${dir}.tmp-${process.pid}`
  rmSync(staging, { recursive: true, force: true })
  mkdirSync(staging, { recursive: true })
  try {
    await build(staging)
    writeFileSync(join(staging, MARKER), `${new Date().toISOString()}\n`)
    rmSync(dir, { recursive: true, force: true })
    renameSync(staging, dir)
  } finally {
    rmSync(staging, { recursive: true, force: true })
  }
  return { dir, built: true }
}
