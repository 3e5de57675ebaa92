/**
 * The evaluation queue in Redis (BullMQ) and the intake's side of it.
 *
 * Keys: BullMQ's own under `<keyPrefix>:<queueName>:…` (bull-board shows them), submissions under
 * `<keyPrefix>:evaluator:submission:…` (submissions.ts).
 *
 * Job options: `jobAttempts` attempts with exponential backoff from 1 s — for infrastructure failures only (the
 * runner turns evaluation failures into events, never into thrown errors); finished jobs are kept for
 * `retentionMs`, because a job that still exists is what makes a redelivered event a no-op.
 */
import { Queue, type JobsOptions } from 'bullmq'
import { Redis } from 'ioredis'
import { DevtripError } from '../events'
import { resolveEvaluatorConfig, type EvaluatorConfig } from './config'
import type { IntakeSink, NewJob } from './intake'
import { EVALUATION_JOB_NAME, type EvaluationJobData } from './jobs'
import { SubmissionStore, type StoredSubmission } from './submissions'

/**
 * An ioredis connection as BullMQ needs it: `maxRetriesPerRequest: null` (BullMQ's blocking commands must wait
 * through a Redis restart instead of failing after 20 retries).
 */
export function createRedisConnection (url: string, connectionName: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, connectionName })
}

export function jobOptions (config: EvaluatorConfig, jobId: string): JobsOptions {
  const age = Math.ceil(config.retentionMs / 1000)
  return {
    jobId,
    attempts: config.jobAttempts,
    backoff: { type: 'exponential', delay: 1000 },
    removeOnComplete: { age },
    removeOnFail: { age }
  }
}

export function createEvaluationQueue (config: EvaluatorConfig, connection: Redis): Queue<EvaluationJobData> {
  return new Queue<EvaluationJobData>(config.queueName, { connection, prefix: config.keyPrefix })
}

/** The intake's sink: submissions with SET NX, jobs with addBulk, both awaited. */
export class QueueSink implements IntakeSink {
  constructor (
    private readonly queue: Queue<EvaluationJobData>,
    private readonly submissions: SubmissionStore,
    private readonly config: EvaluatorConfig
  ) {}

  async saveSubmissions (submissions: readonly StoredSubmission[]): Promise<void> {
    await this.submissions.saveAll(submissions)
  }

  async addJobs (jobs: readonly NewJob[]): Promise<void> {
    if (jobs.length === 0) return
    try {
      await this.queue.addBulk(jobs.map((job) => ({ name: EVALUATION_JOB_NAME, data: job.data, opts: jobOptions(this.config, job.id) })))
    } catch (error) {
      throw new DevtripError('DEVTRIP_PROCESSING', `could not add ${jobs.length} evaluation job(s) to queue ${this.config.queueName}: ${(error as Error).message}`, { cause: error, canRetry: true })
    }
  }
}

/**
 * The queues the API's dashboard (/admin/queues, api/routes/admin-queues.ts) shows: the evaluation queue, named as
 * the evaluator names it (EVALUATOR_QUEUE or the default, under the default key prefix unless given), on a
 * connection of its own. The caller passes `queues` to buildApiServer({ extras: { adminQueues } }) and calls
 * `close()` after the server closed.
 */
export function openDashboardQueues (redisUrl: string, options: { queueName?: string, keyPrefix?: string } = {}, env: NodeJS.ProcessEnv = process.env): { queues: Array<Queue<EvaluationJobData>>, close: () => Promise<void> } {
  // only the queue's name and key prefix matter here; provider 'offline' keeps unrelated evaluator settings out of it
  const config = resolveEvaluatorConfig({ brokers: ['unused:9092'], redisUrl, queueName: options.queueName, keyPrefix: options.keyPrefix, provider: 'offline' }, env)
  const connection = createRedisConnection(config.redisUrl, 'devtrip-dashboard')
  const queue = createEvaluationQueue(config, connection)
  return {
    queues: [queue],
    close: async () => {
      await queue.close().catch(() => undefined)
      connection.disconnect()
    }
  }
}
