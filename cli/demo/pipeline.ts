/**
 * `demo`'s second half: the whole pipeline on the local broker. It starts the topologies, the ingest API and the
 * evaluation worker as child processes, posts the demo workload through the API with the development tokens,
 * and waits until the results come out of the other end: mission results (the evaluator's scores joined with the
 * mission completions), ticket balances and user stats, all read `read_committed`.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { DEV_TOKENS_FILE_NAME, ensureDevTokens } from '../../api'
import { createKafkaClients, type KafkaAdapterName } from '../../streams/kafka'
import type { KafkaClientFactory, TopicPartitionOffset } from '../../streams/kafka/port'
import { freePorts, infraLocalDir } from '../infra'
import { startService, stopServices, waitFor, type ServiceProcess } from './services'
import { DEMO_MISSIONS_PER_USER, demoUsers, demoWorkload, type DemoUser } from './workload'

export interface PipelineReport {
  apiUrl: string
  posted: number
  users: Array<{ userId: number, plan: string, balance: number | null, deducted: number | null, missionsCompleted: number | null, averageScore: number | null }>
  missionResults: Array<{ userId: number, missionAttemptId: string, missionTitle: string | null, score: number, maxScore: number, attempts: number, evaluator: string | null }>
  /** the services, still running, when `keepRunning` was asked for */
  services: ServiceProcess[]
}

type Json = Record<string, unknown>

async function endOffsets (kafka: KafkaClientFactory, topics: string[]): Promise<TopicPartitionOffset[]> {
  const admin = kafka.createAdmin()
  try {
    const described = await admin.describeTopics(topics)
    return await admin.listOffsets(described.flatMap((d) => d.partitions.map((p) => ({ topic: d.name, partition: p.partition }))), 'latest', 'read_committed')
  } finally {
    await admin.close()
  }
}

/** Reads the topics from `from` on, read_committed, handing every JSON value to `onValue` until `done()` or the timeout. */
async function readUntil (kafka: KafkaClientFactory, from: TopicPartitionOffset[], onValue: (topic: string, value: Json) => void, done: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
  const consumer = kafka.createAssignedConsumer({ isolationLevel: 'read_committed' })
  try {
    consumer.assign(from)
    for (const tp of from) consumer.seek(tp, tp.offset)
    const deadline = Date.now() + timeoutMs
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`the pipeline did not produce every expected result in ${Math.round(timeoutMs / 1000)} s; got ${describe()}`)
      for (const batch of await consumer.poll(500)) {
        for (const record of batch.records) {
          if (record.value !== null) onValue(batch.topic, JSON.parse(String(record.value)) as Json)
        }
      }
    }
  } finally {
    await consumer.close()
  }
}

async function postAll (apiUrl: string, secrets: Record<string, string>, workload: ReturnType<typeof demoWorkload>): Promise<void> {
  // consecutive events of one service go in one request; requests follow the workload's order
  for (let i = 0; i < workload.length;) {
    const service = workload[i]!.service
    const batch: Json[] = []
    while (i < workload.length && workload[i]!.service === service) batch.push(workload[i++]!.event)
    const token = secrets[service]
    if (token === undefined) throw new Error(`no development token for ${service}`)
    const response = await fetch(`${apiUrl}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(batch)
    })
    if (response.status !== 202) throw new Error(`POST /v1/events as ${service} answered ${response.status}: ${await response.text()}`)
  }
}

export async function runPipelineDemo (infra: { kafkaBrokers: string, redisUrl: string }, options: { prefix: string, client: KafkaAdapterName, keepRunning: boolean, timeoutMs: number, progress: (line: string) => void }): Promise<PipelineReport> {
  const { progress } = options
  // the children (run, api, evaluator) pick the same Kafka client through $KAFKA_CLIENT
  const env = { ...process.env, KAFKA_BROKERS: infra.kafkaBrokers, REDIS_URL: infra.redisUrl, KAFKA_CLIENT: options.client }
  const tokensFile = join(infraLocalDir(), DEV_TOKENS_FILE_NAME)
  ensureDevTokens(tokensFile)
  const secrets = (JSON.parse(readFileSync(tokensFile, 'utf8')) as { secrets: Record<string, string> }).secrets
  const [apiPort] = await freePorts(1)
  const apiUrl = `http://127.0.0.1:${apiPort!}`
  let topologiesRunning = false
  progress('starting the topologies (run all), the ingest API and the evaluation worker')
  const logs = join(infraLocalDir(), 'logs')
  const services = [
    startService('run all', ['run', 'all', '--json-events', '--no-metrics'], env, join(logs, 'demo-topologies.log'), (line) => {
      if (line.startsWith('{') && (JSON.parse(line) as { event?: string }).event === 'running') topologiesRunning = true
    }),
    startService('api', ['api', '--port', String(apiPort)], env, join(logs, 'demo-api.log')),
    // a demo's handful of evaluations should not wait behind the default LLM budget of 60 a minute
    startService('evaluator', ['evaluator', '--rate-per-minute', '600', ...(options.prefix === '' ? [] : ['--queue', `${options.prefix}devtrip-evaluations`, '--group-id', `${options.prefix}devtrip-evaluator`])], env,
      join(logs, 'demo-evaluator.log'))
  ]
  const [topologies, api] = services as [ServiceProcess, ServiceProcess, ServiceProcess]
  let keep = false
  try {
    await waitFor(topologies, 'the topologies running', () => topologiesRunning, options.timeoutMs)
    await waitFor(api, 'the API ready', async () => (await fetch(`${apiUrl}/readyz`).catch(() => undefined))?.status === 200, options.timeoutMs)
    const kafka = createKafkaClients({ brokers: infra.kafkaBrokers.split(','), clientId: 'devtrip-demo-reader' }, options.client)
    const outputs = ['mission-results', 'ticket-balances', 'user-stats', 'evaluation-events'].map((t) => options.prefix + t)
    const from = await endOffsets(kafka, outputs)
    const runNumber = Date.now()
    const users = demoUsers(runNumber)
    const workload = demoWorkload(users, String(runNumber))
    progress(`posting ${workload.length} events for ${users.length} users through ${apiUrl}/v1/events`)
    await postAll(apiUrl, secrets, workload)
    progress('waiting for evaluations, mission results, ticket balances and user stats')
    const report = await collectResults(kafka, from, users, options.prefix, options.timeoutMs)
      .catch((error: unknown) => { throw new Error(`${(error as Error).message} (service logs: ${services.map((s) => s.logFile).join(', ')})`) })
    keep = options.keepRunning
    return { apiUrl, posted: workload.length, ...report, services: keep ? services : [] }
  } finally {
    if (!keep) await stopServices(services)
  }
}

async function collectResults (kafka: KafkaClientFactory, from: TopicPartitionOffset[], users: DemoUser[], prefix: string, timeoutMs: number): Promise<Pick<PipelineReport, 'users' | 'missionResults'>> {
  const ids = new Set(users.map((u) => u.userId))
  const balances = new Map<number, Json>()
  const stats = new Map<number, Json>()
  const results = new Map<string, Json>()
  const evaluators = new Map<string, string>()
  const expectedResults = users.length * DEMO_MISSIONS_PER_USER
  const ours = (value: Json): number | undefined => (ids.has(Number(value.userId)) ? Number(value.userId) : undefined)
  await readUntil(kafka, from, (prefixedTopic, value) => {
    const topic = prefixedTopic.slice(prefix.length)
    const user = ours(value)
    if (user === undefined) return
    if (topic === 'mission-results') results.set(String(value.missionAttemptId), value)
    else if (topic === 'ticket-balances') balances.set(user, value)
    else if (topic === 'user-stats') stats.set(user, value)
    else if (value.eventType === 'EvaluationCompleted' && typeof value.evaluator === 'string') evaluators.set(String(value.missionAttemptId), value.evaluator)
  }, () => results.size >= expectedResults && [...balances.values()].every((b) => Number(b.deducted) >= DEMO_MISSIONS_PER_USER) && balances.size === users.length && stats.size === users.length &&
    [...stats.values()].every((v) => Number((v as { evaluations?: { completed?: number } }).evaluations?.completed ?? 0) >= DEMO_MISSIONS_PER_USER), timeoutMs,
  () => `${results.size}/${expectedResults} mission results, ${evaluators.size} evaluations, ${balances.size}/${users.length} balances ` +
    `(deducted ${[...balances.values()].map((b) => b.deducted).join('/')}), ${stats.size}/${users.length} user stats ` +
    `(evaluations ${[...stats.values()].map((v) => (v as { evaluations?: { completed?: number } }).evaluations?.completed).join('/')})`)
  return {
    users: users.map((u) => {
      const b = balances.get(u.userId)
      const s = stats.get(u.userId) as (Json & { missions?: { completed?: number }, evaluations?: { score?: { average?: number | null } } }) | undefined
      return {
        userId: u.userId,
        plan: String(b?.plan ?? u.plan),
        balance: b === undefined ? null : Number(b.balance),
        deducted: b === undefined ? null : Number(b.deducted),
        missionsCompleted: s?.missions?.completed ?? null,
        averageScore: s?.evaluations?.score?.average ?? null
      }
    }),
    missionResults: [...results.values()].map((r) => ({
      userId: Number(r.userId),
      missionAttemptId: String(r.missionAttemptId),
      missionTitle: (r.missionTitle as string | null) ?? null,
      score: Number(r.score),
      maxScore: Number(r.maxScore),
      attempts: Number(r.attempts),
      evaluator: evaluators.get(String(r.missionAttemptId)) ?? null
    }))
  }
}
