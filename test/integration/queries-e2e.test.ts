/**
 * Interactive queries on the real broker: `run all --instances 2` (two child processes, each serving its stores on
 * its own free port and advertising it to the groups), the API in this process with the remote query service, a
 * workload for users whose keys land on every partition posted through the API. Then: each user's stats, tickets
 * and mission attempts come back through the API from whichever instance holds them — both instances answer — and
 * equal what the topologies wrote to their output topics; unknown ids are 404.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRemoteQueries, SERVED_BY_HEADER } from '../../api'
import { RunChild, type RunEvent } from '../../cli/chaos/child-process'
import { readCommitted } from '../../cli/chaos/topic-reader'
import { applyTopicCatalog } from '../../cli/commands/topics'
import { demoWorkload, type DemoUser } from '../../cli/demo/workload'
import { DEFAULT_PARTITIONS } from '../../events'
import { createKafkaClients, type KafkaAdmin, type KafkaClientFactory } from '../../streams/kafka'
import { partitionForKey } from '../../streams/partitioner'
import { bearer, http, runId, settled, startApi, type RunningApi } from './api-harness'
import { kafkaBrokers } from '../support/infra-env'

const id = runId()
const prefix = `iq-${id}-`
let kafka: KafkaClientFactory
let admin: KafkaAdmin
let stateDir: string
let supervisor: RunChild | undefined
let api: RunningApi | undefined
let queries: ReturnType<typeof createRemoteQueries> | undefined
const events: RunEvent[] = []

/** Two users per partition, on all partitions, plans in turn. */
const users: DemoUser[] = (() => {
  const out: DemoUser[] = []
  const perPartition = new Map<number, number>()
  const plans = ['PRO', 'BASIC', 'FREE'] as const
  const base = 700_000_000 + (parseInt(id, 16) % 1_000_000) * 100
  for (let n = base; out.length < DEFAULT_PARTITIONS * 2; n++) {
    const p = partitionForKey(Buffer.from(String(n)), DEFAULT_PARTITIONS)
    if ((perPartition.get(p) ?? 0) >= 2) continue
    perPartition.set(p, (perPartition.get(p) ?? 0) + 1)
    out.push({ userId: n, email: `u${n}@devtrip.dev`, plan: plans[out.length % 3]! })
  }
  return out
})()

async function until<T> (what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last stderr:\n${supervisor?.stderrTail.join('\n') ?? ''}`)
    await new Promise((resolve) => setTimeout(resolve, 300))
  }
}

async function query (path: string): Promise<{ status: number, json: any, servedBy: string | null }> {
  const r = await http(`${api!.url}${path}`, { method: 'GET', headers: bearer('reader') })
  return { status: r.status, json: r.json, servedBy: r.headers.get(SERVED_BY_HEADER) }
}

beforeAll(async () => {
  kafka = createKafkaClients({ brokers: kafkaBrokers(), clientId: 'queries-e2e' })
  admin = kafka.createAdmin()
  await applyTopicCatalog(admin, { prefix })
  stateDir = mkdtempSync(join(tmpdir(), 'devtrip-iq-'))
  supervisor = new RunChild({
    args: ['run', 'all', '--instances', '2', '--topic-prefix', prefix, '--state-dir', stateDir, '--no-metrics', '--json-events',
      '--brokers', kafkaBrokers().join(','), '--session-timeout-ms', '6000', '--max-task-idle-ms', '0'],
    onEvent: (e) => { events.push(e) }
  })
  await until('both instances running', () => events.some((e) => e.event === 'running' && e.instances === 2) ? true : undefined, 150_000)
  queries = createRemoteQueries({ admin, topicPrefix: prefix, applicationIdPrefix: prefix, metadataCacheMs: 500, timeoutMs: 5000 })
  api = await startApi({ brokers: kafkaBrokers(), redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:16379', config: { topicPrefix: prefix }, queries })
}, 200_000)

afterAll(async () => {
  await api?.close()
  queries?.close()
  await supervisor?.stop(60_000)
  const mine = (await admin.listTopics()).filter((t) => t.startsWith(prefix))
  await admin.deleteTopics(mine).catch(() => undefined)
  await admin.close()
  rmSync(stateDir, { recursive: true, force: true })
}, 120_000)

test('each instance advertises its own query address', () => {
  const started = events.filter((e) => e.event === 'started' && typeof e.instance === 'number')
  const servers = new Set(started.map((e) => e.applicationServer))
  expect(servers.size).toBe(2)
  for (const s of servers) expect(s).toMatch(/^127\.0\.0\.1:[0-9]+$/)
})

test('stats, tickets and mission attempts come from the instance holding each user, and equal the topologies\' output', async () => {
  // the workload, posted through the API by each event's service
  for (const { service, event } of demoWorkload(users, id)) {
    const r = await http(`${api!.url}/v1/events`, { headers: { ...bearer(service), 'content-type': 'application/json' }, body: JSON.stringify(event) })
    expect([r.status, r.text]).toEqual([202, expect.any(String)])
  }
  // processed once every user's three missions are deducted and counted
  const servedBy = new Set<string>()
  for (const user of users) {
    const tickets = await until(`tickets of ${user.userId}`, async () => {
      const r = await query(`/v1/users/${user.userId}/tickets`)
      return r.status === 200 && r.json.deducted + r.json.rejected === 3 ? r : undefined
    })
    const stats = await until(`stats of ${user.userId}`, async () => {
      const r = await query(`/v1/users/${user.userId}/stats`)
      return r.status === 200 && r.json.missions.completed === 3 ? r : undefined
    })
    // ticketing and user-stats are separate consumer groups: each assigns its partitions on its own, so a user's
    // tickets and stats may live on different instances
    servedBy.add(stats.servedBy!)
    servedBy.add(tickets.servedBy!)
  }
  // forwarding works: the API runs no topology, and both instances answered for their own users
  const advertised = new Set(events.filter((e) => e.event === 'started' && typeof e.instance === 'number').map((e) => e.applicationServer as string))
  expect(servedBy).toEqual(advertised)

  // what the topologies wrote, read_committed: the newest record per user of each table, and the ledger. Queries read
  // the stores, which may hold the writes of a transaction not committed yet (docs/api.md): the committed tables
  // catch up with the stores within a few commit intervals, so they are read until every user's row matches.
  await until('the committed user-stats rows to catch up with the stores', async () => {
    await settled(admin, [`${prefix}user-stats`, `${prefix}ticket-balances`, `${prefix}ticket-ledger`])
    const rows = new Map<string, number>()
    await readCommitted(kafka, admin, [`${prefix}user-stats`], (r) => { rows.set(r.key!.toString('utf8'), JSON.parse(r.value!.toString('utf8')).revision) })
    const accounts = new Map<string, string>()
    const account = (v: any): string => JSON.stringify([v.balance, v.granted, v.deducted, v.rejected])
    await readCommitted(kafka, admin, [`${prefix}ticket-balances`], (r) => { accounts.set(r.key!.toString('utf8'), account(JSON.parse(r.value!.toString('utf8')))) })
    for (const user of users) {
      const now = await query(`/v1/users/${user.userId}/stats`)
      if (now.status !== 200 || rows.get(String(user.userId)) !== now.json.revision) return undefined
      const tickets = await query(`/v1/users/${user.userId}/tickets`)
      if (tickets.status !== 200 || accounts.get(String(user.userId)) !== account(tickets.json)) return undefined
    }
    return true
  }, 60_000)
  const latest = async (topic: string): Promise<Map<string, any>> => {
    const out = new Map<string, any>()
    await readCommitted(kafka, admin, [prefix + topic], (r) => { out.set(r.key!.toString('utf8'), JSON.parse(r.value!.toString('utf8'))) })
    return out
  }
  const statsTable = await latest('user-stats')
  const balances = await latest('ticket-balances')
  const ledger = new Map<string, any[]>()
  await readCommitted(kafka, admin, [`${prefix}ticket-ledger`], (r) => {
    const key = r.key!.toString('utf8')
    ledger.set(key, [...(ledger.get(key) ?? []), JSON.parse(r.value!.toString('utf8'))])
  })

  for (const user of users) {
    const key = String(user.userId)
    const stats = await query(`/v1/users/${key}/stats`)
    const { eventId, eventType, source, timestamp, version, causeEventId, ...row } = statsTable.get(key)
    expect(stats.json).toEqual({ ...row, lastCauseEventId: causeEventId })

    const tickets = await query(`/v1/users/${key}/tickets?limit=100`)
    const balance = balances.get(key)
    expect(tickets.json).toMatchObject({ userId: user.userId, plan: balance.plan, balance: balance.balance, granted: balance.granted, deducted: balance.deducted, rejected: balance.rejected })
    expect(tickets.json.entries).toEqual([...ledger.get(key)!].reverse())
    const two = await query(`/v1/users/${key}/tickets?limit=2`)
    expect(two.json.entries).toEqual(tickets.json.entries.slice(0, 2))

    for (let m = 1; m <= 3; m++) {
      const attemptId = `attempt_${id}_${user.userId}_${m}`
      const attempt = await query(`/v1/mission-attempts/${attemptId}`)
      expect(attempt.status).toBe(200)
      expect(attempt.json).toMatchObject({ missionAttemptId: attemptId, userId: user.userId, missionId: `mission_${m}` })
      expect(advertised.has(attempt.servedBy!)).toBe(true)
    }
  }
}, 300_000)

test('unknown users and attempts are 404', async () => {
  for (const path of ['/v1/users/1/stats', '/v1/users/1/tickets', `/v1/mission-attempts/attempt_${id}_nobody`]) {
    const r = await query(path)
    expect([path, r.status, r.json.error.code]).toEqual([path, 404, 'DEVTRIP_API_NOT_FOUND'])
  }
}, 60_000)

test('with the instances stopped, queries answer 503 no-owner instead of hanging or guessing', async () => {
  const exit = await supervisor!.stop(60_000)
  supervisor = undefined
  expect(exit).toEqual({ code: 0, signal: null })
  // the members left the group on their way out: no owner at all. Each application's cached view (500 ms) may
  // still name a stopped instance for a moment: that is a 503 too (owner-unreachable), never a hang or a 404
  for (const path of [`/v1/users/${users[0]!.userId}/stats`, `/v1/users/${users[1]!.userId}/tickets`, `/v1/mission-attempts/attempt_${id}_${users[0]!.userId}_1`]) {
    const seen = new Set<string>()
    await until(`a 503 no-owner for ${path}`, async () => {
      const q = await query(path)
      expect([q.status, q.json.error.code]).toEqual([503, 'DEVTRIP_API_UNAVAILABLE'])
      seen.add(q.json.error.details.reason)
      return q.json.error.details.reason === 'no-owner' ? q : undefined
    }, 30_000)
    for (const reason of seen) expect(['no-owner', 'owner-unreachable']).toContain(reason)
  }
}, 120_000)
