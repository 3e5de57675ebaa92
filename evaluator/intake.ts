/**
 * The intake: a Kafka group consumer (group `devtrip-evaluator`, read_committed, no auto-commit) that turns
 * MissionCompleted (mission-events) and EvaluationRetryRequested (evaluation-events) into evaluation jobs.
 *
 * One poll is handled as a unit: every submission of the poll is stored, then every job is added (BullMQ
 * `addBulk`, awaited), and only then are the poll's offsets committed. A crash anywhere before the commit means
 * the records are read again, and that is harmless: a submission is stored with NX and a job id exists once
 * (jobs.ts). If Redis refuses, nothing is committed; the consumer seeks back to the first record of each
 * partition of the poll and tries again after a pause, so no record is skipped.
 *
 * Which records become jobs:
 *   MissionCompleted          → run 1 of its attempt (jobId <attempt>#1), and its code is stored for retries;
 *   EvaluationRetryRequested  → run retryAttempt + 1, with the evaluationId the request names — but only
 *                               requests of the evaluation topology, recognised by their derived eventId; the
 *                               topology decides retries and ignores anyone else's (docs/topologies.md), so the
 *                               evaluator must ignore them too, or the two would disagree about which run is current;
 *   every other event type    → not for us (counted);
 *   a record that is not a valid event → logged and counted, then committed past. The evaluation topology
 *                               reads the same topics and dead-letters such records, so a second copy in the
 *                               dead-letter topic would only be noise.
 */
import { DevtripError, isDevtripError, normalizeEvent, type DomainTopic, type EventByType } from '../events'
import { evaluationIdFor, retryRequestedEventId } from '../processors'
import type { KafkaGroupConsumer, PartitionBatch, TopicPartitionOffset } from '../streams/kafka'
import { evaluationJobId, type EvaluationJobData } from './jobs'
import { submissionFromEvent, type StoredSubmission } from './submissions'

export interface NewJob {
  readonly id: string
  readonly data: EvaluationJobData
}

/** Where the intake puts what it read; resolves only once Redis has it. */
export interface IntakeSink {
  saveSubmissions (submissions: readonly StoredSubmission[]): Promise<void>
  addJobs (jobs: readonly NewJob[]): Promise<void>
}

export interface IntakeOptions {
  readonly missionTopic: string
  readonly evaluationTopic: string
  readonly pollWaitMs: number
  /** pause before reading a poll again after Redis refused it */
  readonly retryDelayMs?: number
  readonly log?: (line: string) => void
}

export interface IntakeStats {
  records: number
  missionCompleted: number
  retryRequested: number
  jobsSubmitted: number
  ignored: number
  invalid: number
  foreignRetries: number
  commits: number
  failedPolls: number
}

/** What one record means to the evaluator. */
export type Intent =
  | { kind: 'job', job: NewJob, submission?: StoredSubmission }
  | { kind: 'ignored', eventType: string }
  | { kind: 'foreign-retry', eventId: string }
  | { kind: 'invalid', reason: string }

function decodeJson (value: Buffer | null): { ok: true, body: unknown } | { ok: false, reason: string } {
  if (value === null) return { ok: false, reason: 'the record has no value (tombstone)' }
  try {
    return { ok: true, body: JSON.parse(value.toString('utf8')) }
  } catch (error) {
    return { ok: false, reason: `the value is not JSON: ${(error as Error).message}` }
  }
}

function missionJob (event: EventByType['MissionCompleted']): NewJob {
  return {
    id: evaluationJobId(event.missionAttemptId, 1),
    data: {
      missionAttemptId: event.missionAttemptId,
      userId: event.userId,
      missionId: event.missionId,
      attempt: 1,
      // the id the evaluation topology expects for run 1 (its originalEvaluationId when nobody named one)
      evaluationId: evaluationIdFor(event.missionAttemptId, 1),
      originalEvaluationId: null,
      causeEventId: event.eventId,
      causeEventType: 'MissionCompleted',
      requestedAt: event.timestamp
    }
  }
}

function retryJob (event: EventByType['EvaluationRetryRequested']): NewJob {
  const attempt = event.retryAttempt + 1
  return {
    id: evaluationJobId(event.missionAttemptId, attempt),
    data: {
      missionAttemptId: event.missionAttemptId,
      userId: event.userId,
      missionId: null,
      attempt,
      evaluationId: event.evaluationId,
      originalEvaluationId: event.originalEvaluationId,
      causeEventId: event.eventId,
      causeEventType: 'EvaluationRetryRequested',
      requestedAt: event.timestamp
    }
  }
}

/** Classifies one consumed record; `logicalTopic` is the catalog topic the physical one stands for. */
export function intentOf (record: { value: Buffer | null, headers: ReadonlyArray<readonly [string, Buffer | null]>, timestamp: number }, logicalTopic: DomainTopic): Intent {
  const decoded = decodeJson(record.value)
  if (!decoded.ok) return { kind: 'invalid', reason: decoded.reason }
  const result = normalizeEvent(decoded.body, { headers: record.headers, recordTimestamp: record.timestamp, topic: logicalTopic })
  if (!result.ok) return { kind: 'invalid', reason: result.errors.slice(0, 3).map((e) => `${e.pointer || '(body)'} ${e.message}`).join('; ') }
  const event = result.event
  if (event.eventType === 'MissionCompleted') return { kind: 'job', job: missionJob(event), submission: submissionFromEvent(event) }
  if (event.eventType === 'EvaluationRetryRequested') {
    if (event.eventId !== retryRequestedEventId(event.missionAttemptId, event.retryAttempt)) return { kind: 'foreign-retry', eventId: event.eventId }
    return { kind: 'job', job: retryJob(event) }
  }
  return { kind: 'ignored', eventType: event.eventType }
}

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

export class EvaluationIntake {
  readonly stats: IntakeStats = { records: 0, missionCompleted: 0, retryRequested: 0, jobsSubmitted: 0, ignored: 0, invalid: 0, foreignRetries: 0, commits: 0, failedPolls: 0 }
  private stopping = false
  private loop: Promise<void> | null = null
  private readonly log: (line: string) => void
  private readonly logical: ReadonlyMap<string, DomainTopic>

  constructor (
    private readonly consumer: KafkaGroupConsumer,
    private readonly sink: IntakeSink,
    private readonly options: IntakeOptions
  ) {
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`))
    this.logical = new Map<string, DomainTopic>([[options.missionTopic, 'mission-events'], [options.evaluationTopic, 'evaluation-events']])
  }

  /** Subscribes and starts the poll loop; `done` settles when it ends (rejects on a fatal consumer error). */
  start (): Promise<void> {
    if (this.loop !== null) throw new DevtripError('DEVTRIP_INVALID_OPTIONS', 'the intake is already running')
    this.consumer.subscribe([this.options.missionTopic, this.options.evaluationTopic])
    this.loop = this.run()
    return this.loop
  }

  /** Finishes the poll in hand (its jobs are added and its offsets committed), then leaves the group. */
  async stop (): Promise<void> {
    this.stopping = true
    try {
      await this.loop?.catch(() => undefined)
    } finally {
      await this.consumer.close()
    }
  }

  private async run (): Promise<void> {
    while (!this.stopping) {
      let batches: PartitionBatch[]
      try {
        batches = await this.consumer.poll(this.options.pollWaitMs)
      } catch (error) {
        if (isDevtripError(error, 'DEVTRIP_KAFKA_FENCED') || isDevtripError(error, 'DEVTRIP_CLOSED') || (isDevtripError(error) && !error.canRetry && error.code !== 'DEVTRIP_TASK_MIGRATED')) throw error
        this.log(`evaluator intake: poll failed (${(error as Error).message}); polling again`)
        await sleep(this.options.retryDelayMs ?? 1000)
        continue
      }
      if (batches.length > 0) await this.handlePoll(batches)
    }
  }

  /** One poll: store, add, then commit. Exposed for tests of that order. */
  async handlePoll (batches: readonly PartitionBatch[]): Promise<boolean> {
    const submissions: StoredSubmission[] = []
    const jobs = new Map<string, NewJob>()
    for (const batch of batches) {
      const logical = this.logical.get(batch.topic)
      for (const record of batch.records) {
        this.stats.records += 1
        const intent: Intent = logical === undefined
          ? { kind: 'invalid', reason: `topic ${batch.topic} is not one the evaluator reads` }
          : intentOf(record, logical)
        const where = `${record.topic}[${record.partition}]@${record.offset}`
        switch (intent.kind) {
          case 'job':
            if (intent.submission !== undefined) { submissions.push(intent.submission); this.stats.missionCompleted += 1 } else this.stats.retryRequested += 1
            if (!jobs.has(intent.job.id)) jobs.set(intent.job.id, intent.job)
            break
          case 'ignored': this.stats.ignored += 1; break
          case 'foreign-retry':
            this.stats.foreignRetries += 1
            this.log(`evaluator intake: ${where}: EvaluationRetryRequested ${intent.eventId} was not issued by the evaluation topology; not run (the topology decides retries)`)
            break
          case 'invalid':
            this.stats.invalid += 1
            this.log(`evaluator intake: ${where}: not a valid event, skipped (the evaluation topology dead-letters it): ${intent.reason}`)
            break
        }
      }
    }
    try {
      await this.sink.saveSubmissions(submissions)
      await this.sink.addJobs([...jobs.values()])
    } catch (error) {
      this.stats.failedPolls += 1
      this.log(`evaluator intake: could not hand ${jobs.size} job(s) to Redis (${(error as Error).message}); nothing committed, reading the poll again`)
      for (const batch of batches) {
        try { this.consumer.seek(batch, batch.records[0]!.offset) } catch { /* no longer assigned: the new owner reads from the committed offset */ }
      }
      await sleep(this.options.retryDelayMs ?? 1000)
      return false
    }
    this.stats.jobsSubmitted += jobs.size
    const offsets: TopicPartitionOffset[] = batches.map((b) => ({ topic: b.topic, partition: b.partition, offset: b.records[b.records.length - 1]!.offset + 1n }))
    try {
      await this.consumer.commitOffsets(offsets)
      this.stats.commits += 1
    } catch (error) {
      // the jobs are safe in Redis; an uncommitted poll is read again after the rebalance and deduplicated by job id
      this.log(`evaluator intake: commit failed (${(error as Error).message}); the records will be read again and deduplicated`)
    }
    return true
  }
}
