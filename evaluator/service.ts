/**
 * The evaluator process: the intake (Kafka → Redis) and the workers (Redis → evaluator → Kafka), each optional,
 * so they can be scaled apart (`--no-intake` for extra worker processes).
 *
 * Start-up checks that both topics exist (a group consumer would otherwise wait silently for topics nobody
 * created). Shutdown order: stop the intake (its poll in hand is finished and committed), let running jobs
 * finish for up to `shutdownGraceMs`, then close the producer and Redis.
 */
import type { Redis } from 'ioredis'
import type { Queue } from 'bullmq'
import { createKafkaClients, type KafkaProducer } from '../streams/kafka'
import { resolveEvaluatorConfig, type EvaluatorConfig, type EvaluatorConfigInput } from './config'
import { EvaluationIntake } from './intake'
import type { EvaluationJobData } from './jobs'
import { OfflineEvaluator } from './offline/offline-evaluator'
import { OpenAIEvaluator } from './openai-evaluator'
import { createEvaluationQueue, createRedisConnection, QueueSink } from './queue'
import { SubmissionStore } from './submissions'
import type { CodeEvaluator } from './verdict'
import { EvaluationWorkers } from './worker'

/** The evaluator the configuration asks for: the LLM when a key is configured (or provider=openai), else offline. */
export function createCodeEvaluator (config: EvaluatorConfig): CodeEvaluator {
  if (config.provider === 'offline') return new OfflineEvaluator()
  return new OpenAIEvaluator({
    baseUrl: config.openaiBaseUrl,
    apiKey: config.openaiApiKey!,
    model: config.model,
    maxRetries: config.openaiMaxRetries,
    timeoutMs: config.jobTimeoutMs
  })
}

export interface EvaluatorServiceOptions {
  /** run the intake (default true) */
  readonly intake?: boolean
  /** run the workers (default true) */
  readonly workers?: boolean
  /** overrides the evaluator the configuration would pick */
  readonly evaluator?: CodeEvaluator
  readonly log?: (line: string) => void
}

export class EvaluatorService {
  private stopped: Promise<void> | null = null

  private constructor (
    readonly config: EvaluatorConfig,
    readonly evaluator: CodeEvaluator,
    readonly queue: Queue<EvaluationJobData>,
    readonly intake: EvaluationIntake | null,
    readonly workers: EvaluationWorkers | null,
    /** settles when the intake loop ends: rejects on a fatal consumer error (the process should exit) */
    readonly intakeDone: Promise<void>,
    private readonly producer: KafkaProducer | null,
    private readonly redis: Redis,
    private readonly log: (line: string) => void
  ) {}

  static async start (input: EvaluatorConfigInput, options: EvaluatorServiceOptions = {}): Promise<EvaluatorService> {
    const config = resolveEvaluatorConfig(input)
    const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`))
    const evaluator = options.evaluator ?? createCodeEvaluator(config)
    const kafka = createKafkaClients({ brokers: config.brokers, clientId: config.clientId }, config.client)
    const admin = kafka.createAdmin()
    try {
      await admin.describeTopics([config.missionTopic, config.evaluationTopic])
    } finally {
      await admin.close()
    }
    const redis = createRedisConnection(config.redisUrl, `${config.clientId}-commands`)
    const queue = createEvaluationQueue(config, redis)
    const submissions = new SubmissionStore(redis, config.keyPrefix, config.retentionMs)
    let producer: KafkaProducer | null = null
    let workers: EvaluationWorkers | null = null
    let intake: EvaluationIntake | null = null
    let intakeDone: Promise<void> = Promise.resolve()
    try {
      await queue.waitUntilReady()
      if (options.workers !== false) {
        producer = kafka.createProducer({ clientId: `${config.clientId}-producer` })
        const send = producer.send.bind(producer)
        workers = new EvaluationWorkers(config, {
          evaluator,
          loadSubmission: async (id) => await submissions.load(id),
          send,
          jobExists: async (jobId) => (await queue.getJob(jobId)) !== undefined,
          evaluationTopic: config.evaluationTopic,
          jobTimeoutMs: config.jobTimeoutMs
        }, { log })
        await workers.start()
      }
      if (options.intake !== false) {
        const consumer = kafka.createGroupConsumer({ groupId: config.groupId, isolationLevel: 'read_committed', autoOffsetReset: 'earliest', clientId: `${config.clientId}-intake` })
        intake = new EvaluationIntake(consumer, new QueueSink(queue, submissions, config), {
          missionTopic: config.missionTopic, evaluationTopic: config.evaluationTopic, pollWaitMs: config.pollWaitMs, log
        })
        intakeDone = intake.start()
        intakeDone.catch(() => undefined)
      }
    } catch (error) {
      await workers?.close(0).catch(() => undefined)
      await producer?.close().catch(() => undefined)
      await queue.close().catch(() => undefined)
      redis.disconnect()
      throw error
    }
    log(`evaluator: ready (evaluator ${evaluator.name}; ${intake === null ? 'no intake' : `intake from ${config.missionTopic} + ${config.evaluationTopic} as group ${config.groupId}`}; ` +
      `${workers === null ? 'no workers' : `${config.concurrency} worker slot(s), at most ${config.rateLimit.max} evaluations per ${config.rateLimit.durationMs} ms`}; queue ${config.keyPrefix}:${config.queueName})`)
    return new EvaluatorService(config, evaluator, queue, intake, workers, intakeDone, producer, redis, log)
  }

  /** Graceful stop (idempotent): intake first, then the workers within shutdownGraceMs, then connections. */
  async stop (): Promise<void> {
    this.stopped ??= (async () => {
      await this.intake?.stop().catch((error: unknown) => { this.log(`evaluator: intake close failed: ${(error as Error).message}`) })
      if (this.workers !== null) {
        const graceful = await this.workers.close(this.config.shutdownGraceMs)
        if (!graceful) this.log(`evaluator: evaluations still running after ${this.config.shutdownGraceMs} ms were abandoned; their jobs run again after the retry backoff`)
      }
      await this.producer?.close().catch(() => undefined)
      await this.queue.close().catch(() => undefined)
      this.redis.disconnect()
      this.log('evaluator: stopped')
    })()
    await this.stopped
  }
}
