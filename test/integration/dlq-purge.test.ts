/**
 * `dlq purge` and argument handling on a real broker: purge needs confirmation (no terminal + no --yes = exit 2,
 * nothing changed), --dry-run only reports, --before moves the replay group forward only, --delete-records
 * deletes from the log, a replay after a purge republishes nothing purged; bad arguments give one line, exit 2.
 */
import { buildDlqRecord } from '../../streams/error-handling'
import type { KafkaAdmin, KafkaClientFactory } from '../../streams/kafka'
import { replayDlq, replayGroupId, type DlqTopicSummary, type PurgeResult } from '../../streams/tools'
import { createPipelineTopics } from './dlq-kit'
import { cli, kafkaClients, unique } from './lag-kit'

jest.setTimeout(180_000)

let kafka: KafkaClientFactory
let admin: KafkaAdmin
const topics: string[] = []

beforeAll(() => {
  kafka = kafkaClients('dlq-purge-test')
  admin = kafka.createAdmin()
})

afterAll(async () => {
  await admin.deleteTopics(topics).catch(() => undefined)
  await admin.close()
})

/** `count` dead letters on partition 0, record times one minute apart starting at `base`. */
async function fill (dlq: string, source: string, count: number, base: number): Promise<void> {
  const producer = kafka.createProducer()
  try {
    await producer.send(Array.from({ length: count }, (_, i) => buildDlqRecord({
      dlqTopic: dlq,
      source: { topic: source, partition: 0, record: { offset: BigInt(i), timestamp: base + i * 60_000, key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`), headers: [] } },
      error: new Error(`failure ${i}`),
      applicationId: 'purge-app',
      taskId: '0_0',
      processor: 'SOURCE'
    })))
  } finally {
    await producer.close()
  }
}

test('purge asks for confirmation, moves the replay group forward only, and deletes records only when told', async () => {
  const { source, dlq, all } = await createPipelineTopics(admin, 1)
  topics.push(...all)
  const base = Date.UTC(2025, 0, 1, 12, 0, 0)
  await fill(dlq, source, 10, base)
  const group = replayGroupId(dlq)

  const refused = cli(['dlq', 'purge', dlq])
  expect(refused.code).toBe(2)
  expect(refused.stderr).toMatch(/^error: refusing to mark 10 pending records of .* as handled without confirmation \(no terminal to ask on\)\n/)
  expect(await admin.listGroupOffsets(group)).toEqual([])

  const dry = cli(['dlq', 'purge', dlq, '--before', '4', '--dry-run', '--json'])
  expect(dry.code).toBe(0)
  expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, records: 4, partitions: [{ partition: 0, from: '0', to: '4', records: 4 }] })
  expect(await admin.listGroupOffsets(group)).toEqual([])

  // by time: everything written before 12:03 (offsets 0, 1, 2)
  const byTime = cli(['dlq', 'purge', dlq, '--before', '2025-01-01T12:03:00Z', '--yes', '--json'])
  expect(byTime.stderr).toBe('')
  expect(byTime.code).toBe(0)
  expect(JSON.parse(byTime.stdout)).toMatchObject({ records: 3, partitions: [{ from: '0', to: '3' }], logStartOffsets: null })
  expect((await admin.listGroupOffsets(group)).map((o) => o.offset)).toEqual([3n])

  // never backwards
  const back = cli(['dlq', 'purge', dlq, '--before', '1', '--yes', '--json'])
  expect(back.code).toBe(0)
  expect(JSON.parse(back.stdout)).toMatchObject({ records: 0, partitions: [{ from: '3', to: '3' }] })
  expect((await admin.listGroupOffsets(group)).map((o) => o.offset)).toEqual([3n])

  // offsets 3..5 purged and deleted from the log
  const deleted = cli(['dlq', 'purge', dlq, '--before', '6', '--delete-records', '--yes', '--json'])
  expect(deleted.code).toBe(0)
  const result = JSON.parse(deleted.stdout) as PurgeResult
  expect(result).toMatchObject({ records: 3, deleteRecords: true, logStartOffsets: [{ partition: 0, offset: '6' }] })
  const [start] = await admin.listOffsets([{ topic: dlq, partition: 0 }], 'earliest')
  expect(start!.offset).toBe(6n)

  const listed = JSON.parse(cli(['dlq', 'list', '--prefix', source, '--json']).stdout) as DlqTopicSummary[]
  expect(listed[0]).toMatchObject({ records: 4, pending: 4 })

  // a replay now takes only what was not purged
  const replay = await replayDlq(kafka, { dlqTopic: dlq, dryRun: true })
  expect(replay.records.map((r) => r.offset)).toEqual(['6', '7', '8', '9'])
})

test('bad arguments give one clear line and exit 2', async () => {
  const { source, dlq, all } = await createPipelineTopics(admin, 1)
  topics.push(...all)
  const cases: Array<[string[], RegExp]> = [
    [['dlq', 'show', source], /is not a dead-letter topic \(the name must end in \.dlq\)/],
    [['dlq', 'show', `${unique('missing')}.dlq`], /dead-letter topic ".*" does not exist/],
    [['dlq', 'show', dlq, '--limit', '0'], /--limit must be at least 1/],
    [['dlq', 'show', dlq, '--offset', '3', '--limit', '2'], /--offset and --limit cannot be combined/],
    [['dlq', 'show', dlq, '--offset', '-1'], /--offset must be an integer >= 0/],
    [['dlq', 'show', dlq, '--since', 'yesterday'], /invalid time "yesterday"/],
    [['dlq', 'replay', dlq, '--filter', 'colour=red'], /invalid filter "colour=red": expected name=value with name one of error, /],
    [['dlq', 'replay', dlq, '--to', dlq, '--dry-run'], /is the dead-letter topic itself/],
    [['dlq', 'replay', dlq, '--to', unique('nowhere'), '--dry-run'], /--to topic ".*" does not exist/],
    [['dlq', 'replay', dlq, '--batch-size', '0'], /--batch-size must be at least 1/],
    [['dlq', 'purge', dlq, '--before', 'last tuesday'], /invalid time "last tuesday"/],
    [['dlq', 'nonsense'], /unknown command 'nonsense'/]
  ]
  for (const [args, message] of cases) {
    const r = cli(args)
    expect({ args, code: r.code }).toEqual({ args, code: 2 })
    expect(r.stderr).toMatch(message)
    // one line of error (plus the hint line the CLI adds)
    expect(r.stderr.split('\n').filter((l) => l.startsWith('error')).length).toBe(1)
    expect(r.stdout).toBe('')
  }
})
