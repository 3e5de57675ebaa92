/**
 * The chaos proof, modelled on Kafka's own streams exactly-once system test:
 *
 *   1. a broker of its own in a temp directory (small heap; aborts timed-out transactions every second), the DevTrip
 *      topics (applyTopicCatalog, `partitions` each);
 *   2. K `run all` processes (the three topologies each, exactly-once, a commit interval long enough that kills catch
 *      open transactions);
 *   3. the seeded workload produced in the background at a limited rate, while a seeded schedule SIGKILLs a random
 *      instance M times and restarts it, and (optionally) stops and restarts the broker once, keeping its data;
 *   4. when everything was produced and every application's group has consumed every source partition, the
 *      instances are stopped and the verifier reads everything back read_committed and compares it with its model.
 *
 * Everything it started (processes, broker, temp directory) is removed on the way out, also on SIGINT/SIGTERM.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DOMAIN_TOPICS, TOPIC_CATALOG } from '../../events'
import { createKafkaClients, type KafkaAdapterName, type KafkaAdmin, type KafkaClientFactory } from '../../streams/kafka'
import { applyTopicCatalog } from '../commands/topics'
import { CliError } from '../output'
import { restartKafka, startKafka, stopKafka, type KafkaBroker } from '../infra'
import { CHAOS_POLICIES } from './chaos-policies'
import { WorkloadFeeder } from './feeder'
import { Fleet } from './fleet'
import { generateWorkload, type Workload } from './generator'
import { Random } from './random'
import { partitionsOf, unconsumed } from './topic-reader'
import { APPLICATIONS } from './verifier'
import { verifyOnKafka, type KafkaVerification } from './verify-kafka'
import { buildReport, type ChaosReport } from './report'

export interface ChaosOptions {
  readonly events: number
  readonly users: number
  readonly instances: number
  readonly kills: number
  readonly brokerRestart: boolean
  readonly seed: number
  /** records per second the feeder produces */
  readonly rate: number
  readonly partitions: number
  readonly commitIntervalMs: number
  readonly sessionTimeoutMs: number
  readonly maxTaskIdleMs: number
  /** the instances' producerBatchRecords: small, so that an open transaction already has records on the broker when a kill lands */
  readonly producerBatchRecords: number
  /** the Kafka client adapter of the instances and of the harness's own clients */
  readonly client: KafkaAdapterName
  /** how long to wait for the groups to consume everything after the last record was produced */
  readonly drainTimeoutMs: number
  /** keep the temp directory (broker data, state dirs, instance logs) for a post-mortem */
  readonly keep: boolean
  readonly onProgress: (line: string) => void
}

interface ScheduledFault {
  /** when the feeder has produced this share of the workload (0–1) */
  readonly atShare: number
  readonly kind: 'kill' | 'broker-restart'
  readonly instance: number
  /** wait before the killed instance starts again */
  readonly restartDelayMs: number
}

/**
 * The seeded schedule, in terms of production progress (not wall-clock time, which depends on the machine): kills
 * spread over the middle 80 % of the workload, each at a random point of its own slot; the broker restart between
 * 40 % and 60 %.
 */
export function faultSchedule (options: Pick<ChaosOptions, 'kills' | 'instances' | 'brokerRestart' | 'seed'>): ScheduledFault[] {
  const random = new Random(options.seed ^ 0x5eed)
  const faults: ScheduledFault[] = []
  const slot = 0.8 / Math.max(1, options.kills)
  for (let k = 0; k < options.kills; k++) {
    faults.push({ atShare: 0.1 + slot * k + random.next() * slot * 0.8, kind: 'kill', instance: random.int(1, options.instances), restartDelayMs: random.int(0, 2000) })
  }
  if (options.brokerRestart) faults.push({ atShare: 0.4 + random.next() * 0.2, kind: 'broker-restart', instance: 0, restartDelayMs: 0 })
  return faults.sort((a, b) => a.atShare - b.atShare)
}

/**
 * The catalog's topics, but kept forever: the workload's timestamps are historical (2024), and the catalog's
 * time-based retention (7 or 30 days) would let the broker delete the records within a minute of writing them.
 * applyTopicCatalog then finds them existing and checks partitions and cleanup policies as usual.
 */
async function createTopicsWithoutRetention (admin: KafkaAdmin, partitions: number): Promise<void> {
  await admin.createTopics(TOPIC_CATALOG.map((spec) => ({
    name: spec.name,
    partitions,
    replicationFactor: 1,
    configs: { ...spec.configs, 'cleanup.policy': spec.cleanupPolicy, 'retention.ms': '-1' }
  })))
  // a created topic shows in the metadata a moment later; applyTopicCatalog describes them right away
  const deadline = Date.now() + 30_000
  for (;;) {
    const listed = new Set(await admin.listTopics())
    if (TOPIC_CATALOG.every((spec) => listed.has(spec.name))) return
    if (Date.now() > deadline) throw new Error('the chaos topics were created but do not show in the broker\'s metadata after 30 s')
    await sleep(200)
  }
}

async function sleep (ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}

/** Records each application still has to consume (committed offset below the end), per application. */
async function lagByApplication (admin: KafkaAdmin): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  for (const [app, topics] of Object.entries(APPLICATIONS)) {
    const tps = await partitionsOf(admin, topics)
    const ends = await admin.listOffsets(tps, 'latest', 'read_committed')
    const committed = new Map((await admin.listGroupOffsets(app)).map((o) => [`${o.topic}:${o.partition}`, o.offset]))
    out[app] = ends.reduce((n, e) => n + Math.max(0, Number(e.offset - (committed.get(`${e.topic}:${e.partition}`) ?? 0n))), 0)
  }
  return out
}

/** True when every application consumed every record of every source partition, twice in a row 2 s apart. */
async function drained (kafka: KafkaClientFactory, admin: KafkaAdmin): Promise<boolean> {
  for (let round = 0; round < 2; round++) {
    for (const [app, topics] of Object.entries(APPLICATIONS)) {
      if ((await unconsumed(kafka, admin, app, await partitionsOf(admin, topics))).length > 0) return false
    }
    if (round === 0) await sleep(2000)
  }
  return true
}

export async function runChaos (options: ChaosOptions): Promise<ChaosReport> {
  const say = options.onProgress
  const began = Date.now()
  const dir = mkdtempSync(join(tmpdir(), 'devtrip-chaos-'))
  let broker: KafkaBroker | undefined
  let fleet: Fleet | undefined
  let feeder: WorkloadFeeder | undefined
  let admin: KafkaAdmin | undefined
  let cleanedUp = false
  const cleanup = async (): Promise<void> => {
    if (cleanedUp) return
    cleanedUp = true
    feeder?.stop()
    await fleet?.killAll().catch(() => undefined)
    await admin?.close().catch(() => undefined)
    if (broker !== undefined) await stopKafka(broker, { kill: true }).catch(() => undefined)
    if (!options.keep) rmSync(dir, { recursive: true, force: true })
    else say(`kept ${dir} (broker data, state directories, instance logs)`)
  }
  const onSignal = (signal: NodeJS.Signals): void => {
    say(`${signal}: stopping the chaos run and cleaning up`)
    void cleanup().finally(() => process.exit(130))
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)

  try {
    say(`generating ${options.events} records for ${options.users} users (seed ${options.seed})`)
    const workload: Workload = generateWorkload({ events: options.events, users: options.users, seed: options.seed })

    say(`starting a broker in ${dir}`)
    broker = await startKafka({
      dataDir: join(dir, 'kafka'),
      heapMax: '768m',
      heapMin: '256m',
      extraProperties: {
        'transaction.abort.timed.out.transaction.cleanup.interval.ms': 1000,
        'group.initial.rebalance.delay.ms': 0,
        // no compaction: the verifier checks every row ever written to the compacted tables (user-stats,
        // ticket-balances), and the cleaner would legitimately remove superseded ones during the run
        'log.cleaner.enable': false
      },
      onProgress: (line) => { say(line) }
    })
    const kafka = createKafkaClients({ brokers: [broker.brokers], clientId: 'devtrip-chaos', operationTimeoutMs: 120_000 }, options.client)
    admin = kafka.createAdmin()
    await createTopicsWithoutRetention(admin, options.partitions)
    const rows = await applyTopicCatalog(admin, { partitions: options.partitions })
    const wrong = rows.filter((r) => r.status === 'mismatched')
    if (wrong.length > 0) throw new Error(`chaos topics do not match the catalog: ${wrong.flatMap((r) => r.problems).join('; ')}`)
    say(`created ${rows.length} topics with ${options.partitions} partitions each`)

    const policiesFile = join(dir, 'policies.json')
    writeFileSync(policiesFile, JSON.stringify(CHAOS_POLICIES, null, 2))
    fleet = new Fleet({
      instances: options.instances, dir, brokers: broker.brokers, policiesFile,
      commitIntervalMs: options.commitIntervalMs, sessionTimeoutMs: options.sessionTimeoutMs, maxTaskIdleMs: options.maxTaskIdleMs,
      producerBatchRecords: options.producerBatchRecords, client: options.client, onLine: say
    })
    fleet.startAll()
    const runningBy = Date.now() + 120_000
    while (!fleet.allRunning) {
      if (Date.now() > runningBy) throw new CliError(`the ${options.instances} instances did not all report RUNNING within 120 s`, 'rerun with --keep and read instance-<i>.log in the kept directory')
      await sleep(250)
    }
    say(`${options.instances} instances running (run all: ticketing, user-stats, evaluation)`)

    // production and the fault schedule run side by side
    feeder = new WorkloadFeeder(kafka, admin, workload, { rate: options.rate, onError: (e, attempt) => { if (attempt === 1) say(`feeder: send failed (${e.message}); retrying`) } })
    const produceStarted = Date.now()
    const production = feeder.start()
    const faults = faultSchedule(options)
    let kills = 0
    let brokerRestarts = 0
    const progress = setInterval(() => {
      say(`produced ${feeder!.produced}/${workload.records.length}, kills ${kills}/${options.kills}${options.brokerRestart ? `, broker restarts ${brokerRestarts}/1` : ''}, commits ${fleet!.commits}`)
    }, 10_000)
    try {
      for (const fault of faults) {
        while (feeder.produced < fault.atShare * workload.records.length && feeder.produced < workload.records.length) await sleep(100)
        if (fault.kind === 'kill') {
          const pid = await fleet.kill(fault.instance)
          kills++
          say(`kill ${kills}/${options.kills}: SIGKILL instance ${fault.instance} (pid ${String(pid)}) at ${((Date.now() - produceStarted) / 1000).toFixed(1)} s, ${feeder.produced} records produced; restarting it in ${fault.restartDelayMs} ms`)
          await sleep(fault.restartDelayMs)
          fleet.restart(fault.instance)
        } else {
          const t = Date.now()
          say(`broker restart: stopping the broker at ${((t - produceStarted) / 1000).toFixed(1)} s, ${feeder.produced} records produced`)
          broker = await restartKafka(broker, { graceMs: 30_000 })
          brokerRestarts++
          say(`broker restart: back after ${((Date.now() - t) / 1000).toFixed(1)} s`)
        }
      }
      await production
    } finally {
      clearInterval(progress)
    }
    const produceSeconds = (Date.now() - produceStarted) / 1000
    say(`produced ${feeder.produced} records in ${produceSeconds.toFixed(1)} s (${feeder.resent} re-sent after failed sends, ${feeder.holdWaits} waits for held users)`)

    const drainStarted = Date.now()
    let lastLag = ''
    for (;;) {
      if (await drained(kafka, admin)) break
      if (Date.now() - drainStarted > options.drainTimeoutMs) {
        throw new CliError(`the pipeline did not drain within ${options.drainTimeoutMs / 1000} s (still to consume: ${lastLag})`,
          'a larger --drain-timeout-s if it was still making progress; else rerun with --keep and read instance-<i>.log in the kept directory')
      }
      const lag = await lagByApplication(admin)
      lastLag = Object.entries(lag).map(([app, n]) => `${app.replace('devtrip-', '')}=${n}`).join(' ')
      say(`draining: lag ${lastLag}`)
      await sleep(3000)
    }
    const drainSeconds = (Date.now() - drainStarted) / 1000
    say(`drained in ${drainSeconds.toFixed(1)} s; stopping the instances`)
    const stopped = await fleet.stopAll()

    const verification: KafkaVerification = await verifyOnKafka(kafka, admin, workload, CHAOS_POLICIES, say)
    return buildReport({
      options, workload, verification, fleet, kills, brokerRestarts, feederResent: feeder.resent, feederHoldWaits: feeder.holdWaits, stopped,
      durations: { produceSeconds, drainSeconds, totalSeconds: (Date.now() - began) / 1000 },
      sourceTopics: DOMAIN_TOPICS.length
    })
  } finally {
    process.removeListener('SIGINT', onSignal)
    process.removeListener('SIGTERM', onSignal)
    await cleanup()
  }
}
