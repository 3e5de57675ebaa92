/**
 * `devtrip-streams infra` against real processes: a real Kafka broker and redis-server started in
 * a private DEVTRIP_LOCAL_DIR, with KAFKA_BROKERS / REDIS_URL removed from the CLI's environment so
 * it starts its own. Also the programmatic broker API chaos tests rely on (restart keeping data).
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type * as PlatformaticKafka from '@platformatic/kafka' with { 'resolution-mode': 'import' }
import { parseEnvFile, readKafkaBroker, restartKafka, startKafka, stopInfra, stopKafka, type InfraInfo, type KafkaBroker } from '../../cli/infra'
import { freePorts } from '../../cli/infra/ports'
import { findExecutable } from '../../cli/infra/processes'
import { kafkaBrokers, redisUrl } from '../support/infra-env'

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Admin } = require('@platformatic/kafka') as typeof PlatformaticKafka

const run = promisify(execFile)
const projectRoot = join(__dirname, '..', '..')
const cli = join(projectRoot, 'bin', 'devtrip-streams')

interface CliResult { code: number, stdout: string, stderr: string }

async function devtrip (args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...args], { env, cwd: projectRoot, timeout: 180_000, maxBuffer: 16 << 20 })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const e = error as { code?: number, stdout?: string, stderr?: string }
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }
  }
}

/** Gone = no /proc entry, or a zombie whose threads have all exited (it no longer runs anything). */
function processGone (pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const state = stat.charAt(stat.lastIndexOf(')') + 2)
    return state === 'Z' || state === 'X'
  } catch {
    return true
  }
}

function withoutServiceAddresses (localDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, DEVTRIP_LOCAL_DIR: localDir }
  delete env.KAFKA_BROKERS
  delete env.REDIS_URL
  return env
}

describe('devtrip-streams infra (own broker and Redis)', () => {
  let localDir: string
  let env: NodeJS.ProcessEnv
  let first: InfraInfo | undefined

  beforeAll(() => {
    localDir = mkdtempSync(join(tmpdir(), 'devtrip-infra-test-'))
    env = withoutServiceAddresses(localDir)
  })

  afterAll(async () => {
    // whatever a failed assertion left running is stopped here — without the CLI, which may be what failed
    await stopInfra({ localDir, graceMs: 5000 })
    rmSync(localDir, { recursive: true, force: true })
  }, 60_000)

  test('up starts a real broker and redis-server and writes infra.env and the state file', async () => {
    const result = await devtrip(['infra', 'up', '--json'], env)
    expect(result.stderr).not.toMatch(/^error:/m)
    expect(result.code).toBe(0)
    first = JSON.parse(result.stdout) as InfraInfo
    expect(first.localDir).toBe(localDir)
    for (const service of [first.kafka, first.redis]) {
      expect(service.status).toBe('running')
      expect(service.healthy).toBe(true)
      expect(typeof service.pid).toBe('number')
      expect(processGone(service.pid!)).toBe(false)
    }
    expect(first.kafkaBrokers).toMatch(/^127\.0\.0\.1:\d+$/)
    expect(first.redisUrl).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/)
    expect(readFileSync(`/proc/${first.kafka.pid}/cmdline`, 'utf8')).toContain('kafka.Kafka')
    expect(parseEnvFile(readFileSync(join(localDir, 'infra.env'), 'utf8'))).toEqual({ KAFKA_BROKERS: first.kafkaBrokers, REDIS_URL: first.redisUrl })
    const state = JSON.parse(readFileSync(join(localDir, 'infra-state.json'), 'utf8')) as { kafka: { pid: number, mode: string }, redis: { pid: number } }
    expect(state.kafka).toMatchObject({ mode: 'managed', pid: first.kafka.pid })
    expect(state.redis.pid).toBe(first.redis.pid)
    // the broker uses the settings a single node needs (checked in the file it was started with)
    const properties = readFileSync(join(localDir, 'kafka', 'server.properties'), 'utf8')
    expect(properties).toContain('process.roles=broker,controller')
    expect(properties).toContain('offsets.topic.replication.factor=1')
    expect(properties).toContain(`advertised.listeners=PLAINTEXT://${first.kafkaBrokers}`)
  }, 150_000)

  test('a second up finds both running and healthy and changes nothing', async () => {
    expect(first).toBeDefined()
    const result = await devtrip(['infra', 'up'], env)
    expect(result.code).toBe(0)
    // plain output: the same two KEY=value lines as the first time
    expect(parseEnvFile(result.stdout)).toEqual({ KAFKA_BROKERS: first!.kafkaBrokers, REDIS_URL: first!.redisUrl })
    expect(result.stderr).toContain('already running')
    const again = JSON.parse((await devtrip(['infra', 'up', '--json', '--quiet'], env)).stdout) as InfraInfo
    expect(again.kafka).toMatchObject({ pid: first!.kafka.pid, port: first!.kafka.port, controllerPort: first!.kafka.controllerPort, healthy: true })
    expect(again.redis).toMatchObject({ pid: first!.redis.pid, port: first!.redis.port, healthy: true })
  }, 60_000)

  test('status --json reports both services running and healthy', async () => {
    const result = await devtrip(['infra', 'status', '--json'], env)
    expect(result.code).toBe(0)
    const status = JSON.parse(result.stdout) as InfraInfo
    expect(status.kafka).toMatchObject({ status: 'running', pid: first!.kafka.pid, address: first!.kafkaBrokers, healthy: true })
    expect(status.redis).toMatchObject({ status: 'running', pid: first!.redis.pid, address: first!.redisUrl, healthy: true })
  }, 60_000)

  test('kcat sees the broker', async () => {
    const kcat = findExecutable('kcat')
    if (kcat === undefined) {
      process.stderr.write('kcat is not installed: skipping the kcat cross-check\n')
      return
    }
    const { stdout } = await run(kcat, ['-b', first!.kafkaBrokers, '-L', '-m', '10'], { timeout: 30_000 })
    expect(stdout).toContain('1 brokers:')
    expect(stdout).toContain(`broker 1 at ${first!.kafkaBrokers}`)
  }, 60_000)

  test('down stops both processes and removes their data dirs and the env/state files', async () => {
    const result = await devtrip(['infra', 'down', '--json'], env)
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout)).toMatchObject({ kafka: 'stopped', redis: 'stopped' })
    expect(processGone(first!.kafka.pid!)).toBe(true)
    expect(processGone(first!.redis.pid!)).toBe(true)
    for (const gone of ['kafka', 'redis', 'infra.env', 'infra-state.json', 'infra.lock']) expect(existsSync(join(localDir, gone))).toBe(false)
    const status = JSON.parse((await devtrip(['infra', 'status', '--json'], env)).stdout) as InfraInfo
    expect(status.kafka).toMatchObject({ status: 'stopped', pid: null, healthy: false })
    expect(status.redis).toMatchObject({ status: 'stopped', pid: null, healthy: false })
    // down again has nothing left to stop and still succeeds
    const again = await devtrip(['infra', 'down', '--json'], env)
    expect(again.code).toBe(0)
    expect(JSON.parse(again.stdout)).toMatchObject({ kafka: 'not-running', redis: 'not-running' })
  }, 60_000)
})

describe('devtrip-streams infra with given addresses', () => {
  let localDir: string
  beforeAll(() => { localDir = mkdtempSync(join(tmpdir(), 'devtrip-infra-ext-')) })
  afterAll(() => rmSync(localDir, { recursive: true, force: true }))

  test('KAFKA_BROKERS / REDIS_URL are checked and used, nothing is started', async () => {
    const env = { ...process.env, DEVTRIP_LOCAL_DIR: localDir, KAFKA_BROKERS: kafkaBrokers().join(','), REDIS_URL: redisUrl() }
    const result = await devtrip(['infra', 'up', '--json', '--quiet'], env)
    expect(result.code).toBe(0)
    const info = JSON.parse(result.stdout) as InfraInfo
    expect(info.kafka).toMatchObject({ status: 'external', pid: null, address: env.KAFKA_BROKERS, healthy: true })
    expect(info.redis).toMatchObject({ status: 'external', pid: null, address: env.REDIS_URL, healthy: true })
    expect(existsSync(join(localDir, 'kafka'))).toBe(false)
    expect(existsSync(join(localDir, 'redis'))).toBe(false)
    const down = await devtrip(['infra', 'down', '--json'], env)
    expect(JSON.parse(down.stdout)).toMatchObject({ kafka: 'not-running', redis: 'not-running' })
  }, 60_000)

  test('a KAFKA_BROKERS that does not answer fails with a clear message and exit 1', async () => {
    // a port nothing listens on: one the kernel just handed out and we released
    const [closedPort] = await freePorts(1)
    const env = { ...process.env, DEVTRIP_LOCAL_DIR: localDir, KAFKA_BROKERS: `127.0.0.1:${closedPort}`, REDIS_URL: redisUrl() }
    const result = await devtrip(['infra', 'up'], env)
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/error: \[DEVTRIP_INFRA\] KAFKA_BROKERS=127\.0\.0\.1:\d+ does not answer/)
    expect(result.stderr).toContain('unset KAFKA_BROKERS')
  }, 60_000)

  test('bad usage exits 2', async () => {
    const result = await devtrip(['infra', 'up', '--timeout', 'soon'], { ...process.env, DEVTRIP_LOCAL_DIR: localDir })
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('--timeout must be a number of seconds')
  }, 30_000)
})

describe('startKafka / restartKafka / stopKafka (a broker in any directory)', () => {
  let dataDir: string
  let broker: KafkaBroker | undefined
  beforeAll(() => { dataDir = join(mkdtempSync(join(tmpdir(), 'devtrip-broker-')), 'broker') })
  afterAll(async () => {
    await stopKafka(dataDir, { wipe: true, kill: true }).catch(() => {})
    rmSync(join(dataDir, '..'), { recursive: true, force: true })
  }, 30_000)

  async function topicNames (brokers: string): Promise<string[]> {
    const admin = new Admin({ clientId: 'infra-test', bootstrapBrokers: [brokers] })
    try {
      return await admin.listTopics()
    } finally {
      await admin.close()
    }
  }

  test('a restarted broker keeps its port, cluster id and topics; stop with wipe removes everything', async () => {
    broker = await startKafka({ dataDir })
    const topic = `infra-restart-${Date.now().toString(36)}`
    const admin = new Admin({ clientId: 'infra-test', bootstrapBrokers: [broker.brokers] })
    try {
      await admin.createTopics({ topics: [topic], partitions: 2, replicas: 1 })
    } finally {
      await admin.close()
    }
    expect(await topicNames(broker.brokers)).toContain(topic)

    const restarted = await restartKafka(broker)
    expect(restarted.pid).not.toBe(broker.pid)
    expect(processGone(broker.pid!)).toBe(true)
    expect(restarted).toMatchObject({ port: broker.port, controllerPort: broker.controllerPort, clusterId: broker.clusterId, dataDir: broker.dataDir })
    expect(await topicNames(restarted.brokers)).toContain(topic)
    expect(readKafkaBroker(dataDir)?.pid).toBe(restarted.pid)

    // stop without wiping keeps the data for a later start
    const stopped = await stopKafka(restarted)
    expect(stopped.outcome).toBe('stopped')
    expect(processGone(restarted.pid!)).toBe(true)
    expect(existsSync(join(dataDir, 'kraft-data', 'meta.properties'))).toBe(true)
    expect(readKafkaBroker(dataDir)?.pid).toBeNull()

    const wiped = await stopKafka(dataDir, { wipe: true })
    expect(wiped.outcome).toBe('not-running')
    expect(existsSync(dataDir)).toBe(false)
  }, 180_000)

  test('invalid options are refused before anything starts', async () => {
    const untouched = join(dataDir, '..', 'never-created')
    await expect(startKafka({ dataDir: untouched, heapMax: 'lots' })).rejects.toMatchObject({ code: 'DEVTRIP_INVALID_OPTIONS' })
    await expect(startKafka({ dataDir: untouched, port: 70000 })).rejects.toMatchObject({ code: 'DEVTRIP_INVALID_OPTIONS' })
    await expect(startKafka({ dataDir: untouched, extraProperties: { 'Bad Key': 1 } })).rejects.toMatchObject({ code: 'DEVTRIP_INVALID_OPTIONS' })
    expect(existsSync(untouched)).toBe(false)
  })
})
