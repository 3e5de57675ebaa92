/**
 * Operations: /healthz, /readyz, /metrics, the OpenAPI document and /docs, route modules registered by
 * dropping a file into the routes directory, the token buckets and the memory idempotency store.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Ajv2020 from 'ajv/dist/2020'
import addFormats from 'ajv-formats'
import { isIP } from 'node:net'
import { createSampleGenerator, EVENT_TYPES } from '../../events'
import { MemoryIdempotencyStore } from '../../api'
import { ROUTES_DIR } from '../../api/route-loader'
import { TokenBuckets } from '../../api/plugins/rate-limit'
import { bearer, testServer, type TestServer } from './api-fakes'

let server: TestServer
afterEach(async () => { await server?.app.close() })

describe('health', () => {
  test('/healthz is public and always ok', async () => {
    server = await testServer()
    const r = await server.app.inject({ method: 'GET', url: '/healthz' })
    expect([r.statusCode, JSON.parse(r.body)]).toEqual([200, { status: 'ok' }])
  })

  test('/readyz checks the broker (with the prefixed ingest topics) and Redis', async () => {
    server = await testServer({ topicPrefix: 'tenant1.' })
    const asked: unknown[] = []
    server.publisher.checkReady = async (topics: readonly string[]) => { asked.push(topics) }
    const ok = await server.app.inject({ method: 'GET', url: '/readyz' })
    expect(ok.statusCode).toBe(200)
    expect(JSON.parse(ok.body)).toMatchObject({ status: 'ready', checks: { kafka: { ok: true }, redis: { ok: true } } })
    expect(asked).toEqual([['tenant1.auth-events', 'tenant1.user-events', 'tenant1.payment-events', 'tenant1.subscription-events', 'tenant1.mission-events', 'tenant1.evaluation-events']])

    server.publisher.checkReady = async () => { throw new Error('topic tenant1.auth-events does not exist') }
    server.store.ping = async () => { throw new Error('ECONNREFUSED') }
    const down = await server.app.inject({ method: 'GET', url: '/readyz' })
    expect(down.statusCode).toBe(503)
    expect(down.headers['retry-after']).toBe('2')
    const body = JSON.parse(down.body)
    expect(body.error.message).toBe('not ready: the Kafka broker (or an ingest topic) and Redis did not answer')
    expect(body.error.details.checks.kafka).toMatchObject({ ok: false, error: { message: 'topic tenant1.auth-events does not exist' } })
    expect(body.error.details.checks.redis).toMatchObject({ ok: false })
  })

  test('/readyz gives up on a check that hangs', async () => {
    server = await testServer({ readinessTimeoutMs: 100 })
    server.store.ping = () => new Promise(() => {})
    const r = await server.app.inject({ method: 'GET', url: '/readyz' })
    expect(r.statusCode).toBe(503)
    expect(JSON.parse(r.body).error.details.checks.redis.error.message).toBe('no answer within 100 ms')
  })
})

test('/metrics counts requests, latency, produced events, rejections by reason and idempotent hits', async () => {
  server = await testServer()
  const event = createSampleGenerator(5).event('MissionStarted')
  const post = (payload: unknown, token = 'admin'): Promise<unknown> => server.app.inject({ method: 'POST', url: '/v1/events', headers: { ...bearer(token), 'content-type': 'application/json' }, payload: JSON.stringify(payload) })
  await post(event)
  await post(event) // duplicate
  await post({ eventType: 'MissionStarted' }) // invalid
  await post(event, 'auth-service') // forbidden
  await server.app.inject({ method: 'POST', url: '/v1/events', payload: '{}', headers: { 'content-type': 'application/json' } }) // no token
  const r = await server.app.inject({ method: 'GET', url: '/metrics' })
  expect(r.statusCode).toBe(200)
  expect(r.headers['content-type']).toMatch(/^text\/plain/)
  const lines = r.body.split('\n')
  const value = (prefix: string): number => Number(lines.find((l) => l.startsWith(prefix))?.split(' ').at(-1))
  expect(value('devtrip_api_requests_total{method="POST",route="/v1/events",status="202"}')).toBe(2)
  expect(value('devtrip_api_produced_events_total{topic="mission-events"}')).toBe(1)
  expect(value('devtrip_api_idempotent_hits_total')).toBe(1)
  expect(value('devtrip_api_rejected_requests_total{reason="invalid_event"}')).toBe(1)
  expect(value('devtrip_api_rejected_requests_total{reason="forbidden"}')).toBe(1)
  expect(value('devtrip_api_rejected_requests_total{reason="unauthorized"}')).toBe(1)
  expect(value('devtrip_api_request_duration_seconds_count{method="POST",route="/v1/events"}')).toBe(5)
  expect(lines.some((l) => l.startsWith('devtrip_api_process_cpu_seconds_total'))).toBe(true)
})

describe('OpenAPI', () => {
  test('/docs/openapi.json is OpenAPI 3.1 with every event schema, every route and valid schemas', async () => {
    server = await testServer()
    const r = await server.app.inject({ method: 'GET', url: '/docs/openapi.json' })
    expect(r.statusCode).toBe(200)
    const doc = JSON.parse(r.body)
    expect(doc.openapi).toBe('3.1.0')
    for (const type of EVENT_TYPES) expect(doc.components.schemas[type]).toBeDefined()
    // (other route modules of api/routes/ add their own paths beside these)
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining([
      '/docs', '/docs/openapi.json', '/healthz', '/metrics', '/readyz',
      '/v1/events', '/v1/mission-attempts/{missionAttemptId}', '/v1/topics/{topic}/events',
      '/v1/users/{userId}/stats', '/v1/users/{userId}/tickets'
    ]))
    expect(doc.paths['/healthz'].get.security).toEqual([])
    expect(doc.paths['/v1/users/{userId}/stats'].get['x-devtrip-scopes']).toEqual(['read'])
    expect(Object.keys(doc.paths['/v1/events'].post.responses)).toEqual(['202', '400', '401', '403', '409', '413', '415', '429', '503'])
    expect(r.body).not.toContain('"devtripId"')
    expect(r.body).not.toContain('#/$defs/')

    // the schemas compile as draft 2020-12 (the x- keywords are annotations) and still judge events
    const ajv = new Ajv2020({ strict: false, allErrors: true })
    // the same formats the event catalog checks (events/schema-validators.ts), so they are judged, not warned about
    addFormats(ajv, ['email', 'uuid'])
    ajv.addFormat('ip', { type: 'string', validate: (text: string) => isIP(text) !== 0 })
    ajv.addSchema({ $id: 'doc', components: doc.components })
    const validate = ajv.getSchema('doc#/components/schemas/IngestBody')!
    expect(validate([createSampleGenerator(9).event('PaymentCompleted')])).toBe(true)
    expect(validate([])).toBe(false)
    const paymentValidate = ajv.getSchema('doc#/components/schemas/PaymentCompleted')!
    expect(paymentValidate({ eventType: 'PaymentCompleted', userId: 1, paymentId: 'p', planType: 'PRO' })).toBe(false)
  })

  test('/docs is an HTML index linking to the JSON', async () => {
    server = await testServer()
    const r = await server.app.inject({ method: 'GET', url: '/docs' })
    expect(r.statusCode).toBe(200)
    expect(r.headers['content-type']).toMatch(/^text\/html/)
    expect(r.body).toContain('<a href="/docs/openapi.json">')
    expect(r.body).toContain('<code>/v1/topics/{topic}/events</code>')
  })
})

describe('route modules', () => {
  let routesDir: string | undefined
  afterEach(() => {
    if (routesDir !== undefined) rmSync(routesDir, { recursive: true, force: true })
    routesDir = undefined
  })

  test('every module of the routes directory exporting a plugin (default or `routes`) is registered, with auth and docs', async () => {
    routesDir = mkdtempSync(join(tmpdir(), 'devtrip-api-routes-'))
    writeFileSync(join(routesDir, 'a-default.js'), `
      exports.default = async function (app) {
        app.get('/v1/extra/default', { config: { scopes: ['admin'], description: 'default-export route' } }, async (request) => ({ who: request.principal.name, lag: app.devtrip.lag }))
      }`)
    writeFileSync(join(routesDir, 'b-named.js'), `
      exports.routes = async function (app) {
        app.get('/v1/extra/named/:id', { config: { auth: 'public' } }, async (request) => ({ id: request.params.id }))
      }`)
    writeFileSync(join(routesDir, 'c-helper.js'), 'exports.helper = 42')
    server = await testServer({}, { routesDir, lag: { consumerLag: 3 } as never })
    const a = await server.app.inject({ method: 'GET', url: '/v1/extra/default', headers: bearer('admin') })
    expect(JSON.parse(a.body)).toEqual({ who: 'admin', lag: { consumerLag: 3 } })
    expect((await server.app.inject({ method: 'GET', url: '/v1/extra/default', headers: bearer('reader') })).statusCode).toBe(403)
    expect((await server.app.inject({ method: 'GET', url: '/v1/extra/default' })).statusCode).toBe(401)
    expect(JSON.parse((await server.app.inject({ method: 'GET', url: '/v1/extra/named/x1' })).body)).toEqual({ id: 'x1' })
    // the built-in routes are not in this directory, so only these two exist
    expect((await server.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(404)
  })

  test('the shipped routes directory holds one module per route group', () => {
    const files = readdirSync(ROUTES_DIR).filter((f) => f.endsWith('.ts')).sort()
    expect(files).toEqual(expect.arrayContaining(['docs.ts', 'events.ts', 'health.ts', 'metrics.ts', 'queries.ts']))
  })

  test('the OpenAPI document lists routes added by modules', async () => {
    routesDir = mkdtempSync(join(tmpdir(), 'devtrip-api-routes-'))
    writeFileSync(join(routesDir, 'docs.js'), `exports.default = require(${JSON.stringify(join(ROUTES_DIR, 'docs.ts'))}).default`)
    writeFileSync(join(routesDir, 'lag.js'), `exports.default = async (app) => { app.get('/v1/lag/:group', { config: { scopes: ['admin'], description: 'consumer lag' } }, async () => ({})) }`)
    server = await testServer({}, { routesDir })
    const doc = JSON.parse((await server.app.inject({ method: 'GET', url: '/docs/openapi.json' })).body)
    expect(doc.paths['/v1/lag/{group}'].get).toMatchObject({ summary: 'consumer lag', 'x-devtrip-scopes': ['admin'], parameters: [{ name: 'group', in: 'path' }] })
  })
})

test('token buckets: burst, then the steady rate, with the wait until the next request', () => {
  let now = 0
  const buckets = new TokenBuckets({ requestsPerSecond: 2, burst: 3 }, () => now)
  expect([buckets.take('a'), buckets.take('a'), buckets.take('a')]).toEqual([0, 0, 0])
  expect(buckets.take('a')).toBeCloseTo(0.5)
  expect(buckets.take('b')).toBe(0)
  now = 500
  expect(buckets.take('a')).toBe(0)
  expect(buckets.take('a')).toBeCloseTo(0.5)
  now = 60_000
  expect([buckets.take('a'), buckets.take('a'), buckets.take('a'), buckets.take('a') > 0]).toEqual([0, 0, 0, true])
  expect(new TokenBuckets({ requestsPerSecond: 0, burst: 1 }).take('x')).toBe(0)
})

describe('memory idempotency store', () => {
  const record = { fingerprint: 'f1', location: { topic: 't', partition: 1, offset: '5' }, acceptedAt: 1 }

  test('reserve → pending for others → complete → done; release frees; only the owner may settle', async () => {
    let now = 0
    const store = new MemoryIdempotencyStore(() => now)
    expect(await store.reserve(['a', 'b'], 'o1', 1000)).toEqual([{ status: 'reserved' }, { status: 'reserved' }])
    expect(await store.reserve(['a'], 'o2', 1000)).toEqual([{ status: 'pending' }])
    await store.complete([{ eventId: 'a', record }], 'o2', 5000) // not the owner: no effect
    expect(await store.reserve(['a'], 'o3', 1000)).toEqual([{ status: 'pending' }])
    await store.complete([{ eventId: 'a', record }], 'o1', 5000)
    expect(await store.reserve(['a'], 'o3', 1000)).toEqual([{ status: 'done', record }])
    await store.release(['b'], 'o2')
    expect(await store.reserve(['b'], 'o3', 1000)).toEqual([{ status: 'pending' }])
    await store.release(['b'], 'o1')
    expect(await store.reserve(['b'], 'o3', 1000)).toEqual([{ status: 'reserved' }])
    now = 1001 // b's reservation (o3) expired; a is kept for its retention
    expect(await store.reserve(['a', 'b'], 'o4', 1000)).toEqual([{ status: 'done', record }, { status: 'reserved' }])
    now = 6000
    expect(await store.reserve(['a'], 'o5', 1000)).toEqual([{ status: 'reserved' }])
  })
})
