/**
 * `devtrip-streams events …` end to end: spawns bin/devtrip-streams (which builds dist/ when sources changed)
 * and checks output and exit codes — 0 all valid, 1 some invalid, 2 unreadable input or bad usage.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { EVENT_TYPES, sampleEvent } from '../../events'

const root = join(__dirname, '..', '..')
const bin = join(root, 'bin', 'devtrip-streams')
const fixtures = join(root, 'test', 'fixtures', 'events')

interface Run { code: number | null, stdout: string, stderr: string }

function cli (args: string[], input?: string): Run {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, input, encoding: 'utf8', timeout: 170_000 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

let work: string

beforeAll(() => {
  // the first run may compile the project; do it once here rather than inside a timed test
  const warm = cli(['events', 'list', '--json'])
  if (warm.code !== 0) throw new Error(`devtrip-streams did not start: ${warm.stderr}`)
  work = mkdtempSync(join(tmpdir(), 'devtrip-events-cli-'))
}, 180_000)

afterAll(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true })
})

describe('events list', () => {
  it('--json lists all 25 types with topic, producer, consumers and schema id', () => {
    const r = cli(['events', 'list', '--json'])
    expect(r.code).toBe(0)
    const rows = JSON.parse(r.stdout) as Array<Record<string, unknown>>
    expect(rows.map((row) => row.type)).toEqual([...EVENT_TYPES])
    expect(rows.find((row) => row.type === 'EvaluationCompleted')).toMatchObject({
      topic: 'evaluation-events',
      producer: 'ai-evaluation-service',
      consumers: ['mission-service', 'auth-service', 'user-management-service', 'payment-service'],
      schemaId: 'https://devtrip.dev/schemas/EvaluationCompleted/1.json'
    })
  })

  it('prints a table without --json, and filters by topic', () => {
    const r = cli(['events', 'list', '--topic', 'subscription-events'])
    expect(r.code).toBe(0)
    const lines = r.stdout.trim().split('\n')
    expect(lines[0]).toMatch(/^type\s+topic\s+producer\s+consumers\s+required\s+schema$/)
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['PlanUpgraded', 'PlanDowngraded'])
    expect(cli(['events', 'list', '--topic', 'mission.completed']).code).toBe(2)
  })
})

describe('events validate', () => {
  it('exits 0 for a valid file and names type and key', () => {
    const r = cli(['events', 'validate', join(fixtures, 'seed', 'MissionCompleted.json')])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('ok    [0] MissionCompleted key=123')
    expect(r.stdout).toContain('1 event(s): 1 valid, 0 invalid')
  })

  it('needs --type for the §5.2 body, which names no type', () => {
    const file = join(fixtures, 'seed', 'UserSignedUp.json')
    expect(cli(['events', 'validate', file]).code).toBe(1)
    expect(cli(['events', 'validate', '--type', 'UserSignedUpEvent', file]).code).toBe(0)
  })

  it('reads an array from stdin and prints index, pointer and reason for each error; exit 1', () => {
    const events = [sampleEvent('PaymentCompleted'), { ...sampleEvent('UserLoggedIn'), email: 'nope', userId: 0 }, 42]
    const r = cli(['events', 'validate', '-'], JSON.stringify(events))
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('ok    [0] PaymentCompleted')
    expect(r.stdout).toContain('FAIL  [1] UserLoggedIn')
    expect(r.stdout).toContain('[1] /email: must be an email address, got "nope"')
    expect(r.stdout).toContain('[1] /userId: must be a positive integer, got 0')
    expect(r.stdout).toContain('[2] (event): must be a JSON object (one event), got integer')
    expect(r.stdout).toContain('3 event(s): 1 valid, 2 invalid')
  })

  it('--json prints a machine-readable report', () => {
    const file = join(work, 'two.json')
    writeFileSync(file, JSON.stringify([sampleEvent('MissionStarted', { userId: 9 }), { ...sampleEvent('MissionStarted'), missionId: '' }]))
    const r = cli(['events', 'validate', '--json', file])
    expect(r.code).toBe(1)
    expect(JSON.parse(r.stdout)).toEqual({
      valid: false,
      total: 2,
      validCount: 1,
      invalidCount: 1,
      results: [
        { index: 0, ok: true, eventType: 'MissionStarted', key: '9' },
        { index: 1, ok: false, eventType: 'MissionStarted', errors: [{ pointer: '/missionId', message: 'must not be empty' }] }
      ]
    })
  })

  it('--lines validates NDJSON and reports a broken line as an invalid event', () => {
    const input = [JSON.stringify(sampleEvent('PasswordChanged')), '', '{"oops"', JSON.stringify(sampleEvent('AccountLocked'))].join('\n')
    const r = cli(['events', 'validate', '--lines', '--json', '-'], input)
    expect(r.code).toBe(1)
    const report = JSON.parse(r.stdout) as { results: Array<{ index: number, line: number, ok: boolean }> }
    expect(report.results.map((x) => [x.index, x.line, x.ok])).toEqual([[0, 1, true], [1, 3, false], [2, 4, true]])
  })

  it('exits 2 for unreadable input or bad usage, with one error line and a hint on stderr', () => {
    const missing = cli(['events', 'validate', join(work, 'missing.json')])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/^error: cannot read .*missing\.json/)
    expect(missing.stderr).toMatch(/→ pass a readable JSON file/)
    const broken = cli(['events', 'validate', '-'], '{"userId": 1,')
    expect(broken.code).toBe(2)
    expect(broken.stderr).toMatch(/^error: stdin is not valid JSON/)
    expect(cli(['events', 'validate', '-'], '   ').code).toBe(2)
    const badType = cli(['events', 'validate', '--type', 'auth.*', '-'], '{}')
    expect(badType.code).toBe(2)
    expect(badType.stderr).toMatch(/unknown event type "auth\.\*"/)
    expect(cli(['events', 'validate']).code).toBe(2)
  })
})

describe('events topics, schema, sample', () => {
  it('topics --json --role dlq lists one DLQ per domain topic', () => {
    const r = cli(['events', 'topics', '--json', '--role', 'dlq'])
    expect(r.code).toBe(0)
    expect((JSON.parse(r.stdout) as Array<{ name: string }>).map((t) => t.name)).toEqual([
      'auth-events.dlq', 'user-events.dlq', 'payment-events.dlq', 'subscription-events.dlq', 'mission-events.dlq', 'evaluation-events.dlq'
    ])
    expect(cli(['events', 'topics', '--role', 'nope']).code).toBe(2)
  })

  it('schema prints a standalone draft 2020-12 document', () => {
    const r = cli(['events', 'schema', 'evaluation.completed'])
    expect(r.code).toBe(0)
    const schema = JSON.parse(r.stdout) as Record<string, unknown>
    expect(schema).toMatchObject({ $id: 'https://devtrip.dev/schemas/EvaluationCompleted/1.json', title: 'EvaluationCompleted' })
    expect(schema.required).toEqual(['evaluationId', 'missionAttemptId', 'userId', 'score', 'feedback'])
  })

  it('sample output validates, and the same seed prints the same events', () => {
    const a = cli(['events', 'sample', '--count', '5', '--seed', '9', '--lines'])
    expect(a.code).toBe(0)
    expect(cli(['events', 'sample', '--count', '5', '--seed', '9', '--lines']).stdout).toBe(a.stdout)
    expect(cli(['events', 'validate', '--lines', '-'], a.stdout).code).toBe(0)
    expect(cli(['events', 'sample', '--count', '0']).code).toBe(2)
  })
})
