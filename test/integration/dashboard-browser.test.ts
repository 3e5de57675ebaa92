/**
 * The dashboard in a real headless Chromium (Debian's `chromium`, driven by playwright-core) against the API
 * server with a real lag service on the broker: the page loads, asks for nothing when the token comes in the URL
 * fragment, shows the groups, and — live over server-sent events, without reloading — shows lag growing while a
 * group's consumer is stopped and records keep coming, then shrinking after it resumes. The DLQ table and the
 * restore progress (from an in-process metrics registry) are on the page too. A screenshot is saved to
 * test-artifacts/dashboard.png (and copied to docs/images/dashboard.png with UPDATE_DOCS_SCREENSHOT=1).
 */
import { execSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { chromium, type Browser, type Page } from 'playwright-core'
import { Registry } from 'prom-client'
import { buildDlqRecord } from '../../streams/error-handling'
import type { KafkaAdmin, KafkaClientFactory, KafkaProducer } from '../../streams/kafka'
import { StreamsMetrics } from '../../streams/runtime/metrics'
import { StreamsOverview } from '../../streams/tools'
import { testServer } from '../unit/api-fakes'
import { eventually, kafkaClients, root, ToggleConsumer, unique } from './lag-kit'

jest.setTimeout(300_000)

const CHROMIUM = '/usr/bin/chromium'
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

/** Installs Debian's chromium when it is missing and we may (root). */
function ensureChromium (): void {
  if (existsSync(CHROMIUM)) return
  if (process.getuid?.() !== 0) throw new Error(`${CHROMIUM} is missing; install it: apt-get install -y chromium`)
  try {
    execSync('apt-get install -y chromium', { stdio: 'ignore', timeout: 600_000 })
  } catch {
    execSync('apt-get update && apt-get install -y chromium', { stdio: 'ignore', timeout: 600_000 })
  }
}

let kafka: KafkaClientFactory
let admin: KafkaAdmin
let overview: StreamsOverview
let app: FastifyInstance
let browser: Browser
let producer: KafkaProducer
const prefix = unique('dash') + '-'
const topics: string[] = []
const consumers: ToggleConsumer[] = []

beforeAll(async () => {
  ensureChromium()
  kafka = kafkaClients('dashboard-test')
  admin = kafka.createAdmin()
  producer = kafka.createProducer()
})

afterAll(async () => {
  await Promise.allSettled(consumers.map((c) => c.stop()))
  await browser?.close()
  await app?.close()
  await overview?.close()
  await producer.close()
  await admin.deleteTopics(topics).catch(() => undefined)
  await admin.close()
})

/** The numbers a group's panel shows (text content of its stats). */
async function panelLag (page: Page, group: string): Promise<number | null> {
  const text = await page.locator(`article[data-group="${group}"] .stat:first-child .value`).textContent({ timeout: 5000 }).catch(() => null)
  if (text === null || text === '–') return null
  return Number(text.replace(/,/g, ''))
}

test('the dashboard shows the groups and follows lag up and down live', async () => {
  const orders = `${prefix}orders`
  const payments = `${prefix}payments`
  const dlq = `${orders}.dlq`
  await admin.createTopics([orders, payments, dlq].map((name) => ({ name, partitions: 3, replicationFactor: 1 })))
  topics.push(orders, payments, dlq)
  const billing = `${prefix}billing-app`
  const ledger = `${prefix}ledger-app`
  const fill = (topic: string, n: number): Promise<unknown> => producer.send(Array.from({ length: n }, (_, i) => ({ topic, key: Buffer.from(`user-${i % 17}`), value: Buffer.from(JSON.stringify({ i })) })))
  await fill(orders, 300)
  await fill(payments, 120)
  // two dead letters, written the way the engine writes them
  await producer.send([0, 1].map((i) => buildDlqRecord({
    dlqTopic: dlq,
    source: { topic: orders, partition: i, record: { offset: BigInt(i), timestamp: Date.now() - 90_000, key: Buffer.from(`user-${i}`), value: Buffer.from('{"amount":-1}'), headers: [] } },
    error: Object.assign(new Error('amount must be >= 0, got -1'), { name: 'ValidationError' }),
    applicationId: billing,
    taskId: `0_${i}`,
    processor: 'KSTREAM-SOURCE-0000000000'
  })))
  const billingConsumer = new ToggleConsumer(kafka, billing, orders, 200)
  const ledgerConsumer = new ToggleConsumer(kafka, ledger, payments, 200)
  // a third application that stops for good halfway: it stays behind, in colour, on the screenshot
  const analytics = `${prefix}analytics-app`
  const analyticsConsumer = new ToggleConsumer(kafka, analytics, orders, 200)
  consumers.push(billingConsumer, ledgerConsumer, analyticsConsumer)
  billingConsumer.start()
  ledgerConsumer.start()
  analyticsConsumer.start()

  // the stream apps' own metrics, as a process running them (and the API) would have: one store restoring
  const registry = new Registry()
  const metrics = new StreamsMetrics(registry)
  metrics.restoredRecords.inc({ application_id: billing, store: 'order-totals' }, 7200)
  metrics.restoreRemaining.set({ application_id: billing, store: 'order-totals', partition: '0' }, 2800)
  metrics.restoredRecords.inc({ application_id: ledger, store: 'balances' }, 1500)
  metrics.restoreRemaining.set({ application_id: ledger, store: 'balances', partition: '0' }, 0)

  overview = new StreamsOverview(kafka, { lag: { groupPrefix: prefix }, intervalMs: 1000, dlqPrefix: prefix, dlqIntervalMs: 2000, metricsRegistry: registry })
  app = (await testServer({}, { lag: overview })).app
  const address = await app.listen({ host: '127.0.0.1', port: 0 })

  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
  const page = await browser.newPage({ viewport: { width: 1366, height: 768 } })
  const consoleErrors: string[] = []
  page.on('pageerror', (error) => consoleErrors.push(error.message))
  page.on('console', (message) => { if (message.type() === 'error') consoleErrors.push(message.text()) })

  // without a token the page asks for one
  await page.goto(`${address}/dashboard`)
  await page.locator('#login').waitFor({ state: 'visible' })
  // a wrong token is refused with the API's message
  await page.fill('#token', 'not-a-token')
  await page.click('#login-form button')
  await eventually(async () => expect(await page.locator('#login-error').textContent()).toContain('not valid'))
  // the browser logs that refused request (401) as an error; from here on nothing may fail
  consoleErrors.length = 0

  await page.goto(`${address}/dashboard/#token=secret-reader`)
  await page.locator(`article[data-group="${billing}"]`).waitFor({ timeout: 30_000 })
  await page.locator(`article[data-group="${ledger}"]`).waitFor({ timeout: 30_000 })
  // the token left the address bar
  expect(page.url()).toBe(`${address}/dashboard/`)
  await page.evaluate(() => { (globalThis as unknown as { marker: number }).marker = 42 })

  // both consumers catch up
  await eventually(async () => {
    expect(await panelLag(page, billing)).toBe(0)
    expect(await panelLag(page, ledger)).toBe(0)
    expect(await panelLag(page, analytics)).toBe(0)
  }, 60_000)

  // billing's consumer stops while records keep coming: its lag grows on the page
  await billingConsumer.stop()
  await analyticsConsumer.stop()
  const seen: number[] = []
  for (let round = 0; round < 8; round++) {
    await fill(orders, 60)
    await new Promise((resolve) => setTimeout(resolve, 700))
    const lag = await panelLag(page, billing)
    if (lag !== null) seen.push(lag)
  }
  await eventually(async () => expect(await panelLag(page, billing)).toBe(480), 30_000)
  seen.push(480)
  // it grew step by step (never shrank while stopped), and the page shows the stalled group in colour
  expect(seen.some((v) => v > 0 && v < 480)).toBe(true)
  expect([...seen].sort((a, b) => a - b)).toEqual(seen)
  expect(await page.locator(`article[data-group="${billing}"] .bars .fill:not(.zero)`).count()).toBeGreaterThan(0)
  expect(await page.locator(`article[data-group="${billing}"] .stat:nth-child(6) .value`).textContent()).toMatch(/stalled|not gaining/)

  // it resumes: the lag shrinks back to zero, the ETA and throughput show it
  billingConsumer.start()
  await eventually(async () => expect(await panelLag(page, billing)).toBe(0), 60_000)
  // a little more traffic so the charts show throughput on both groups
  for (let round = 0; round < 4; round++) {
    await fill(orders, 40)
    await fill(payments, 25)
    await new Promise((resolve) => setTimeout(resolve, 900))
  }
  await eventually(async () => expect(await panelLag(page, billing)).toBe(0), 60_000)
  await new Promise((resolve) => setTimeout(resolve, 2500))

  // the same page all along: updates came over the event stream, not reloads
  expect(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker)).toBe(42)
  // the DLQ table and the restore progress
  const dlqText = await page.locator('#dlq').textContent()
  expect(dlqText).toContain(dlq)
  expect(dlqText).toContain('ValidationError ×2')
  expect(dlqText).toContain('amount must be >= 0, got -1')
  expect(await page.locator(`article[data-group="${billing}"] .restore-line`).textContent()).toContain('72% restored')
  expect(await page.locator('a[href="/admin/queues"]').count()).toBe(1)
  expect(await page.locator('#status-text').textContent()).toMatch(/^live/)
  expect(consoleErrors).toEqual([])

  // steady traffic while the screenshot is taken, so the charts show throughput
  let traffic = true
  const trafficLoop = (async () => {
    while (traffic) {
      await fill(orders, 25)
      await fill(payments, 12)
      await new Promise((resolve) => setTimeout(resolve, 400))
    }
  })()
  await new Promise((resolve) => setTimeout(resolve, 8000))
  const artifacts = join(root, 'test-artifacts')
  mkdirSync(artifacts, { recursive: true })
  const shot = join(artifacts, 'dashboard.png')
  await page.screenshot({ path: shot, fullPage: false })
  traffic = false
  await trafficLoop
  expect(existsSync(shot)).toBe(true)
  // the README's picture is refreshed on purpose (UPDATE_DOCS_SCREENSHOT=1), not by every test run
  if (process.env.UPDATE_DOCS_SCREENSHOT === '1') {
    mkdirSync(join(root, 'docs', 'images'), { recursive: true })
    copyFileSync(shot, join(root, 'docs', 'images', 'dashboard.png'))
  }
})

test('GET /v1/lag needs a token with the read scope and returns the lag JSON', async () => {
  const denied = await app.inject({ method: 'GET', url: '/v1/lag' })
  expect(denied.statusCode).toBe(401)
  const forbidden = await app.inject({ method: 'GET', url: '/v1/lag', headers: { authorization: 'Bearer secret-auth-service' } })
  expect(forbidden.statusCode).toBe(403)
  const ok = await app.inject({ method: 'GET', url: `/v1/lag?group=${prefix}billing-app`, headers: { authorization: 'Bearer secret-reader' } })
  expect(ok.statusCode).toBe(200)
  const body = ok.json() as { groups: Array<{ groupId: string, partitions: Array<{ committedOffset: string, logEndOffset: string, lag: string }> }> }
  expect(body.groups.map((g) => g.groupId)).toEqual([`${prefix}billing-app`])
  for (const p of body.groups[0]!.partitions) expect(BigInt(p.lag)).toBe(BigInt(p.logEndOffset) - BigInt(p.committedOffset))
  const asset = await app.inject({ method: 'GET', url: '/dashboard/../package.json' })
  expect(asset.statusCode).toBe(404)
})
