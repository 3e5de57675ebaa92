/**
 * The dead-letter tools on a real broker: a poison record reaches the DLQ the way the engine writes it
 * (buildDlqRecord, in the task's transaction), `list`/`show` describe it, the cause is fixed, `replay` makes it
 * flow through exactly once; a replay killed midway (SIGKILL of the CLI, or a failure injected before a commit)
 * and run again republishes nothing twice; filtered replays never duplicate either; purge needs confirmation.
 */
import { DLQ_HEADERS, buildDlqRecord } from '../../streams/error-handling'
import type { ConsumedRecord, KafkaAdmin, KafkaClientFactory, ProducerRecord } from '../../streams/kafka'
import { REPLAY_HEADERS, replayDlq, replayGroupId, type DlqRecordView, type DlqTopicSummary, type ReplayResult } from '../../streams/tools'
import { acceptAll, createPipelineTopics, header, readTopic, rejectNegativeAmounts, runTask } from './dlq-kit'
import { cli, cliAsync, eventually, kafkaClients, settled, unique } from './lag-kit'

jest.setTimeout(240_000)

let kafka: KafkaClientFactory
let admin: KafkaAdmin
const topics: string[] = []

beforeAll(() => {
  kafka = kafkaClients('dlq-test')
  admin = kafka.createAdmin()
})

afterAll(async () => {
  await admin.deleteTopics(topics).catch(() => undefined)
  await admin.close()
})

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value), 'utf8')

/** Writes `count` dead letters straight into a DLQ (as the engine would), for `source`, in one transaction. */
async function fillDlq (dlq: string, source: string, count: number, error: (i: number) => Error, partition = 0): Promise<void> {
  const producer = kafka.createProducer({ transactionalId: unique('fill') })
  try {
    await producer.initTransactions()
    await producer.beginTransaction()
    // recent timestamps: records older than the topic's retention (7 days by default) may be deleted by the
    // broker's retention check before the replay reads them
    const base = Date.now() - 60_000
    const records: ProducerRecord[] = Array.from({ length: count }, (_, i) => buildDlqRecord({
      dlqTopic: dlq,
      source: { topic: source, partition, record: { offset: BigInt(i), timestamp: base + i, key: Buffer.from(`user-${i}`), value: json({ n: i }), headers: [['eventType', Buffer.from('Test')]] } },
      error: error(i),
      applicationId: 'tools-test-app',
      taskId: `0_${partition}`,
      processor: 'KSTREAM-SOURCE-0000000000'
    }))
    await producer.send(records)
    await producer.commitTransaction()
    // commitTransaction returns when the coordinator logged the decision; the commit markers (and with them the last
    // stable offset a read_committed replay reads up to) follow a moment later, later still on a loaded machine
    await settled(admin, [{ topic: dlq, partition }])
  } finally {
    await producer.close()
  }
}

/** DLQ offsets (partition:offset) a replay wrote to `topic`, from the replay headers, with how often each appears. */
function replayedOffsets (records: readonly ConsumedRecord[]): Map<string, number> {
  const seen = new Map<string, number>()
  for (const r of records) {
    const key = `${header(r, REPLAY_HEADERS.partition) ?? '?'}:${header(r, REPLAY_HEADERS.offset) ?? '?'}`
    seen.set(key, (seen.get(key) ?? 0) + 1)
  }
  return seen
}

test('a poison record goes to the DLQ, list and show describe it, and after the fix replay makes it flow through exactly once', async () => {
  const { source, dlq, output, all } = await createPipelineTopics(admin, 3)
  topics.push(...all)
  const app = unique('app')
  const producer = kafka.createProducer()
  await producer.send([
    ...Array.from({ length: 6 }, (_, i) => ({ topic: source, key: Buffer.from(`user-${i}`), value: json({ amount: i * 10 }), headers: [['eventType', Buffer.from('PaymentCompleted')]] as Array<[string, Buffer]> })),
    { topic: source, key: Buffer.from('user-poison-1'), value: json({ amount: -5 }), headers: [['eventType', Buffer.from('PaymentCompleted')]] },
    { topic: source, key: Buffer.from('user-poison-2'), value: json({ amount: -7 }), headers: [['eventType', Buffer.from('PaymentCompleted')]] }
  ])
  await producer.close()

  await runTask(kafka, admin, app, source, output, dlq, rejectNegativeAmounts)
  expect((await readTopic(kafka, admin, output)).length).toBe(6)

  const listed = cli(['dlq', 'list', '--prefix', source, '--json'])
  expect(listed.stderr).toBe('')
  expect(listed.code).toBe(0)
  const summaries = JSON.parse(listed.stdout) as DlqTopicSummary[]
  expect(summaries.map((s) => s.topic)).toEqual([dlq])
  expect(summaries[0]).toMatchObject({ records: 2, pending: 2, approximate: false, partitions: 3, topErrors: [{ exception: 'DevtripError[DEVTRIP_INVALID_EVENT]', count: 2 }], replayGroup: replayGroupId(dlq) })
  expect(summaries[0]!.lastError!.message).toMatch(/^amount must be >= 0, got -[57]$/)
  expect(summaries[0]!.lastError!.sourceTopic).toBe(source)

  const shown = cli(['dlq', 'show', dlq, '--json', '--error', 'got -7'])
  expect(shown.code).toBe(0)
  const view = (JSON.parse(shown.stdout) as { matched: number, records: DlqRecordView[] })
  expect(view.matched).toBe(1)
  const record = view.records[0]!
  expect(record.key).toEqual({ encoding: 'utf8', text: 'user-poison-2' })
  expect(record.value).toEqual({ encoding: 'json', json: { amount: -7 } })
  expect(record.originalHeaders).toEqual([{ name: 'eventType', value: { encoding: 'utf8', text: 'PaymentCompleted' } }])
  expect(Object.keys(record.errorHeaders).sort()).toEqual(Object.values(DLQ_HEADERS).sort())
  expect(record.error).toMatchObject({ exception: 'DevtripError[DEVTRIP_INVALID_EVENT]', message: 'amount must be >= 0, got -7', topic: source, applicationId: app, processor: 'KSTREAM-SOURCE-0000000000' })
  const text = cli(['dlq', 'show', dlq])
  expect(text.stdout).toContain('  error     DevtripError[DEVTRIP_INVALID_EVENT]: amount must be >= 0, got -5')
  expect(text.stdout).toContain('2 of 2 matching records shown')

  // without a terminal and without --yes a replay refuses, and changes nothing
  const refused = cli(['dlq', 'replay', dlq])
  expect(refused.code).toBe(2)
  expect(refused.stderr).toMatch(/^error: refusing to replay 2 records from .* without confirmation \(no terminal to ask on\)\n  → pass --yes/)
  expect(await admin.listGroupOffsets(replayGroupId(dlq))).toEqual([])

  const dry = cli(['dlq', 'replay', dlq, '--dry-run', '--json'])
  expect(dry.code).toBe(0)
  expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, replayed: 2, destinations: { [source]: 2 } })

  // the cause is fixed: the task now accepts negative amounts
  const replayed = cli(['dlq', 'replay', dlq, '--yes', '--json'])
  expect(replayed.stderr).toBe('')
  expect(replayed.code).toBe(0)
  const result = JSON.parse(replayed.stdout) as ReplayResult
  expect(result).toMatchObject({ dryRun: false, replayed: 2, notMatching: 0, destinations: { [source]: 2 } })
  await runTask(kafka, admin, app, source, output, dlq, acceptAll)

  const out = await readTopic(kafka, admin, output)
  expect(out.map((r) => r.key!.toString()).sort()).toEqual(['user-0', 'user-1', 'user-2', 'user-3', 'user-4', 'user-5', 'user-poison-1', 'user-poison-2'])
  const back = out.filter((r) => r.key!.toString().startsWith('user-poison'))
  for (const r of back) {
    // original headers kept, error headers gone, replay headers added
    expect(header(r, 'eventType')).toBe('PaymentCompleted')
    expect(r.headers.some(([n]) => n.startsWith('__streams.errors.'))).toBe(false)
    expect(header(r, REPLAY_HEADERS.topic)).toBe(dlq)
    expect(new Date(header(r, REPLAY_HEADERS.at)!).getTime()).toBeGreaterThan(0)
  }
  // the replayed record went back to the partition it failed on, with its original time
  const sourceRecords = await readTopic(kafka, admin, source)
  for (const r of sourceRecords.filter((x) => header(x, REPLAY_HEADERS.offset) !== undefined)) {
    const original = sourceRecords.find((x) => x.key!.equals(r.key!) && header(x, REPLAY_HEADERS.offset) === undefined)!
    expect([r.partition, r.timestamp]).toEqual([original.partition, original.timestamp])
  }

  // a second replay finds nothing left
  const again = cli(['dlq', 'replay', dlq, '--yes', '--json'])
  expect(JSON.parse(again.stdout)).toMatchObject({ replayed: 0 })
  const after = JSON.parse(cli(['dlq', 'list', '--prefix', source, '--json']).stdout) as DlqTopicSummary[]
  expect(after[0]).toMatchObject({ records: 2, pending: 0 })
})

test('a replay killed with SIGKILL midway and run again republishes every record exactly once', async () => {
  const { source, dlq, all } = await createPipelineTopics(admin, 2)
  topics.push(...all)
  await fillDlq(dlq, source, 150, (i) => new Error(`bad record ${i}`), 0)
  await fillDlq(dlq, source, 50, (i) => new Error(`bad record ${i}`), 1)
  const group = replayGroupId(dlq)
  const first = cliAsync(['dlq', 'replay', dlq, '--yes', '--json', '--batch-size', '1'])
  let committedAtKill = 0n
  await eventually(async () => {
    const offsets = await admin.listGroupOffsets(group)
    committedAtKill = offsets.reduce((s, o) => s + o.offset, 0n)
    if (committedAtKill < 10n) throw new Error(`only ${committedAtKill} committed so far`)
  }, 120_000)
  first.child.kill('SIGKILL')
  const killed = await first.done
  expect(killed.code).toBeNull()
  // the killed replay may have left a transaction with offsets open (until its transaction timeout): a stable read of
  // the group's offsets would wait for that, so the last value read before the kill is the (lower) bound used here
  const committed = committedAtKill
  // killed before the end, so the rerun has work left
  expect(committed).toBeLessThan(200n)

  const second = cli(['dlq', 'replay', dlq, '--yes', '--json'])
  expect(second.stderr).toBe('')
  expect(second.code).toBe(0)
  const result = JSON.parse(second.stdout) as ReplayResult
  expect(BigInt(result.replayed)).toBeLessThanOrEqual(200n - committed)

  const republished = (await readTopic(kafka, admin, source)).filter((r) => header(r, REPLAY_HEADERS.topic) === dlq)
  const counts = replayedOffsets(republished)
  expect(counts.size).toBe(200)
  expect([...counts.values()].every((n) => n === 1)).toBe(true)
  expect(republished.length).toBe(200)
})

test('a failure injected before a commit aborts that transaction; the rerun finishes without duplicates', async () => {
  const { source, dlq, all } = await createPipelineTopics(admin, 1)
  topics.push(...all)
  await fillDlq(dlq, source, 30, () => new TypeError('cannot read properties of undefined'))
  await expect(replayDlq(kafka, {
    dlqTopic: dlq,
    batchSize: 4,
    beforeCommit: ({ transaction }) => { if (transaction === 3) throw new Error('injected failure in transaction 3') }
  })).rejects.toThrow('injected failure in transaction 3')
  // two transactions of 4 committed
  expect((await admin.listGroupOffsets(replayGroupId(dlq))).map((o) => o.offset)).toEqual([8n])
  const rest = await replayDlq(kafka, { dlqTopic: dlq, batchSize: 4 })
  expect(rest.replayed).toBe(22)
  const republished = (await readTopic(kafka, admin, source)).filter((r) => header(r, REPLAY_HEADERS.topic) === dlq)
  expect(republished.map((r) => Number(header(r, REPLAY_HEADERS.offset))).sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i))
  expect(republished.map((r) => r.key!.toString())).toEqual(Array.from({ length: 30 }, (_, i) => `user-${i}`))
})

test('filtered replays leave other records pending and, mixed with unfiltered ones, never republish a record twice', async () => {
  const { source, dlq, output, all } = await createPipelineTopics(admin, 1)
  topics.push(...all)
  // interleaved classes in one partition: even offsets TypeError, odd RangeError
  await fillDlq(dlq, source, 12, (i) => (i % 2 === 0 ? new TypeError(`type ${i}`) : new RangeError(`range ${i}`)))
  const onlyRange = await replayDlq(kafka, { dlqTopic: dlq, filter: { error: 'RangeError' }, to: output })
  expect(onlyRange).toMatchObject({ replayed: 6, notMatching: 6, alreadyReplayed: 0 })
  const rerun = await replayDlq(kafka, { dlqTopic: dlq, filter: { error: 'RangeError' }, to: output })
  expect(rerun).toMatchObject({ replayed: 0, notMatching: 6, alreadyReplayed: 6 })
  const rest = await replayDlq(kafka, { dlqTopic: dlq, to: output })
  expect(rest).toMatchObject({ replayed: 6, notMatching: 0, alreadyReplayed: 6 })
  const counts = replayedOffsets(await readTopic(kafka, admin, output))
  expect([...counts.keys()].sort()).toEqual(Array.from({ length: 12 }, (_, i) => `0:${i}`).sort())
  expect([...counts.values()].every((n) => n === 1)).toBe(true)
  // everything handled now: the group stands at the end
  const [end] = await admin.listOffsets([{ topic: dlq, partition: 0 }], 'latest', 'read_committed')
  expect((await admin.listGroupOffsets(replayGroupId(dlq)))[0]!.offset).toBe(end!.offset)
})
