/**
 * A throw-away Debian `redis-server` on 127.0.0.1: no RDB snapshots, no AOF (`--save '' --appendonly no`),
 * so stopping it loses everything by design — tests and local runs always start from empty.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { DevtripError } from '../../events/errors'
import { redisHealth } from './health'
import {
  checkStartRedisOptions, checkStopServiceOptions,
  type ProgressFn, type StartRedisInput, type StopServiceInput
} from './options'
import { canConnect, freePorts, isPortFree, LOOPBACK } from './ports'
import { findExecutable, isProcessAlive, runCommand, sleep, spawnDetached, stopProcessGroup, tailFile, type StopOutcome } from './processes'

export interface RedisServer {
  readonly pid: number | null
  readonly port: number
  /** the REDIS_URL value: "redis://127.0.0.1:<port>" */
  readonly url: string
  readonly dataDir: string
  readonly logFile: string
  readonly startedAt: string
}

const RECORD_FILE = 'redis.json'
// Debian installs it here; PATH may not include sbin for non-login shells
const EXTRA_DIRS = ['/usr/bin', '/usr/sbin', '/usr/local/bin']

/**
 * Matches our redis-server for `port`: right after exec its command line is our argv
 * ("… --port P …"); once running, Redis rewrites its process title to "redis-server 127.0.0.1:P".
 */
function processPattern (port: number): RegExp {
  return new RegExp(`redis-server(?: 127\\.0\\.0\\.1:${port}\\b| .*--port ${port}(?: |$))`)
}

export function isRedisRunning (server: RedisServer): boolean {
  return server.pid !== null && isProcessAlive(server.pid, processPattern(server.port))
}

export function readRedisServer (dataDir: string): RedisServer | undefined {
  const path = join(resolve(dataDir), RECORD_FILE)
  if (!existsSync(path)) return undefined
  try {
    return Object.freeze(JSON.parse(readFileSync(path, 'utf8')) as RedisServer)
  } catch {
    return undefined // nothing to recover from a broken record: Redis keeps no data
  }
}

async function aptGet (args: string[], progress: ProgressFn): Promise<boolean> {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  const result = await runCommand('apt-get', args, { env, timeoutMs: 10 * 60_000, onLine: (line) => progress(`apt-get: ${line}`) })
  return result.code === 0
}

/**
 * The redis-server executable. When missing and we are root, installs Debian's package
 * (`apt-get update` only when the first install attempt fails: the package lists may just be stale).
 */
export async function ensureRedisServer (options: { installIfMissing?: boolean, onProgress?: ProgressFn } = {}): Promise<string> {
  const found = findExecutable('redis-server', EXTRA_DIRS)
  if (found !== undefined) return found
  const progress = options.onProgress ?? (() => {})
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
  if (options.installIfMissing === false || !isRoot) {
    throw new DevtripError('DEVTRIP_INFRA', 'redis-server is not installed', {
      details: { hint: 'install it (Debian: sudo apt-get install -y redis-server) or set REDIS_URL to a running Redis' }
    })
  }
  progress('redis: redis-server is missing; installing it with apt-get (running as root)')
  const installArgs = ['install', '-y', '--no-install-recommends', 'redis-server']
  if (!await aptGet(installArgs, progress)) {
    progress('redis: install failed; refreshing package lists and retrying')
    if (!await aptGet(['update'], progress) || !await aptGet(installArgs, progress)) {
      throw new DevtripError('DEVTRIP_INFRA', 'installing redis-server with apt-get failed', {
        canRetry: true,
        details: { hint: 'run `apt-get update && apt-get install -y redis-server` yourself and read its errors, or set REDIS_URL' }
      })
    }
  }
  const installed = findExecutable('redis-server', EXTRA_DIRS)
  if (installed === undefined) {
    throw new DevtripError('DEVTRIP_INFRA', 'apt-get reported success but redis-server is still not found', {
      details: { hint: 'check `dpkg -L redis-server`, or set REDIS_URL to a running Redis' }
    })
  }
  return installed
}

async function waitUntilReady (server: RedisServer, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let lastProblem = 'port not open yet'
  while (Date.now() < deadline) {
    if (!isRedisRunning(server)) {
      throw new DevtripError('DEVTRIP_INFRA', `redis-server (pid ${server.pid}) exited during start-up`, {
        details: { hint: `read ${server.logFile}; last lines:\n${tailFile(server.logFile, 10)}`, logFile: server.logFile }
      })
    }
    if (await canConnect(LOOPBACK, server.port, 1000)) {
      const health = await redisHealth(server.url, 2000)
      if (health.healthy) return
      lastProblem = health.error ?? 'PING failed'
    }
    await sleep(100)
  }
  throw new DevtripError('DEVTRIP_INFRA', `redis-server on ${server.url} did not answer PING within ${Math.round(timeoutMs / 1000)} s (${lastProblem})`, {
    canRetry: true,
    details: { hint: `read ${server.logFile}`, logFile: server.logFile }
  })
}

/** Starts redis-server in dataDir (on `port` or a free one) and waits for PONG. */
export async function startRedis (input: StartRedisInput): Promise<RedisServer> {
  const options = checkStartRedisOptions(input)
  const progress: ProgressFn = options.onProgress ?? (() => {})
  const dataDir = resolve(options.dataDir)
  mkdirSync(dataDir, { recursive: true })
  const previous = readRedisServer(dataDir)
  if (previous !== undefined && isRedisRunning(previous)) {
    throw new DevtripError('DEVTRIP_INFRA', `redis-server (pid ${previous.pid}) is already running in ${dataDir}`, {
      details: { hint: 'stop it first (stopRedis / `devtrip-streams infra down`)' }
    })
  }
  const binary = await ensureRedisServer({ installIfMissing: options.installIfMissing, onProgress: progress })
  const port = options.port ?? (await freePorts(1))[0]!
  if (!await isPortFree(port)) {
    throw new DevtripError('DEVTRIP_INFRA', `port ${port} on ${LOOPBACK} is already in use`, { canRetry: true, details: { hint: 'pick another port or omit it' } })
  }
  const logFile = resolve(options.logFile ?? join(dataDir, 'redis.log'))
  mkdirSync(dirname(logFile), { recursive: true })
  const args = [
    '--bind', LOOPBACK, '--port', String(port),
    // nothing on disk: the empty `save` disables RDB snapshots, and no append-only file either
    '--save', '', '--appendonly', 'no',
    '--dir', dataDir,
    '--daemonize', 'no', '--protected-mode', 'yes',
    // log to stdout, which spawnDetached appends to logFile
    '--logfile', '', '--loglevel', 'warning'
  ]
  const pid = spawnDetached(binary, args, { cwd: dataDir, logFile })
  const server: RedisServer = Object.freeze({ pid, port, url: `redis://${LOOPBACK}:${port}`, dataDir, logFile, startedAt: new Date().toISOString() })
  writeFileSync(join(dataDir, RECORD_FILE), JSON.stringify(server, null, 2) + '\n')
  progress(`redis: started pid ${pid} on ${server.url}; log ${logFile}`)
  try {
    await waitUntilReady(server, options.readyTimeoutMs)
  } catch (error) {
    await stopProcessGroup(pid, { expect: processPattern(port), graceMs: 0, kill: true }).catch(() => {})
    throw error
  }
  progress('redis: ready')
  return server
}

/** Stops redis-server (object or dataDir); `wipe` removes its directory. */
export async function stopRedis (target: RedisServer | string, input: StopServiceInput = {}): Promise<{ outcome: StopOutcome }> {
  const options = checkStopServiceOptions(input)
  const dataDir = resolve(typeof target === 'string' ? target : target.dataDir)
  const current = readRedisServer(dataDir) ?? (typeof target === 'string' ? undefined : target)
  let outcome: StopOutcome = 'not-running'
  if (current !== undefined && current.pid !== null) {
    outcome = await stopProcessGroup(current.pid, { expect: processPattern(current.port), graceMs: options.graceMs, kill: options.kill })
  }
  if (options.wipe) rmSync(dataDir, { recursive: true, force: true })
  else if (current !== undefined && existsSync(dataDir)) writeFileSync(join(dataDir, RECORD_FILE), JSON.stringify({ ...current, pid: null }, null, 2) + '\n')
  return { outcome }
}
