/**
 * `bench engine --client a,b,c`: every run measures each client in turn, the order rotating from run to run; each
 * client's latency phase runs at half its own first throughput; the report's per-client figures are medians over
 * that client's runs. The engine runs are replaced by a stand-in (the real ones need a broker: bench/engine-run.ts),
 * which reports a throughput per client and run and records what rate the benchmark chose.
 */
import type { EngineRunOptions, EngineRunResult } from '../../bench/engine-run'

const calls: Array<{ label: string, client: string, rate: number }> = []
// events/s each client reports in runs 1, 2, 3
const THROUGHPUT: Record<string, number[]> = { platformatic: [60_000, 64_000, 62_000], kafkajs: [30_000, 34_000, 32_000], rdkafka: [50_000, 40_000, 45_000] }

jest.mock('../../bench/engine-run', () => ({
  runEngineOnce: async (options: EngineRunOptions): Promise<Partial<EngineRunResult>> => {
    const run = calls.filter((c) => c.client === options.client).length
    const eventsPerSec = (THROUGHPUT[options.client] as number[])[run] as number
    const rate = options.chooseRate(eventsPerSec)
    calls.push({ label: options.label, client: options.client, rate })
    return {
      eventsPerSec,
      commits: 10 + run,
      outputRecordsVerified: 1000,
      latency: { ratePerSec: rate, records: 1, sendDurationMs: 1, achievedRatePerSec: rate, maxSendLagMs: 0, latency: { p50Ms: eventsPerSec / 1000, p99Ms: eventsPerSec / 500, maxMs: eventsPerSec / 100 } as never }
    }
  }
}))

// imported after the mock is in place
import { resolveEngineBenchOptions, runEngineBench } from '../../bench/engine-bench'

beforeEach(() => { calls.length = 0 })

test('three clients, three runs: rotating order, each at half its own first throughput, medians per client', async () => {
  const options = resolveEngineBenchOptions({ runs: 3, ceiling: false })
  const report = await runEngineBench(options, { brokers: ['127.0.0.1:1'], clients: ['platformatic', 'kafkajs', 'rdkafka'], tools: null })
  expect(calls.map((c) => c.label)).toEqual([
    'run 1/3 platformatic', 'run 1/3 kafkajs', 'run 1/3 rdkafka',
    'run 2/3 kafkajs', 'run 2/3 rdkafka', 'run 2/3 platformatic',
    'run 3/3 rdkafka', 'run 3/3 platformatic', 'run 3/3 kafkajs'
  ])
  for (const c of calls) expect(c.rate).toBe({ platformatic: 30_000, kafkajs: 15_000, rdkafka: 25_000 }[c.client])
  expect(report.clients.map((c) => [c.client, c.eventsPerSec, c.relativeToFirst, c.latencyRate, c.p50Ms, c.outputRecordsVerified])).toEqual([
    ['platformatic', 62_000, 1, 30_000, 62, 3000],
    ['kafkajs', 32_000, 0.516, 15_000, 32, 3000],
    ['rdkafka', 45_000, 0.726, 25_000, 45, 3000]
  ])
  // the headline figures are the first client's
  expect(report.eventsPerSec).toBe(62_000)
  expect(report.config.client).toBe('platformatic')
  expect(report.config.clients).toEqual(['platformatic', 'kafkajs', 'rdkafka'])
  expect(report.runs.map((r) => r.client)).toEqual(calls.map((c) => c.client))
})

test('--rate gives every client the same rate; one client behaves as before; a client twice is refused', async () => {
  const same = await runEngineBench(resolveEngineBenchOptions({ runs: 1, ceiling: false, rate: 5000 }), { brokers: ['127.0.0.1:1'], clients: ['kafkajs', 'platformatic'], tools: null })
  expect(calls.map((c) => [c.client, c.rate])).toEqual([['kafkajs', 5000], ['platformatic', 5000]])
  expect(same.clients.map((c) => c.relativeToFirst)).toEqual([1, 2])
  calls.length = 0
  const one = await runEngineBench(resolveEngineBenchOptions({ runs: 2, ceiling: false }), { brokers: ['127.0.0.1:1'], tools: null })
  expect(calls.map((c) => c.label)).toEqual(['run 1/2', 'run 2/2'])
  expect(one.config.clients).toEqual(['platformatic'])
  expect(one.eventsPerSec).toBe(62_000)
  await expect(runEngineBench(resolveEngineBenchOptions({ runs: 1, ceiling: false }), { brokers: ['127.0.0.1:1'], clients: ['kafkajs', 'kafkajs'], tools: null }))
    .rejects.toMatchObject({ code: 'DEVTRIP_INVALID_OPTIONS' })
})
