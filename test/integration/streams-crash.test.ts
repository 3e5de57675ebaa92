/**
 * Exactly-once under a crash, with the app in a child process (test/support/streams-child.ts):
 *   1. the child counts a first batch and commits;
 *   2. a second batch is processed inside a transaction that is still open at the broker — then kill -9;
 *   3. the restarted child (same state dir → same instance id → same transactional id) aborts the dangling
 *      transaction at once through initTransactions (its transaction timeout is 60 s, so waiting for the timeout
 *      would show), restores only the changelog tail beyond its checkpoint, and reprocesses the second batch;
 *   4. committed output holds every count exactly once, the stores on disk equal a replay of the input;
 *   5. SIGTERM closes cleanly (exit 0) and the next start restores nothing.
 * And the gap between the two halves of a commit: kill -9 right after commitTransaction returned, before the stores
 * wrote their batch — the restart restores exactly that transaction's changelog records and reprocesses nothing.
 *
 * The first test runs with every adapter in STREAMS_TEST_CLIENTS (default "platformatic,kafkajs"): with kafkajs the
 * app runs one transactional producer per task, and the restart's tasks fence and abort the dead process's per-task
 * transactions. The second pins the one-transaction-per-commit granularity of the default adapter ("the Nth
 * commitTransaction" is a whole commit there, one task's part of it with kafkajs), so it runs on platformatic only.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { kafkaBrokers } from '../support/infra-env'
import {
  COUNT_STORE, countsByKey, expectedCounts, KafkaKit, keyedInputs, readCountStore, STREAMS_TEST_CLIENTS, StreamsChildren, uniqueName, waitUntil,
  type ChildConfig
} from '../support/streams-test-kit'

jest.setTimeout(180_000)

let kit: KafkaKit
const children = new StreamsChildren()
let stateDir: string

const inputs = (from: number, n: number, keys: number): Array<{ key: string, value: string }> => keyedInputs(from, n, keys, { key: 'key', value: 'value' })

beforeAll(() => {
  kit = new KafkaKit(kafkaBrokers())
  stateDir = mkdtempSync(join(tmpdir(), 'devtrip-streams-crash-'))
})

afterAll(async () => {
  await children.stopAll()
  await kit.cleanup()
  rmSync(stateDir, { recursive: true, force: true })
})

test.each(STREAMS_TEST_CLIENTS)('%s: kill -9 mid-transaction: output exactly once, store equals a replay, restore reads only the tail; SIGTERM then restores nothing', async (client) => {
  const input = await kit.createTopic(uniqueName('crash-in'), 2)
  const output = await kit.createTopic(uniqueName('crash-out'), 2)
  const applicationId = uniqueName('crash-app')
  const changelog = `${applicationId}-${COUNT_STORE}-changelog`
  kit.track(changelog, `${input}.dlq`)
  const config: ChildConfig = {
    brokers: kit.brokers,
    applicationId,
    input,
    output,
    stateDir,
    client,
    // long: the open transaction is easy to catch; a transaction timeout the test would notice if it were waited for
    commitIntervalMs: 3000,
    transactionTimeoutMs: 60_000,
    sessionTimeoutMs: 6000,
    heartbeatIntervalMs: 500,
    // small send batches: records of the open transaction reach the broker before the commit
    producerBatchRecords: 20
  }

  const first = inputs(0, 400, 10)
  await kit.produce(input, first)
  const one = children.start(config)
  await one.waitFor('the first batch committed', (c) => c.lastNumber('commit', 'processed') === first.length)

  const second = inputs(400, 300, 10)
  await kit.produce(input, second)
  // processed after the last commit, and sent: the broker holds an open transaction of this process
  await one.waitFor('records of an open transaction', (c) => c.lastNumber('progress', 'processed') >= first.length + 100 && c.lastNumber('commit', 'processed') === first.length, 30_000)
  await waitUntil('the open transaction at the broker', async () => await kit.hasOpenTransaction(output), 10_000)
  const processedBeforeKill = one.lastNumber('progress', 'processed')
  const committedBeforeKill = one.lastNumber('commit', 'processed')
  one.signal('SIGKILL')
  expect((await one.exited).signal).toBe('SIGKILL')
  expect(committedBeforeKill).toBe(first.length)
  // the dead process left its transaction open: read_committed readers of the output are blocked by it
  expect(await kit.hasOpenTransaction(output)).toBe(true)

  const two = children.start(config)
  // initTransactions with the same transactional id aborts it right away (the 60 s timeout is far off)
  await waitUntil('the dangling transaction aborted by the restart', async () => !(await kit.hasOpenTransaction(output)) || two.last('commit') !== undefined, 30_000)
  await two.waitFor('RUNNING after the restart', (c) => c.last('state')?.to === 'RUNNING', 60_000)
  const restored = Number(two.last('state')?.restored)
  // only the tail beyond the checkpoint: at most what was written after the last commit, never the whole changelog
  expect(restored).toBeLessThanOrEqual(processedBeforeKill - committedBeforeKill)
  expect(restored).toBeLessThan(first.length)
  // and here the tail holds only the aborted transaction's records, which read_committed never hands out
  expect(restored).toBe(0)
  const restoreEvents = two.all('restore')
  expect(restoreEvents.length).toBe(2)
  for (const e of restoreEvents) expect(BigInt(String(e.startOffset))).toBeGreaterThan(0n)

  // the restarted app reprocesses the uncommitted second batch
  await two.waitFor('the second batch committed', (c) => c.lastNumber('commit', 'processed') === second.length)
  const third = inputs(700, 100, 10)
  await kit.produce(input, third)
  await two.waitFor('the third batch committed', (c) => c.lastNumber('commit', 'processed') === second.length + third.length)
  two.signal('SIGTERM')
  expect(await two.exited).toEqual({ code: 0, signal: null })
  expect(two.last('state')?.to).toBe('NOT_RUNNING')

  const all = [...first, ...second, ...third]
  const expected = expectedCounts(all)
  const out = await kit.readCommitted(output)
  expect(out.length).toBe(all.length)
  expect(countsByKey(out)).toEqual(expected)
  // the stores, read from RocksDB after the clean close, equal a replay of the input
  const stores = new Map<string, number>()
  for (const p of [0, 1]) for (const [k, v] of await readCountStore(stateDir, applicationId, `0_${p}`, p)) stores.set(k, v)
  expect(stores).toEqual(new Map([...expected].map(([k, counts]) => [k, counts.length])))
  expect(await kit.committedTotal(applicationId)).toBe(all.length)

  // after a graceful close the checkpoints are current: the next start restores nothing
  const three = children.start(config)
  await three.waitFor('RUNNING after a clean close', (c) => c.last('state')?.to === 'RUNNING', 60_000)
  expect(Number(three.last('state')?.restored)).toBe(0)
  const restores = three.all('restore')
  expect(restores.length).toBe(2)
  expect(restores.every((e) => e.restoredRecords === 0)).toBe(true)
  three.signal('SIGTERM')
  expect(await three.exited).toEqual({ code: 0, signal: null })
})

test('kill -9 after Kafka committed but before the stores wrote: the restart restores exactly that tail and reprocesses nothing', async () => {
  const input = await kit.createTopic(uniqueName('gap-in'), 2)
  const output = await kit.createTopic(uniqueName('gap-out'), 2)
  const applicationId = uniqueName('gap-app')
  kit.track(`${applicationId}-${COUNT_STORE}-changelog`, `${input}.dlq`)
  const config: ChildConfig = {
    brokers: kit.brokers, applicationId, input, output, stateDir, commitIntervalMs: 1500, sessionTimeoutMs: 6000, heartbeatIntervalMs: 500
  }
  const first = inputs(0, 300, 7)
  await kit.produce(input, first)
  const one = children.start(config)
  await one.waitFor('the first batch committed', (c) => c.lastNumber('commit', 'processed') === first.length)
  one.signal('SIGTERM')
  expect(await one.exited).toEqual({ code: 0, signal: null })

  // the next run dies inside its first commit that carries records: after commitTransaction, before commitStores
  const two = children.start({ ...config, killAfterKafkaCommit: 1 })
  await two.waitFor('RUNNING', (c) => c.last('state')?.to === 'RUNNING')
  const second = inputs(300, 200, 7)
  await kit.produce(input, second)
  expect((await two.exited).signal).toBe('SIGKILL')
  // what the killed commit carried (normally the whole second batch: it arrives in one fetch)
  const inKilledCommit = two.lastNumber('killing', 'processed')
  expect(inKilledCommit).toBeGreaterThan(0)
  expect(two.last('commit')).toBeUndefined()
  // Kafka has it: the offsets (and output) of those records are committed
  const committedAtKill = await kit.committedTotal(applicationId)
  expect(committedAtKill).toBe(first.length + inKilledCommit)

  const three = children.start(config)
  await three.waitFor('RUNNING after the crash', (c) => c.last('state')?.to === 'RUNNING')
  // the stores still had the first batch's checkpoint: exactly the killed commit's changelog records are the tail
  expect(Number(three.last('state')?.restored)).toBe(inKilledCommit)
  const third = inputs(500, 70, 7)
  await kit.produce(input, third)
  const leftOver = first.length + second.length - committedAtKill
  await three.waitFor('the rest committed', (c) => c.lastNumber('commit', 'processed') === leftOver + third.length)
  three.signal('SIGTERM')
  expect(await three.exited).toEqual({ code: 0, signal: null })
  // nothing the killed commit covered was processed again
  expect(three.lastNumber('progress', 'processed')).toBe(leftOver + third.length)

  const all = [...first, ...second, ...third]
  const expected = expectedCounts(all)
  expect(countsByKey(await kit.readCommitted(output))).toEqual(expected)
  const stores = new Map<string, number>()
  for (const p of [0, 1]) for (const [k, v] of await readCountStore(stateDir, applicationId, `0_${p}`, p)) stores.set(k, v)
  expect(stores).toEqual(new Map([...expected].map(([k, counts]) => [k, counts.length])))
})
