/**
 * The query routes with a fake QueriesService: the value (200), unknown ids (404), restoring state (503 +
 * Retry-After), no service in this process (503), a broken service (500 without the cause), bad parameters
 * (400) and scopes.
 */
import { DevtripError } from '../../events'
import { StateRestoringError, type QueriesService, type UserTickets } from '../../api'
import type { AttemptState, UserStats } from '../../processors'
import { bearer, testServer, type TestServer } from './api-fakes'

const stats = { userId: 7, revision: 3, logins: { count: 2 } } as unknown as UserStats
const tickets: UserTickets = { userId: 7, plan: 'PRO', balance: 9, granted: 10, deducted: 1, rejected: 0, entries: [] }
const attempt = { missionAttemptId: 'attempt_1', phase: 'running' } as unknown as AttemptState

class FakeQueries implements QueriesService {
  calls: unknown[][] = []
  failWith: unknown = undefined
  async getUserStats (userId: string): Promise<UserStats | undefined> {
    this.calls.push(['stats', userId])
    if (this.failWith !== undefined) throw this.failWith
    return userId === '7' ? stats : undefined
  }

  async getTickets (userId: string, limit: number): Promise<UserTickets | undefined> {
    this.calls.push(['tickets', userId, limit])
    if (this.failWith !== undefined) throw this.failWith
    return userId === '7' ? tickets : undefined
  }

  async getMissionAttempt (id: string): Promise<AttemptState | undefined> {
    this.calls.push(['attempt', id])
    if (this.failWith !== undefined) throw this.failWith
    return id === 'attempt_1' ? attempt : undefined
  }
}

let server: TestServer
let queries: FakeQueries
beforeEach(async () => {
  queries = new FakeQueries()
  server = await testServer({}, { queries })
})
afterEach(async () => { await server.app.close() })

async function get (url: string, token = 'reader'): Promise<{ status: number, json: any, headers: Record<string, unknown> }> {
  const r = await server.app.inject({ method: 'GET', url, headers: bearer(token) })
  return { status: r.statusCode, json: JSON.parse(r.body), headers: r.headers }
}

test('each route answers 200 with what the service returned', async () => {
  expect(await get('/v1/users/7/stats')).toMatchObject({ status: 200, json: stats })
  expect(await get('/v1/users/7/tickets')).toMatchObject({ status: 200, json: tickets })
  expect(await get('/v1/mission-attempts/attempt_1')).toMatchObject({ status: 200, json: attempt })
  expect(queries.calls).toEqual([['stats', '7'], ['tickets', '7', 20], ['attempt', 'attempt_1']])
})

test('unknown ids are 404', async () => {
  for (const url of ['/v1/users/8/stats', '/v1/users/8/tickets', '/v1/mission-attempts/attempt_2']) {
    const r = await get(url)
    expect([r.status, r.json.error.code]).toEqual([404, 'DEVTRIP_API_NOT_FOUND'])
  }
  expect((await get('/v1/users/8/stats')).json.error.message).toBe('no statistics for user 8')
})

test('the tickets limit is passed on, and checked', async () => {
  await get('/v1/users/7/tickets?limit=5')
  expect(queries.calls.at(-1)).toEqual(['tickets', '7', 5])
  for (const bad of ['0', '101', 'ten', '-1', '2.5']) {
    const r = await get(`/v1/users/7/tickets?limit=${bad}`)
    expect([r.status, r.json.error.code]).toEqual([400, 'DEVTRIP_API_BAD_REQUEST'])
  }
})

test('an id that cannot be a record key is 400', async () => {
  const r = await get(`/v1/users/${'x'.repeat(201)}/stats`)
  expect(r.status).toBe(400)
  expect(r.json.error.details).toEqual({ parameter: 'userId' })
  expect((await get('/v1/mission-attempts/%20padded%20')).status).toBe(400)
})

test('restoring state is 503 with Retry-After, whichever way the service says it', async () => {
  queries.failWith = new StateRestoringError('store restoring', 7)
  const r1 = await get('/v1/users/7/stats')
  expect([r1.status, r1.headers['retry-after'], r1.json.error.details.reason]).toEqual([503, '7', 'restoring'])
  queries.failWith = new DevtripError('DEVTRIP_STORE_NOT_OPEN', 'the store is not open')
  const r2 = await get('/v1/users/7/tickets')
  expect([r2.status, r2.json.error.code]).toEqual([503, 'DEVTRIP_API_UNAVAILABLE'])
  expect(r2.headers['retry-after']).toBe('2')
  queries.failWith = new DevtripError('DEVTRIP_TASK_MIGRATED', 'moved')
  expect((await get('/v1/mission-attempts/attempt_1')).status).toBe(503)
})

test('any other failure is a 500 that does not leak the cause', async () => {
  queries.failWith = new Error('rocksdb: corruption in /var/lib/secret-path')
  const r = await get('/v1/users/7/stats')
  expect([r.status, r.json.error.code]).toEqual([500, 'DEVTRIP_API_INTERNAL'])
  expect(JSON.stringify(r.json)).not.toContain('secret-path')
  expect(server.logs.join('\n')).toContain('secret-path') // the cause is in the log, under the request id
})

test('needs a token with the read or admin scope', async () => {
  expect((await get('/v1/users/7/stats', 'admin')).status).toBe(200)
  const service = await get('/v1/users/7/stats', 'mission-service')
  expect([service.status, service.json.error.code]).toEqual([403, 'DEVTRIP_API_FORBIDDEN'])
  const none = await server.app.inject({ method: 'GET', url: '/v1/users/7/stats' })
  expect(none.statusCode).toBe(401)
})

test('without a queries service, the routes answer 503 "queries not available in this process"', async () => {
  const bare = await testServer()
  try {
    for (const url of ['/v1/users/7/stats', '/v1/users/7/tickets', '/v1/mission-attempts/attempt_1']) {
      const r = await bare.app.inject({ method: 'GET', url, headers: bearer('reader') })
      expect(r.statusCode).toBe(503)
      expect(JSON.parse(r.body).error.message).toBe('queries not available in this process')
      expect(r.headers['retry-after']).toBe('2')
    }
  } finally {
    await bare.app.close()
  }
})
