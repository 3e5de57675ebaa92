/**
 * The intake's rules without a broker: which records become which jobs, and the order store → add → commit
 * (offsets are committed only after Redis accepted the jobs; a refused poll is read again, never skipped).
 */
import { envelopeToHeaders, sampleEvent, type DevtripEvent, type EventByType } from '../../events'
import { evaluationIdFor, retryRequestedEventId } from '../../processors'
import { EvaluationIntake, intentOf, type IntakeSink, type NewJob, type StoredSubmission } from '../../evaluator'
import type { ConsumedRecord, KafkaGroupConsumer, PartitionBatch, TopicPartition, TopicPartitionOffset } from '../../streams/kafka'

const MISSION = 'm-events-test'
const EVALUATION = 'e-events-test'

function record (topic: string, offset: number, event: unknown, withHeaders = true): ConsumedRecord {
  const headers = withHeaders && typeof event === 'object' && event !== null && 'eventId' in event
    ? Object.entries(envelopeToHeaders(event as DevtripEvent)).map(([k, v]) => [k, Buffer.from(v)] as const)
    : []
  return {
    topic, partition: 0, offset: BigInt(offset), timestamp: 1_705_312_200_000, key: Buffer.from('7'),
    value: typeof event === 'string' ? Buffer.from(event) : Buffer.from(JSON.stringify(event)), headers
  }
}

function batch (topic: string, records: ConsumedRecord[], partition = 0): PartitionBatch {
  return { topic, partition, records: records.map((r) => ({ ...r, partition })), highWatermark: 100n, lastStableOffset: 100n, logStartOffset: 0n }
}

const completed = (attemptId: string, extra: Record<string, unknown> = {}): EventByType['MissionCompleted'] =>
  sampleEvent('MissionCompleted', { missionAttemptId: attemptId, userId: 7, code: 'const x = 1', language: 'javascript', missionTitle: 'Two Sum', ...extra })

function retry (attemptId: string, retryAttempt: number, eventId = retryRequestedEventId(attemptId, retryAttempt)): DevtripEvent {
  return sampleEvent('EvaluationRetryRequested', {
    eventId, missionAttemptId: attemptId, userId: 7, retryAttempt, evaluationId: evaluationIdFor(attemptId, retryAttempt + 1), originalEvaluationId: evaluationIdFor(attemptId, 1)
  })
}

/** Records the calls of consumer and sink in one list, so their order can be asserted. */
class Calls {
  readonly log: string[] = []
}

class FakeConsumer implements Partial<KafkaGroupConsumer> {
  readonly commits: TopicPartitionOffset[][] = []
  readonly seeks: Array<[TopicPartition, bigint | string]> = []
  commitFails = false
  constructor (private readonly calls: Calls) {}
  async commitOffsets (offsets: readonly TopicPartitionOffset[]): Promise<void> {
    this.calls.log.push('commit')
    if (this.commitFails) throw new Error('REBALANCE_IN_PROGRESS')
    this.commits.push([...offsets])
  }

  seek (tp: TopicPartition, offset: bigint | 'earliest' | 'latest'): void { this.seeks.push([{ topic: tp.topic, partition: tp.partition }, offset]) }
}

class FakeSink implements IntakeSink {
  readonly submissions: StoredSubmission[] = []
  readonly jobs: NewJob[] = []
  fail = false
  constructor (private readonly calls: Calls) {}
  async saveSubmissions (submissions: readonly StoredSubmission[]): Promise<void> {
    this.calls.log.push(`submissions:${submissions.length}`)
    if (this.fail) throw new Error('Redis is down')
    this.submissions.push(...submissions)
  }

  async addJobs (jobs: readonly NewJob[]): Promise<void> {
    this.calls.log.push(`jobs:${jobs.length}`)
    this.jobs.push(...jobs)
  }
}

function setup (): { calls: Calls, consumer: FakeConsumer, sink: FakeSink, intake: EvaluationIntake, logs: string[] } {
  const calls = new Calls()
  const consumer = new FakeConsumer(calls)
  const sink = new FakeSink(calls)
  const logs: string[] = []
  const intake = new EvaluationIntake(consumer as unknown as KafkaGroupConsumer, sink, { missionTopic: MISSION, evaluationTopic: EVALUATION, pollWaitMs: 10, retryDelayMs: 1, log: (l) => logs.push(l) })
  return { calls, consumer, sink, intake, logs }
}

test('MissionCompleted becomes run 1 with the topology\'s evaluationId, and its code is stored', () => {
  const event = completed('att-1')
  const intent = intentOf(record(MISSION, 0, event), 'mission-events')
  expect(intent).toEqual({
    kind: 'job',
    job: {
      id: 'att-1#1',
      data: {
        missionAttemptId: 'att-1', userId: 7, missionId: event.missionId, attempt: 1, evaluationId: evaluationIdFor('att-1', 1), originalEvaluationId: null,
        causeEventId: event.eventId, causeEventType: 'MissionCompleted', requestedAt: event.timestamp
      }
    },
    submission: {
      missionAttemptId: 'att-1', userId: 7, missionId: event.missionId, code: 'const x = 1', language: 'javascript', missionTitle: 'Two Sum',
      email: event.email ?? null, completedAt: event.completedAt, eventId: event.eventId
    }
  })
})

test('EvaluationRetryRequested of the topology becomes run retryAttempt + 1 with the named evaluationId', () => {
  const event = retry('att-1', 2)
  const intent = intentOf(record(EVALUATION, 0, event), 'evaluation-events')
  expect(intent).toMatchObject({ kind: 'job', job: { id: 'att-1#3', data: { attempt: 3, evaluationId: evaluationIdFor('att-1', 3), originalEvaluationId: evaluationIdFor('att-1', 1), causeEventType: 'EvaluationRetryRequested' } } })
  expect(intent).not.toHaveProperty('submission')
})

test('a retry request from anyone else, other types and invalid records are not jobs', () => {
  const foreign = retry('att-1', 1, '0b6f5f2e-3c1d-4e8a-9a57-2f0d1c9e7b42')
  expect(intentOf(record(EVALUATION, 0, foreign), 'evaluation-events')).toEqual({ kind: 'foreign-retry', eventId: '0b6f5f2e-3c1d-4e8a-9a57-2f0d1c9e7b42' })
  expect(intentOf(record(MISSION, 0, sampleEvent('MissionStarted')), 'mission-events')).toEqual({ kind: 'ignored', eventType: 'MissionStarted' })
  expect(intentOf(record(MISSION, 0, '{not json'), 'mission-events')).toMatchObject({ kind: 'invalid', reason: expect.stringMatching(/^the value is not JSON/) })
  expect(intentOf({ ...record(MISSION, 0, completed('x')), value: null }, 'mission-events')).toMatchObject({ kind: 'invalid', reason: expect.stringContaining('tombstone') })
  const noCode = { ...completed('att-2') } as Record<string, unknown>
  delete noCode.code
  expect(intentOf(record(MISSION, 0, noCode, false), 'mission-events')).toMatchObject({ kind: 'invalid', reason: expect.stringContaining('/code') })
  // a MissionCompleted on the evaluation topic is the wrong topic
  expect(intentOf(record(EVALUATION, 0, completed('att-3')), 'evaluation-events')).toMatchObject({ kind: 'invalid', reason: expect.stringContaining('belongs on mission-events') })
})

test('one poll: submissions, then jobs (duplicates merged), then the commit of every partition', async () => {
  const { calls, consumer, sink, intake, logs } = setup()
  const again = completed('att-1')
  const handled = await intake.handlePoll([
    batch(MISSION, [record(MISSION, 10, again), record(MISSION, 11, sampleEvent('MissionStarted')), record(MISSION, 12, again), record(MISSION, 13, 'garbage')]),
    batch(EVALUATION, [record(EVALUATION, 4, retry('att-1', 1))], 3)
  ])
  expect(handled).toBe(true)
  expect(calls.log).toEqual(['submissions:2', 'jobs:2', 'commit'])
  expect(sink.jobs.map((j) => j.id)).toEqual(['att-1#1', 'att-1#2'])
  expect(consumer.commits).toEqual([[{ topic: MISSION, partition: 0, offset: 14n }, { topic: EVALUATION, partition: 3, offset: 5n }]])
  expect(intake.stats).toMatchObject({ records: 5, missionCompleted: 2, retryRequested: 1, jobsSubmitted: 2, ignored: 1, invalid: 1, commits: 1 })
  expect(logs).toEqual([expect.stringMatching(new RegExp(`^evaluator intake: ${MISSION}\\[0\\]@13: not a valid event, skipped`))])
})

test('Redis refusing the poll: no commit, every partition is sought back to its first record', async () => {
  const { calls, consumer, sink, intake } = setup()
  sink.fail = true
  const handled = await intake.handlePoll([
    batch(MISSION, [record(MISSION, 20, completed('att-9')), record(MISSION, 21, completed('att-10'))], 1),
    batch(EVALUATION, [record(EVALUATION, 7, retry('att-9', 1))], 1)
  ])
  expect(handled).toBe(false)
  expect(calls.log).toEqual(['submissions:2'])
  expect(consumer.commits).toEqual([])
  expect(consumer.seeks).toEqual([[{ topic: MISSION, partition: 1 }, 20n], [{ topic: EVALUATION, partition: 1 }, 7n]])
  expect(intake.stats.failedPolls).toBe(1)
})

test('a failed commit after the jobs were added is logged, not fatal (the records come again and are deduplicated)', async () => {
  const { consumer, sink, intake, logs } = setup()
  consumer.commitFails = true
  expect(await intake.handlePoll([batch(MISSION, [record(MISSION, 0, completed('att-5'))])])).toBe(true)
  expect(sink.jobs.map((j) => j.id)).toEqual(['att-5#1'])
  expect(logs.at(-1)).toMatch(/commit failed \(REBALANCE_IN_PROGRESS\); the records will be read again and deduplicated/)
})
