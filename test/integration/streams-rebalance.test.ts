/**
 * Two instances of one app (two child processes) sharing the input:
 *   - both get partitions, and every record is counted exactly once across them;
 *   - a zombie: one instance is frozen (SIGSTOP) with records of an open transaction, past the session timeout, so
 *     the group moves its partitions to the other; when it thaws (SIGCONT) its commit is refused (migrated) or its
 *     partitions are reported lost — it aborts, rejoins, and the committed output has no duplicate.
 * Runs with every adapter in STREAMS_TEST_CLIENTS (default "platformatic,kafkajs"): with kafkajs the zombie is
 * fenced by the per-task transactional ids its successor initialized, not by the group generation.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { kafkaBrokers } from '../support/infra-env'
import {
  COUNT_STORE, countsByKey, expectedCounts, KafkaKit, keyedInputs, sleep, STREAMS_TEST_CLIENTS, StreamsChild, StreamsChildren, uniqueName,
  waitUntil, type ChildConfig
} from '../support/streams-test-kit'

jest.setTimeout(180_000)

const PARTITIONS = 4
let kit: KafkaKit
const children = new StreamsChildren()
const dirs: string[] = []

const inputs = (from: number, n: number, keys: number): Array<{ key: string, value: string }> => keyedInputs(from, n, keys, { key: 'user', value: 'event' })

function owned (child: StreamsChild): string[] {
  const assigned = child.last('rebalance')
  return assigned?.phase === 'assigned' ? assigned.partitions as string[] : []
}

beforeAll(() => {
  kit = new KafkaKit(kafkaBrokers())
})

afterAll(async () => {
  await children.stopAll()
  await kit.cleanup()
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

test.each(STREAMS_TEST_CLIENTS)('%s: two instances share the partitions; a frozen zombie is fenced and leaves no duplicate', async (client) => {
  const input = await kit.createTopic(uniqueName('rb-in'), PARTITIONS)
  const output = await kit.createTopic(uniqueName('rb-out'), PARTITIONS)
  const applicationId = uniqueName('rb-app')
  kit.track(`${applicationId}-${COUNT_STORE}-changelog`, `${input}.dlq`)
  const config = (name: string): ChildConfig => {
    const stateDir = mkdtempSync(join(tmpdir(), `devtrip-streams-${name}-`))
    dirs.push(stateDir)
    return {
      brokers: kit.brokers,
      applicationId,
      input,
      output,
      stateDir,
      client,
      commitIntervalMs: 2000,
      sessionTimeoutMs: 6000,
      heartbeatIntervalMs: 500,
      transactionTimeoutMs: 30_000,
      producerBatchRecords: 10
    }
  }

  const a = children.start(config('a'))
  await a.waitFor('instance A running', (c) => c.last('state')?.to === 'RUNNING')
  const b = children.start(config('b'))
  await waitUntil('both instances own partitions', () => owned(a).length > 0 && owned(b).length > 0 && owned(a).length + owned(b).length === PARTITIONS &&
    a.last('state')?.to === 'RUNNING' && b.last('state')?.to === 'RUNNING', 60_000)
  expect(new Set([...owned(a), ...owned(b)]).size).toBe(PARTITIONS)

  const first = inputs(0, 800, 40)
  await kit.produce(input, first)
  await waitUntil('the first batch committed', async () => (await kit.committedTotal(applicationId)) === first.length, 60_000)
  // the broker can show the commit before the child's own commit event reached us over its stdout
  await waitUntil('both instances reported their commits', () => a.lastNumber('commit', 'processed') + b.lastNumber('commit', 'processed') === first.length, 30_000)
  expect(a.lastNumber('commit', 'processed')).toBeGreaterThan(0)
  expect(b.lastNumber('commit', 'processed')).toBeGreaterThan(0)
  expect(a.lastNumber('commit', 'processed') + b.lastNumber('commit', 'processed')).toBe(first.length)

  // freeze A while it holds processed records in an open transaction
  const aCommitted = a.lastNumber('commit', 'processed')
  const second = inputs(800, 800, 40)
  await kit.produce(input, second)
  await a.waitFor('A processing uncommitted records', (c) => c.lastNumber('progress', 'processed') > aCommitted && c.lastNumber('commit', 'processed') === aCommitted, 30_000)
  a.signal('SIGSTOP')
  const aPartitions = owned(a)
  // past the session timeout the group gives A's partitions to B, which restores them and reprocesses A's records
  await b.waitFor('B owning every partition', (c) => owned(c).length === PARTITIONS, 30_000)
  await waitUntil('the second batch committed by B', async () => (await kit.committedTotal(applicationId)) === first.length + second.length, 60_000)
  expect(aPartitions.length).toBeGreaterThan(0)

  // thaw the zombie: it must find out that it lost its partitions and throw its transaction away
  const eventsBefore = a.events.length
  a.signal('SIGCONT')
  await a.waitFor('A noticing it was fenced', (c) => c.events.slice(eventsBefore).some((e) => e.event === 'aborted' || (e.event === 'rebalance' && e.phase === 'lost')), 30_000)
  if (process.env.STREAMS_TEST_LOG === '1') console.log(JSON.stringify(a.events.slice(eventsBefore).filter((e) => e.event !== 'progress')), a.stderr.join('\n'))
  // and it rejoins: the group is shared again
  await waitUntil('both instances own partitions again', () => owned(a).length > 0 && owned(b).length > 0 && owned(a).length + owned(b).length === PARTITIONS, 60_000)

  const third = inputs(1600, 400, 40)
  await kit.produce(input, third)
  const all = [...first, ...second, ...third]
  await waitUntil('everything committed', async () => (await kit.committedTotal(applicationId)) === all.length, 60_000)
  await sleep(200)
  a.signal('SIGTERM')
  b.signal('SIGTERM')
  expect(await a.exited).toEqual({ code: 0, signal: null })
  expect(await b.exited).toEqual({ code: 0, signal: null })

  const out = await kit.readCommitted(output)
  // each key's counts are 1..n exactly once: no record counted twice (zombie output aborted), none lost
  expect(countsByKey(out)).toEqual(expectedCounts(all))
  expect(out.length).toBe(all.length)
})
