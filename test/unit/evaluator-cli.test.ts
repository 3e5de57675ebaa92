/**
 * `devtrip-streams evaluator …` without Kafka or Redis: `score` on files (offline evaluator, JSON and text,
 * language from the extension), and the usage errors of the service command (exit 2, one line and a hint).
 * Spawns bin/devtrip-streams, which builds dist/ when sources changed.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { evaluateOffline } from '../../evaluator'

const root = join(__dirname, '..', '..')
const bin = join(root, 'bin', 'devtrip-streams')

interface Run { code: number | null, stdout: string, stderr: string }

/** no key and no provider from the caller's environment: the offline evaluator answers */
function cli (args: string[]): Run {
  const env = { ...process.env, OPENAI_API_KEY: '', EVALUATOR_PROVIDER: '', KAFKA_BROKERS: '', REDIS_URL: '' }
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 170_000, env })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

let work: string

beforeAll(() => {
  const warm = cli(['evaluator', '--help'])
  if (warm.code !== 0) throw new Error(`devtrip-streams did not start: ${warm.stderr}`)
  work = mkdtempSync(join(tmpdir(), 'devtrip-evaluator-cli-'))
}, 180_000)

afterAll(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true })
})

test('score --json: the offline verdict, with the language taken from the extension', () => {
  const code = 'var x = 1\nfunction f (a) { if (a == 2) { console.log(a) } return a }\nmodule.exports = f\n'
  const file = join(work, 'solution.js')
  writeFileSync(file, code)
  const r = cli(['evaluator', 'score', file, '--json', '--title', 'Two Sum'])
  expect(r.code).toBe(0)
  expect(JSON.parse(r.stdout)).toEqual({ evaluator: 'offline-heuristic/1', language: 'javascript', ...evaluateOffline({ missionTitle: 'Two Sum', language: 'javascript', code }) })
})

test('score prints the score line and the feedback; --language overrides the extension', () => {
  const file = join(work, 'main.txt')
  writeFileSync(file, 'def f(x):\n    return (x + 1\n')
  const r = cli(['evaluator', 'score', file, '--language', 'python'])
  expect(r.code).toBe(0)
  expect(r.stdout.split('\n')[0]).toBe('offline-heuristic/1: score 80/100  syntax 60  bestPractices 100')
  expect(r.stdout).toContain('generic check for python')
})

test.each([
  [['evaluator', 'score', '/nonexistent/file.js'], /^error: cannot read \/nonexistent\/file\.js/],
  [['evaluator', '--concurrency', '0', '--brokers', '127.0.0.1:1', '--redis-url', 'redis://127.0.0.1:1'], /^error: --concurrency must be a positive integer, got "0"/],
  [['evaluator', '--no-intake', '--no-workers', '--brokers', '127.0.0.1:1', '--redis-url', 'redis://127.0.0.1:1'], /^error: --no-intake and --no-workers together leave nothing to run/],
  [['evaluator', '--provider', 'openai', '--brokers', '127.0.0.1:1', '--redis-url', 'redis://127.0.0.1:1'], /^error: invalid evaluator configuration: \/provider is "openai" but no API key is configured/],
  [['evaluator', 'score', 'x.js', '--provider', 'gpt'], /^error: --provider must be auto, openai or offline/]
])('bad usage %j exits 2 with one line and a hint', (args, message) => {
  const r = cli(args)
  expect(r.code).toBe(2)
  expect(r.stderr).toMatch(message)
  expect(r.stderr.split('\n')[1]).toMatch(/^ {2}→ /)
})
