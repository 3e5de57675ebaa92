/**
 * One real Apache Kafka broker (KRaft, broker+controller in one JVM) in a directory of its own.
 *
 * The directory holds everything needed to start the same broker again — server.properties, the
 * formatted KRaft data and `broker.json` (ports, cluster id, pid) — so a chaos test can stop or
 * kill the broker mid-run and restart it on the same ports with its data intact.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { DevtripError } from '../../events/errors'
import { kafkaHealth } from './health'
import { generateClusterId, renderProperties, serverProperties } from './kafka-config'
import { ensureKafkaJars, javaExecutable, kafkaClasspath, kafkaLog4jConfig } from './kafka-jars'
import {
  checkStartKafkaOptions, checkStopServiceOptions,
  type ProgressFn, type StartKafkaInput, type StopServiceInput
} from './options'
import { canConnect, freePorts, isPortFree, LOOPBACK } from './ports'
import { isProcessAlive, runCommand, sleep, spawnDetached, stopProcessGroup, tailFile, type StopOutcome } from './processes'

/** What a started broker looks like to its callers (also persisted as `<dataDir>/broker.json`). */
export interface KafkaBroker {
  /** JVM pid (leader of its own process group); null once stopped */
  readonly pid: number | null
  readonly port: number
  readonly controllerPort: number
  /** the KAFKA_BROKERS value: "127.0.0.1:<port>" */
  readonly brokers: string
  readonly clusterId: string
  readonly dataDir: string
  readonly logFile: string
  readonly propertiesFile: string
  readonly heapMax: string
  readonly heapMin: string
  readonly extraProperties: Readonly<Record<string, string | number | boolean>>
  readonly startedAt: string
}

const RECORD_FILE = 'broker.json'
/** log.dirs inside the broker directory */
const LOG_DIR = 'kraft-data'

function recordPath (dataDir: string): string {
  return join(dataDir, RECORD_FILE)
}

/** The broker last started in dataDir (from its broker.json), or undefined when there is none. */
export function readKafkaBroker (dataDir: string): KafkaBroker | undefined {
  const path = recordPath(resolve(dataDir))
  if (!existsSync(path)) return undefined
  try {
    return Object.freeze(JSON.parse(readFileSync(path, 'utf8')) as KafkaBroker)
  } catch (error) {
    throw new DevtripError('DEVTRIP_INFRA', `${path} is not readable JSON`, { cause: error, details: { hint: `delete ${dirname(path)} (its broker data is lost) and start again` } })
  }
}

function writeRecord (broker: KafkaBroker): void {
  writeFileSync(recordPath(broker.dataDir), JSON.stringify(broker, null, 2) + '\n')
}

/** Matches the command line of the JVM started for this properties file, and nothing else. */
function processPattern (propertiesFile: string): RegExp {
  return new RegExp(`kafka\\.Kafka ${propertiesFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`)
}

/** True when the broker's JVM (not just any process with its old pid) is alive. */
export function isKafkaRunning (broker: KafkaBroker): boolean {
  return broker.pid !== null && isProcessAlive(broker.pid, processPattern(broker.propertiesFile))
}

function jvmBaseArgs (heapMax: string, heapMin: string): string[] {
  return [
    `-Xmx${heapMax}`, `-Xms${heapMin}`,
    // the GC settings Kafka's own start script uses: short pauses matter more than throughput here
    '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-XX:InitiatingHeapOccupancyPercent=35', '-XX:+ExplicitGCInvokesConcurrent',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${kafkaLog4jConfig()}`,
    '-cp', kafkaClasspath()
  ]
}

async function formatStorage (java: string, propertiesFile: string, clusterId: string, dataDir: string, progress: ProgressFn): Promise<void> {
  progress(`kafka: formatting KRaft storage (cluster id ${clusterId})`)
  const args = [...jvmBaseArgs('256m', '64m'), 'kafka.tools.StorageTool', 'format', '--standalone', '-t', clusterId, '-c', propertiesFile]
  const result = await runCommand(java, args, { cwd: dataDir, timeoutMs: 120_000 })
  if (result.code !== 0) {
    throw new DevtripError('DEVTRIP_INFRA', `formatting Kafka storage in ${dataDir} failed (exit ${result.code ?? result.signal})`, {
      details: { hint: `read the tool output in details.output; delete ${dataDir} and retry`, output: result.output.slice(-4000) }
    })
  }
}

async function waitUntilReady (broker: KafkaBroker, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let lastProblem = 'client port not open yet'
  while (Date.now() < deadline) {
    if (!isKafkaRunning(broker)) {
      throw new DevtripError('DEVTRIP_INFRA', `the Kafka broker (pid ${broker.pid}) exited during start-up`, {
        details: { hint: `read ${broker.logFile}; last lines:\n${tailFile(broker.logFile, 15)}`, logFile: broker.logFile }
      })
    }
    if (await canConnect(LOOPBACK, broker.port, 1000)) {
      const health = await kafkaHealth(broker.brokers, 3000)
      if (health.healthy) return
      lastProblem = health.error ?? 'metadata request failed'
    }
    await sleep(250)
  }
  throw new DevtripError('DEVTRIP_INFRA', `the Kafka broker on ${broker.brokers} was not ready after ${Math.round(timeoutMs / 1000)} s (${lastProblem})`, {
    canRetry: true,
    details: { hint: `read ${broker.logFile}; last lines:\n${tailFile(broker.logFile, 15)}`, logFile: broker.logFile }
  })
}

async function choosePorts (previous: KafkaBroker | undefined, keep: boolean, port?: number, controllerPort?: number): Promise<[number, number]> {
  if (keep && previous !== undefined) {
    // the controller's address is part of the formatted quorum state: a formatted broker keeps its ports
    if ((port !== undefined && port !== previous.port) || (controllerPort !== undefined && controllerPort !== previous.controllerPort)) {
      throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `the broker in ${previous.dataDir} was formatted for ports ${previous.port}/${previous.controllerPort}; it cannot move`, {
        details: { hint: 'omit port/controllerPort to reuse them, or start in a fresh dataDir' }
      })
    }
    return [previous.port, previous.controllerPort]
  }
  if (port !== undefined && controllerPort !== undefined) return [port, controllerPort]
  const [a, b, c] = await freePorts(3)
  const client = port ?? (a === controllerPort ? c! : a!)
  const controller = controllerPort ?? (b === client ? c! : b!)
  return [client, controller]
}

/** A restarted broker's old sockets may take a moment to be released after its process is gone. */
async function waitForFreePort (port: number, waitMs: number): Promise<boolean> {
  const deadline = Date.now() + waitMs
  for (;;) {
    if (await isPortFree(port)) return true
    if (Date.now() >= deadline) return false
    await sleep(200)
  }
}

/**
 * Starts a broker in `dataDir` and waits until it answers a metadata request. A directory that
 * already holds a formatted broker is restarted with its data, ports and settings kept.
 */
export async function startKafka (input: StartKafkaInput): Promise<KafkaBroker> {
  const options = checkStartKafkaOptions(input)
  const progress: ProgressFn = options.onProgress ?? (() => {})
  const dataDir = resolve(options.dataDir)
  mkdirSync(dataDir, { recursive: true })

  const previous = readKafkaBroker(dataDir)
  if (previous !== undefined && isKafkaRunning(previous)) {
    throw new DevtripError('DEVTRIP_INFRA', `a Kafka broker (pid ${previous.pid}) is already running in ${dataDir}`, {
      details: { hint: 'stop it first (stopKafka / `devtrip-streams infra down`)' }
    })
  }
  const logDir = join(dataDir, LOG_DIR)
  // data without its broker.json (ports, cluster id) cannot be restarted faithfully: start it over
  const keep = previous !== undefined && existsSync(join(logDir, 'meta.properties'))
  const [port, controllerPort] = await choosePorts(previous, keep, options.port, options.controllerPort)
  for (const p of [port, controllerPort]) {
    if (!await waitForFreePort(p, keep ? 10_000 : 0)) {
      throw new DevtripError('DEVTRIP_INFRA', `port ${p} on ${LOOPBACK} is already in use; the broker cannot listen on it`, {
        canRetry: true,
        details: { hint: keep ? 'stop whatever holds the port, or delete the broker directory to start fresh on new ports' : 'pick other ports or omit them' }
      })
    }
  }
  const extraProperties = options.extraProperties ?? (keep ? previous.extraProperties : {})
  const propertiesFile = join(dataDir, 'server.properties')
  writeFileSync(propertiesFile, renderProperties(serverProperties({ port, controllerPort, logDir, extraProperties })))

  await ensureKafkaJars({ onProgress: progress })
  const java = javaExecutable()
  const clusterId = keep ? previous.clusterId : generateClusterId()
  if (!keep) {
    rmSync(logDir, { recursive: true, force: true })
    await formatStorage(java, propertiesFile, clusterId, dataDir, progress)
  }

  const logFile = resolve(options.logFile ?? previous?.logFile ?? join(dataDir, 'kafka.log'))
  mkdirSync(dirname(logFile), { recursive: true })
  const args = [...jvmBaseArgs(options.heapMax, options.heapMin), 'kafka.Kafka', propertiesFile]
  const pid = spawnDetached(java, args, { cwd: dataDir, logFile })
  const broker: KafkaBroker = Object.freeze({
    pid, port, controllerPort, brokers: `${LOOPBACK}:${port}`, clusterId, dataDir, logFile, propertiesFile,
    heapMax: options.heapMax, heapMin: options.heapMin, extraProperties, startedAt: new Date().toISOString()
  })
  writeRecord(broker)
  progress(`kafka: started pid ${pid} on ${broker.brokers} (controller ${controllerPort}); log ${logFile}`)
  const began = Date.now()
  try {
    await waitUntilReady(broker, options.readyTimeoutMs)
  } catch (error) {
    await stopProcessGroup(pid, { expect: processPattern(propertiesFile), graceMs: 0, kill: true }).catch(() => {})
    writeRecord({ ...broker, pid: null })
    throw error
  }
  progress(`kafka: ready after ${((Date.now() - began) / 1000).toFixed(1)} s`)
  return broker
}

export interface StopKafkaResult {
  outcome: StopOutcome
  /** the broker as stored afterwards (pid null), or undefined when the directory was wiped / unknown */
  broker?: KafkaBroker
}

/**
 * Stops the broker (given as the object startKafka returned, or its dataDir): SIGTERM to its process
 * group, SIGKILL after graceMs (or at once with `kill: true`). Its data stays unless `wipe: true`.
 */
export async function stopKafka (target: KafkaBroker | string, input: StopServiceInput = {}): Promise<StopKafkaResult> {
  const options = checkStopServiceOptions(input)
  const dataDir = resolve(typeof target === 'string' ? target : target.dataDir)
  const current = readKafkaBroker(dataDir) ?? (typeof target === 'string' ? undefined : target)
  let outcome: StopOutcome = 'not-running'
  if (current !== undefined && current.pid !== null) {
    outcome = await stopProcessGroup(current.pid, { expect: processPattern(current.propertiesFile), graceMs: options.graceMs, kill: options.kill })
  }
  if (options.wipe) {
    rmSync(dataDir, { recursive: true, force: true })
    return { outcome }
  }
  if (current === undefined) return { outcome }
  const stopped: KafkaBroker = Object.freeze({ ...current, pid: null })
  if (existsSync(dataDir)) writeRecord(stopped)
  return { outcome, broker: stopped }
}

export interface RestartKafkaOptions {
  /** crash it (SIGKILL) instead of a clean shutdown */
  kill?: boolean
  graceMs?: number
  readyTimeoutMs?: number
  onProgress?: ProgressFn
}

/** Stops the broker keeping its data, then starts it again in the same directory on the same ports. */
export async function restartKafka (target: KafkaBroker | string, options: RestartKafkaOptions = {}): Promise<KafkaBroker> {
  const { broker } = await stopKafka(target, { kill: options.kill, graceMs: options.graceMs })
  if (broker === undefined) {
    throw new DevtripError('DEVTRIP_INFRA', `no broker was ever started in ${typeof target === 'string' ? target : target.dataDir}`, {
      details: { hint: 'use startKafka first' }
    })
  }
  return startKafka({
    dataDir: broker.dataDir,
    logFile: broker.logFile,
    heapMax: broker.heapMax,
    heapMin: broker.heapMin,
    readyTimeoutMs: options.readyTimeoutMs,
    onProgress: options.onProgress
  })
}
