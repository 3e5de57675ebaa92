/**
 * Advisory lock files for directories one process at a time may use: a task's state directory
 * (state-directory.ts) and an app's instance identity (streams/runtime/instance-id.ts).
 *
 * On-disk layout: one small JSON file, created with O_EXCL (`wx`) so two takers cannot both win:
 *   {"pid": 4242, "hostname": "box", "holder": "<instance id or random token>", "lockedAt": "<ISO time>"}
 * `holder` tells two holders inside one process apart (two app objects, two StreamsApp instances in a test).
 * Files written before `holder` existed carried it as `instanceId` or `token`; both are still read.
 *
 * Why not flock: Node has no portable flock, and a file that names its owner lets the loser say who holds it.
 * A lock whose owner is gone (same host, pid no longer alive), unreadable or half written is stale and taken
 * over; a second racing taker then loses on the exclusive create.
 */
import { readFile, rm, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { DevtripError } from '../events/errors'

export interface LockFileOwner {
  readonly pid: number
  readonly hostname: string
  readonly holder: string
  readonly lockedAt: string
}

/** Who this process is, as a lock file names it. */
export function lockOwner (holder: string): LockFileOwner {
  return { pid: process.pid, hostname: hostname(), holder, lockedAt: new Date().toISOString() }
}

/** Whether a pid names a live process on this host (EPERM: it exists but belongs to another user). */
export function isProcessAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** The owner a lock file names, or undefined when it is missing, unreadable or half written (all: stale). */
export async function readLockOwner (lockPath: string): Promise<LockFileOwner | undefined> {
  try {
    const parsed = JSON.parse(await readFile(lockPath, 'utf8')) as Record<string, unknown>
    if (typeof parsed.pid !== 'number' || typeof parsed.hostname !== 'string') return undefined
    const holder = parsed.holder ?? parsed.instanceId ?? parsed.token
    return { pid: parsed.pid, hostname: parsed.hostname, holder: typeof holder === 'string' ? holder : '', lockedAt: String(parsed.lockedAt) }
  } catch {
    return undefined
  }
}

export interface TakeLockOptions {
  /** besides a dead pid on this host, what else makes an existing lock stale (e.g. "our own pid") */
  readonly alsoStale?: (owner: LockFileOwner) => boolean
  /** the error for a lock a live owner holds */
  readonly busy: (owner: LockFileOwner) => DevtripError
  /** how many stale locks to clear before giving up (another process keeps re-creating it) */
  readonly attempts?: number
}

/** Creates `lockPath` naming `me`, taking over a stale lock; throws `busy(owner)` for a live one. */
export async function takeLockFile (lockPath: string, me: LockFileOwner, options: TakeLockOptions): Promise<void> {
  const attempts = options.attempts ?? 2
  for (let attempt = 0; attempt < attempts; attempt++) {
    try {
      await writeFile(lockPath, JSON.stringify(me), { flag: 'wx' })
      return
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new DevtripError('DEVTRIP_STATE_STORE', `cannot create the lock file ${lockPath}: ${(error as Error).message}`, { cause: error })
      }
    }
    const owner = await readLockOwner(lockPath)
    const stale = owner === undefined ||
      (owner.hostname === me.hostname && !isProcessAlive(owner.pid)) ||
      (options.alsoStale?.(owner) ?? false)
    if (!stale) throw options.busy(owner)
    await rm(lockPath, { force: true })
  }
  throw new DevtripError('DEVTRIP_STATE_STORE', `could not take the lock ${lockPath}: another process keeps re-creating it`, { canRetry: true, details: { lockPath } })
}

/** Deletes the lock file if it still names `holder` (a lock taken over by someone else is left alone). */
export async function releaseLockFile (lockPath: string, holder: string): Promise<void> {
  const owner = await readLockOwner(lockPath)
  if (owner?.holder === holder) await rm(lockPath, { force: true })
}
