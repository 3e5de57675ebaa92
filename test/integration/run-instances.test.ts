/**
 * `devtrip-streams run all --instances 2`: two supervised child processes sharing the work, one aggregated
 * /metrics, a killed child restarted by the supervisor, and SIGTERM closing everything cleanly. Plus the usage
 * errors of `run`. Runs on the test broker with its own topic prefix.
 */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { get } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RunChild, type RunEvent } from '../../cli/chaos/child-process'
import { applyTopicCatalog } from '../../cli/commands/topics'
import { freePorts } from '../../cli/infra'
import { createKafkaClients, type KafkaAdmin } from '../../streams/kafka'
import { kafkaBrokers } from '../support/infra-env'

const root = join(__dirname, '..', '..')
const prefix = `run-${randomBytes(3).toString('hex')}-`
let admin: KafkaAdmin
let stateDir: string
let supervisor: RunChild | undefined
let metricsPort: number
const events: RunEvent[] = []

async function metricsText (port: number): Promise<string> {
  return await new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/metrics' }, (res) => {
      let body = ''
      res.on('data', (c: Buffer) => { body += c.toString() })
      res.on('end', () => resolve(body))
    }).on('error', reject)
  })
}

async function until (what: string, check: () => boolean, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last stderr:\n${supervisor?.stderrTail.join('\n') ?? ''}`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

beforeAll(async () => {
  admin = createKafkaClients({ brokers: kafkaBrokers(), clientId: 'run-instances-test' }).createAdmin()
  await applyTopicCatalog(admin, { prefix, partitions: 2 })
  stateDir = mkdtempSync(join(tmpdir(), 'devtrip-run-'))
  ;[metricsPort] = await freePorts(1) as [number]
  supervisor = new RunChild({
    args: ['run', 'all', '--instances', '2', '--topic-prefix', prefix, '--state-dir', stateDir, '--metrics-port', String(metricsPort), '--metrics-host', '127.0.0.1',
      '--json-events', '--brokers', kafkaBrokers().join(','), '--session-timeout-ms', '6000'],
    onEvent: (e) => { events.push(e) }
  })
  await until('both instances running', () => events.some((e) => e.event === 'running' && e.instances === 2))
}, 150_000)

afterAll(async () => {
  await supervisor?.stop(60_000)
  const mine = (await admin.listTopics()).filter((t) => t.startsWith(prefix))
  await admin.deleteTopics(mine).catch(() => undefined)
  await admin.close()
  rmSync(stateDir, { recursive: true, force: true })
}, 90_000)

test('two instances split every application\'s partitions, each with its own state directory', () => {
  const assigned = events.filter((e) => e.event === 'rebalance' && e.phase === 'assigned')
  expect(new Set(assigned.map((e) => e.instance))).toEqual(new Set([1, 2]))
  const started = events.filter((e) => e.event === 'started')
  expect(started.map((e) => e.stateDir).sort()).toEqual([join(stateDir, 'instance-1'), join(stateDir, 'instance-2')])
  expect(new Set(started.map((e) => e.pid)).size).toBe(2)
})

test('/metrics on the supervisor sums the instances\' engine metrics', async () => {
  const text = await metricsText(metricsPort)
  // every app runs on both instances; the state gauge (2 = RUNNING) adds up to 4 per application
  for (const app of ['devtrip-ticketing', 'devtrip-user-stats', 'devtrip-evaluation']) {
    expect(text).toMatch(new RegExp(`devtrip_streams_state\\{application_id="${prefix}${app}"\\} 4`))
  }
  expect(text).toMatch(/devtrip_streams_tasks\{application_id="[^"]*devtrip-user-stats"\} 2/)
}, 30_000)

test('a killed instance is restarted by the supervisor and runs again', async () => {
  const victim = events.filter((e) => e.event === 'started' && e.instance === 2).pop()!
  process.kill(victim.pid as number, 'SIGKILL')
  await until('the supervisor to notice', () => events.some((e) => e.event === 'instance-exited' && e.instance === 2 && e.signal === 'SIGKILL'))
  await until('the restarted instance to run', () => events.some((e) => e.event === 'started' && e.instance === 2 && e.pid !== victim.pid) &&
    events.filter((e) => e.event === 'running' && e.instance === 2 && Array.isArray(e.apps)).length >= 2)
}, 120_000)

test('SIGTERM stops both instances cleanly and the supervisor exits 0', async () => {
  const exit = await supervisor!.stop(60_000)
  expect(exit).toEqual({ code: 0, signal: null })
  expect(events.filter((e) => e.event === 'stopped' && e.instance !== undefined).map((e) => e.clean)).toEqual([true, true])
  expect(events.find((e) => e.event === 'stopped' && e.instance === undefined)).toMatchObject({ clean: true, reason: 'SIGTERM' })
  supervisor = undefined
}, 90_000)

test('usage errors exit 2 with one line; missing topics exit 1 naming the command that creates them', () => {
  const cli = (...args: string[]): { status: number | null, stderr: string } => {
    const r = spawnSync(process.execPath, ['--require', join(root, 'test', 'support', 'swc-register.js'), join(root, 'cli', 'chaos', 'child-entry.ts'), ...args],
      { cwd: root, encoding: 'utf8', env: { ...process.env, KAFKA_BROKERS: kafkaBrokers().join(',') }, timeout: 60_000 })
    return { status: r.status, stderr: r.stderr }
  }
  const unknown = cli('run', 'billing')
  expect(unknown.status).toBe(2)
  expect(unknown.stderr).toMatch(/unknown topology "billing"[\s\S]*ticketing, user-stats, evaluation, or all/)
  const port = cli('run', 'all', '--metrics-port', 'http')
  expect(port.status).toBe(2)
  expect(port.stderr).toMatch(/--metrics-port must be an integer from 1 to 65535/)
  // topics that do not exist: exit 1 and the command that creates them
  const missing = cli('run', 'all', '--topic-prefix', `${prefix}missing-`, '--no-metrics', '--state-dir', join(stateDir, 'missing'))
  expect(missing.status).toBe(1)
  // the three apps start concurrently and the first to fail is reported; mission-events is missing for each of them
  expect(missing.stderr).toMatch(new RegExp(`error: .*${prefix}missing-mission-events.* do not exist[\\s\\S]*→ create the DevTrip topics first: bin/devtrip-streams topics apply --prefix ${prefix}missing-`))
}, 90_000)
