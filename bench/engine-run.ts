/**
 * One engine run of the benchmark, on fresh topics and a fresh application id:
 *
 *   1. pre-load N events into the input topic (not timed);
 *   2. throughput: start the count-by-key StreamsApp (exactly-once) in a child process. The clock starts at the
 *      app's FIRST committed transaction (its first outputs become visible) and the records that transaction
 *      committed are not counted; it stops when the transaction holding the last input offset is committed AND
 *      visible: the app reported the commit of input offset N, and every output partition's last stable offset equals
 *      its high watermark (no transaction open, so a read_committed reader sees all N outputs).
 *      eventsPerSec = (N − records of the first commit) / (visible − first commit).
 *      Why not from RUNNING: the runtime can process (and commit) a whole first batch of records in the same loop
 *      turn that makes it RUNNING, so a clock started at RUNNING would credit the app with work done before it;
 *      from the first commit, all start-up (process, clients, group join with the broker's initial rebalance delay,
 *      task creation, the empty restore) is out and nothing is credited twice;
 *   3. latency: a fixed input rate for a fixed time against the same, caught-up app (bench/latency.ts);
 *   4. the app is closed, then the exactly-once check: the output read back read_committed holds exactly one record
 *      per input record, and every key's counts run 1..n with n its number of inputs;
 *   5. topics (input, output, changelog) and the state directory are deleted.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { createKafkaClients, type KafkaAdapterName } from '../streams/kafka'
import { COUNT_STORE, type FromWorker } from './engine-workload'
import { runLatencyPhase, type LatencyPhaseResult } from './latency'
import { summarizeCpuProfile, type CpuProfile, type ProfileSummary } from './profile-summary'
import { noOpenTransaction, partitionsOf, preload, verifyOutput } from './topic-io'
import { WorkerHandle } from './worker-handle'

export interface EngineRunOptions {
  readonly brokers: readonly string[]
  /** the Kafka client adapter of the engine under test and of the bench's own clients */
  readonly client: KafkaAdapterName
  readonly events: number
  readonly keys: number
  readonly recordSize: number
  readonly partitions: number
  readonly commitIntervalMs: number
  readonly durationSec: number
  /** the latency phase's input rate, given the throughput this run just measured */
  readonly chooseRate: (measuredEventsPerSec: number) => number
  /** write a V8 CPU profile of the engine process into this folder */
  readonly profileDir: string | null
  readonly label: string
  readonly onProgress: (line: string) => void
}

export interface EngineRunResult {
  readonly applicationId: string
  /** timedEvents / (processingMs / 1000) */
  readonly eventsPerSec: number
  readonly events: number
  /** N minus the records of the first commit (they were processed before the clock started) */
  readonly timedEvents: number
  /** fork → RUNNING: process start, clients, group join, (empty) restore */
  readonly startupMs: number
  /** fork → the app's first committed transaction */
  readonly firstCommitMs: number
  /** first commit → last commit visible to read_committed readers */
  readonly processingMs: number
  /** first commit → the app's own commit of the last input offset returned (markers may still be in flight) */
  readonly committedMs: number
  readonly commits: number
  readonly latency: LatencyPhaseResult
  readonly outputRecordsVerified: number
  readonly profile: { readonly file: string, readonly summary: ProfileSummary } | null
}

type StateMessage = Extract<FromWorker, { type: 'state' }>
type CommitMessage = Extract<FromWorker, { type: 'commit' }>

export async function runEngineOnce (options: EngineRunOptions): Promise<EngineRunResult> {
  const say = (line: string): void => { options.onProgress(`${options.label}: ${line}`) }
  const id = randomBytes(4).toString('hex')
  const input = `bench-engine-in-${id}`
  const output = `bench-engine-out-${id}`
  const applicationId = `bench-engine-${id}`
  const changelog = `${applicationId}-${COUNT_STORE}-changelog`
  const kafka = createKafkaClients({ brokers: options.brokers, clientId: 'devtrip-bench-engine' }, options.client)
  const admin = kafka.createAdmin()
  const stateDir = mkdtempSync(join(tmpdir(), 'devtrip-bench-engine-'))
  let worker: WorkerHandle | undefined
  try {
    await admin.createTopics([input, output].map((name) => ({ name, partitions: options.partitions, replicationFactor: 1 })))
    say(`pre-loading ${options.events} events of ${options.recordSize} bytes (${options.keys} keys) into ${input}`)
    await preload(kafka, input, { events: options.events, keys: options.keys, recordSize: options.recordSize })

    const profileName = `engine-${applicationId}.cpuprofile`
    const execArgv = options.profileDir === null ? [] : ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`, `--cpu-prof-name=${profileName}`]
    let lastCommitReport = 0
    let throughputPhase = true
    const forkedAt = Date.now()
    worker = new WorkerHandle({
      execArgv,
      onMessage: (m) => {
        if (throughputPhase && m.type === 'commit' && m.atMs - lastCommitReport >= 5000) {
          lastCommitReport = m.atMs
          say(`committed ${m.committedInputRecords}/${options.events} input records`)
        }
      }
    })
    const w = worker
    await w.waitFor('start-up', (m): m is StateMessage => m.type === 'state' && m.state === 'FORKED', 60_000)
    w.send({ type: 'start', brokers: [...options.brokers], client: options.client, applicationId, input, output, stateDir, commitIntervalMs: options.commitIntervalMs })
    const timeoutMs = 120_000 + options.events * 2
    const first = await w.waitFor('the first commit', (m): m is CommitMessage => m.type === 'commit' && m.committedInputRecords > 0, timeoutMs)
    const running = await w.waitFor('RUNNING', (m): m is StateMessage => m.type === 'state' && m.state === 'RUNNING', timeoutMs)
    say(`app RUNNING ${running.atMs - forkedAt} ms after the fork, first commit (${first.committedInputRecords} records) after ${first.atMs - forkedAt} ms`)
    const committed = await w.waitFor(`the commit of all ${options.events} inputs`,
      (m): m is CommitMessage => m.type === 'commit' && m.committedInputRecords >= options.events, timeoutMs)
    const outTps = partitionsOf(output, options.partitions)
    while (!(await noOpenTransaction(admin, outTps))) { w.assertAlive(); await sleep(2) }
    const visibleAt = Date.now()
    throughputPhase = false
    const timedEvents = options.events - first.committedInputRecords
    if (timedEvents < options.events / 2) {
      throw new Error(`the app's first commit already covered ${first.committedInputRecords} of ${options.events} events: ` +
        'too few events to time; use a larger --events')
    }
    const processingMs = Math.max(1, visibleAt - first.atMs)
    const eventsPerSec = timedEvents / (processingMs / 1000)
    say(`${timedEvents} events in ${processingMs} ms after the first commit → ${Math.round(eventsPerSec)} events/s`)

    const rate = options.chooseRate(eventsPerSec)
    say(`latency phase: ${rate} events/s for ${options.durationSec} s`)
    const latency = await runLatencyPhase({
      kafka, input, output, outputPartitions: options.partitions, ratePerSec: rate, durationSec: options.durationSec, keys: options.keys,
      recordSize: options.recordSize, firstIndex: options.events, drainTimeoutMs: 30_000, onProgress: say
    })
    say(`latency p50 ${latency.latency.p50Ms.toFixed(1)} ms, p99 ${latency.latency.p99Ms.toFixed(1)} ms, max ${latency.latency.maxMs.toFixed(1)} ms`)
    const closed = await w.stop()
    worker = undefined
    const totalInputs = options.events + latency.records
    say(`checking the output read_committed (${totalInputs} records expected)`)
    const verified = await verifyOutput(kafka, admin, output, options.partitions, totalInputs, options.keys)

    let profile: EngineRunResult['profile'] = null
    if (options.profileDir !== null) {
      const file = join(options.profileDir, profileName)
      profile = { file, summary: summarizeCpuProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile) }
      say(`CPU profile of the engine process: ${file}`)
    }
    return {
      applicationId,
      eventsPerSec,
      events: options.events,
      timedEvents,
      startupMs: running.atMs - forkedAt,
      firstCommitMs: first.atMs - forkedAt,
      processingMs,
      committedMs: committed.atMs - first.atMs,
      commits: closed.commits,
      latency,
      outputRecordsVerified: verified,
      profile
    }
  } finally {
    worker?.kill()
    await admin.deleteTopics([input, output, changelog]).catch(() => undefined)
    await admin.close().catch(() => undefined)
    rmSync(stateDir, { recursive: true, force: true })
  }
}
