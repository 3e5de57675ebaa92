/**
 * The ticket ledger as a pure reducer: (account | undefined, event, policies) → { state, outputs }.
 * No I/O, no clock: every time in the outputs is the cause event's timestamp, every id derives from the cause
 * event's id, so replaying the same events yields byte-identical outputs (docs/topologies.md, "Ticketing").
 *
 * Rules (docs/policies.md explains the numbers, docs/topologies.md the reasons):
 *   UserSignedUp          opens the account on the default plan with that plan's grant (AccountOpened).
 *   PaymentCompleted      sets the plan and adds its grant (TicketsGranted), once per paymentId.
 *   PaymentFailed         is recorded (PaymentFailedRecorded); the balance does not change.
 *   PlanUpgraded/-Downgraded  change the plan (PlanChanged) and never move tickets: the seed (§3.3) publishes
 *                         PaymentCompleted AND PlanUpgraded for one purchase, granting on both would pay twice.
 *   MissionCompleted      deducts tickets.perMission once per missionAttemptId (TicketDeducted), or, when the
 *                         balance is short, rejects it once (TicketDeductionRejected, reason insufficient-balance).
 *   EvaluationCompleted   settles the current plan's evaluation cost once per missionAttemptId (EvaluationCostSettled).
 *   Any of these before UserSignedUp opens the account implicitly first, with the same grant a signup gives, so
 *   the balance does not depend on the order signup and the first payment arrive in.
 * Every other event type leaves the ledger alone (ignored: state unchanged, no outputs).
 */
import { DevtripError, type DevtripEvent, type EventByType, type EventType, type Id } from '../events'
import { derivedEventId } from './derived-ids'
import { planKey, planPolicy, type Policies } from './policies'

export const TICKETING_SOURCE = 'devtrip-ticketing'
export const LEDGER_RECORD_VERSION = '1.0'

export type LedgerEntryType =
  | 'AccountOpened'
  | 'TicketsGranted'
  | 'GrantRejected'
  | 'PaymentFailedRecorded'
  | 'PlanChanged'
  | 'PlanChangeRejected'
  | 'TicketDeducted'
  | 'TicketDeductionRejected'
  | 'EvaluationCostSettled'

/** One append-only record on `ticket-ledger`. */
export interface LedgerEntry {
  /** derivedEventId(causeEventId, eventType) */
  readonly eventId: string
  readonly eventType: LedgerEntryType
  readonly source: typeof TICKETING_SOURCE
  /** the cause event's timestamp (epoch ms) */
  readonly timestamp: number
  readonly version: typeof LEDGER_RECORD_VERSION
  readonly userId: Id
  readonly causeEventId: string
  readonly causeEventType: EventType
  /** tickets added (> 0), taken (< 0) or 0 */
  readonly delta: number
  readonly balanceAfter: number
  /** the account's plan after this entry */
  readonly plan: string
  readonly reason?: 'insufficient-balance' | 'unknown-plan' | string
  readonly implicit?: boolean
  readonly paymentId?: Id
  readonly amount?: number
  readonly currency?: string
  readonly fromPlan?: string
  readonly toPlan?: string
  readonly missionAttemptId?: Id
  readonly missionId?: Id
  readonly evaluationCost?: number
}

/** What an account counts: the per-user state holds these, and its `ticket-balances` row publishes them (balanceOf). */
interface AccountFigures {
  readonly userId: Id
  readonly plan: string
  readonly balance: number
  /** tickets ever added (signup grant included) */
  readonly granted: number
  /** tickets ever taken */
  readonly deducted: number
  /** deductions refused for insufficient balance */
  readonly rejected: number
  /** evaluation credits settled so far */
  readonly evaluationCost: number
  readonly evaluationsSettled: number
  readonly paymentsCompleted: number
  readonly paymentsFailed: number
  readonly openedAt: number
  readonly openedBy: 'signup' | 'implicit'
  readonly signedUpAt: number | null
  /** how many events changed this account; the balance row's revision */
  readonly revision: number
  /** the newest ledger.entriesPerUser entries, oldest first */
  readonly recentEntries: readonly LedgerEntry[]
}

/** The per-user state the processor keeps in the `ticketing-accounts` store. */
export interface TicketAccount extends AccountFigures {
  readonly updatedAt: number
  readonly lastCauseEventId: string
  /** ids whose effect must happen once: granted paymentIds, decided and settled missionAttemptIds */
  readonly paymentIds: readonly string[]
  readonly decidedAttempts: readonly string[]
  readonly settledAttempts: readonly string[]
}

/** One record on the compacted `ticket-balances` table (key: userId). */
export interface TicketBalance extends AccountFigures {
  readonly eventId: string
  readonly eventType: 'TicketBalanceUpdated'
  readonly source: typeof TICKETING_SOURCE
  readonly timestamp: number
  readonly version: typeof LEDGER_RECORD_VERSION
  /** the event that last changed the account */
  readonly causeEventId: string
}

export type LedgerOutput =
  | { readonly kind: 'ledger-entry', readonly value: LedgerEntry }
  | { readonly kind: 'balance', readonly value: TicketBalance }

export interface LedgerResult {
  /** undefined only when the event is ignored and there was no account */
  readonly state: TicketAccount | undefined
  readonly outputs: readonly LedgerOutput[]
}

/** The event types the ledger acts on; the topology still reads the others (they share topics) and ignores them. */
export const LEDGER_EVENT_TYPES: readonly EventType[] = Object.freeze([
  'UserSignedUp', 'PaymentCompleted', 'PaymentFailed', 'PlanUpgraded', 'PlanDowngraded', 'MissionCompleted', 'EvaluationCompleted'
])
const LEDGER_TYPES: ReadonlySet<string> = new Set(LEDGER_EVENT_TYPES)

type EntryFields = Omit<LedgerEntry, 'eventId' | 'eventType' | 'source' | 'timestamp' | 'version' | 'userId' | 'causeEventId' | 'causeEventType' | 'balanceAfter' | 'plan'>

/** Mutable working copy while one event is applied. */
interface Draft {
  account: { -readonly [K in keyof TicketAccount]: TicketAccount[K] }
  entries: LedgerEntry[]
}

function entry (draft: Draft, cause: DevtripEvent, eventType: LedgerEntryType, fields: EntryFields): void {
  draft.entries.push({
    eventId: derivedEventId(cause.eventId, eventType),
    eventType,
    source: TICKETING_SOURCE,
    timestamp: cause.timestamp,
    version: LEDGER_RECORD_VERSION,
    userId: draft.account.userId,
    causeEventId: cause.eventId,
    causeEventType: cause.eventType,
    ...fields,
    balanceAfter: draft.account.balance,
    plan: draft.account.plan
  })
}

function openAccount (event: DevtripEvent, policies: Policies, implicit: boolean): Draft {
  const plan = policies.defaultPlan
  const grant = policies.plans[plan]!.grant
  const draft: Draft = {
    account: {
      userId: event.userId,
      plan,
      balance: grant,
      granted: grant,
      deducted: 0,
      rejected: 0,
      evaluationCost: 0,
      evaluationsSettled: 0,
      paymentsCompleted: 0,
      paymentsFailed: 0,
      openedAt: event.timestamp,
      openedBy: implicit ? 'implicit' : 'signup',
      signedUpAt: implicit ? null : event.timestamp,
      updatedAt: event.timestamp,
      revision: 0,
      lastCauseEventId: event.eventId,
      paymentIds: [],
      decidedAttempts: [],
      settledAttempts: [],
      recentEntries: []
    },
    entries: []
  }
  entry(draft, event, 'AccountOpened', { delta: grant, implicit })
  return draft
}

/** Applies one event; returns true when the account changed. */
function apply (draft: Draft, event: DevtripEvent, policies: Policies): boolean {
  const account = draft.account
  switch (event.eventType) {
    case 'UserSignedUp':
      // the account is already open (implicitly, or by an earlier signup with another eventId): only note the signup
      if (account.signedUpAt !== null) return false
      account.signedUpAt = event.timestamp
      return true
    case 'PaymentCompleted': return applyPayment(draft, event, policies)
    case 'PaymentFailed':
      account.paymentsFailed += 1
      entry(draft, event, 'PaymentFailedRecorded', {
        delta: 0,
        reason: event.failureReason,
        paymentId: event.paymentId,
        ...(event.amount === undefined ? {} : { amount: event.amount })
      })
      return true
    case 'PlanUpgraded':
    case 'PlanDowngraded': return applyPlanChange(draft, event, policies)
    case 'MissionCompleted': return applyMission(draft, event, policies)
    case 'EvaluationCompleted': return applyEvaluation(draft, event, policies)
    default:
      return false
  }
}

function applyPayment (draft: Draft, event: EventByType['PaymentCompleted'], policies: Policies): boolean {
  const account = draft.account
  const paymentId = String(event.paymentId)
  if (account.paymentIds.includes(paymentId)) return false
  account.paymentIds = [...account.paymentIds, paymentId]
  const payment = { paymentId: event.paymentId, amount: event.amount, ...(event.currency === undefined ? {} : { currency: event.currency }) }
  const plan = planPolicy(policies, event.planType)
  if (plan === undefined) {
    entry(draft, event, 'GrantRejected', { delta: 0, reason: 'unknown-plan', toPlan: event.planType, ...payment })
    return true
  }
  account.plan = planKey(event.planType)
  account.balance += plan.grant
  account.granted += plan.grant
  account.paymentsCompleted += 1
  entry(draft, event, 'TicketsGranted', { delta: plan.grant, toPlan: account.plan, ...payment })
  return true
}

function applyPlanChange (draft: Draft, event: EventByType['PlanUpgraded'] | EventByType['PlanDowngraded'], policies: Policies): boolean {
  const account = draft.account
  if (planPolicy(policies, event.toPlan) === undefined) {
    entry(draft, event, 'PlanChangeRejected', { delta: 0, reason: 'unknown-plan', fromPlan: event.fromPlan, toPlan: event.toPlan })
    return true
  }
  const toPlan = planKey(event.toPlan)
  const fromPlan = account.plan
  account.plan = toPlan
  entry(draft, event, 'PlanChanged', { delta: 0, fromPlan, toPlan })
  return true
}

function applyMission (draft: Draft, event: EventByType['MissionCompleted'], policies: Policies): boolean {
  const account = draft.account
  const attempt = String(event.missionAttemptId)
  if (account.decidedAttempts.includes(attempt)) return false
  account.decidedAttempts = [...account.decidedAttempts, attempt]
  const cost = policies.tickets.perMission
  const ids = { missionAttemptId: event.missionAttemptId, missionId: event.missionId }
  if (account.balance < cost) {
    account.rejected += 1
    entry(draft, event, 'TicketDeductionRejected', { delta: 0, reason: 'insufficient-balance', ...ids })
    return true
  }
  account.balance -= cost
  account.deducted += cost
  entry(draft, event, 'TicketDeducted', { delta: -cost, ...ids })
  return true
}

function applyEvaluation (draft: Draft, event: EventByType['EvaluationCompleted'], policies: Policies): boolean {
  const account = draft.account
  const attempt = String(event.missionAttemptId)
  if (account.settledAttempts.includes(attempt)) return false
  account.settledAttempts = [...account.settledAttempts, attempt]
  // a plan dropped from the policies since the account moved to it is priced as the default plan
  const cost = (planPolicy(policies, account.plan) ?? policies.plans[policies.defaultPlan]!).evaluationCost
  account.evaluationCost += cost
  account.evaluationsSettled += 1
  entry(draft, event, 'EvaluationCostSettled', {
    delta: 0,
    evaluationCost: cost,
    missionAttemptId: event.missionAttemptId,
    ...(event.missionId === undefined ? {} : { missionId: event.missionId })
  })
  return true
}

/** The `ticket-balances` row of an account; its eventId derives from the event that last changed it. */
export function balanceOf (account: TicketAccount): TicketBalance {
  return {
    eventId: derivedEventId(account.lastCauseEventId, 'TicketBalanceUpdated'),
    eventType: 'TicketBalanceUpdated',
    source: TICKETING_SOURCE,
    timestamp: account.updatedAt,
    version: LEDGER_RECORD_VERSION,
    userId: account.userId,
    plan: account.plan,
    balance: account.balance,
    granted: account.granted,
    deducted: account.deducted,
    rejected: account.rejected,
    evaluationCost: account.evaluationCost,
    evaluationsSettled: account.evaluationsSettled,
    paymentsCompleted: account.paymentsCompleted,
    paymentsFailed: account.paymentsFailed,
    openedAt: account.openedAt,
    openedBy: account.openedBy,
    signedUpAt: account.signedUpAt,
    revision: account.revision,
    causeEventId: account.lastCauseEventId,
    recentEntries: account.recentEntries
  }
}

/**
 * Applies one normalised event to a user's account. Deduplication by eventId happens before (in the processor's
 * dedup store); this function makes the id-based rules (once per paymentId / missionAttemptId) hold on its own.
 */
export function reduceTicketLedger (state: TicketAccount | undefined, event: DevtripEvent, policies: Policies): LedgerResult {
  if (!LEDGER_TYPES.has(event.eventType)) return { state, outputs: [] }
  if (state !== undefined && String(state.userId) !== String(event.userId)) {
    throw new DevtripError('DEVTRIP_PROCESSING', `ticket ledger: the account of user ${String(state.userId)} was given an event of user ${String(event.userId)}`, {
      details: { hint: 'the processor must look the account up by the event\'s userId' }
    })
  }
  let draft: Draft
  let changed: boolean
  if (state === undefined) {
    draft = openAccount(event, policies, event.eventType !== 'UserSignedUp')
    changed = event.eventType === 'UserSignedUp' ? true : (apply(draft, event, policies), true)
  } else {
    draft = { account: { ...state }, entries: [] }
    changed = apply(draft, event, policies)
  }
  if (!changed) return { state, outputs: [] }
  const account = draft.account
  account.updatedAt = Math.max(account.updatedAt, event.timestamp)
  account.revision += 1
  account.lastCauseEventId = event.eventId
  const keep = policies.ledger.entriesPerUser
  account.recentEntries = keep === 0 ? [] : [...account.recentEntries, ...draft.entries].slice(-keep)
  const outputs: LedgerOutput[] = draft.entries.map((value) => ({ kind: 'ledger-entry', value }))
  outputs.push({ kind: 'balance', value: balanceOf(account) })
  return { state: account, outputs }
}
