/**
 * The verifier's model of the ticket ledger (docs/topologies.md "Ticketing", docs/policies.md), for ONE user,
 * written from the documented rules and independent of processors/. Fed the user's events in timestamp order, it
 * returns for each event the ledger entries and the balance row the pipeline must have written.
 *
 *   UserSignedUp              opens the account (AccountOpened +grant of the default plan); on an open account only
 *                             records signedUpAt (a balance row, no entry), and only the first time
 *   PaymentCompleted          +grant of its plan, plan := it, once per paymentId (TicketsGranted);
 *                             unknown plan → GrantRejected (the paymentId still counts as used)
 *   PaymentFailed             PaymentFailedRecorded (0)
 *   PlanUpgraded/-Downgraded  plan := toPlan, no tickets (PlanChanged); unknown plan → PlanChangeRejected
 *   MissionCompleted          −perMission once per attempt (TicketDeducted), or TicketDeductionRejected when short
 *   EvaluationCompleted       EvaluationCostSettled with the current plan's cost, once per attempt
 *   a ledger event before any signup opens the account implicitly first (AccountOpened, implicit: true)
 */
import type { DevtripEvent } from '../../events'
import type { ChaosPolicies } from './chaos-policies'
import { outputId } from './model-ids'

export type Json = { [key: string]: unknown }

const LEDGER_TYPES = new Set(['UserSignedUp', 'PaymentCompleted', 'PaymentFailed', 'PlanUpgraded', 'PlanDowngraded', 'MissionCompleted', 'EvaluationCompleted'])
const SOURCE = 'devtrip-ticketing'

export function isLedgerEvent (event: DevtripEvent): boolean {
  return LEDGER_TYPES.has(event.eventType)
}

function upper (plan: string): string {
  return plan.trim().toUpperCase()
}

export interface LedgerStep {
  readonly entries: Json[]
  /** undefined when the event changed nothing */
  readonly balance: Json | undefined
}

export class TicketAccountModel {
  private open = false
  private plan = ''
  private balance = 0
  private granted = 0
  private deducted = 0
  private rejected = 0
  private evaluationCost = 0
  private evaluationsSettled = 0
  private paymentsCompleted = 0
  private paymentsFailed = 0
  private openedAt = 0
  private openedBy: 'signup' | 'implicit' = 'signup'
  private signedUpAt: number | null = null
  private updatedAt = 0
  private revision = 0
  private lastCause = ''
  private readonly payments = new Set<string>()
  private readonly decided = new Set<string>()
  private readonly settled = new Set<string>()
  private recent: Json[] = []

  constructor (private readonly userId: number | string, private readonly policies: ChaosPolicies) {}

  apply (event: DevtripEvent): LedgerStep {
    if (!isLedgerEvent(event)) return { entries: [], balance: undefined }
    const entries: Json[] = []
    const entry = (type: string, fields: Json): void => {
      entries.push({
        eventId: outputId(event.eventId, type),
        eventType: type,
        source: SOURCE,
        timestamp: event.timestamp,
        version: '1.0',
        userId: this.userId,
        causeEventId: event.eventId,
        causeEventType: event.eventType,
        ...fields,
        balanceAfter: this.balance,
        plan: this.plan
      })
    }
    let changed: boolean
    if (!this.open) {
      const implicit = event.eventType !== 'UserSignedUp'
      const grant = this.policies.plans[this.policies.defaultPlan]!.grant
      this.open = true
      this.plan = this.policies.defaultPlan
      this.balance = grant
      this.granted = grant
      this.openedAt = event.timestamp
      this.openedBy = implicit ? 'implicit' : 'signup'
      this.signedUpAt = implicit ? null : event.timestamp
      this.updatedAt = event.timestamp
      entry('AccountOpened', { delta: grant, implicit })
      if (implicit) this.change(event, entry)
      changed = true
    } else {
      changed = this.change(event, entry)
    }
    if (!changed) return { entries: [], balance: undefined }
    this.updatedAt = Math.max(this.updatedAt, event.timestamp)
    this.revision += 1
    this.lastCause = event.eventId
    const keep = this.policies.ledger.entriesPerUser
    this.recent = keep === 0 ? [] : [...this.recent, ...entries].slice(-keep)
    return { entries, balance: this.balanceRow() }
  }

  /** the effect of one event on an open account; false when nothing changes */
  private change (event: DevtripEvent, entry: (type: string, fields: Json) => void): boolean {
    const known = (plan: string): boolean => Object.prototype.hasOwnProperty.call(this.policies.plans, upper(plan))
    switch (event.eventType) {
      case 'UserSignedUp':
        if (this.signedUpAt !== null) return false
        this.signedUpAt = event.timestamp
        return true
      case 'PaymentCompleted': {
        const id = String(event.paymentId)
        if (this.payments.has(id)) return false
        this.payments.add(id)
        const money = { paymentId: event.paymentId, amount: event.amount, ...(event.currency === undefined ? {} : { currency: event.currency }) }
        if (!known(event.planType)) {
          entry('GrantRejected', { delta: 0, reason: 'unknown-plan', toPlan: event.planType, ...money })
          return true
        }
        const grant = this.policies.plans[upper(event.planType)]!.grant
        this.plan = upper(event.planType)
        this.balance += grant
        this.granted += grant
        this.paymentsCompleted += 1
        entry('TicketsGranted', { delta: grant, toPlan: this.plan, ...money })
        return true
      }
      case 'PaymentFailed':
        this.paymentsFailed += 1
        entry('PaymentFailedRecorded', { delta: 0, reason: event.failureReason, paymentId: event.paymentId, ...(event.amount === undefined ? {} : { amount: event.amount }) })
        return true
      case 'PlanUpgraded':
      case 'PlanDowngraded': {
        if (!known(event.toPlan)) {
          entry('PlanChangeRejected', { delta: 0, reason: 'unknown-plan', fromPlan: event.fromPlan, toPlan: event.toPlan })
          return true
        }
        const fromPlan = this.plan
        this.plan = upper(event.toPlan)
        entry('PlanChanged', { delta: 0, fromPlan, toPlan: this.plan })
        return true
      }
      case 'MissionCompleted': {
        const attempt = String(event.missionAttemptId)
        if (this.decided.has(attempt)) return false
        this.decided.add(attempt)
        const cost = this.policies.tickets.perMission
        const ids = { missionAttemptId: event.missionAttemptId, missionId: event.missionId }
        if (this.balance < cost) {
          this.rejected += 1
          entry('TicketDeductionRejected', { delta: 0, reason: 'insufficient-balance', ...ids })
        } else {
          this.balance -= cost
          this.deducted += cost
          entry('TicketDeducted', { delta: -cost, ...ids })
        }
        return true
      }
      case 'EvaluationCompleted': {
        const attempt = String(event.missionAttemptId)
        if (this.settled.has(attempt)) return false
        this.settled.add(attempt)
        const plan = this.policies.plans[this.plan] ?? this.policies.plans[this.policies.defaultPlan]!
        this.evaluationCost += plan.evaluationCost
        this.evaluationsSettled += 1
        entry('EvaluationCostSettled', {
          delta: 0,
          evaluationCost: plan.evaluationCost,
          missionAttemptId: event.missionAttemptId,
          ...(event.missionId === undefined ? {} : { missionId: event.missionId })
        })
        return true
      }
      default:
        return false
    }
  }

  private balanceRow (): Json {
    return {
      eventId: outputId(this.lastCause, 'TicketBalanceUpdated'),
      eventType: 'TicketBalanceUpdated',
      source: SOURCE,
      timestamp: this.updatedAt,
      version: '1.0',
      userId: this.userId,
      plan: this.plan,
      balance: this.balance,
      granted: this.granted,
      deducted: this.deducted,
      rejected: this.rejected,
      evaluationCost: this.evaluationCost,
      evaluationsSettled: this.evaluationsSettled,
      paymentsCompleted: this.paymentsCompleted,
      paymentsFailed: this.paymentsFailed,
      openedAt: this.openedAt,
      openedBy: this.openedBy,
      signedUpAt: this.signedUpAt,
      revision: this.revision,
      causeEventId: this.lastCause,
      recentEntries: this.recent
    }
  }
}
