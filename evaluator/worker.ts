/**
 * The BullMQ side of the workers: a Worker per process with `concurrency` parallel jobs, the queue-wide rate
 * limiter (`limiter: {max, duration}` is enforced in Redis across every worker of the queue: at most `max` jobs
 * start per window, whatever the number of processes), the lock/stalled settings that make a crashed worker's
 * job run again, and a bounded close for shutdown.
 *
 * The limiter counts jobs, i.e. evaluations; each evaluation is one chat completion, plus the openai client's
 * transport retries when a request fails.
 */
import { Worker, type Job } from 'bullmq'
import type { Redis } from 'ioredis'
import { createRedisConnection } from './queue'
import type { EvaluatorConfig } from './config'
import type { EvaluationJobData } from './jobs'
import { runEvaluationJob, type JobHandle, type JobProgress, type JobResult, type JobRunnerDeps } from './job-runner'

function handleOf (job: Job<EvaluationJobData, JobResult>): JobHandle {
  const saved = job.progress
  return {
    id: job.id!,
    data: job.data,
    progress: saved !== null && typeof saved === 'object' ? saved as JobProgress : {},
    saveProgress: async (progress) => { await job.updateProgress(progress as object) }
  }
}

export interface WorkerEvents {
  log: (line: string) => void
}

export class EvaluationWorkers {
  readonly worker: Worker<EvaluationJobData, JobResult>
  private running: Promise<void> | null = null
  private readonly connection: Redis
  private readonly shutdown = new AbortController()

  constructor (config: EvaluatorConfig, deps: JobRunnerDeps, events: WorkerEvents) {
    const connection = createRedisConnection(config.redisUrl, `${config.clientId}-worker`)
    this.connection = connection
    this.worker = new Worker<EvaluationJobData, JobResult>(config.queueName, async (job) => await runEvaluationJob(handleOf(job), { ...deps, shutdown: this.shutdown.signal }), {
      connection,
      prefix: config.keyPrefix,
      autorun: false,
      concurrency: config.concurrency,
      limiter: { max: config.rateLimit.max, duration: config.rateLimit.durationMs },
      lockDuration: config.lockDurationMs,
      stalledInterval: config.stalledIntervalMs,
      maxStalledCount: config.maxStalledCount,
      name: `${config.clientId}-${process.pid}`
    })
    const { log } = events
    this.worker.on('completed', (job, result) => {
      const what = result.outcome === 'completed' ? `score ${String(result.score)}` : result.outcome === 'failed' ? `failed (${String(result.failureReason)})` : 'superseded by a later run, nothing emitted'
      log(`evaluator worker: job ${String(job.id)} ${what} [${result.evaluator}]${result.resent > 0 ? ` (${result.resent} event(s) re-sent from a previous run)` : ''}`)
    })
    this.worker.on('failed', (job, error) => {
      log(`evaluator worker: job ${String(job?.id)} attempt ${String(job?.attemptsMade)} failed: ${error.message}`)
    })
    this.worker.on('stalled', (jobId) => { log(`evaluator worker: job ${jobId} stalled (its worker stopped); it runs again`) })
    this.worker.on('error', (error) => { log(`evaluator worker: ${error.message}`) })
  }

  /** Starts taking jobs; resolves when the worker has connected. */
  async start (): Promise<void> {
    this.running = this.worker.run()
    this.running.catch(() => undefined)
    await this.worker.waitUntilReady()
  }

  /**
   * Stops taking jobs and lets running ones finish for up to `graceMs`. After that their evaluations are
   * abandoned: each such job fails this attempt (DEVTRIP_CLOSED) without emitting an outcome, and BullMQ runs it
   * again on another worker after its backoff; its saved EvaluationStarted is not sent twice (job-runner.ts).
   * (BullMQ's own forced close cannot be used here: once a graceful close started, a forced one waits for it.)
   * Returns whether the close was graceful.
   */
  async close (graceMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined
    const closing = this.worker.close()
    const graceful = await Promise.race([
      closing.then(() => true),
      new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), graceMs) })
    ])
    clearTimeout(timer)
    if (!graceful) this.shutdown.abort()
    await closing
    await this.running?.catch(() => undefined)
    this.connection.disconnect()
    return graceful
  }
}
