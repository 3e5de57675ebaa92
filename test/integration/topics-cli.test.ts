/**
 * `devtrip-streams topics apply|list` end to end against a real broker (KAFKA_BROKERS from the jest global
 * setup): spawns bin/devtrip-streams, which builds dist/ when sources changed. Every run uses its own topic
 * prefix, so the shared catalog names on a shared broker are never touched.
 */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { TOPIC_CATALOG } from '../../events/topics'
import { createKafkaClients, type KafkaAdmin } from '../../streams/kafka'

jest.setTimeout(120_000)

const root = join(__dirname, '..', '..')
const bin = join(root, 'bin', 'devtrip-streams')
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',').map((b) => b.trim()).filter((b) => b !== '')
const run = randomBytes(4).toString('hex')

interface Run { code: number | null, stdout: string, stderr: string }

function cli (args: string[], env: Record<string, string> = {}): Run {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 170_000,
    env: { ...process.env, KAFKA_BROKERS: brokers.join(','), ...env }
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

interface ApplyReport {
  prefix: string
  topics: Array<{ name: string, role: string, status: string, partitions: { wanted: number, actual: number }, cleanupPolicy: { wanted: string, actual: string } }>
  summary: { created: number, existing: number, mismatched: number }
}

let admin: KafkaAdmin
const prefixes: string[] = []

function prefix (what: string): string {
  const p = `tcli-${run}-${what}-`
  prefixes.push(p)
  return p
}

beforeAll(() => {
  admin = createKafkaClients({ brokers }).createAdmin()
  // the first run may compile the project; do it once here rather than inside a timed test
  const warm = cli(['topics', '--help'])
  if (warm.code !== 0) throw new Error(`devtrip-streams did not start: ${warm.stderr}`)
}, 180_000)

afterAll(async () => {
  const topics = (await admin.listTopics()).filter((t) => prefixes.some((p) => t.startsWith(p)))
  await admin.deleteTopics(topics).catch(() => undefined)
  await admin.close()
})

test('apply creates every catalog topic once; a second apply finds them all existing', () => {
  const p = prefix('twice')
  const first = cli(['topics', 'apply', '--prefix', p, '--json'])
  expect(first.code).toBe(0)
  const report = JSON.parse(first.stdout) as ApplyReport
  expect(report.prefix).toBe(p)
  expect(report.topics.map((t) => t.name)).toEqual(TOPIC_CATALOG.map((t) => p + t.name))
  expect(report.topics.every((t) => t.status === 'created')).toBe(true)
  expect(report.summary).toEqual({ created: TOPIC_CATALOG.length, existing: 0, mismatched: 0 })

  const second = cli(['topics', 'apply', '--prefix', p, '--json'])
  expect(second.code).toBe(0)
  const again = JSON.parse(second.stdout) as ApplyReport
  expect(again.summary).toEqual({ created: 0, existing: TOPIC_CATALOG.length, mismatched: 0 })
  for (const [i, spec] of TOPIC_CATALOG.entries()) {
    expect(again.topics[i]).toMatchObject({
      name: p + spec.name,
      status: 'existing',
      role: spec.role,
      partitions: { wanted: spec.partitions, actual: spec.partitions },
      cleanupPolicy: { wanted: spec.cleanupPolicy, actual: spec.cleanupPolicy }
    })
  }

  const text = cli(['topics', 'apply', '--prefix', p])
  expect(text.code).toBe(0)
  expect(text.stdout).toContain(`0 created, ${TOPIC_CATALOG.length} already existed, 0 mismatched`)
})

test('list --json shows partitions, cleanup policy and role (catalog, changelog, dlq, unknown)', async () => {
  const p = prefix('list')
  expect(cli(['topics', 'apply', '--prefix', p, '--partitions', '2']).code).toBe(0)
  await admin.createTopics([
    { name: `${p}my-app-counts-store-changelog`, partitions: 2, replicationFactor: 1, configs: { 'cleanup.policy': 'compact' } },
    { name: `${p}scratch`, partitions: 1, replicationFactor: 1 }
  ])
  const r = cli(['topics', 'list', '--prefix', p, '--json'])
  expect(r.code).toBe(0)
  const rows = JSON.parse(r.stdout) as Array<{ name: string, partitions: number, cleanupPolicy: string, role: string }>
  const byName = new Map(rows.map((row) => [row.name, row]))
  expect(rows).toHaveLength(TOPIC_CATALOG.length + 2)
  for (const spec of TOPIC_CATALOG) {
    expect(byName.get(p + spec.name)).toEqual({ name: p + spec.name, partitions: 2, cleanupPolicy: spec.cleanupPolicy, role: spec.role })
  }
  expect(byName.get(`${p}user-stats`)).toMatchObject({ cleanupPolicy: 'compact', role: 'table' })
  expect(byName.get(`${p}auth-events.dlq`)).toMatchObject({ role: 'dlq' })
  expect(byName.get(`${p}my-app-counts-store-changelog`)).toEqual({ name: `${p}my-app-counts-store-changelog`, partitions: 2, cleanupPolicy: 'compact', role: 'changelog' })
  expect(byName.get(`${p}scratch`)).toEqual({ name: `${p}scratch`, partitions: 1, cleanupPolicy: 'delete', role: 'unknown' })
})

test('an existing topic with another partition count is a mismatch: exit 1 naming the topic and both counts', async () => {
  const p = prefix('mismatch')
  await admin.createTopics([{ name: `${p}user-stats`, partitions: 2, replicationFactor: 1, configs: { 'cleanup.policy': 'compact' } }])
  const r = cli(['topics', 'apply', '--prefix', p, '--json'])
  expect(r.code).toBe(1)
  expect(r.stderr).toMatch(new RegExp(`error: 1 mismatched topic: topic ${p}user-stats has 2 partitions, wanted 6`))
  const report = JSON.parse(r.stdout) as ApplyReport
  expect(report.summary).toEqual({ created: TOPIC_CATALOG.length - 1, existing: 0, mismatched: 1 })
  expect(report.topics.find((t) => t.name === `${p}user-stats`)).toMatchObject({ status: 'mismatched', partitions: { wanted: 6, actual: 2 } })
  // the mismatched topic was left alone
  expect((await admin.describeTopics([`${p}user-stats`]))[0]!.partitions).toHaveLength(2)
})

test('no broker address anywhere: exit 1 with the infra hint; bad usage: exit 2', () => {
  const empty = mkdtempSync(join(tmpdir(), 'devtrip-topics-cli-'))
  try {
    const r = cli(['topics', 'list'], { KAFKA_BROKERS: '', DEVTRIP_LOCAL_DIR: empty })
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('no Kafka broker address')
    expect(r.stderr).toContain('run `bin/devtrip-streams infra up` first')
  } finally {
    rmSync(empty, { recursive: true, force: true })
  }
  expect(cli(['topics', 'apply', '--partitions', '0']).code).toBe(2)
  expect(cli(['topics', 'apply', '--prefix', 'bad prefix!']).code).toBe(2)
  expect(cli(['topics', 'list', '--brokers', 'nonsense']).code).toBe(2)
})
