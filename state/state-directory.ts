/**
 * Where tasks keep their state on disk, and who may use which task directory.
 *
 *   <stateDir>/<applicationId>/<taskId>/          one directory per task (taskId = `<subtopology>_<partition>`)
 *   <stateDir>/<applicationId>/<taskId>/.lock     JSON {pid, hostname, holder: instanceId, lockedAt} (state/lock-file.ts): held while a
 *                                                 StreamsApp instance owns the task
 *   <stateDir>/<applicationId>/<taskId>/rocksdb/<store>/   a persistent store (state/rocksdb)
 *
 * Why a lock file on top of RocksDB's own LOCK: two instances of one app on one machine (same stateDir) must
 * not both open a task; the lock is taken before any store opens and tells the loser who holds it. The lock is
 * created with O_EXCL; a lock left behind by a dead process (same host, pid no longer alive) is taken over.
 */
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { mkdir, readdir, rm } from 'node:fs/promises'
import Ajv from 'ajv'
import { DevtripError } from '../events/errors'
import { lockOwner, releaseLockFile, takeLockFile } from './lock-file'

const LOCK_FILE = '.lock'

const SEGMENT = { type: 'string', pattern: '^(?!\\.{1,2}$)[A-Za-z0-9._-]{1,200}$' } as const
const validate = new Ajv({ allErrors: true, strict: true }).compile({
  type: 'object',
  additionalProperties: false,
  required: ['stateDir', 'applicationId'],
  properties: { stateDir: { type: 'string', minLength: 1 }, applicationId: SEGMENT }
})
const validTaskId = new Ajv({ strict: true }).compile(SEGMENT)


export class StateDirectory {
  readonly appDir: string
  /** identifies this StateDirectory (one per StreamsApp instance) inside lock files */
  readonly instanceId = randomUUID()
  private readonly held = new Set<string>()

  constructor (readonly stateDir: string, readonly applicationId: string) {
    if (!validate({ stateDir, applicationId })) {
      const problems = (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? 'is invalid'}`)
      throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `invalid state directory options: ${problems.join('; ')}`, { details: { problems } })
    }
    this.appDir = join(stateDir, applicationId)
  }

  /** the task's directory path (not created) */
  taskDir (taskId: string): string {
    if (!validTaskId(taskId)) throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `invalid task id "${String(taskId)}": use letters, digits, ".", "_" or "-"`)
    return join(this.appDir, taskId)
  }

  /**
   * Creates the task directory and takes its lock. Idempotent for this instance. Throws DEVTRIP_STATE_STORE
   * (canRetry: the other owner may let go during a rebalance) when another live process or instance holds it.
   */
  async lockTask (taskId: string): Promise<string> {
    const dir = this.taskDir(taskId)
    if (this.held.has(taskId)) return dir
    await mkdir(dir, { recursive: true })
    const lockPath = join(dir, LOCK_FILE)
    await takeLockFile(lockPath, lockOwner(this.instanceId), {
      busy: (owner) => new DevtripError('DEVTRIP_STATE_STORE', `task directory ${dir} is locked by pid ${owner.pid} on ${owner.hostname} (instance ${owner.holder}, since ${owner.lockedAt}); two instances of "${this.applicationId}" share the state dir — give each its own stateDir`, {
        canRetry: true,
        details: { taskId, lockPath, owner }
      })
    })
    this.held.add(taskId)
    return dir
  }

  isLockedByMe (taskId: string): boolean {
    return this.held.has(taskId)
  }

  /** releases this instance's lock (only if the file still names this instance) */
  async unlockTask (taskId: string): Promise<void> {
    if (!this.held.delete(taskId)) return
    await releaseLockFile(join(this.taskDir(taskId), LOCK_FILE), this.instanceId)
  }

  /**
   * Deletes a task's directory and everything in it (a task this instance lost for good, or a corrupt store).
   * Takes the lock first so it never wipes a directory another instance is using; close the stores before.
   */
  async cleanTask (taskId: string): Promise<void> {
    const dir = await this.lockTask(taskId)
    const entries = await readdir(dir)
    await Promise.all(entries.filter((name) => name !== LOCK_FILE).map(async (name) => await rm(join(dir, name), { recursive: true, force: true })))
    await this.unlockTask(taskId)
    await rm(dir, { recursive: true, force: true })
  }

  /** task ids that have a directory under this app */
  async listTasks (): Promise<string[]> {
    try {
      const entries = await readdir(this.appDir, { withFileTypes: true })
      return entries.filter((e) => e.isDirectory() && validTaskId(e.name)).map((e) => e.name).sort()
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw new DevtripError('DEVTRIP_STATE_STORE', `cannot list ${this.appDir}: ${(error as Error).message}`, { cause: error })
    }
  }

  /** releases every lock this instance holds (shutdown) */
  async unlockAll (): Promise<void> {
    for (const taskId of [...this.held]) await this.unlockTask(taskId)
  }
}
