/**
 * StreamsApp on the real broker, in this process: a stateful count under exactly-once and at-least-once, start-up
 * checks (missing topics, co-partitioning, internal topics), dead-letter records with KIP-1034 headers, a `fail`
 * handler taking the app to ERROR, metrics and diagnostics.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Registry } from 'prom-client'
import { DevtripError, isDevtripError } from '../../events/errors'
import { Serdes } from '../../state/serdes-builtin'
import { Consumed, DLQ_HEADERS, Materialized, Produced, StreamsBuilder } from '../../streams'
import type { KafkaClientFactory, KafkaProducer } from '../../streams/kafka'
import type { StreamsLogger } from '../../streams/runtime/logger'
import { StreamsApp } from '../../streams/runtime/streams-app'
import type { AppState } from '../../streams/runtime/app-state'
import { kafkaBrokers } from '../support/infra-env'
import { COUNT_STORE, countsByKey, countTopology, expectedCounts, KafkaKit, readCountStore, uniqueName, waitUntil } from '../support/streams-test-kit'

jest.setTimeout(120_000)

let kit: KafkaKit
const dirs: string[] = []
const apps: StreamsApp[] = []

function stateDir (): string {
  const dir = mkdtempSync(join(tmpdir(), 'devtrip-streams-app-'))
  dirs.push(dir)
  return dir
}

function track (app: StreamsApp): StreamsApp {
  apps.push(app)
  return app
}

const quiet: StreamsLogger = process.env.STREAMS_TEST_LOG === '1' ? { debug: () => {}, info: (m, f) => { console.log(m, f) }, warn: (m, f) => { console.log(m, f) }, error: (m, f) => { console.log(m, f) } } : { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} }

function inputs (n: number, keys: number, prefix = 'k'): Array<{ key: string, value: string }> {
  return Array.from({ length: n }, (_v, i) => ({ key: `${prefix}${i % keys}`, value: `v${i}` }))
}

beforeAll(() => {
  kit = new KafkaKit(kafkaBrokers())
})

afterAll(async () => {
  for (const app of apps) await app.close({ timeoutMs: 5000 }).catch(() => undefined)
  await kit.cleanup()
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

describe('StreamsApp end to end', () => {
  test.each([
    ['exactly-once', {}],
    ['at-least-once', {}],
    // every partition hits backpressure (paused at 5 buffered, resumed at 2), tiny chunks and send batches
    ['exactly-once with tiny buffers', { maxBufferedRecordsPerPartition: 5, processChunkRecords: 3, producerBatchRecords: 7 }],
    // kafkajs: one transactional producer per task; its push-based consumer under backpressure (pause/resume/seek)
    ['exactly-once on kafkajs with tiny buffers', { client: 'kafkajs', maxBufferedRecordsPerPartition: 5, processChunkRecords: 3, producerBatchRecords: 7 }],
    ['at-least-once on kafkajs', { client: 'kafkajs' }]
  ] as const)('a count by key under %s: outputs and the store match the input', async (name, overrides) => {
    const guarantee = name.startsWith('at-least-once') ? 'at-least-once' : 'exactly-once'
    const input = await kit.createTopic(uniqueName('count-in'), 3)
    const output = await kit.createTopic(uniqueName('count-out'), 3)
    const applicationId = uniqueName('count-app')
    kit.track(`${applicationId}-${COUNT_STORE}-changelog`, `${input}.dlq`)
    const records = inputs(600, 17)
    await kit.produce(input, records)
    const dir = stateDir()
    const registry = new Registry()
    const states: AppState[] = []
    const app = track(new StreamsApp(countTopology(input, output), {
      applicationId, bootstrapServers: kit.brokers, stateDir: dir, processingGuarantee: guarantee, commitIntervalMs: 200, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1000,
      ...overrides
    }, { metricsRegistry: registry, logger: quiet }))
    app.onStateChange((next) => states.push(next))
    await app.start()
    await app.waitForState('RUNNING', 60_000)
    await waitUntil('all records processed and committed', () => app.processedRecords === records.length && app.commits > 0 && app.localTasks().every((t) => t.status === 'running'))
    // a commit after the last record: wait until every input offset is committed
    await waitUntil('input offsets committed', async () => (await kit.committedTotal(applicationId)) === records.length)
    const out = await kit.readCommitted(output)
    expect(countsByKey(out)).toEqual(expectedCounts(records))
    // interactive query: each key's count is in the running task's store
    const expected = expectedCounts(records)
    for (const task of app.localTasks()) {
      const store = app.store<import('../../state/base/types').KeyValueStore<string, number>>(COUNT_STORE, task.partition)
      for (const { key, value } of store?.all() ?? []) expect(value).toBe(expected.get(key)?.length)
    }
    expect(app.localTasks().map((t) => t.taskId).sort()).toEqual(['0_0', '0_1', '0_2'])
    await app.close()
    expect(app.state).toBe('NOT_RUNNING')
    expect(states).toEqual(['REBALANCING', 'RUNNING', 'PENDING_SHUTDOWN', 'NOT_RUNNING'])
    // the stores on disk after a clean close hold the final counts
    const onDisk = new Map<string, number>()
    for (const p of [0, 1, 2]) for (const [k, v] of await readCountStore(dir, applicationId, `0_${p}`, p)) onDisk.set(k, v)
    expect(onDisk).toEqual(new Map([...expected].map(([k, v]) => [k, v.length])))
    // internal topics: a compacted changelog with one partition per task
    const [changelog] = await kit.admin.describeTopics([`${applicationId}-${COUNT_STORE}-changelog`])
    expect(changelog?.partitions.length).toBe(3)
    expect(changelog?.configs['cleanup.policy']).toBe('compact')
    const metrics = await registry.getMetricsAsJSON()
    const processed = metrics.find((m) => m.name === 'devtrip_streams_records_processed_total')
    expect(processed?.values.reduce((n, v) => n + v.value, 0)).toBe(records.length)
    expect(metrics.find((m) => m.name === 'devtrip_streams_commits_total')?.values[0]?.value).toBeGreaterThan(0)
  })

  test('a restart restores nothing after a clean close and continues counting', async () => {
    const input = await kit.createTopic(uniqueName('restart-in'), 2)
    const output = await kit.createTopic(uniqueName('restart-out'), 2)
    const applicationId = uniqueName('restart-app')
    kit.track(`${applicationId}-${COUNT_STORE}-changelog`, `${input}.dlq`)
    const dir = stateDir()
    const first = inputs(200, 7)
    await kit.produce(input, first)
    const config = { applicationId, bootstrapServers: kit.brokers, stateDir: dir, commitIntervalMs: 100, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1000 }
    const one = track(new StreamsApp(countTopology(input, output), config, { logger: quiet }))
    await one.start()
    await waitUntil('first batch processed', () => one.processedRecords === first.length)
    const instanceId = one.instanceId
    await one.close()
    expect(one.restoredRecords).toBe(0)

    const restores: unknown[] = []
    const onRestore = (message: unknown): void => { if ((message as { applicationId: string }).applicationId === applicationId) restores.push(message) }
    subscribe('devtrip-streams:restore', onRestore)
    try {
      const second = inputs(100, 7)
      await kit.produce(input, second)
      const two = track(new StreamsApp(countTopology(input, output), config, { logger: quiet }))
      await two.start()
      expect(two.instanceId).toBe(instanceId)
      expect(two.transactionalId).toBe(`${applicationId}-${String(instanceId)}`)
      await waitUntil('second batch processed', () => two.processedRecords === second.length)
      await two.close()
      expect(two.restoredRecords).toBe(0)
      expect(restores.length).toBe(2)
      expect(restores.every((r) => (r as { restoredRecords: number }).restoredRecords === 0)).toBe(true)
      const out = await kit.readCommitted(output)
      expect(countsByKey(out)).toEqual(expectedCounts([...first, ...second]))
    } finally {
      unsubscribe('devtrip-streams:restore', onRestore)
    }
  })

  test('a wiped state directory is restored from the changelog', async () => {
    const input = await kit.createTopic(uniqueName('wipe-in'), 1)
    const output = await kit.createTopic(uniqueName('wipe-out'), 1)
    const applicationId = uniqueName('wipe-app')
    kit.track(`${applicationId}-${COUNT_STORE}-changelog`, `${input}.dlq`)
    const first = inputs(150, 5)
    await kit.produce(input, first)
    const config = { applicationId, bootstrapServers: kit.brokers, stateDir: stateDir(), commitIntervalMs: 100, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1000, restoreBatchSize: 7 }
    const one = track(new StreamsApp(countTopology(input, output), config, { logger: quiet }))
    await one.start()
    await waitUntil('first batch processed', () => one.processedRecords === first.length)
    await one.close()
    const fresh = { ...config, stateDir: stateDir() }
    const second = inputs(50, 5)
    await kit.produce(input, second)
    const two = track(new StreamsApp(countTopology(input, output), fresh, { logger: quiet }))
    await two.start()
    await waitUntil('second batch processed', () => two.processedRecords === second.length)
    // the whole changelog (one record per input record: no compaction yet) came back
    expect(two.restoredRecords).toBe(first.length)
    await two.close()
    expect(countsByKey(await kit.readCommitted(output))).toEqual(expectedCounts([...first, ...second]))
  })
})

describe('fencing', () => {
  test.each(['platformatic', 'kafkajs'] as const)('%s: a producer fenced by another one with its transactional id is replaced; the output stays exactly once', async (client) => {
    const input = await kit.createTopic(uniqueName('fence-in'), 2)
    const output = await kit.createTopic(uniqueName('fence-out'), 2)
    const applicationId = uniqueName('fence-app')
    kit.track(`${applicationId}-${COUNT_STORE}-changelog`, `${input}.dlq`)
    const registry = new Registry()
    const app = track(new StreamsApp(countTopology(input, output), {
      applicationId, bootstrapServers: kit.brokers, stateDir: stateDir(), commitIntervalMs: 100, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1000, client
    }, { logger: quiet, metricsRegistry: registry }))
    await app.start()
    const first = inputs(300, 11)
    await kit.produce(input, first)
    await waitUntil('the first batch committed', async () => (await kit.committedTotal(applicationId)) === first.length)
    // a second producer with the app's transactional id bumps the epoch: the app's producer is now a zombie
    // (kafkajs: one producer per task, `<applicationId>-<taskId>`; fence task 0_0's)
    const usurper = kit.kafka.createProducer({ transactionalId: client === 'kafkajs' ? `${applicationId}-0_0` : app.transactionalId as string })
    await usurper.initTransactions()
    await usurper.close()
    const second = inputs(300, 11)
    await kit.produce(input, second)
    await waitUntil('the second batch committed after the fence', async () => (await kit.committedTotal(applicationId)) === first.length + second.length)
    const aborted = (await registry.getMetricsAsJSON()).find((m) => m.name === 'devtrip_streams_transactions_aborted_total')
    expect(aborted?.values.some((v) => v.labels.reason === 'DEVTRIP_KAFKA_FENCED' && v.value >= 1)).toBe(true)
    expect(app.state).not.toBe('ERROR')
    expect(countsByKey(await kit.readCommitted(output))).toEqual(expectedCounts([...first, ...second]))
    await app.close()
    expect(app.state).toBe('NOT_RUNNING')
  })
})

describe('recovery', () => {
  test('a commit that fails rewinds: the transaction is aborted, tasks are rebuilt from the committed offsets, output stays exactly once', async () => {
    const input = await kit.createTopic(uniqueName('rewind-in'), 2)
    const output = await kit.createTopic(uniqueName('rewind-out'), 2)
    const applicationId = uniqueName('rewind-app')
    kit.track(`${applicationId}-${COUNT_STORE}-changelog`, `${input}.dlq`)
    // the real clients, except that the producer's 3rd commitTransaction fails like a broker timeout would
    let commits = 0
    const factory: KafkaClientFactory = {
      ...kit.kafka,
      createProducer: (options) => {
        const real = kit.kafka.createProducer(options)
        const flaky: KafkaProducer = {
          transactionalId: real.transactionalId,
          send: async (records) => await real.send(records),
          initTransactions: async () => { await real.initTransactions() },
          beginTransaction: async () => { await real.beginTransaction() },
          sendOffsetsToTransaction: async (offsets, group) => { await real.sendOffsetsToTransaction(offsets, group) },
          commitTransaction: async () => {
            if (++commits === 3) throw new DevtripError('DEVTRIP_KAFKA', 'commitTransaction: request timed out (injected)', { canRetry: true })
            await real.commitTransaction()
          },
          abortTransaction: async () => { await real.abortTransaction() },
          close: async () => { await real.close() }
        }
        return flaky
      }
    }
    const registry = new Registry()
    const app = track(new StreamsApp(countTopology(input, output), {
      applicationId, bootstrapServers: kit.brokers, stateDir: stateDir(), commitIntervalMs: 50, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1000
    }, { logger: quiet, metricsRegistry: registry, clientFactory: factory }))
    await app.start()
    const all: Array<{ key: string, value: string }> = []
    for (let round = 0; round < 5; round++) {
      const batch = inputs(100, 9)
      all.push(...batch)
      await kit.produce(input, batch)
      await waitUntil(`round ${round} committed`, async () => (await kit.committedTotal(applicationId)) === all.length)
    }
    expect(commits).toBeGreaterThan(3)
    const aborted = (await registry.getMetricsAsJSON()).find((m) => m.name === 'devtrip_streams_transactions_aborted_total')
    expect(aborted?.values.some((v) => v.labels.reason === 'DEVTRIP_KAFKA' && v.value === 1)).toBe(true)
    expect(app.state).toBe('RUNNING')
    expect(countsByKey(await kit.readCommitted(output))).toEqual(expectedCounts(all))
    await app.close()
    const onDisk = new Map<string, number>()
    for (const p of [0, 1]) for (const [k, v] of await readCountStore(app.config.stateDir, applicationId, `0_${p}`, p)) onDisk.set(k, v)
    expect(onDisk).toEqual(new Map([...expectedCounts(all)].map(([k, v]) => [k, v.length])))
  })
})

describe('start-up checks', () => {
  test('missing source or sink topics are named in a DEVTRIP_UNKNOWN_TOPIC error', async () => {
    const input = await kit.createTopic(uniqueName('exists'), 1)
    const missing = uniqueName('missing')
    const app = track(new StreamsApp(countTopology(input, missing), { applicationId: uniqueName('missing-app'), bootstrapServers: kit.brokers, stateDir: stateDir() }, { logger: quiet }))
    await expect(app.start()).rejects.toThrow(new RegExp(`"${missing}"`))
    expect(app.state).toBe('ERROR')
    try { await app.start() } catch (error) { expect(isDevtripError(error, 'DEVTRIP_INVALID_OPTIONS')).toBe(true) }
    await app.close()
    expect(app.state).toBe('NOT_RUNNING')
  })

  test('joined topics with different partition counts fail with both counts named', async () => {
    const left = await kit.createTopic(uniqueName('left'), 2)
    const right = await kit.createTopic(uniqueName('right'), 3)
    const out = await kit.createTopic(uniqueName('joined'), 2)
    const b = new StreamsBuilder()
    const table = b.table(right, Consumed.with(Serdes.String(), Serdes.String()), Materialized.as('right-table'))
    b.stream(left, Consumed.with(Serdes.String(), Serdes.String())).join(table, (l, r) => `${l}${r}`).to(out, Produced.with(Serdes.String(), Serdes.String()))
    const app = track(new StreamsApp(b.build(), { applicationId: uniqueName('copart-app'), bootstrapServers: kit.brokers, stateDir: stateDir() }, { logger: quiet }))
    const error = await app.start().then(() => undefined, (e: unknown) => e)
    expect(isDevtripError(error, 'DEVTRIP_TOPOLOGY')).toBe(true)
    expect(String((error as Error).message)).toMatch(new RegExp(`"${left}" \\(2 partitions\\).*"${right}" \\(3 partitions\\)`))
  })

  test('two app objects cannot share one state directory', async () => {
    const input = await kit.createTopic(uniqueName('share-in'), 1)
    const output = await kit.createTopic(uniqueName('share-out'), 1)
    const applicationId = uniqueName('share-app')
    kit.track(`${applicationId}-${COUNT_STORE}-changelog`, `${input}.dlq`)
    const dir = stateDir()
    const one = track(new StreamsApp(countTopology(input, output), { applicationId, bootstrapServers: kit.brokers, stateDir: dir }, { logger: quiet }))
    await one.start()
    const two = track(new StreamsApp(countTopology(input, output), { applicationId, bootstrapServers: kit.brokers, stateDir: dir }, { logger: quiet }))
    await expect(two.start()).rejects.toThrow(/own stateDir/)
    await one.close()
  })
})

describe('error handling', () => {
  test('a poison record goes to <topic>.dlq with the KIP-1034 headers and processing continues', async () => {
    const input = await kit.createTopic(uniqueName('json-in'), 2)
    const output = await kit.createTopic(uniqueName('json-out'), 2)
    const applicationId = uniqueName('dlq-app')
    kit.track(`${applicationId}-${COUNT_STORE}-changelog`, `${input}.dlq`)
    const b = new StreamsBuilder()
    b.stream(input, Consumed.with(Serdes.String(), Serdes.Json<{ n: number }>()))
      .mapValues((v) => {
        if (typeof v.n !== 'number') throw new TypeError(`n must be a number, got ${typeof v.n}`)
        return v.n * 2
      })
      .to(output, Produced.with(Serdes.String(), Serdes.Int64AsNumber()))
    const registry = new Registry()
    const app = track(new StreamsApp(b.build(), {
      applicationId, bootstrapServers: kit.brokers, stateDir: stateDir(), commitIntervalMs: 100,
      deserializationExceptionHandler: 'dlq', processingExceptionHandler: 'dlq', sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1000
    }, { logger: quiet, metricsRegistry: registry }))
    await app.start()
    await kit.produce(input, [
      { key: 'a', value: '{"n":1}' },
      { key: 'bad-json', value: '{"n":' },
      { key: 'a', value: '{"n":2}' },
      { key: 'bad-schema', value: '{"n":"x"}' },
      { key: 'b', value: '{"n":3}' }
    ])
    await waitUntil('all five processed and committed', async () => (await kit.committedTotal(applicationId)) === 5)
    const out = await kit.readCommitted(output)
    expect(out.map((r) => `${String(r.key)}=${Serdes.Int64AsNumber().deserialize(r.value as Buffer)}`).sort()).toEqual(['a=2', 'a=4', 'b=6'])
    const dlq = await kit.readCommitted(`${input}.dlq`)
    expect(dlq.map((r) => String(r.key)).sort()).toEqual(['bad-json', 'bad-schema'])
    const header = (r: (typeof dlq)[number], name: string): string | undefined => r.headers.find((h) => h[0] === name)?.[1]?.toString('utf8')
    for (const r of dlq) {
      const inputPartition = Number(header(r, DLQ_HEADERS.partition))
      expect(r.partition).toBe(inputPartition)
      expect(header(r, DLQ_HEADERS.topic)).toBe(input)
      expect(header(r, DLQ_HEADERS.offset)).toMatch(/^\d+$/)
      expect(header(r, DLQ_HEADERS.applicationId)).toBe(applicationId)
      expect(header(r, DLQ_HEADERS.taskId)).toBe(`0_${inputPartition}`)
      expect(header(r, DLQ_HEADERS.stacktrace)).toMatch(/at /)
      expect(header(r, DLQ_HEADERS.message)?.length).toBeGreaterThan(0)
    }
    const badJson = dlq.find((r) => String(r.key) === 'bad-json') as (typeof dlq)[number]
    expect(String(badJson.value)).toBe('{"n":')
    expect(header(badJson, DLQ_HEADERS.exception)).toMatch(/^DevtripError\[DEVTRIP_SERDE\]|Error/)
    const badSchema = dlq.find((r) => String(r.key) === 'bad-schema') as (typeof dlq)[number]
    expect(header(badSchema, DLQ_HEADERS.exception)).toBe('TypeError')
    expect(header(badSchema, DLQ_HEADERS.processor)).toMatch(/MAPVALUES/)
    const dlqMetric = (await registry.getMetricsAsJSON()).find((m) => m.name === 'devtrip_streams_dlq_records_total')
    expect(dlqMetric?.values.reduce((n, v) => n + v.value, 0)).toBe(2)
  })

  test('a processing error under `fail` takes the app to ERROR without committing the failed record', async () => {
    const input = await kit.createTopic(uniqueName('fail-in'), 1)
    const output = await kit.createTopic(uniqueName('fail-out'), 1)
    const applicationId = uniqueName('fail-app')
    const b = new StreamsBuilder()
    b.stream(input, Consumed.with(Serdes.String(), Serdes.String()))
      .mapValues((v) => { if (v === 'boom') throw new Error('boom'); return v.toUpperCase() })
      .to(output, Produced.with(Serdes.String(), Serdes.String()))
    const errors: string[] = []
    const logger: StreamsLogger = { ...quiet, error: (message) => { errors.push(message) } }
    const app = track(new StreamsApp(b.build(), {
      applicationId, bootstrapServers: kit.brokers, stateDir: stateDir(), commitIntervalMs: 60_000, processingExceptionHandler: 'fail'
    }, { logger }))
    const states: AppState[] = []
    app.onStateChange((s) => states.push(s))
    await app.start()
    await kit.produce(input, [{ key: 'x', value: 'ok' }, { key: 'x', value: 'boom' }])
    await waitUntil('ERROR', () => app.state === 'ERROR')
    expect(errors.some((e) => /stops/.test(e))).toBe(true)
    // nothing of the failed transaction is visible, and no offset was committed
    expect(await kit.readCommitted(output)).toEqual([])
    expect(await kit.admin.listGroupOffsets(applicationId)).toEqual([])
    await app.close()
    expect(states.slice(-2)).toEqual(['ERROR', 'NOT_RUNNING'])
  })
})
