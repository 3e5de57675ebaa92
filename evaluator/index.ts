/**
 * The public face of evaluator/: the AI evaluation service (Kafka intake → BullMQ jobs → evaluator → Kafka
 * events), its evaluators (OpenAI-compatible and offline) and its configuration. docs/evaluator.md explains it.
 */
export {
  EVALUATOR_CONFIG_SCHEMA, EVALUATOR_DEFAULTS, EVALUATOR_ENV, envValue, evaluatorInputFromEnv, resolveEvaluatorConfig,
  type EvaluatorConfig, type EvaluatorConfigInput, type EvaluatorProvider, type RateLimit
} from './config'
export { EVALUATION_JOB_NAME, emittedEventId, evaluationJobId, parseEvaluationJobId, type EmittedEventType, type EvaluationJobData } from './jobs'
export { CRITERIA, FAILURE_REASONS, clampScore, type CodeEvaluator, type CriteriaScores, type Criterion, type EvaluationInput, type EvaluationVerdict, type FailureReason } from './verdict'
export { ANSWER_SCHEMA, ANSWER_SCHEMA_NAME, buildMessages, type ChatMessage } from './prompt'
export { OpenAIEvaluator, MAX_FEEDBACK_CHARS, verdictFromAnswer, verdictFromError, type OpenAIEvaluatorOptions } from './openai-evaluator'
export { OfflineEvaluator, OFFLINE_EVALUATOR_NAME, evaluateOffline, jsDialectOf } from './offline/offline-evaluator'
export { CRITERION_WEIGHTS, GENERIC_RULES, JS_RULES, type Finding, type RuleSpec } from './offline/findings'
export { EVALUATOR_SOURCE, eventRecord, outcomeEvent, startedEvent, type EmittedEvent } from './emitted-events'
export { SubmissionStore, submissionFromEvent, type StoredSubmission } from './submissions'
export { EvaluationIntake, intentOf, type IntakeOptions, type IntakeSink, type IntakeStats, type Intent, type NewJob } from './intake'
export { evaluateWithTimeout, runEvaluationJob, type JobHandle, type JobProgress, type JobResult, type JobRunnerDeps } from './job-runner'
export { QueueSink, createEvaluationQueue, createRedisConnection, jobOptions, openDashboardQueues } from './queue'
export { EvaluationWorkers } from './worker'
export { EvaluatorService, createCodeEvaluator, type EvaluatorServiceOptions } from './service'
