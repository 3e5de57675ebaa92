/**
 * payment-events and subscription-events: the four types the Payment service produces (seed §2.3).
 */
import { F, defineEvent, type EventCheck, type EventDefinition, type EventShape, type Id } from './common'
import { pointerOf } from '../event-error'

export type PaymentCompletedEvent = EventShape<'PaymentCompleted', {
  paymentId: Id
  userId: Id
  /** as Toss sends it, in whole currency units (KRW has no minor unit: 29000 = ₩29,000) */
  amount: number
  planType: string
  currency?: string
  orderId?: string
}>

export type PaymentFailedEvent = EventShape<'PaymentFailed', {
  paymentId: Id
  userId: Id
  failureReason: string
  amount?: number
  planType?: string
  currency?: string
  orderId?: string
}>

export type PlanUpgradedEvent = EventShape<'PlanUpgraded', {
  userId: Id
  fromPlan: string
  toPlan: string
}>

export type PlanDowngradedEvent = EventShape<'PlanDowngraded', {
  userId: Id
  fromPlan: string
  toPlan: string
}>

const AUTH = 'auth-service' as const
const UM = 'user-management-service' as const

/** ISO 4217 code, e.g. KRW */
const currency = { type: 'string', pattern: '^[A-Z]{3}$' }
/** a payment amount: strictly positive (a zero-amount payment is not a payment) */
const amount = { type: 'number', exclusiveMinimum: 0 }

/** A plan change that keeps the plan is a producer bug, not an event. */
const planMustChange: EventCheck = (body) => body.fromPlan === body.toPlan
  ? [{ pointer: pointerOf('toPlan'), message: `must differ from fromPlan (both are ${JSON.stringify(body.toPlan)})` }]
  : []

export const PAYMENT_EVENT_DEFINITIONS: readonly EventDefinition[] = [
  defineEvent('PaymentCompleted', {
    description: 'A Toss payment was confirmed (POST /api/payments/toss/confirm).',
    producer: 'payment-service',
    consumers: [UM],
    required: { paymentId: F.id, userId: F.id, amount, planType: F.text },
    optional: { currency, orderId: F.text }
  }),
  defineEvent('PaymentFailed', {
    description: 'A Toss payment failed (POST /api/payments/toss/confirm).',
    producer: 'payment-service',
    consumers: [AUTH, UM],
    required: { paymentId: F.id, userId: F.id, failureReason: F.text },
    optional: { amount, planType: F.text, currency, orderId: F.text }
  }),
  defineEvent('PlanUpgraded', {
    description: 'A subscription moved to a higher plan (POST /api/payments/upgrade).',
    producer: 'payment-service',
    consumers: [AUTH, UM],
    required: { userId: F.id, fromPlan: F.text, toPlan: F.text },
    check: planMustChange
  }),
  defineEvent('PlanDowngraded', {
    description: 'A subscription moved to a lower plan (POST /api/payments/downgrade).',
    producer: 'payment-service',
    consumers: [AUTH, UM],
    required: { userId: F.id, fromPlan: F.text, toPlan: F.text },
    check: planMustChange
  })
]
