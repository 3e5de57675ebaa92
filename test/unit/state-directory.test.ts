import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { StateDirectory } from '../../state/state-directory'
import { expectCode } from './state-contract'

describe('StateDirectory', () => {
  let root: string
  beforeEach(() => { root = mkdtempSync(join(tmpdir(), 'devtrip-statedir-')) })
  afterEach(() => { rmSync(root, { recursive: true, force: true }) })

  test('lays out <stateDir>/<applicationId>/<taskId> and lists task directories', async () => {
    const dirs = new StateDirectory(root, 'devtrip-app')
    expect(dirs.appDir).toBe(join(root, 'devtrip-app'))
    expect(dirs.taskDir('0_1')).toBe(join(root, 'devtrip-app', '0_1'))
    expect(await dirs.listTasks()).toEqual([])
    await dirs.lockTask('1_0')
    await dirs.lockTask('0_1')
    expect(await dirs.listTasks()).toEqual(['0_1', '1_0'])
    const lock = JSON.parse(readFileSync(join(dirs.taskDir('0_1'), '.lock'), 'utf8')) as { pid: number, holder: string }
    expect(lock.pid).toBe(process.pid)
    expect(lock.holder).toBe(dirs.instanceId)
  })

  test('a second instance cannot lock a task the first holds, until it is unlocked', async () => {
    const first = new StateDirectory(root, 'app')
    const second = new StateDirectory(root, 'app')
    const dir = await first.lockTask('0_0')
    expect(await first.lockTask('0_0')).toBe(dir) // idempotent for the holder
    expect(first.isLockedByMe('0_0')).toBe(true)
    await expectCode('DEVTRIP_STATE_STORE', () => second.lockTask('0_0'))
    await first.unlockTask('0_0')
    expect(first.isLockedByMe('0_0')).toBe(false)
    await second.lockTask('0_0')
    expect(second.isLockedByMe('0_0')).toBe(true)
    await second.unlockAll()
    expect(existsSync(join(dir, '.lock'))).toBe(false)
  })

  test('a lock left by a dead process on this host is taken over', async () => {
    const dirs = new StateDirectory(root, 'app')
    const taskDir = dirs.taskDir('0_2')
    mkdirSync(taskDir, { recursive: true })
    // pid 2^22 + 1 is above Linux's pid_max ceiling, so no live process has it
    writeFileSync(join(taskDir, '.lock'), JSON.stringify({ pid: 4194305, hostname: hostname(), instanceId: 'gone', lockedAt: '2020-01-01T00:00:00Z' }))
    await dirs.lockTask('0_2')
    expect(JSON.parse(readFileSync(join(taskDir, '.lock'), 'utf8')).holder).toBe(dirs.instanceId)
  })

  test('cleanTask removes the task directory, and refuses while another instance holds it', async () => {
    const owner = new StateDirectory(root, 'app')
    const other = new StateDirectory(root, 'app')
    const dir = await owner.lockTask('0_3')
    mkdirSync(join(dir, 'rocksdb', 'store'), { recursive: true })
    writeFileSync(join(dir, 'rocksdb', 'store', 'CURRENT'), 'x')
    await expectCode('DEVTRIP_STATE_STORE', () => other.cleanTask('0_3'))
    expect(existsSync(join(dir, 'rocksdb', 'store', 'CURRENT'))).toBe(true)
    await owner.cleanTask('0_3')
    expect(existsSync(dir)).toBe(false)
    expect(await owner.listTasks()).toEqual([])
  })

  test('bad application or task ids are refused', async () => {
    expect(() => new StateDirectory(root, '../escape')).toThrow(expect.objectContaining({ code: 'DEVTRIP_INVALID_OPTIONS' }))
    expect(() => new StateDirectory('', 'app')).toThrow(expect.objectContaining({ code: 'DEVTRIP_INVALID_OPTIONS' }))
    const dirs = new StateDirectory(root, 'app')
    expect(() => dirs.taskDir('../0_0')).toThrow(expect.objectContaining({ code: 'DEVTRIP_INVALID_OPTIONS' }))
    await expectCode('DEVTRIP_INVALID_OPTIONS', () => dirs.lockTask('..'))
  })
})
