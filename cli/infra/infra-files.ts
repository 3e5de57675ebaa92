/**
 * The files `infra up` leaves for others to read — `infra.env` (addresses) and `infra-state.json`
 * (pids, ports, directories) — and the lock that keeps two `up`/`down` runs from interleaving.
 */
import { existsSync, openSync, closeSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs'
import { DevtripError } from '../../events/errors'
import type { InfraPaths } from './local-dir'
import { isProcessAlive, sleep } from './processes'

export type ServiceMode = 'managed' | 'external'

/** A service as recorded by `up`. Managed services also have their own record in their data dir. */
export interface RecordedService {
  mode: ServiceMode
  /** KAFKA_BROKERS / REDIS_URL value */
  address: string
  pid: number | null
  port: number | null
  dataDir: string | null
  logFile: string | null
}

export interface InfraState {
  version: 1
  localDir: string
  kafka: RecordedService & { controllerPort: number | null }
  redis: RecordedService
  updatedAt: string
}

function writeAtomically (path: string, text: string): void {
  const temp = `${path}.tmp-${process.pid}`
  writeFileSync(temp, text)
  renameSync(temp, path)
}

export function readInfraState (paths: InfraPaths): InfraState | undefined {
  if (!existsSync(paths.stateFile)) return undefined
  try {
    const state = JSON.parse(readFileSync(paths.stateFile, 'utf8')) as InfraState
    return state.version === 1 ? state : undefined
  } catch {
    return undefined // a broken state file only loses the external addresses; managed services have their own records
  }
}

export function writeInfraFiles (paths: InfraPaths, state: InfraState): void {
  writeAtomically(paths.stateFile, JSON.stringify(state, null, 2) + '\n')
  // plain KEY=value lines: `set -a; . .local/infra.env; set +a` or `export $(cat .local/infra.env)`
  writeAtomically(paths.envFile, `KAFKA_BROKERS=${state.kafka.address}\nREDIS_URL=${state.redis.address}\n`)
}

export function removeInfraFiles (paths: InfraPaths): void {
  rmSync(paths.stateFile, { force: true })
  rmSync(paths.envFile, { force: true })
}

/** Reads KEY=value lines (the infra.env format); blank lines and # comments are skipped. */
export function parseEnvFile (text: string): Record<string, string> {
  const result: Record<string, string> = {}
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const eq = line.indexOf('=')
    if (eq > 0) result[line.slice(0, eq)] = line.slice(eq + 1)
  }
  return result
}

function lockAgeMs (path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs
  } catch {
    return 0
  }
}

/**
 * Runs fn while holding the lock file (created exclusively, holding our pid). A lock left by a
 * process that no longer exists is taken over; a live holder is waited for up to waitMs.
 */
export async function withInfraLock<T> (paths: InfraPaths, waitMs: number, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + waitMs
  for (;;) {
    try {
      const fd = openSync(paths.lockFile, 'wx')
      writeSync(fd, String(process.pid))
      closeSync(fd)
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      let holder = NaN
      try { holder = Number(readFileSync(paths.lockFile, 'utf8').trim()) } catch { /* removed meanwhile */ }
      if (!Number.isNaN(holder) && holder !== process.pid && isProcessAlive(holder, /./)) {
        if (Date.now() >= deadline) {
          throw new DevtripError('DEVTRIP_INFRA', `another infra up/down (pid ${holder}) is still working in ${paths.localDir}`, {
            canRetry: true,
            details: { hint: `wait for it to finish; if pid ${holder} is not devtrip-streams, delete ${paths.lockFile}` }
          })
        }
        await sleep(200)
        continue
      }
      if (Number.isNaN(holder) && lockAgeMs(paths.lockFile) < 5000 && Date.now() < deadline) {
        // just created, its pid not written yet
        await sleep(100)
        continue
      }
      // stale (holder gone) or unreadable for long: take it over
      rmSync(paths.lockFile, { force: true })
    }
  }
  try {
    return await fn()
  } finally {
    rmSync(paths.lockFile, { force: true })
  }
}
