/**
 * The business policies of a chaos run, as ONE plain JSON document: the children get it as their policy file
 * (DEVTRIP_POLICIES, validated there by processors/policies.ts like any operator's file), and the generator and the
 * verifier's model read the same numbers from here. The model must not import processors/, so the numbers are
 * written out rather than taken from DEFAULT_POLICIES; they are the documented defaults (docs/policies.md) with one
 * change:
 *
 *   evaluation.idleAdvance.enabled = false
 *     The idle rule lets an idle task's time run ahead with the WALL CLOCK (docs/topologies.md, "Time"). A chaos run
 *     stops processing on purpose (SIGKILL, broker restart) for wall-clock stretches that differ from run to run, so
 *     with the rule on, whether a deadline fired early would depend on how long an outage lasted — not on the input.
 *     With it off, every transition is decided by record timestamps alone, which is what an exactly-once proof can
 *     check against a model. The generator ends every user's timeline with a completed evaluation, so no attempt is
 *     left waiting for the idle rule at the end.
 */

export interface ChaosPlan {
  readonly grant: number
  readonly evaluationCost: number
}

export interface ChaosPolicies {
  readonly plans: Readonly<Record<string, ChaosPlan>>
  readonly defaultPlan: string
  readonly tickets: { readonly perMission: number }
  readonly evaluation: {
    readonly maxAttempts: number
    readonly startTimeoutMs: number
    readonly runTimeoutMs: number
    readonly backoffBaseMs: number
    readonly backoffMultiplier: number
    readonly checkIntervalMs: number
    readonly idleAdvance: { readonly enabled: boolean, readonly afterMs: number }
  }
  readonly dedup: { readonly retentionMs: number, readonly purgeIntervalMs: number }
  readonly ledger: { readonly entriesPerUser: number }
}

export const CHAOS_POLICIES: ChaosPolicies = Object.freeze({
  plans: Object.freeze({
    FREE: Object.freeze({ grant: 3, evaluationCost: 1 }),
    BASIC: Object.freeze({ grant: 30, evaluationCost: 1 }),
    PRO: Object.freeze({ grant: 100, evaluationCost: 2 })
  }),
  defaultPlan: 'FREE',
  tickets: Object.freeze({ perMission: 1 }),
  evaluation: Object.freeze({
    maxAttempts: 3,
    startTimeoutMs: 120_000,
    runTimeoutMs: 300_000,
    backoffBaseMs: 30_000,
    backoffMultiplier: 2,
    checkIntervalMs: 1_000,
    idleAdvance: Object.freeze({ enabled: false, afterMs: 30_000 })
  }),
  dedup: Object.freeze({ retentionMs: 7 * 24 * 3_600_000, purgeIntervalMs: 600_000 }),
  ledger: Object.freeze({ entriesPerUser: 20 })
})

/** Retry n (1-based) is due backoffBase × multiplier^(n−1) after the failure that caused it (docs/policies.md). */
export function backoffMs (policies: ChaosPolicies, retry: number): number {
  return Math.round(policies.evaluation.backoffBaseMs * Math.pow(policies.evaluation.backoffMultiplier, retry - 1))
}
