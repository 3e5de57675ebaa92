/**
 * The verifier's model of the three DevTrip topologies for one user: the user's valid input events (duplicates
 * removed by eventId, in record-timestamp order) in, every output the pipeline must have committed out.
 * It shares no code with processors/ or topologies/: model-ticketing.ts, model-user-stats.ts and
 * model-evaluation.ts re-implement the rules of docs/topologies.md and docs/policies.md, model-ids.ts the output ids.
 *
 * The three topologies are independent except for one loop: the evaluation topology's retry events go back to
 * evaluation-events, which the user-stats topology reads as input. The model feeds them to its user-stats replay too.
 */
import type { DevtripEvent } from '../../events'
import type { ChaosPolicies } from './chaos-policies'
import { EvaluationModel, type EvaluationOutputRecord } from './model-evaluation'
import { outputId } from './model-ids'
import { TicketAccountModel, type Json } from './model-ticketing'
import { UserStatsModel } from './model-user-stats'

export interface UserModel {
  readonly userId: number | string
  /** ticket-ledger: every entry */
  readonly ledger: readonly Json[]
  /** ticket-balances: every row, in the order written (the last is the final balance) */
  readonly balances: readonly Json[]
  /** user-stats rows caused by the user's own events, as written when no retry event of the user came in between */
  readonly ownStats: readonly Json[]
  /** user-stats: the ids of the rows caused by the evaluation topology's retry events (their content depends on timing) */
  readonly echoStatIds: ReadonlyArray<{ readonly eventId: string, readonly causeEventId: string }>
  /** the final user-stats row, with every event (own and retry events) applied */
  readonly finalStats: Json | undefined
  /** the events whose row may be the user's last user-stats row: the newest own event, or any retry event */
  readonly finalStatsCauses: readonly string[]
  /** evaluation-events (retry requested / completed), mission-results and evaluation-review outputs */
  readonly evaluation: readonly EvaluationOutputRecord[]
  /** timers left set after the last event; the generator is built so that none is */
  readonly pendingTimers: number
}

/** Sorts a user's events into the order the pipeline processes them: record timestamp, then production order. */
export function inProcessingOrder<T extends { readonly event: DevtripEvent, readonly seq: number }> (events: readonly T[]): T[] {
  return [...events].sort((a, b) => a.event.timestamp - b.event.timestamp || a.seq - b.seq)
}

/** Replays one user's events (already deduplicated and in processing order) through the three models. */
export function modelUser (userId: number | string, events: readonly DevtripEvent[], policies: ChaosPolicies): UserModel {
  const ticketing = new TicketAccountModel(userId, policies)
  const evaluation = new EvaluationModel(policies)
  const ownStats = new UserStatsModel(userId, policies)
  const ledger: Json[] = []
  const balances: Json[] = []
  const ownRows: Json[] = []
  const evaluationOutputs: EvaluationOutputRecord[] = []
  for (const event of events) {
    const step = ticketing.apply(event)
    ledger.push(...step.entries)
    if (step.balance !== undefined) balances.push(step.balance)
    ownRows.push(ownStats.apply(event))
    evaluationOutputs.push(...evaluation.apply(event))
  }

  // the retry events are valid catalog events on evaluation-events: the user-stats topology counts each once
  const echoes = evaluationOutputs.filter((o) => o.topic === 'evaluation-events').map((o) => o.value as unknown as DevtripEvent)
  const all = [...events.map((event, i) => ({ event, seq: i })), ...echoes.map((event, i) => ({ event, seq: events.length + i }))]
  const full = new UserStatsModel(userId, policies)
  let finalStats: Json | undefined
  for (const { event } of inProcessingOrder(all)) finalStats = full.apply(event)
  const newestOwn = events.length === 0 ? [] : [events[events.length - 1]!.eventId]

  return {
    userId,
    ledger,
    balances,
    ownStats: ownRows,
    echoStatIds: echoes.map((e) => ({ eventId: outputId(e.eventId, 'UserStatsUpdated'), causeEventId: e.eventId })),
    finalStats,
    finalStatsCauses: [...newestOwn, ...echoes.map((e) => e.eventId)],
    evaluation: evaluationOutputs,
    pendingTimers: evaluation.pendingTimers()
  }
}
