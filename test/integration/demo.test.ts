/**
 * The README's quick start (`bin/devtrip-streams demo`) against the test broker: every catalog topic exists
 * afterwards and one event of every type makes the round trip through Kafka.
 */
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { kafkaBrokers, redisUrl } from '../support/infra-env'

const root = join(__dirname, '..', '..')

test('demo --json creates the topics and round-trips one event of each of the 25 types', () => {
  const run = spawnSync(process.execPath, [join(root, 'bin', 'devtrip-streams'), 'demo', '--json'], {
    cwd: root,
    env: { ...process.env, KAFKA_BROKERS: kafkaBrokers().join(','), REDIS_URL: redisUrl() },
    encoding: 'utf8',
    timeout: 180_000
  })
  expect(run.stderr).toBe('')
  expect(run.status).toBe(0)
  const report = JSON.parse(run.stdout) as { ok: boolean, produced: number, consumed: number, missing: string[], topicsReady: number, topics: Record<string, number> }
  expect(report).toMatchObject({ ok: true, produced: 25, consumed: 25, missing: [] })
  expect(report.topicsReady).toBeGreaterThanOrEqual(18)
  expect(report.topics).toEqual({
    'auth-events': 8, 'user-events': 2, 'payment-events': 2, 'subscription-events': 2, 'mission-events': 6, 'evaluation-events': 5
  })
}, 200_000)
