/**
 * `infra up | down | status` as functions: the local Kafka broker and Redis that development,
 * tests and benchmarks run against, kept under one base directory (see local-dir.ts).
 *
 * A service whose address is given (KAFKA_BROKERS / REDIS_URL) is "external": we only check that
 * it answers and never start, stop or delete anything for it.
 */
import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { DevtripError } from '../../events/errors'
import { kafkaHealth, redisHealth } from './health'
import { type InfraState, type RecordedService, readInfraState, removeInfraFiles, withInfraLock, writeInfraFiles } from './infra-files'
import { isKafkaRunning, readKafkaBroker, startKafka, stopKafka, type KafkaBroker } from './kafka-broker'
import { infraLocalDir, infraPaths, type InfraPaths } from './local-dir'
import { checkStartInfraOptions, checkStopInfraOptions, type ProgressFn, type StartInfraInput, type StopInfraInput } from './options'
import { isPortFree } from './ports'
import { isRedisRunning, readRedisServer, startRedis, stopRedis, type RedisServer } from './redis-server'
import type { StopOutcome } from './processes'

export interface ServiceStatus {
  service: 'kafka' | 'redis'
  /** running/stopped: a local process of ours; external: an address from the environment */
  status: 'running' | 'stopped' | 'external'
  pid: number | null
  /** KAFKA_BROKERS / REDIS_URL value, null when nothing is known */
  address: string | null
  healthy: boolean
  /** why not healthy */
  error?: string
  port?: number
  controllerPort?: number
  dataDir?: string
  logFile?: string
}

export interface InfraInfo {
  localDir: string
  envFile: string
  stateFile: string
  kafkaBrokers: string
  redisUrl: string
  kafka: ServiceStatus
  redis: ServiceStatus
}

/** `up` may wait for a concurrent `up` that is starting a broker, hence minutes */
const LOCK_WAIT_MS = 5 * 60_000

function fromEnvironment (given: string | null | undefined, name: string): string | undefined {
  if (given === null) return undefined
  if (given !== undefined) return given
  const value = process.env[name]
  return value !== undefined && value.trim() !== '' ? value.trim() : undefined
}

function kafkaStatus (broker: KafkaBroker, running: boolean, healthy: boolean, error?: string): ServiceStatus {
  return {
    service: 'kafka', status: running ? 'running' : 'stopped', pid: running ? broker.pid : null, address: broker.brokers,
    healthy, ...(error !== undefined ? { error } : {}),
    port: broker.port, controllerPort: broker.controllerPort, dataDir: broker.dataDir, logFile: broker.logFile
  }
}

function redisStatus (server: RedisServer, running: boolean, healthy: boolean, error?: string): ServiceStatus {
  return {
    service: 'redis', status: running ? 'running' : 'stopped', pid: running ? server.pid : null, address: server.url,
    healthy, ...(error !== undefined ? { error } : {}), port: server.port, dataDir: server.dataDir, logFile: server.logFile
  }
}

async function useExternalKafka (brokers: string, progress: ProgressFn): Promise<ServiceStatus> {
  const health = await kafkaHealth(brokers, 10_000)
  if (!health.healthy) {
    throw new DevtripError('DEVTRIP_INFRA', `KAFKA_BROKERS=${brokers} does not answer (${health.error ?? 'no metadata'})`, {
      canRetry: true,
      details: { hint: 'start that cluster, or unset KAFKA_BROKERS so `infra up` starts a local broker' }
    })
  }
  progress(`kafka: using external ${brokers} (cluster ${health.clusterId ?? '?'})`)
  return { service: 'kafka', status: 'external', pid: null, address: brokers, healthy: true }
}

async function useExternalRedis (url: string, progress: ProgressFn): Promise<ServiceStatus> {
  const health = await redisHealth(url, 5000)
  if (!health.healthy) {
    throw new DevtripError('DEVTRIP_INFRA', `REDIS_URL=${url} does not answer PING (${health.error ?? 'no answer'})`, {
      canRetry: true,
      details: { hint: 'start that Redis, or unset REDIS_URL so `infra up` starts a local redis-server' }
    })
  }
  progress(`redis: using external ${url}`)
  return { service: 'redis', status: 'external', pid: null, address: url, healthy: true }
}

/** Reuses our running broker when it answers; restarts a stopped one (data kept) or starts afresh. */
async function ensureLocalKafka (paths: InfraPaths, readyTimeoutMs: number, progress: ProgressFn, extraProperties?: Record<string, string | number | boolean>): Promise<ServiceStatus> {
  const existing = readKafkaBroker(paths.kafkaDir)
  if (existing !== undefined && isKafkaRunning(existing)) {
    const health = await kafkaHealth(existing.brokers, 10_000)
    if (!health.healthy) {
      throw new DevtripError('DEVTRIP_INFRA', `the local broker (pid ${existing.pid}) on ${existing.brokers} runs but does not answer (${health.error ?? 'no metadata'})`, {
        canRetry: true,
        details: { hint: `read ${existing.logFile}; \`devtrip-streams infra down\` then \`infra up\` starts it afresh` }
      })
    }
    progress(`kafka: already running (pid ${existing.pid}) on ${existing.brokers}`)
    return kafkaStatus(existing, true, true)
  }
  const logFile = join(paths.logsDir, 'kafka.log')
  if (existing !== undefined && await isPortFree(existing.port) && await isPortFree(existing.controllerPort)) {
    // stopped without `down` (a crash, a reboot): bring it back with its topics
    progress(`kafka: restarting the stopped local broker in ${paths.kafkaDir}`)
  } else if (existing !== undefined) {
    progress('kafka: the previous local broker is gone and cannot be restarted; starting a fresh one')
    await stopKafka(paths.kafkaDir, { wipe: true, graceMs: 0 })
  } else {
    progress('kafka: starting a local broker')
  }
  const broker = await startKafka({ dataDir: paths.kafkaDir, logFile, readyTimeoutMs, onProgress: progress, ...(extraProperties === undefined ? {} : { extraProperties }) })
  return kafkaStatus(broker, true, true)
}

async function ensureLocalRedis (paths: InfraPaths, readyTimeoutMs: number, progress: ProgressFn): Promise<ServiceStatus> {
  const existing = readRedisServer(paths.redisDir)
  if (existing !== undefined && isRedisRunning(existing)) {
    const health = await redisHealth(existing.url, 5000)
    if (!health.healthy) {
      throw new DevtripError('DEVTRIP_INFRA', `the local redis-server (pid ${existing.pid}) on ${existing.url} runs but does not answer PING (${health.error ?? '?'})`, {
        canRetry: true,
        details: { hint: `read ${existing.logFile}; \`devtrip-streams infra down\` then \`infra up\` starts it afresh` }
      })
    }
    progress(`redis: already running (pid ${existing.pid}) on ${existing.url}`)
    return redisStatus(existing, true, true)
  }
  // Redis keeps no data, so a stopped one is simply replaced (on its old port when free: stable REDIS_URL)
  const port = existing !== undefined && await isPortFree(existing.port) ? existing.port : undefined
  await stopRedis(paths.redisDir, { wipe: true, graceMs: 0 })
  const server = await startRedis({ dataDir: paths.redisDir, port, logFile: join(paths.logsDir, 'redis.log'), readyTimeoutMs, onProgress: progress })
  return redisStatus(server, true, true)
}

function record (status: ServiceStatus): RecordedService {
  return {
    mode: status.status === 'external' ? 'external' : 'managed',
    address: status.address ?? '',
    pid: status.pid,
    port: status.port ?? null,
    dataDir: status.dataDir ?? null,
    logFile: status.logFile ?? null
  }
}

function info (paths: InfraPaths, kafka: ServiceStatus, redis: ServiceStatus): InfraInfo {
  return {
    localDir: paths.localDir, envFile: paths.envFile, stateFile: paths.stateFile,
    kafkaBrokers: kafka.address ?? '', redisUrl: redis.address ?? '', kafka, redis
  }
}

/**
 * `infra up`: makes sure a broker and a Redis answer — starting local ones unless addresses are
 * given — then writes infra.env and infra-state.json. Idempotent: running, healthy services are reused.
 */
export async function startInfra (input: StartInfraInput = {}): Promise<InfraInfo> {
  const options = checkStartInfraOptions(input)
  const progress: ProgressFn = options.onProgress ?? (() => {})
  const paths = infraPaths(resolve(options.localDir ?? infraLocalDir()))
  mkdirSync(paths.logsDir, { recursive: true })
  return withInfraLock(paths, LOCK_WAIT_MS, async () => {
    const externalKafka = fromEnvironment(options.kafkaBrokers, 'KAFKA_BROKERS')
    const externalRedis = fromEnvironment(options.redisUrl, 'REDIS_URL')
    // Redis first: it is fast, and a missing redis-server should fail before a 15 s broker start
    const redis = externalRedis !== undefined
      ? await useExternalRedis(externalRedis, progress)
      : await ensureLocalRedis(paths, Math.min(options.readyTimeoutMs, 30_000), progress)
    const kafka = externalKafka !== undefined
      ? await useExternalKafka(externalKafka, progress)
      : await ensureLocalKafka(paths, options.readyTimeoutMs, progress, options.kafkaProperties ?? undefined)
    const state: InfraState = {
      version: 1,
      localDir: paths.localDir,
      kafka: { ...record(kafka), controllerPort: kafka.controllerPort ?? null },
      redis: record(redis),
      updatedAt: new Date().toISOString()
    }
    writeInfraFiles(paths, state)
    return info(paths, kafka, redis)
  })
}

export interface StopInfraResult {
  localDir: string
  kafka: StopOutcome
  redis: StopOutcome
}

/**
 * `infra down`: stops our local broker and Redis (SIGTERM, SIGKILL after graceMs), waits until the
 * processes are gone, deletes their data dirs and the env/state files. External services are left alone.
 */
export async function stopInfra (input: StopInfraInput = {}): Promise<StopInfraResult> {
  const options = checkStopInfraOptions(input)
  const progress: ProgressFn = options.onProgress ?? (() => {})
  const paths = infraPaths(resolve(options.localDir ?? infraLocalDir()))
  mkdirSync(paths.localDir, { recursive: true })
  return withInfraLock(paths, LOCK_WAIT_MS, async () => {
    const kafka = (await stopKafka(paths.kafkaDir, { wipe: true, graceMs: options.graceMs })).outcome
    progress(`kafka: ${kafka}`)
    const redis = (await stopRedis(paths.redisDir, { wipe: true, graceMs: options.graceMs })).outcome
    progress(`redis: ${redis}`)
    removeInfraFiles(paths)
    return { localDir: paths.localDir, kafka, redis }
  })
}

interface ServiceView<T> {
  service: 'kafka' | 'redis'
  /** our own process's record in its data dir, if any */
  local: T | undefined
  running: (t: T) => boolean
  describe: (t: T, running: boolean, healthy: boolean, error?: string) => ServiceStatus
  address: (t: T) => string
  probe: (address: string) => Promise<{ healthy: boolean, error?: string }>
  /** the external address `up` recorded (wins: that is what infra.env points at) */
  recordedExternal: string | undefined
  /** KAFKA_BROKERS / REDIS_URL, used only when nothing local or recorded exists */
  environment: string | undefined
}

async function serviceStatus<T> (view: ServiceView<T>): Promise<ServiceStatus> {
  const external = async (address: string): Promise<ServiceStatus> => {
    const health = await view.probe(address)
    return { service: view.service, status: 'external', pid: null, address, healthy: health.healthy, ...(health.error !== undefined ? { error: health.error } : {}) }
  }
  if (view.recordedExternal !== undefined) return external(view.recordedExternal)
  if (view.local !== undefined && view.running(view.local)) {
    const health = await view.probe(view.address(view.local))
    return view.describe(view.local, true, health.healthy, health.error)
  }
  if (view.environment !== undefined) return external(view.environment)
  if (view.local !== undefined) return view.describe(view.local, false, false, 'not running')
  return { service: view.service, status: 'stopped', pid: null, address: null, healthy: false, error: 'not started' }
}

/**
 * `infra status`: each service's state — the external address `up` recorded, else our local process
 * (running or not; probed when running), else KAFKA_BROKERS / REDIS_URL from the environment.
 */
export async function infraStatus (options: { localDir?: string } = {}): Promise<InfraInfo> {
  const paths = infraPaths(resolve(options.localDir ?? infraLocalDir()))
  const state = readInfraState(paths)
  const [kafka, redis] = await Promise.all([
    serviceStatus<KafkaBroker>({
      service: 'kafka',
      local: readKafkaBroker(paths.kafkaDir),
      running: isKafkaRunning,
      describe: kafkaStatus,
      address: (b) => b.brokers,
      probe: (a) => kafkaHealth(a, 5000),
      recordedExternal: state?.kafka.mode === 'external' ? state.kafka.address : undefined,
      environment: fromEnvironment(undefined, 'KAFKA_BROKERS')
    }),
    serviceStatus<RedisServer>({
      service: 'redis',
      local: readRedisServer(paths.redisDir),
      running: isRedisRunning,
      describe: redisStatus,
      address: (r) => r.url,
      probe: (a) => redisHealth(a, 3000),
      recordedExternal: state?.redis.mode === 'external' ? state.redis.address : undefined,
      environment: fromEnvironment(undefined, 'REDIS_URL')
    })
  ])
  return info(paths, kafka, redis)
}
