/**
 * The identity of one StreamsApp instance, kept on disk so it survives a crash.
 *
 *   <stateDir>/<applicationId>/instance.id      one line: the instance id (12 hex chars), created once
 *   <stateDir>/<applicationId>/instance.lock    JSON {pid, hostname, token, lockedAt} while an app object runs
 *
 * Why persist it: the transactional id is `<applicationId>-<instanceId>`. A restart after kill -9 calls
 * initTransactions() with the SAME id, and the coordinator aborts the transaction the dead process left open at
 * once — instead of read_committed readers (and our own restore) waiting for the transaction timeout.
 * Why lock it: two live instances with one id would fence each other's producer forever. The lock is taken with
 * an exclusive create; a lock whose pid is gone on this host is taken over.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DevtripError } from '../../events/errors'
import { lockOwner, releaseLockFile, takeLockFile } from '../../state'

const ID_FILE = 'instance.id'
const LOCK_FILE = 'instance.lock'
const VALID_ID = /^[A-Za-z0-9_-]{1,64}$/


/** app dirs locked by app objects of this process (a same-pid lock file is not stale) */
const lockedInThisProcess = new Set<string>()


export interface InstanceIdentity {
  readonly instanceId: string
  readonly appDir: string
  release (): Promise<void>
}

/** Reads (or creates) the instance id and locks it for this app object. */
export async function acquireInstanceIdentity (stateDir: string, applicationId: string): Promise<InstanceIdentity> {
  const appDir = join(stateDir, applicationId)
  if (lockedInThisProcess.has(appDir)) {
    throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `another StreamsApp of "${applicationId}" in this process already uses ${appDir}; give each instance its own stateDir`, {
      details: { appDir }
    })
  }
  await mkdir(appDir, { recursive: true })
  const lockPath = join(appDir, LOCK_FILE)
  const me = lockOwner(randomBytes(8).toString('hex'))
  lockedInThisProcess.add(appDir)
  try {
    await takeLockFile(lockPath, me, {
      attempts: 3,
      // this process holds no lock on appDir (checked above), so a lock naming our pid was left by an app object
      // that was never closed, or by an earlier process that had our pid
      alsoStale: (owner) => owner.hostname === me.hostname && owner.pid === process.pid,
      busy: (owner) => new DevtripError('DEVTRIP_STATE_STORE', `${appDir} is in use by pid ${owner.pid} on ${owner.hostname} (since ${owner.lockedAt}): two instances of "${applicationId}" would share one transactional id; give each its own stateDir`, {
        canRetry: true,
        details: { lockPath, owner }
      })
    })
  } catch (error) {
    lockedInThisProcess.delete(appDir)
    throw error
  }
  let instanceId: string
  try {
    instanceId = await readOrCreateId(join(appDir, ID_FILE))
  } catch (error) {
    await rm(lockPath, { force: true })
    lockedInThisProcess.delete(appDir)
    throw error
  }
  let released = false
  return {
    instanceId,
    appDir,
    release: async () => {
      if (released) return
      released = true
      lockedInThisProcess.delete(appDir)
      await releaseLockFile(lockPath, me.holder)
    }
  }
}



async function readOrCreateId (path: string): Promise<string> {
  try {
    const id = (await readFile(path, 'utf8')).trim()
    if (VALID_ID.test(id)) return id
    throw new DevtripError('DEVTRIP_STATE_STORE', `${path} does not hold an instance id (got ${JSON.stringify(id.slice(0, 80))}); delete the file to get a new one`)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  const id = randomBytes(6).toString('hex')
  // write to a temporary name and rename, so a crash never leaves a half-written id behind
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, `${id}\n`)
  await rename(tmp, path)
  return id
}
