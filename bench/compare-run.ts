/**
 * One system's runs in `bench all`, the same for every system (this engine, Kafka Streams, Quix Streams), each on
 * fresh topics, a fresh application id and a fresh state directory:
 *
 * runSystemOnce — throughput, latency, exactly-once check:
 *   1. pre-load N events into the input topic (not timed);
 *   2. start the system; an OutputWatcher reads the output read_committed from the beginning. The clock starts at
 *      the first poll that returns output (the first committed transaction became visible; the records of that
 *      poll are not counted) and stops at the poll that brings the N-th output:
 *      eventsPerSec = (N − records of the first poll) / (last − first). Start-up (process, JVM or interpreter,
 *      group join, empty restore) is reported apart as firstOutputMs;
 *   3. latency at a fixed rate of HALF THIS SYSTEM'S OWN measured throughput (bench/latency.ts: intended send time
 *      in a header, no coordinated omission);
 *   4. clean stop, then the exactly-once check of the whole output (bench/topic-io.ts).
 *
 * runRestartOnce — restart after SIGKILL with many keys in the store:
 *   1. pre-load K events with K distinct keys, then E = max(K/5, 50 000) more on the first keys again;
 *   2. start; once K + E/2 outputs are visible (every key is in the store and the run is mid-way through the
 *      rest), SIGKILL the process; read the output up to its last stable offsets;
 *   3. wait until the group has no member left (the killed one is removed when its session expires — a wait that
 *      depends only on --session-timeout and would otherwise swamp the difference between the systems; reported
 *      apart as sessionWaitSeconds), then restart on the same state directory; restartSeconds = restart → the
 *      first new output visible (process start, group join, restore, first commit);
 *      restoredRecords = what the system reports it restored (summed once it has caught up with the input, so
 *      restores that finish after its first output are counted too);
 *   4. wait for it to catch up, stop cleanly, exactly-once check (every key counts 1..n exactly once, across the kill).
 *
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { createKafkaClients, type KafkaAdapterName, type KafkaAdmin, type KafkaClientFactory } from '../streams/kafka'
import { COUNT_STORE } from './engine-workload'
import { clockMs, runLatencyPhase, type LatencyPhaseResult } from './latency'
import { summarizeCpuProfile, type CpuProfile, type ProfileSummary } from './profile-summary'
import { round } from './stats'
import type { BenchSystem, SystemProcess, SystemStartOptions } from './system-process'
import { OutputWatcher, preload, verifyOutput } from './topic-io'

export interface CompareRunOptions {
  readonly brokers: readonly string[]
  /** the Kafka client adapter of our engine and of the benchmark's own clients (the peers bring their own) */
  readonly client: KafkaAdapterName
  readonly system: BenchSystem
  readonly events: number
  readonly keys: number
  readonly recordSize: number
  readonly partitions: number
  readonly commitIntervalMs: number
  readonly sessionTimeoutMs: number
  readonly durationSec: number
  /** this engine only: profile the throughput run's process into this folder */
  readonly profileDir: string | null
  readonly label: string
  readonly onProgress: (line: string) => void
}

export interface SystemRunResult {
  readonly applicationId: string
  readonly eventsPerSec: number
  readonly timedEvents: number
  /** process start → first output visible */
  readonly firstOutputMs: number
  /** first output visible → N-th output visible */
  readonly processingMs: number
  readonly latency: LatencyPhaseResult
  readonly outputRecordsVerified: number
  readonly peakRssMb: number
  readonly profile: { readonly file: string, readonly summary: ProfileSummary } | null
}

export interface RestartRunResult {
  readonly applicationId: string
  readonly keys: number
  readonly inputs: number
  /** committed outputs visible when the process was killed */
  readonly outputsAtKill: number
  readonly restoredRecords: number
  readonly restoreReports: number
  /** kill → the group has no member left (the killed member's session expired) */
  readonly sessionWaitSeconds: number
  /** restart (after the session wait) → first new output visible */
  readonly restartSeconds: number
  /** restart → every input's output visible */
  readonly catchUpSeconds: number
  readonly outputRecordsVerified: number
  /** the larger VmHWM of the two processes (first run, restarted run) */
  readonly peakRssMb: number
}

interface RunTopics {
  readonly id: string
  readonly input: string
  readonly output: string
  readonly applicationId: string
  readonly stateDir: string
}

function freshTopics (system: string, kind: string): RunTopics {
  const id = randomBytes(4).toString('hex')
  const short = system === 'devtrip-streams' ? 'ours' : system === 'kafka-streams' ? 'ks' : 'quix'
  return {
    id,
    input: `bench-${kind}-${short}-in-${id}`,
    output: `bench-${kind}-${short}-out-${id}`,
    applicationId: `bench-${kind}-${short}-${id}`,
    stateDir: mkdtempSync(join(tmpdir(), `devtrip-bench-${short}-`))
  }
}

function startOptions (o: CompareRunOptions, t: RunTopics): SystemStartOptions {
  return {
    brokers: o.brokers,
    applicationId: t.applicationId,
    input: t.input,
    output: t.output,
    stateDir: t.stateDir,
    store: COUNT_STORE,
    commitIntervalMs: o.commitIntervalMs,
    sessionTimeoutMs: o.sessionTimeoutMs,
    client: o.client
  }
}

/** Deletes every topic of the run (input, output and whatever internal topics the system made, all carry the id). */
async function cleanUp (admin: KafkaAdmin, t: RunTopics): Promise<void> {
  const mine = (await admin.listTopics().catch(() => [] as string[])).filter((name) => name.includes(t.id))
  await admin.deleteTopics(mine).catch(() => undefined)
  rmSync(t.stateDir, { recursive: true, force: true })
}

/**
 * Polls the watcher until `done()`, failing when the process dies or when no output arrived for `stallMs`.
 * `what` names the wait in errors.
 */
async function watchUntil (watcher: OutputWatcher, proc: SystemProcess, what: string, done: () => boolean, stallMs: number, onTick?: () => void): Promise<void> {
  let lastProgress = clockMs()
  while (!done()) {
    proc.assertAlive()
    if ((await watcher.poll(20)) > 0) lastProgress = clockMs()
    else if (clockMs() - lastProgress > stallMs) throw new Error(`no new output for ${stallMs / 1000} s while waiting for ${what} (${watcher.seen} outputs seen)`)
    onTick?.()
  }
}

function progressTicker (say: (line: string) => void, watcher: OutputWatcher, total: number): () => void {
  let next = clockMs() + 5000
  return () => {
    if (clockMs() < next) return
    next = clockMs() + 5000
    say(`${watcher.seen}/${total} outputs visible`)
  }
}

async function createRunTopics (admin: KafkaAdmin, t: RunTopics, partitions: number): Promise<void> {
  await admin.createTopics([t.input, t.output].map((name) => ({ name, partitions, replicationFactor: 1 })))
}

export async function runSystemOnce (o: CompareRunOptions): Promise<SystemRunResult> {
  const say = (line: string): void => { o.onProgress(`${o.label}: ${line}`) }
  const t = freshTopics(o.system.name, 'cmp')
  const kafka: KafkaClientFactory = createKafkaClients({ brokers: o.brokers, clientId: 'devtrip-bench-all' }, o.client)
  const admin = kafka.createAdmin()
  let proc: SystemProcess | undefined
  let watcher: OutputWatcher | undefined
  try {
    await createRunTopics(admin, t, o.partitions)
    say(`pre-loading ${o.events} events (${o.keys} keys) into ${t.input}`)
    await preload(kafka, t.input, { events: o.events, keys: o.keys, recordSize: o.recordSize })

    watcher = new OutputWatcher(kafka, t.output, o.partitions, clockMs)
    const profileName = `engine-${t.applicationId}.cpuprofile`
    const profile = o.profileDir !== null && o.system.name === 'devtrip-streams' ? { dir: o.profileDir, name: profileName } : null
    const startedAt = clockMs()
    proc = await o.system.start({ ...startOptions(o, t), cpuProfile: profile })
    const w = watcher
    await watchUntil(w, proc, `all ${o.events} outputs`, () => w.seen >= o.events, 120_000, progressTicker(say, w, o.events))
    await w.close()
    watcher = undefined
    const firstAt = w.firstAtMs as number
    const timedEvents = o.events - w.firstCount
    if (timedEvents < o.events / 2) {
      throw new Error(`the first visible output already held ${w.firstCount} of ${o.events} records: too few events to time; use a larger --events`)
    }
    const processingMs = Math.max(1, (w.lastAtMs as number) - firstAt)
    const eventsPerSec = timedEvents / (processingMs / 1000)
    say(`${timedEvents} events in ${Math.round(processingMs)} ms after the first visible output → ${Math.round(eventsPerSec)} events/s`)

    const rate = Math.max(1, Math.round(eventsPerSec / 2))
    say(`latency phase: ${rate} events/s (half of this run's throughput) for ${o.durationSec} s`)
    const latency = await runLatencyPhase({
      kafka, input: t.input, output: t.output, outputPartitions: o.partitions, ratePerSec: rate, durationSec: o.durationSec,
      keys: o.keys, recordSize: o.recordSize, firstIndex: o.events,
      // a system behind its schedule shows it in its latency; only one that is hopelessly behind (or stopped) fails the run
      drainTimeoutMs: Math.max(30_000, o.durationSec * 3000), onProgress: say
    })
    say(`latency p50 ${latency.latency.p50Ms.toFixed(1)} ms, p99 ${latency.latency.p99Ms.toFixed(1)} ms`)
    await proc.stop()
    const peakRssMb = proc.peakRssMb()
    proc = undefined
    const totalInputs = o.events + latency.records
    say(`exactly-once check of ${totalInputs} outputs; peak RSS ${Math.round(peakRssMb)} MiB`)
    const verified = await verifyOutput(kafka, admin, t.output, o.partitions, totalInputs, o.keys)
    let profileResult: SystemRunResult['profile'] = null
    if (profile !== null) {
      const file = join(profile.dir, profile.name)
      profileResult = { file, summary: summarizeCpuProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile) }
      say(`CPU profile: ${file}`)
    }
    return {
      applicationId: t.applicationId,
      eventsPerSec: round(eventsPerSec, 0),
      timedEvents,
      firstOutputMs: Math.round(firstAt - startedAt),
      processingMs: Math.round(processingMs),
      latency,
      outputRecordsVerified: verified,
      peakRssMb: round(peakRssMb, 1),
      profile: profileResult
    }
  } finally {
    await proc?.kill().catch(() => undefined)
    await watcher?.close()
    await cleanUp(admin, t)
    await admin.close().catch(() => undefined)
  }
}

/** Polls the group until it has no member (state Empty or Dead); returns the clock time it saw that. */
async function waitForEmptyGroup (admin: KafkaAdmin, groupId: string, timeoutMs: number): Promise<number> {
  const deadline = clockMs() + timeoutMs
  for (;;) {
    const [group] = await admin.describeGroups([groupId])
    if (group === undefined || group.members.length === 0) return clockMs()
    if (clockMs() > deadline) throw new Error(`group ${groupId} still has ${group.members.length} member(s) ${timeoutMs / 1000} s after the kill`)
    await sleep(100)
  }
}

export interface RestartRunOptions extends Omit<CompareRunOptions, 'events' | 'keys' | 'durationSec' | 'profileDir'> {
  /** distinct keys in the store before the kill */
  readonly restartKeys: number
}

/**
 * The events of the restart test: K distinct keys, then K/5 more (at least 50 000, so that even a fast system with a
 * small K is still mid-run when the kill comes) on the first keys again.
 */
export function restartInputs (restartKeys: number): { total: number, killAt: number } {
  const extra = Math.max(50_000, Math.round(restartKeys / 5))
  return { total: restartKeys + extra, killAt: restartKeys + Math.max(1, Math.round(extra / 2)) }
}

export async function runRestartOnce (o: RestartRunOptions): Promise<RestartRunResult> {
  const say = (line: string): void => { o.onProgress(`${o.label}: ${line}`) }
  const t = freshTopics(o.system.name, 'rst')
  const kafka = createKafkaClients({ brokers: o.brokers, clientId: 'devtrip-bench-all' }, o.client)
  const admin = kafka.createAdmin()
  const { total, killAt } = restartInputs(o.restartKeys)
  let proc: SystemProcess | undefined
  const watcher = new OutputWatcher(kafka, t.output, o.partitions, clockMs)
  const base = { ...o, events: total, keys: o.restartKeys, durationSec: 0, profileDir: null }
  try {
    await createRunTopics(admin, t, o.partitions)
    say(`restart test: pre-loading ${total} events over ${o.restartKeys} distinct keys into ${t.input}`)
    await preload(kafka, t.input, { events: total, keys: o.restartKeys, recordSize: o.recordSize, onProgress: (n) => { say(`pre-loaded ${n}/${total}`) } })
    proc = await o.system.start(startOptions(base, t))
    const first = proc
    await watchUntil(watcher, first, `${killAt} outputs (the kill point)`, () => watcher.seen >= killAt, 180_000, progressTicker(say, watcher, total))
    await first.kill()
    const killedAt = clockMs()
    const firstPeak = first.peakRssMb()
    proc = undefined
    say(`SIGKILL with ${watcher.seen}/${total} outputs seen; waiting for the group to drop the killed member`)
    const sessionWaitSeconds = (await waitForEmptyGroup(admin, t.applicationId, o.sessionTimeoutMs + 60_000) - killedAt) / 1000
    // everything committed before the kill is read now, so that any output seen after the restart is new. Read only
    // after the session wait: a commit whose EndTxn the killed process had already sent completes on the
    // coordinator a moment after the kill, and its outputs must not pass for the restarted system's
    const stable = await admin.listOffsets(watcher.partitions, 'latest', 'read_committed')
    await watcher.drainTo(stable, 60_000)
    const outputsAtKill = watcher.seen
    if (outputsAtKill >= total) throw new Error(`the system finished all ${total} inputs before it could be killed; use more --restart-keys`)
    say(`group empty ${sessionWaitSeconds.toFixed(1)} s after the kill, ${outputsAtKill}/${total} outputs committed; restarting on the same state directory`)

    const restartedAt = clockMs()
    proc = await o.system.start(startOptions(base, t))
    const second = proc
    await watchUntil(watcher, second, 'the first output after the restart', () => watcher.seen > outputsAtKill, 300_000)
    const restartSeconds = (clockMs() - restartedAt) / 1000
    say(`first new output ${restartSeconds.toFixed(2)} s after the restart; catching up`)
    await watchUntil(watcher, second, `all ${total} outputs after the restart`, () => watcher.seen >= total, 180_000, progressTicker(say, watcher, total))
    const catchUpSeconds = (clockMs() - restartedAt) / 1000
    const report = second.report()
    await second.stop()
    const peakRssMb = Math.max(firstPeak, second.peakRssMb())
    proc = undefined
    say(`restored ${report.restoredRecords} changelog records (${report.restoreReports} store partitions); exactly-once check`)
    const verified = await verifyOutput(kafka, admin, t.output, o.partitions, total, o.restartKeys)
    return {
      applicationId: t.applicationId,
      keys: o.restartKeys,
      inputs: total,
      outputsAtKill,
      restoredRecords: report.restoredRecords,
      restoreReports: report.restoreReports,
      sessionWaitSeconds: round(sessionWaitSeconds, 2),
      restartSeconds: round(restartSeconds, 2),
      catchUpSeconds: round(catchUpSeconds, 2),
      outputRecordsVerified: verified,
      peakRssMb: round(peakRssMb, 1)
    }
  } finally {
    await proc?.kill().catch(() => undefined)
    await watcher.close()
    await cleanUp(admin, t)
    await admin.close().catch(() => undefined)
  }
}
