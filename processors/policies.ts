/**
 * The DevTrip business policies: every number the ticket ledger, the user statistics and the evaluation state
 * machine use, in ONE configuration validated by ONE compiled JSON Schema and then frozen.
 *
 * A policy file is a partial document: it is deep-merged over DEFAULT_POLICIES (objects merge key by key, any
 * other value replaces the default), and the merged result must satisfy the schema. So `{"plans":{"PRO":
 * {"grant":150}}}` changes one number and keeps every other default. docs/policies.md documents each default and
 * why it was chosen; a unit test keeps the two in step.
 */
import Ajv from 'ajv'
import { readFileSync } from 'node:fs'
import { DevtripError } from '../events/errors'

/** What a plan gives and costs. */
export interface PlanPolicy {
  /** tickets added when a payment for this plan completes (and, for the default plan, when an account opens) */
  readonly grant: number
  /** evaluation credits recorded (EvaluationCostSettled) once per evaluated mission attempt on this plan */
  readonly evaluationCost: number
}

export interface IdleAdvancePolicy {
  /** whether an idle task's effective time may run ahead of stream time at all */
  readonly enabled: boolean
  /** wall-clock milliseconds stream time must stand still before the effective time starts moving */
  readonly afterMs: number
}

export interface EvaluationPolicy {
  /** evaluation runs per mission attempt, the first one included; the last failure goes to human review */
  readonly maxAttempts: number
  /** event-time budget from MissionCompleted (or a retry request) to EvaluationStarted */
  readonly startTimeoutMs: number
  /** event-time budget from EvaluationStarted to EvaluationCompleted / EvaluationFailed */
  readonly runTimeoutMs: number
  /** retry n is requested backoffBaseMs × backoffMultiplier^(n−1) after the failure that caused it */
  readonly backoffBaseMs: number
  readonly backoffMultiplier: number
  /** how often (wall clock) the processor looks for due deadlines; only a trigger, never a time source */
  readonly checkIntervalMs: number
  readonly idleAdvance: IdleAdvancePolicy
}

export interface Policies {
  /** plan name (upper case) → its grant and evaluation cost */
  readonly plans: Readonly<Record<string, PlanPolicy>>
  /** the plan every account opens on */
  readonly defaultPlan: string
  readonly tickets: {
    /** tickets one MissionCompleted costs */
    readonly perMission: number
  }
  readonly evaluation: EvaluationPolicy
  readonly dedup: {
    /** how long (event time) a processed eventId is remembered */
    readonly retentionMs: number
    /** how often (stream time) expired eventIds are purged */
    readonly purgeIntervalMs: number
  }
  readonly ledger: {
    /** ledger entries kept per user in the balance row, newest last, for queries */
    readonly entriesPerUser: number
  }
}

/** A policy document as a file may give it: any subset of Policies. */
export type PolicyOverrides = { readonly [key: string]: unknown }

const MINUTE = 60_000
const DAY = 24 * 60 * MINUTE

export const DEFAULT_POLICIES: Policies = deepFreeze({
  plans: {
    FREE: { grant: 3, evaluationCost: 1 },
    BASIC: { grant: 30, evaluationCost: 1 },
    PRO: { grant: 100, evaluationCost: 2 }
  },
  defaultPlan: 'FREE',
  tickets: { perMission: 1 },
  evaluation: {
    maxAttempts: 3,
    startTimeoutMs: 2 * MINUTE,
    runTimeoutMs: 5 * MINUTE,
    backoffBaseMs: 30_000,
    backoffMultiplier: 2,
    checkIntervalMs: 1_000,
    idleAdvance: { enabled: true, afterMs: 30_000 }
  },
  dedup: { retentionMs: 7 * DAY, purgeIntervalMs: 10 * MINUTE },
  ledger: { entriesPerUser: 20 }
})

/** The environment variable naming a policy file. */
export const POLICIES_ENV = 'DEVTRIP_POLICIES'

const count = (minimum: number): object => ({ type: 'integer', minimum })
const durationMs = { type: 'integer', minimum: 1, maximum: 365 * DAY }

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['plans', 'defaultPlan', 'tickets', 'evaluation', 'dedup', 'ledger'],
  properties: {
    plans: {
      type: 'object',
      minProperties: 1,
      // plan names are matched case-insensitively against events, so they are kept in one (upper) case
      propertyNames: { pattern: '^[A-Z][A-Z0-9_]{0,63}$' },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['grant', 'evaluationCost'],
        properties: { grant: count(0), evaluationCost: { type: 'number', minimum: 0 } }
      }
    },
    defaultPlan: { type: 'string', pattern: '^[A-Z][A-Z0-9_]{0,63}$' },
    tickets: {
      type: 'object',
      additionalProperties: false,
      required: ['perMission'],
      properties: { perMission: count(1) }
    },
    evaluation: {
      type: 'object',
      additionalProperties: false,
      required: ['maxAttempts', 'startTimeoutMs', 'runTimeoutMs', 'backoffBaseMs', 'backoffMultiplier', 'checkIntervalMs', 'idleAdvance'],
      properties: {
        // at least one retry: EvaluationRetryCompleted.retryAttempt is ≥ 1, so a machine without retries could not report its outcome
        maxAttempts: { type: 'integer', minimum: 2, maximum: 20 },
        startTimeoutMs: durationMs,
        runTimeoutMs: durationMs,
        backoffBaseMs: durationMs,
        backoffMultiplier: { type: 'number', minimum: 1, maximum: 10 },
        checkIntervalMs: { type: 'integer', minimum: 10, maximum: 10 * MINUTE },
        idleAdvance: {
          type: 'object',
          additionalProperties: false,
          required: ['enabled', 'afterMs'],
          properties: { enabled: { type: 'boolean' }, afterMs: durationMs }
        }
      }
    },
    dedup: {
      type: 'object',
      additionalProperties: false,
      required: ['retentionMs', 'purgeIntervalMs'],
      properties: { retentionMs: durationMs, purgeIntervalMs: durationMs }
    },
    ledger: {
      type: 'object',
      additionalProperties: false,
      required: ['entriesPerUser'],
      properties: { entriesPerUser: { type: 'integer', minimum: 0, maximum: 1000 } }
    }
  }
} as const

const validate = new Ajv({ allErrors: true, strict: true }).compile(schema)

function isPlainObject (value: unknown): value is { [key: string]: unknown } {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** Objects merge key by key; anything else (numbers, arrays, null) replaces the base value. */
function deepMerge (base: unknown, override: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(override)) return override
  const merged: { [key: string]: unknown } = { ...base }
  for (const [key, value] of Object.entries(override)) {
    merged[key] = key in base ? deepMerge(base[key], value) : value
  }
  return merged
}

function deepFreeze<T> (value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const v of Object.values(value as object)) deepFreeze(v)
  }
  return value
}

function invalid (message: string, problems: string[], source: string | undefined): DevtripError {
  return new DevtripError('DEVTRIP_INVALID_OPTIONS', `${source === undefined ? '' : `${source}: `}${message}: ${problems.join('; ')}`, {
    details: { problems, source, hint: 'see docs/policies.md for every policy, its default and its allowed range' }
  })
}

/**
 * Deep-merges `overrides` over DEFAULT_POLICIES, validates the result and freezes it.
 * Throws DEVTRIP_INVALID_OPTIONS listing every problem (with its JSON pointer); `source` names the file in messages.
 */
export function resolvePolicies (overrides: PolicyOverrides = {}, source?: string): Policies {
  if (!isPlainObject(overrides)) throw invalid('invalid policies', ['the policy document must be a JSON object'], source)
  // plan names are upper case in the schema; a file saying "pro" means PRO, so keys are normalised before merging
  const normalised: { [key: string]: unknown } = { ...overrides }
  if (isPlainObject(overrides.plans)) {
    normalised.plans = Object.fromEntries(Object.entries(overrides.plans).map(([name, plan]) => [planKey(name), plan]))
  }
  if (typeof overrides.defaultPlan === 'string') normalised.defaultPlan = planKey(overrides.defaultPlan)
  const merged = structuredClone(deepMerge(DEFAULT_POLICIES, normalised)) as { [key: string]: unknown }
  if (!validate(merged)) {
    const problems = (validate.errors ?? []).map((e) => {
      const extra = e.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})` : ''
      return `${e.instancePath === '' ? '/' : e.instancePath} ${e.message ?? 'is invalid'}${extra}`
    })
    throw invalid('invalid policies', problems, source)
  }
  const policies = merged as unknown as Policies
  if (policies.plans[policies.defaultPlan] === undefined) {
    throw invalid('invalid policies', [`/defaultPlan ${policies.defaultPlan} is not one of the plans (${Object.keys(policies.plans).join(', ')})`], source)
  }
  return deepFreeze(policies)
}

/** Reads a JSON policy file and resolves it; every failure names the file and says what to fix. */
export function loadPoliciesFile (path: string): Policies {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `cannot read the policy file ${path}: ${(error as Error).message}`, {
      cause: error,
      details: { source: path, hint: `check the path (from ${POLICIES_ENV} or --policies) and its permissions` }
    })
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `the policy file ${path} is not valid JSON: ${(error as Error).message}`, {
      cause: error,
      details: { source: path, hint: 'fix the JSON syntax; see docs/policies.md for an example file' }
    })
  }
  return resolvePolicies(parsed as PolicyOverrides, path)
}

/**
 * The policies a process runs with: the file named by DEVTRIP_POLICIES when it is set (and not empty), else the
 * defaults. `env` is a parameter so that tests and the CLI can pass their own.
 */
export function loadPolicies (env: NodeJS.ProcessEnv = process.env): Policies {
  const path = env[POLICIES_ENV]
  if (path === undefined || path.trim() === '') return resolvePolicies()
  return loadPoliciesFile(path)
}

/** Plan names in events are free text ("pro", " Pro "); policies key them in upper case. */
export function planKey (name: string): string {
  return name.trim().toUpperCase()
}

/** The policy of a plan named in an event, or undefined when the policies do not know it. */
export function planPolicy (policies: Policies, name: string): PlanPolicy | undefined {
  return Object.prototype.hasOwnProperty.call(policies.plans, planKey(name)) ? policies.plans[planKey(name)] : undefined
}

/** Delay before retry n (1-based): backoffBase × multiplier^(n−1). */
export function retryBackoffMs (policies: Policies, retryAttempt: number): number {
  const { backoffBaseMs, backoffMultiplier } = policies.evaluation
  return Math.round(backoffBaseMs * Math.pow(backoffMultiplier, retryAttempt - 1))
}
