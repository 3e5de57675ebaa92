/**
 * A small chaos run (docs/reliability.md): `bin/devtrip-streams chaos` with its own broker, about 20,000 records,
 * two pipeline processes and three SIGKILLs. Every output is checked against the independent model; the verdict
 * must be ALL-RECORDS-DELIVERED. (The big run with the broker restart is recorded in docs/reliability.md.)
 * Runs once per Kafka client adapter in $CHAOS_TEST_CLIENTS (comma list; default platformatic; `npm test` runs all
 * three): the pipeline processes and the harness use that adapter.
 */
import { spawn } from 'node:child_process'
import { join } from 'node:path'

const root = join(__dirname, '..', '..')

interface Report {
  events: number
  kills: number
  duplicates: number
  missing: number
  mismatches: number
  unexpected: number
  dlqExpected: number
  dlqActual: number
  openTransactions: number
  maxRestoredRecords: number
  verdict: string
  examples: unknown[]
  details: { restores: { fullRestoresOfOwnTasks: number }, input: { lost: number } }
}

const CLIENTS = (process.env.CHAOS_TEST_CLIENTS ?? 'platformatic').split(',').map((c) => c.trim()).filter((c) => c !== '')

test.each(CLIENTS)('20,000 records, 2 instances, 3 kills, client %s: every output exactly once and equal to the model', async (client) => {
  const args = ['chaos', '--events', '20000', '--instances', '2', '--kills', '3', '--seed', '20240101', '--client', client, '--json']
  const child = spawn(process.execPath, [join(root, 'bin', 'devtrip-streams'), ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  if (code !== 0) process.stderr.write(`chaos progress:\n${stderr.split('\n').slice(-30).join('\n')}\n`)
  const report = JSON.parse(stdout) as Report
  expect(report.examples).toEqual([])
  expect(report).toMatchObject({
    events: 20_000, kills: 3, duplicates: 0, missing: 0, mismatches: 0, unexpected: 0, openTransactions: 0, verdict: 'ALL-RECORDS-DELIVERED'
  })
  expect(report.dlqActual).toBe(report.dlqExpected)
  expect(report.dlqExpected).toBeGreaterThan(0)
  expect(report.details.restores.fullRestoresOfOwnTasks).toBe(0)
  expect(report.details.input.lost).toBe(0)
  expect(code).toBe(0)
}, 330_000)
