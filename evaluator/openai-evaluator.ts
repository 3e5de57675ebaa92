/**
 * The LLM evaluator: one chat completion per evaluation through the `openai` client, so OpenAI and any
 * OpenAI-compatible server (vLLM, Ollama, LiteLLM …) work with a base URL, a key and a model name.
 *
 * The answer must be the JSON object of ANSWER_SCHEMA (prompt.ts). It is parsed and validated with ajv; numbers
 * outside 0–100 are clamped (a 104 is an over-enthusiastic model, not a reason to throw the review away), but an
 * answer that is not that object — not JSON, a missing or mistyped field, empty feedback, a refusal, a cut-off
 * answer — is `invalid-output`: a score is never guessed. Errors map to failure reasons:
 *   429 → rate-limited · our timeout or the client's → timeout · anything else → provider-error.
 * The client's own retries (maxRetries: connection errors, 408/409/429/5xx, with backoff) are the only retries
 * here; retrying a failed evaluation is the evaluation topology's decision (EvaluationRetryRequested).
 */
import Ajv from 'ajv'
import OpenAI, { APIConnectionTimeoutError, APIError, RateLimitError } from 'openai'
import { ANSWER_SCHEMA, ANSWER_SCHEMA_NAME, buildMessages } from './prompt'
import { CRITERIA, clampScore, failed, type CodeEvaluator, type CriteriaScores, type EvaluationInput, type EvaluationVerdict } from './verdict'

export interface OpenAIEvaluatorOptions {
  readonly baseUrl: string
  readonly apiKey: string
  readonly model: string
  /** the client's transport retries */
  readonly maxRetries: number
  /** the longest one evaluation may take, the client's retries included (the caller's signal may end it sooner) */
  readonly timeoutMs: number
}

interface Answer {
  score: number
  feedback: string
  details: CriteriaScores
}

const MAX_SCORE = 100
/** feedback longer than this is cut: it travels in every EvaluationCompleted and ends up in a UI */
export const MAX_FEEDBACK_CHARS = 4000

const validateAnswer = new Ajv({ allErrors: true, strict: true }).compile<Answer>(ANSWER_SCHEMA)

/** Parses and checks the model's text; returns the verdict or an invalid-output failure saying what was wrong. */
export function verdictFromAnswer (content: string | null | undefined): EvaluationVerdict {
  if (content === null || content === undefined || content.trim() === '') return failed('invalid-output', 'the model returned no content')
  let parsed: unknown
  try {
    parsed = JSON.parse(content)
  } catch (error) {
    return failed('invalid-output', `the model's answer is not JSON: ${(error as Error).message}`)
  }
  if (!validateAnswer(parsed)) {
    const problems = (validateAnswer.errors ?? []).slice(0, 3).map((e) => `${e.instancePath === '' ? '(answer)' : e.instancePath} ${e.message ?? 'is invalid'}`)
    return failed('invalid-output', `the model's answer does not match the schema: ${problems.join('; ')}`)
  }
  const feedback = parsed.feedback.trim()
  if (feedback === '') return failed('invalid-output', "the model's answer has empty feedback")
  const details = Object.fromEntries(CRITERIA.map((c) => [c, clampScore(parsed.details[c], 0, 100)])) as unknown as CriteriaScores
  return {
    outcome: 'completed',
    score: clampScore(parsed.score, 0, MAX_SCORE),
    maxScore: MAX_SCORE,
    feedback: feedback.length > MAX_FEEDBACK_CHARS ? `${feedback.slice(0, MAX_FEEDBACK_CHARS - 1)}…` : feedback,
    details
  }
}

/** The failure reason for an error the client threw; `signal` tells our own timeout from everything else. */
export function verdictFromError (error: unknown, signal: AbortSignal): EvaluationVerdict {
  if (signal.aborted) return failed('timeout', 'the evaluation took longer than the job timeout')
  if (error instanceof RateLimitError) return failed('rate-limited', `the provider answered 429: ${error.message}`)
  if (error instanceof APIConnectionTimeoutError) return failed('timeout', 'the provider did not answer within the request timeout')
  if (error instanceof APIError) return failed('provider-error', `the provider failed${error.status === undefined ? '' : ` with HTTP ${error.status}`}: ${error.message}`)
  return failed('provider-error', `the provider call failed: ${error instanceof Error ? error.message : String(error)}`)
}

export class OpenAIEvaluator implements CodeEvaluator {
  readonly name: string
  private readonly client: OpenAI

  constructor (private readonly options: OpenAIEvaluatorOptions) {
    this.name = `openai:${options.model}`
    // the client's own timeout is only a backstop behind `deadline` (evaluate)
    this.client = new OpenAI({ apiKey: options.apiKey, baseURL: options.baseUrl, maxRetries: options.maxRetries, timeout: options.timeoutMs + 1000 })
  }

  async evaluate (input: EvaluationInput, signal: AbortSignal): Promise<EvaluationVerdict> {
    // our own deadline next to the caller's: whichever fires, `aborted` then says "timeout" without relying on
    // how the client words an abort (it differs between runtimes)
    const deadline = AbortSignal.any([signal, AbortSignal.timeout(this.options.timeoutMs)])
    try {
      const completion = await this.client.chat.completions.create({
        model: this.options.model,
        messages: buildMessages(input),
        temperature: 0,
        response_format: {
          type: 'json_schema',
          json_schema: { name: ANSWER_SCHEMA_NAME, schema: ANSWER_SCHEMA as unknown as Record<string, unknown>, strict: true }
        }
      }, { signal: deadline })
      const choice = completion.choices?.[0]
      if (choice === undefined) return failed('invalid-output', 'the provider returned no choices')
      if (typeof choice.message?.refusal === 'string' && choice.message.refusal !== '') {
        return failed('invalid-output', `the model refused: ${choice.message.refusal}`)
      }
      if (choice.finish_reason === 'length') return failed('invalid-output', 'the answer was cut off (finish_reason "length")')
      return verdictFromAnswer(choice.message?.content)
    } catch (error) {
      return verdictFromError(error, deadline)
    }
  }
}
