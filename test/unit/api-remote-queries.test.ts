/**
 * The query routes end to end without a broker: the API's RemoteQueries, with owner lookups over a scripted group
 * (a fake admin answering describeGroups), asks two real instance endpoints (api/instance/, on loopback ports) whose
 * stores are fakes. Every outcome: 200 from either instance (x-devtrip-served-by), 404, 503 restoring, 503 no owner
 * (rebalancing, not running), a stale owner answering 421 and the new owner asked, an instance that does not
 * answer, mission attempts asked of every instance, bad ids and limits, scopes. Plus the instance endpoint itself.
 */
import type { FastifyInstance } from 'fastify'
import { buildInstanceServer, RemoteQueries, InstanceClient, SERVED_BY_HEADER, type QueryableApp } from '../../api'
import { DEFAULT_POLICIES } from '../../processors'
import { encodeAdvertisement, QueryMetadataResolver, type LocalTaskInfo, type LocalTaskStatus } from '../../streams'
import type { GroupDescription, TopicDescription } from '../../streams/kafka'
import { partitionForKey } from '../../streams/partitioner'
import { TOPOLOGIES, type TopologyName } from '../../topologies'
import { bearer, testServer, type TestServer } from './api-fakes'

const PARTITIONS = 4
const appIds: Record<TopologyName, string> = { ticketing: 'u-devtrip-ticketing', 'user-stats': 'u-devtrip-user-stats', evaluation: 'u-devtrip-evaluation' }
const metadataOf = (name: TopologyName): ReturnType<ReturnType<typeof TOPOLOGIES[TopologyName]['build']>['metadata']> =>
  TOPOLOGIES[name].build(DEFAULT_POLICIES, { storeKind: 'in-memory' }).metadata(appIds[name])

/** One app's tasks on one instance: partition → status and store contents. */
class FakeApp implements QueryableApp {
  readonly state = 'RUNNING' as const
  readonly tasks = new Map<number, { status: LocalTaskStatus, stores: Map<string, Map<string, unknown>> }>()
  constructor (readonly metadata: ReturnType<typeof metadataOf>) {}
  put (partition: number, store: string, key: string, value: unknown): void {
    const task = this.tasks.get(partition) ?? { status: 'running', stores: new Map() }
    const s = task.stores.get(store) ?? new Map<string, unknown>()
    s.set(key, value)
    task.stores.set(store, s)
    this.tasks.set(partition, task)
  }

  localTasks (): LocalTaskInfo[] {
    const stores = this.metadata.subtopologies[0]!.stores.map((s) => s.name)
    return [...this.tasks].map(([partition, t]) => ({ taskId: `0_${partition}`, subtopologyId: 0, partition, status: t.status, inputPartitions: [], stores }))
  }

  store (name: string, partition: number): any {
    const t = this.tasks.get(partition)
    if (t === undefined || t.status !== 'running') return undefined
    return { name, persistent: false, get: (key: string) => t.stores.get(name)?.get(key) }
  }
}

/** The group of every application as the fake broker describes it: partition → instance address. */
class FakeAdmin {
  state = 'Stable'
  owners = new Map<number, string>()
  async describeGroups (ids: readonly string[]): Promise<GroupDescription[]> {
    return ids.map((groupId) => {
      const name = (Object.keys(appIds) as TopologyName[]).find((n) => appIds[n] === groupId)!
      const sources = metadataOf(name).subtopologies[0]!.sourceTopics
      const byServer = new Map<string, number[]>()
      for (const [p, server] of this.owners) byServer.set(server, [...(byServer.get(server) ?? []), p])
      return {
        groupId,
        state: this.state,
        protocolType: 'consumer',
        protocol: 'x',
        members: this.state !== 'Stable'
          ? []
          : [...byServer].map(([server, ps]) => ({
              memberId: server, groupInstanceId: null, clientId: server, clientHost: '/127.0.0.1',
              assignment: sources.flatMap((topic) => ps.map((partition) => ({ topic, partition }))),
              userData: encodeAdvertisement({ applicationServer: server })
            }))
      }
    })
  }

  async describeTopics (names: readonly string[]): Promise<TopicDescription[]> {
    return names.map((name) => ({ name, configs: {}, partitions: Array.from({ length: PARTITIONS }, (_, partition) => ({ partition, leader: 1, replicas: [1], isr: [1] })) }))
  }
}

function userOn (partition: number, from = 100): string {
  for (let i = from; ; i++) if (partitionForKey(Buffer.from(String(i)), PARTITIONS) === partition) return String(i)
}

interface Instance { server: FastifyInstance, address: string, apps: Record<TopologyName, FakeApp> }

async function startInstance (): Promise<Instance> {
  const apps = { ticketing: new FakeApp(metadataOf('ticketing')), 'user-stats': new FakeApp(metadataOf('user-stats')), evaluation: new FakeApp(metadataOf('evaluation')) }
  let address: string | undefined
  const server = await buildInstanceServer({ apps: new Map((Object.keys(apps) as TopologyName[]).map((n) => [appIds[n], apps[n]])), applicationServer: () => address })
  const url = new URL(await server.listen({ host: '127.0.0.1', port: 0 }))
  address = `127.0.0.1:${url.port}`
  return { server, address, apps }
}

let one: Instance
let two: Instance
let admin: FakeAdmin
let api: TestServer
let client: InstanceClient
const u0 = userOn(0)
const u1 = userOn(1)
const u2 = userOn(2)
const u3 = userOn(3)

beforeEach(async () => {
  one = await startInstance()
  two = await startInstance()
  admin = new FakeAdmin()
  // instance one: partitions 0 and 1; instance two: 2 and 3
  admin.owners = new Map([[0, one.address], [1, one.address], [2, two.address], [3, two.address]])
  for (const [inst, ps] of [[one, [0, 1]], [two, [2, 3]]] as const) {
    for (const p of ps) for (const name of Object.keys(appIds) as TopologyName[]) inst.apps[name].tasks.set(p, { status: 'running', stores: new Map() })
  }
  one.apps['user-stats'].put(0, 'rows', u0, { userId: Number(u0), missions: 1 })
  two.apps['user-stats'].put(2, 'rows', u2, { userId: Number(u2), missions: 2 })
  const entries = [1, 2, 3].map((n) => ({ eventId: `e${n}`, delta: n, balanceAfter: 10 + n }))
  two.apps.ticketing.put(3, 'accounts', u3, { userId: Number(u3), plan: 'PRO', balance: 13, granted: 16, deducted: 3, rejected: 0, revision: 4, recentEntries: entries, paymentIds: ['secret-ish'] })
  two.apps.evaluation.put(2, 'attempts', 'attempt_x', { missionAttemptId: 'attempt_x', phase: 'completed', attempts: 1 })
  client = new InstanceClient({ timeoutMs: 1500 })
  const lookup = (name: TopologyName): QueryMetadataResolver => new QueryMetadataResolver(admin, metadataOf(name), { cacheMs: 0 })
  const queries = new RemoteQueries({ ticketing: lookup('ticketing'), userStats: lookup('user-stats'), evaluation: lookup('evaluation'), instances: client, retryAfterSeconds: 3 })
  api = await testServer({}, { queries })
})

afterEach(async () => {
  await api.app.close()
  client.close()
  await Promise.all([one.server.close(), two.server.close()])
})

async function get (url: string, token = 'reader'): Promise<{ status: number, json: any, headers: Record<string, unknown> }> {
  const r = await api.app.inject({ method: 'GET', url, headers: bearer(token) })
  return { status: r.statusCode, json: JSON.parse(r.body), headers: r.headers }
}

test('a key is answered by the instance holding its partition, whichever that is', async () => {
  const a = await get(`/v1/users/${u0}/stats`)
  expect([a.status, a.json, a.headers[SERVED_BY_HEADER]]).toEqual([200, { userId: Number(u0), missions: 1 }, one.address])
  const b = await get(`/v1/users/${u2}/stats`)
  expect([b.status, b.json, b.headers[SERVED_BY_HEADER]]).toEqual([200, { userId: Number(u2), missions: 2 }, two.address])
})

test('tickets: the balance and the newest N ledger entries, newest first', async () => {
  const r = await get(`/v1/users/${u3}/tickets?limit=2`)
  expect(r.status).toBe(200)
  expect(r.json).toEqual({ userId: Number(u3), plan: 'PRO', balance: 13, granted: 16, deducted: 3, rejected: 0, entries: [{ eventId: 'e3', delta: 3, balanceAfter: 13 }, { eventId: 'e2', delta: 2, balanceAfter: 12 }] })
  expect((await get(`/v1/users/${u3}/tickets`)).json.entries.map((e: any) => e.eventId)).toEqual(['e3', 'e2', 'e1'])
})

test('unknown keys are 404 (asked of the owner only)', async () => {
  for (const url of [`/v1/users/${u1}/stats`, `/v1/users/${u3}/stats`, `/v1/users/${u0}/tickets`, '/v1/mission-attempts/attempt_unknown']) {
    const r = await get(url)
    expect([url, r.status, r.json.error.code]).toEqual([url, 404, 'DEVTRIP_API_NOT_FOUND'])
  }
})

test('mission attempts are asked of every instance', async () => {
  const r = await get('/v1/mission-attempts/attempt_x')
  expect([r.status, r.json.phase, r.headers[SERVED_BY_HEADER]]).toEqual([200, 'completed', two.address])
})

test('the owning task restoring is 503 restoring with Retry-After', async () => {
  one.apps['user-stats'].tasks.get(0)!.status = 'restoring'
  const r = await get(`/v1/users/${u0}/stats`)
  expect([r.status, r.json.error.code, r.json.error.details.reason, r.headers['retry-after']]).toEqual([503, 'DEVTRIP_API_UNAVAILABLE', 'restoring', '1'])
  // an attempt cannot be called unknown while a partition that may hold it restores
  two.apps.evaluation.tasks.get(3)!.status = 'restoring'
  const m = await get('/v1/mission-attempts/attempt_unknown')
  expect([m.status, m.json.error.details.reason]).toEqual([503, 'restoring'])
})

test('no owner: 503 rebalancing while the group moves partitions, no-owner while nothing runs', async () => {
  admin.state = 'PreparingRebalance'
  const r = await get(`/v1/users/${u0}/stats`)
  expect([r.status, r.json.error.details.reason, r.headers['retry-after']]).toEqual([503, 'rebalancing', '3'])
  expect(r.json.error.details).toMatchObject({ applicationId: appIds['user-stats'], store: 'rows', partition: 0 })
  admin.state = 'Stable'
  admin.owners = new Map()
  const n = await get(`/v1/users/${u0}/tickets`)
  expect([n.status, n.json.error.details.reason]).toEqual([503, 'no-owner'])
  expect(n.json.error.message).toMatch(/no running instance holds its partition/)
  const m = await get('/v1/mission-attempts/attempt_x')
  expect([m.status, m.json.error.details.reason]).toEqual([503, 'no-owner'])
})

test('a stale owner answers 421 and the new owner is asked', async () => {
  // partition 2 moved to instance one, which has not been described yet when the first lookup runs
  let described = 0
  const real = admin.describeGroups.bind(admin)
  admin.describeGroups = async (ids) => {
    if (described++ > 0) admin.owners.set(2, one.address)
    return await real(ids)
  }
  const store = two.apps['user-stats'].tasks.get(2)!
  two.apps['user-stats'].tasks.delete(2)
  one.apps['user-stats'].tasks.set(2, store)
  const r = await get(`/v1/users/${u2}/stats`)
  expect([r.status, r.json.missions, r.headers[SERVED_BY_HEADER]]).toEqual([200, 2, one.address])
})

test('an owner that does not answer is 503 owner-unreachable', async () => {
  await two.server.close()
  const r = await get(`/v1/users/${u2}/stats`)
  expect([r.status, r.json.error.details.reason, r.json.error.details.owner]).toEqual([503, 'owner-unreachable', two.address])
})

test('bad ids and limits are 400, scopes are checked', async () => {
  expect((await get(`/v1/users/${'x'.repeat(201)}/stats`)).status).toBe(400)
  expect((await get(`/v1/users/${u3}/tickets?limit=0`)).status).toBe(400)
  expect((await get(`/v1/users/${u3}/tickets?limit=abc`)).status).toBe(400)
  expect((await get(`/v1/users/${u0}/stats`, 'mission-service')).status).toBe(403)
  expect((await api.app.inject({ method: 'GET', url: `/v1/users/${u0}/stats` })).statusCode).toBe(401)
  expect((await get(`/v1/users/${u0}/stats`, 'admin')).status).toBe(200)
})

describe('the instance endpoint', () => {
  async function ask (path: string): Promise<{ status: number, json: any, headers: Record<string, unknown> }> {
    const r = await one.server.inject({ method: 'GET', url: path })
    return { status: r.statusCode, json: JSON.parse(r.body), headers: r.headers }
  }
  const base = `/v1/instance/apps/${appIds['user-stats']}/stores/rows/keys`

  test('a key of a partition it holds: the value, or 404 naming the partitions checked', async () => {
    const r = await ask(`${base}/${u0}?partition=0`)
    expect([r.status, r.json, r.headers[SERVED_BY_HEADER]]).toEqual([200, { applicationId: appIds['user-stats'], store: 'rows', key: u0, partition: 0, value: { userId: Number(u0), missions: 1 } }, one.address])
    const miss = await ask(`${base}/${u1}?partition=1`)
    expect([miss.status, miss.json.error.details]).toEqual([404, { missing: 'key', checked: [1] }])
  })

  test('a partition it does not hold: 421 DEVTRIP_API_NOT_OWNER', async () => {
    const r = await ask(`${base}/${u2}?partition=2`)
    expect([r.status, r.json.error.code, r.json.error.details]).toEqual([421, 'DEVTRIP_API_NOT_OWNER', { partition: 2, owner: null }])
  })

  test('unknown application or store, and a bad partition', async () => {
    expect((await ask(`/v1/instance/apps/nope/stores/rows/keys/1`)).json.error.details).toEqual({ missing: 'application', applicationId: 'nope' })
    expect((await ask(`/v1/instance/apps/${appIds['user-stats']}/stores/nope/keys/1`)).json.error.details).toEqual({ missing: 'store', store: 'nope' })
    expect((await ask(`${base}/1?partition=-1`)).status).toBe(400)
  })

  test('GET /v1/instance lists its applications and tasks', async () => {
    const r = await ask('/v1/instance')
    expect(r.json.applicationServer).toBe(one.address)
    expect(r.json.apps.map((a: any) => [a.applicationId, a.tasks.map((t: any) => t.partition)])).toEqual([
      [appIds.ticketing, [0, 1]], [appIds['user-stats'], [0, 1]], [appIds.evaluation, [0, 1]]
    ])
  })
})

test('the instance endpoint answers an unknown route with its own routes as the hint (not the API\'s /docs)', async () => {
  const r = await one.server.inject({ method: 'GET', url: '/v1/users/1/stats' })
  expect(r.statusCode).toBe(404)
  expect(r.json().error.code).toBe('DEVTRIP_API_NOT_FOUND')
  expect(r.json().error.details.hint).toMatch(/\/v1\/instance\/apps\/:applicationId\/stores\/:store\/keys\/:key/)
})
