/**
 * The chaos verifier's core: what the pipeline must have committed (from the workload and the model), and the
 * comparison of what it did commit. No Kafka here — verify-kafka.ts reads the topics and feeds `OutputVerifier`; a
 * unit test feeds it the TopologyTestDriver's output the same way.
 *
 * Every output has a deterministic eventId (model-ids.ts), so "exactly once" is checkable record by record:
 *   missing     an expected eventId never seen
 *   duplicates  an eventId seen more than once (a transaction that was replayed AND kept)
 *   unexpected  an eventId the model does not know
 *   mismatches  the record differs from the model (compared as key-sorted JSON; user-stats rows caused by a user's own
 *               event without the fields the evaluation topology's retry events may or may not have touched yet)
 * plus, per user, the final ticket-balances row and the final user-stats row (the last one written for the key), and
 * the dead letters: exactly one per poison record and application reading its topic.
 *
 * The verifier never imports processors/ or topologies/: which applications read which topic is the table in
 * docs/topologies.md, written out below.
 */
import { createHash } from 'node:crypto'
import type { DevtripEvent, DomainTopic } from '../../events'
import type { ChaosPolicies } from './chaos-policies'
import type { Workload } from './generator'
import { inProcessingOrder, modelUser, type UserModel } from './model'
import type { Json } from './model-ticketing'
import { withoutEchoFields } from './model-user-stats'

/** docs/topologies.md: the application ids and the domain topics each reads */
export const APPLICATIONS: Readonly<Record<string, readonly DomainTopic[]>> = Object.freeze({
  'devtrip-ticketing': ['auth-events', 'payment-events', 'subscription-events', 'mission-events', 'evaluation-events'],
  'devtrip-user-stats': ['auth-events', 'user-events', 'payment-events', 'subscription-events', 'mission-events', 'evaluation-events'],
  'devtrip-evaluation': ['mission-events', 'evaluation-events']
})

export type CheckedTopic = 'ticket-ledger' | 'ticket-balances' | 'user-stats' | 'evaluation-events' | 'mission-results' | 'evaluation-review'
export const CHECKED_TOPICS: readonly CheckedTopic[] = ['ticket-ledger', 'ticket-balances', 'user-stats', 'evaluation-events', 'mission-results', 'evaluation-review']

/** Key-sorted JSON: the same value always gives the same text, whatever the property order. */
export function canonical (value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>
    return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

function digest (value: unknown): string {
  return createHash('sha1').update(canonical(value)).digest('base64')
}

interface Expected {
  readonly userId: number
  /** digest of what is compared; undefined: only presence and cause are checked */
  readonly hash: string | undefined
  readonly cause?: string
  readonly compare: 'full' | 'own-stats' | 'cause-only'
}

export interface Example {
  readonly topic: string
  readonly eventId?: string
  readonly userId?: number
  readonly problem: string
  readonly expected?: unknown
  readonly actual?: unknown
}

export interface VerificationCounts {
  readonly expectedOutputs: number
  readonly actualOutputs: number
  readonly missing: number
  readonly duplicates: number
  readonly unexpected: number
  readonly mismatches: number
  readonly finalBalanceMismatches: number
  readonly finalStatsMismatches: number
  readonly dlqExpected: number
  readonly dlqActual: number
  readonly dlqMissing: number
  readonly dlqUnexpected: number
  readonly pendingTimers: number
  readonly examples: readonly Example[]
}

const MAX_EXAMPLES = 8

/** What the model expects for a workload, and the running comparison with what was read. */
export class OutputVerifier {
  private readonly expected = new Map<CheckedTopic, Map<string, Expected>>()
  private readonly seen = new Map<string, number>()
  private readonly finalBalance = new Map<number, string>()
  private readonly finalStats = new Map<number, { hash: string, causes: ReadonlySet<string> }>()
  private readonly lastBalance = new Map<string, Json>()
  private readonly lastStats = new Map<string, Json>()
  /** poison seq → application ids that must dead-letter it, one entry per copy in the input */
  private readonly dlqExpected = new Map<string, number>()
  private readonly dlqSeen = new Map<string, number>()
  private readonly eventsByUser = new Map<number, Array<{ event: DevtripEvent, seq: number }>>()
  private readonly examples: Example[] = []
  private actualOutputs = 0
  private duplicates = 0
  private unexpected = 0
  private mismatches = 0
  private dlqActual = 0
  private pendingTimers = 0
  private expectedOutputs = 0

  constructor (workload: Workload, private readonly policies: ChaosPolicies, inputCopies?: ReadonlyMap<number, number>) {
    for (const topic of CHECKED_TOPICS) this.expected.set(topic, new Map())
    const firstById = new Set<string>()
    for (const r of workload.records) {
      if (r.kind === 'poison') {
        const copies = inputCopies?.get(r.seq) ?? 1
        for (const [app, topics] of Object.entries(APPLICATIONS)) {
          if (topics.includes(r.topic) && copies > 0) this.dlqExpected.set(`${app}:${r.seq}`, copies)
        }
        continue
      }
      // a duplicate, or a second copy of an event the feeder re-sent, is skipped by the pipeline's dedup
      if (r.kind !== 'event' || firstById.has(r.event.eventId)) continue
      firstById.add(r.event.eventId)
      const list = this.eventsByUser.get(r.userId) ?? []
      list.push({ event: r.event, seq: r.seq })
      this.eventsByUser.set(r.userId, list)
    }
    for (const [userId, events] of this.eventsByUser) this.expect(userId, this.model(userId, events))
    for (const m of this.expected.values()) this.expectedOutputs += m.size
  }

  private model (userId: number, events: Array<{ event: DevtripEvent, seq: number }>): UserModel {
    return modelUser(userId, inProcessingOrder(events).map((e) => e.event), this.policies)
  }

  private expect (userId: number, m: UserModel): void {
    const put = (topic: CheckedTopic, value: Json, compare: Expected['compare'], cause?: string): void => {
      const hash = compare === 'full' ? digest(value) : compare === 'own-stats' ? digest(withoutEchoFields(value)) : undefined
      this.expected.get(topic)!.set(value.eventId as string, { userId, hash, compare, ...(cause === undefined ? {} : { cause }) })
    }
    for (const entry of m.ledger) put('ticket-ledger', entry, 'full')
    for (const row of m.balances) put('ticket-balances', row, 'full')
    for (const row of m.ownStats) put('user-stats', row, 'own-stats')
    for (const echo of m.echoStatIds) this.expected.get('user-stats')!.set(echo.eventId, { userId, hash: undefined, compare: 'cause-only', cause: echo.causeEventId })
    for (const out of m.evaluation) put(out.topic, out.value, 'full')
    const last = m.balances[m.balances.length - 1]
    if (last !== undefined) this.finalBalance.set(userId, digest(last))
    if (m.finalStats !== undefined) this.finalStats.set(userId, { hash: digest(finalStatsView(m.finalStats)), causes: new Set(m.finalStatsCauses) })
    this.pendingTimers += m.pendingTimers
  }

  private example (e: Example): void {
    if (this.examples.length < MAX_EXAMPLES) this.examples.push(e)
  }

  /** The model's record for an eventId (recomputed for the user: only needed for the few examples shown). */
  private expectedValue (topic: CheckedTopic, userId: number, eventId: string): unknown {
    const m = this.model(userId, this.eventsByUser.get(userId) ?? [])
    const all: Json[] = topic === 'ticket-ledger' ? [...m.ledger] : topic === 'ticket-balances' ? [...m.balances] : topic === 'user-stats' ? [...m.ownStats] : m.evaluation.map((o) => o.value)
    return all.find((v) => v.eventId === eventId)
  }

  /** A pipeline output read from `topic` (in offset order per partition); `key` is the record key. */
  output (topic: CheckedTopic, key: string, value: Json): void {
    this.actualOutputs++
    const eventId = String(value.eventId)
    const count = (this.seen.get(eventId) ?? 0) + 1
    this.seen.set(eventId, count)
    if (topic === 'ticket-balances') this.lastBalance.set(key, value)
    if (topic === 'user-stats') this.lastStats.set(key, value)
    const expected = this.expected.get(topic)!.get(eventId)
    if (expected === undefined) {
      this.unexpected++
      this.example({ topic, eventId, problem: 'not an output the model expects', actual: value })
      return
    }
    if (count > 1) {
      this.duplicates++
      this.example({ topic, eventId, userId: expected.userId, problem: `written ${count} times`, actual: value })
      return
    }
    const same = expected.compare === 'cause-only'
      ? value.causeEventId === expected.cause
      : (expected.compare === 'full' ? digest(value) : digest(withoutEchoFields(value))) === expected.hash
    if (!same) {
      this.mismatches++
      this.example({ topic, eventId, userId: expected.userId, problem: 'differs from the model', expected: this.expectedValue(topic, expected.userId, eventId), actual: value })
    }
  }

  /** A record read from a dead-letter topic: `seq` from the chaos header (undefined when absent), `app` from its error headers. */
  deadLetter (topic: string, seq: number | undefined, app: string | undefined): void {
    this.dlqActual++
    const key = `${app ?? '?'}:${seq ?? '?'}`
    const count = (this.dlqSeen.get(key) ?? 0) + 1
    this.dlqSeen.set(key, count)
    if (count > (this.dlqExpected.get(key) ?? 0)) this.example({ topic, problem: `dead letter not expected (${count}. copy of ${key})` })
  }

  finish (): VerificationCounts {
    let missing = 0
    for (const [topic, expected] of this.expected) {
      for (const [eventId, e] of expected) {
        if (this.seen.has(eventId)) continue
        missing++
        this.example({ topic, eventId, userId: e.userId, problem: 'missing', expected: e.compare === 'cause-only' ? { causeEventId: e.cause } : this.expectedValue(topic, e.userId, eventId) })
      }
    }
    let finalBalanceMismatches = 0
    for (const [userId, hash] of this.finalBalance) {
      const actual = this.lastBalance.get(String(userId))
      if (actual !== undefined && digest(actual) === hash) continue
      finalBalanceMismatches++
      this.example({ topic: 'ticket-balances', userId, problem: 'the last balance row differs from the model\'s final balance', actual })
    }
    let finalStatsMismatches = 0
    for (const [userId, want] of this.finalStats) {
      const actual = this.lastStats.get(String(userId))
      if (actual !== undefined && digest(finalStatsView(actual)) === want.hash && want.causes.has(String(actual.causeEventId))) continue
      finalStatsMismatches++
      this.example({ topic: 'user-stats', userId, problem: 'the last stats row differs from the model\'s final statistics', actual })
    }
    let dlqMissing = 0
    let dlqUnexpected = 0
    let dlqExpected = 0
    for (const [key, n] of this.dlqExpected) {
      dlqExpected += n
      const got = this.dlqSeen.get(key) ?? 0
      if (got < n) {
        dlqMissing += n - got
        this.example({ topic: 'dlq', problem: `missing dead letter ${key}` })
      }
    }
    for (const [key, got] of this.dlqSeen) dlqUnexpected += Math.max(0, got - (this.dlqExpected.get(key) ?? 0))
    return {
      expectedOutputs: this.expectedOutputs,
      actualOutputs: this.actualOutputs,
      missing,
      duplicates: this.duplicates,
      unexpected: this.unexpected,
      mismatches: this.mismatches,
      finalBalanceMismatches,
      finalStatsMismatches,
      dlqExpected,
      dlqActual: this.dlqActual,
      dlqMissing,
      dlqUnexpected,
      pendingTimers: this.pendingTimers,
      examples: this.examples
    }
  }
}

/** The final stats row without what names the last event processed (which of several may legitimately be last). */
function finalStatsView (row: Json): Json {
  const { eventId: _id, causeEventId: _cause, ...rest } = row
  return rest
}

