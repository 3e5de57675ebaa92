/**
 * The README's quick start (`bin/devtrip-streams demo`) against the test broker: every catalog topic exists
 * afterwards, one event of every type makes the round trip through Kafka, and the whole pipeline (topologies,
 * ingest API, offline evaluator) turns the posted workload into balances, stats and mission results.
 */
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { kafkaBrokers, redisUrl } from '../support/infra-env'

const root = join(__dirname, '..', '..')

test('demo --json: topics, a round trip of all 25 types, and the pipeline from API to mission results', () => {
  const run = spawnSync(process.execPath, [join(root, 'bin', 'devtrip-streams'), 'demo', '--json'], {
    cwd: root,
    // no OPENAI_API_KEY: the demo must run on the offline evaluator
    env: { ...process.env, KAFKA_BROKERS: kafkaBrokers().join(','), REDIS_URL: redisUrl(), OPENAI_API_KEY: '', DEVTRIP_TOPIC_PREFIX: `demo-${process.pid}-` },
    encoding: 'utf8',
    timeout: 280_000
  })
  expect(run.stderr).toBe('')
  expect(run.status).toBe(0)
  const report = JSON.parse(run.stdout) as {
    ok: boolean
    topicsReady: number
    roundTrip: { produced: number, consumed: number, missing: string[], topics: Record<string, number> }
    pipeline: {
      posted: number
      users: Array<{ plan: string, balance: number, deducted: number, missionsCompleted: number, averageScore: number }>
      missionResults: Array<{ missionTitle: string, score: number, maxScore: number, attempts: number, evaluator: string }>
    }
  }
  expect(report.ok).toBe(true)
  expect(report.topicsReady).toBeGreaterThanOrEqual(18)
  expect(report.roundTrip).toMatchObject({ produced: 25, consumed: 25, missing: [] })
  expect(report.roundTrip.topics).toEqual({
    'auth-events': 8, 'user-events': 2, 'payment-events': 2, 'subscription-events': 2, 'mission-events': 6, 'evaluation-events': 5
  })
  // FREE signup grants 3, a PRO payment 100 and a BASIC one 30; each of the 3 missions deducts one ticket
  const byPlan = Object.fromEntries(report.pipeline.users.map((u) => [u.plan, u]))
  expect(byPlan.PRO).toMatchObject({ balance: 100, deducted: 3, missionsCompleted: 3 })
  expect(byPlan.BASIC).toMatchObject({ balance: 30, deducted: 3, missionsCompleted: 3 })
  expect(byPlan.FREE).toMatchObject({ balance: 0, deducted: 3, missionsCompleted: 3 })
  // 3 users × 3 missions, each evaluated once by the clearly labelled offline evaluator
  expect(report.pipeline.missionResults).toHaveLength(9)
  for (const result of report.pipeline.missionResults) {
    expect(result).toMatchObject({ attempts: 1, maxScore: 100, evaluator: expect.stringMatching(/^offline/) })
  }
  const scoreOf = (title: string): number[] => [...new Set(report.pipeline.missionResults.filter((r) => r.missionTitle === title).map((r) => r.score))]
  expect(scoreOf('Broken parser')).toEqual([0])
  expect(scoreOf('Sum of an array')[0]).toBeGreaterThan(scoreOf('FizzBuzz')[0]!)
}, 300_000)
