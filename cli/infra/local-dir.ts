/**
 * Where the local infrastructure keeps its files.
 *
 * Everything lives under one base directory — `<projectRoot>/.local` unless `DEVTRIP_LOCAL_DIR`
 * points elsewhere — so a test can run a completely isolated broker and Redis in a temp directory
 * without touching the developer's own `infra up`.
 */
import { isAbsolute, join, resolve } from 'node:path'
import { localDir as defaultLocalDir } from '../paths'

/** The environment variable that moves the whole `.local` tree (tests point it at a temp dir). */
export const LOCAL_DIR_ENV = 'DEVTRIP_LOCAL_DIR'

export interface InfraPaths {
  /** the base directory itself */
  readonly localDir: string
  /** KAFKA_BROKERS=… and REDIS_URL=… lines, ready for `source` / `export $(cat …)` */
  readonly envFile: string
  /** pids, ports and directories of what `infra up` started (JSON) */
  readonly stateFile: string
  /** held while `up` / `down` change things, so two of them never interleave */
  readonly lockFile: string
  /** broker and Redis console output; kept after `down` so a failed run can still be read */
  readonly logsDir: string
  /** the broker's directory: server.properties, broker.json and the KRaft log dirs */
  readonly kafkaDir: string
  /** Redis's working directory (nothing is persisted there; Redis still wants a cwd it owns) */
  readonly redisDir: string
}

/** The base directory: `$DEVTRIP_LOCAL_DIR` (made absolute) or `<projectRoot>/.local`. */
export function infraLocalDir (): string {
  const fromEnv = process.env[LOCAL_DIR_ENV]
  if (fromEnv === undefined || fromEnv.trim() === '') return defaultLocalDir
  return isAbsolute(fromEnv) ? fromEnv : resolve(fromEnv)
}

export function infraPaths (localDir: string = infraLocalDir()): InfraPaths {
  return Object.freeze({
    localDir,
    envFile: join(localDir, 'infra.env'),
    stateFile: join(localDir, 'infra-state.json'),
    lockFile: join(localDir, 'infra.lock'),
    logsDir: join(localDir, 'logs'),
    kafkaDir: join(localDir, 'kafka'),
    redisDir: join(localDir, 'redis')
  })
}
