/**
 * The chaos workload: a seeded, reproducible mix of every DevTrip event type for U users across the six domain
 * topics, in production order, plus re-sent duplicates (the same record again: same eventId, same bytes) and poison
 * records (unreadable or invalid) at known positions.
 *
 *   const workload = generateWorkload({ events: 20_000, users: 100, seed: 7 })
 *   workload.records[i]            // i = production position; .kind is 'event' | 'duplicate' | 'poison'
 *   encodeRecord(workload.records[i])  // → what the producer sends
 *
 * Every user's events have distinct, increasing timestamps across all topics (historical: from 2024-01-01), and all
 * users live at the same time, so the topics interleave like a real day. Production order is timestamp order; a
 * duplicate is sent 1–300 records after its original, like a producer retry.
 *
 * Every record carries the header `devtrip-chaos-seq` (its production position): the verifier reads the topics back
 * and matches what it finds — including what the pipeline dead-lettered, headers kept — to what was meant.
 */
import {
  EVENT_TOPIC, EVENT_TYPES, envelopeToHeaders, eventDefinition, normalizeEvent, recordKeyFor,
  type DevtripEvent, type DomainTopic, type EventType
} from '../../events'
import { CHAOS_POLICIES, type ChaosPolicies } from './chaos-policies'
import { UserTimeline, type DraftEvent } from './generator-user'
import { Random } from './random'

export const SEQ_HEADER = 'devtrip-chaos-seq'
/** 2024-01-01T00:00:00Z: workloads are historical, so nothing depends on today's date */
export const WORKLOAD_START_MS = Date.UTC(2024, 0, 1)

export type PoisonKind = 'not-json' | 'not-an-object' | 'unknown-type' | 'wrong-topic' | 'schema-violation' | 'key-mismatch' | 'no-event-type' | 'header-conflict'
export const POISON_KINDS: readonly PoisonKind[] = ['not-json', 'not-an-object', 'unknown-type', 'wrong-topic', 'schema-violation', 'key-mismatch', 'no-event-type', 'header-conflict']

interface BaseRecord {
  /** production position, 0-based */
  readonly seq: number
  readonly topic: DomainTopic
  readonly key: string
  readonly timestamp: number
  readonly userId: number
}
export interface EventRecord extends BaseRecord { readonly kind: 'event', readonly event: DevtripEvent }
/** the same event sent again (same bytes); `original` is the seq of the first copy */
export interface DuplicateRecord extends BaseRecord { readonly kind: 'duplicate', readonly event: DevtripEvent, readonly original: number }
export interface PoisonRecord extends BaseRecord {
  readonly kind: 'poison'
  readonly poison: PoisonKind
  readonly value: Buffer
  readonly headers: ReadonlyArray<readonly [string, Buffer]>
}
export type WorkloadRecord = EventRecord | DuplicateRecord | PoisonRecord

export interface WorkloadOptions {
  /** records to produce in total: valid events, duplicates and poison */
  readonly events: number
  readonly users: number
  readonly seed: number
  readonly policies?: ChaosPolicies
  /** share of records that are re-sent duplicates (default 1 %) */
  readonly duplicateRate?: number
  /** share of records that are poison (default 0.2 %, at least one of each kind) */
  readonly poisonRate?: number
}

export interface Workload {
  readonly seed: number
  readonly users: number
  readonly records: readonly WorkloadRecord[]
  readonly counts: { readonly events: number, readonly duplicates: number, readonly poison: number }
  /** first and last record timestamp */
  readonly timeRange: readonly [number, number]
}

/** What a producer sends for a record: value bytes and headers (the envelope and the seq header). */
export function encodeRecord (record: WorkloadRecord): { value: Buffer, headers: Array<[string, Buffer]> } {
  const seq: [string, Buffer] = [SEQ_HEADER, Buffer.from(String(record.seq))]
  if (record.kind === 'poison') return { value: record.value, headers: [...record.headers.map(([k, v]) => [k, v] as [string, Buffer]), seq] }
  const headers = Object.entries(envelopeToHeaders(record.event)).map(([k, v]) => [k, Buffer.from(v)] as [string, Buffer])
  return { value: Buffer.from(JSON.stringify(record.event)), headers: [...headers, seq] }
}

function check (options: WorkloadOptions): void {
  const problems: string[] = []
  if (!Number.isInteger(options.events) || options.events < 100) problems.push('events must be an integer ≥ 100')
  if (!Number.isInteger(options.users) || options.users < 1) problems.push('users must be a positive integer')
  if (Number.isInteger(options.events) && Number.isInteger(options.users) && options.events / options.users < 30) problems.push('give each user at least 30 events (events / users ≥ 30)')
  if (!Number.isInteger(options.seed)) problems.push('seed must be an integer')
  if (problems.length > 0) throw new Error(`invalid workload options: ${problems.join('; ')}`)
}

/** One user's timeline: sign-up (usually first), episodes until the budget is used, and an evaluated mission last. */
function userTimeline (userId: number, budget: number, random: Random, policies: ChaosPolicies): DraftEvent[] {
  const t = new UserTimeline(userId, WORKLOAD_START_MS + random.int(0, 10 * 60_000), random, policies)
  // most users sign up first; some only after their first payment or mission (their account opens implicitly), a few never
  const signup = random.weighted([['first', 85], ['later', 10], ['never', 5]] as const)
  if (signup === 'first') {
    t.signUp()
    t.login()
  }
  let signedUp = signup !== 'later'
  const closing = 9 // room for the final evaluated mission and the logout
  while (t.events.length < budget - closing) {
    const episode = random.weighted([
      ['login', 30], ['mission', 34], ['purchase', 7], ['failed-payment', 3], ['downgrade', 2], ['unknown-plan', 0.6], ['payment-resent', 0.8],
      ['password', 3], ['lock', 0.6], ['team', 4], ['profile', 6], ['signup-again', 0.3]
    ] as const)
    switch (episode) {
      case 'login': t.login(); break
      case 'mission': t.mission(); break
      case 'purchase': t.purchase(); break
      case 'failed-payment': t.failedPayment(); break
      case 'downgrade': t.downgrade(); break
      case 'unknown-plan': t.unknownPlan(); break
      case 'payment-resent': t.paymentResent(); break
      case 'password': t.passwordReset(); break
      case 'lock': t.lock(); break
      case 'team': t.team(); break
      case 'profile': t.profile(); break
      case 'signup-again': t.signUp(); break
    }
    if (!signedUp && (episode === 'mission' || episode === 'purchase')) {
      t.signUp()
      signedUp = true
    }
  }
  t.mission('ok')
  t.emit('UserLoggedOut', {})
  return t.events
}

/** Fillers (stand-alone logins/profile edits) added or dropped so that the valid events number exactly `target`. */
function fitTo (timelines: DraftEvent[][], target: number, random: Random, policies: ChaosPolicies): void {
  let total = timelines.reduce((n, t) => n + t.length, 0)
  const withFillers = timelines.filter((t) => t.some((e) => e.filler))
  while (total > target && withFillers.length > 0) {
    const k = random.int(0, withFillers.length - 1)
    const t = withFillers[k]!
    t.splice(t.findIndex((e) => e.filler), 1)
    total--
    if (!t.some((e) => e.filler)) withFillers.splice(k, 1)
  }
  if (total > target) throw new Error(`chaos generator: cannot fit the workload into ${target} events; give each user more events`)
  while (total < target) {
    const i = random.int(0, timelines.length - 1)
    const events = timelines[i]!
    const last = events[events.length - 1]!
    const t = new UserTimeline(last.fields.userId as number, last.timestamp, random, policies)
    t.filler()
    events.push(...t.events)
    total++
  }
}

function toEvent (draft: DraftEvent, random: Random): DevtripEvent {
  const body = { eventId: random.uuid(), eventType: draft.type, source: eventDefinition(draft.type).producer, timestamp: draft.timestamp, version: '1.0', ...draft.fields }
  const result = normalizeEvent(body, { type: draft.type, topic: EVENT_TOPIC[draft.type] })
  if (!result.ok) {
    // a bug in the generator, not input: stop before anything is produced
    throw new Error(`chaos generator built an invalid ${draft.type}: ${result.errors.map((e) => `${e.pointer} ${e.message}`).join('; ')}`)
  }
  return result.event
}

/** Bytes and headers of one poison record of `kind`, for user `userId` at `timestamp`. */
function poisonOf (kind: PoisonKind, userId: number, timestamp: number, random: Random): Pick<PoisonRecord, 'topic' | 'key' | 'value' | 'headers'> {
  const key = String(userId)
  const json = (topic: DomainTopic, value: unknown, headers: ReadonlyArray<readonly [string, Buffer]> = []): Pick<PoisonRecord, 'topic' | 'key' | 'value' | 'headers'> =>
    ({ topic, key, value: Buffer.from(JSON.stringify(value)), headers })
  const valid = (type: EventType, fields: Record<string, unknown>): Record<string, unknown> =>
    ({ eventId: random.uuid(), eventType: type, source: eventDefinition(type).producer, timestamp, version: '1.0', userId, ...fields })
  switch (kind) {
    case 'not-json': return { topic: 'auth-events', key, value: Buffer.from(`{"eventType":"UserLoggedIn","userId":${userId},`), headers: [] }
    case 'not-an-object': return json('user-events', [userId, 'UserProfileUpdated'])
    case 'unknown-type': return json('payment-events', valid('PaymentCompleted', { eventType: 'PaymentRefunded', paymentId: `pay-x-${userId}`, amount: 100, planType: 'PRO' }))
    case 'wrong-topic': return json('subscription-events', valid('MissionStarted', { missionId: 'mission-1' }))
    case 'schema-violation':
      // a score above its own scale: the catalog refuses it at the source
      return json('evaluation-events', valid('EvaluationCompleted', { evaluationId: `eval-bad-${userId}`, missionAttemptId: `attempt-bad-${userId}`, score: 130, maxScore: 100, feedback: 'x' }))
    case 'key-mismatch':
      return { ...json('mission-events', valid('MissionStarted', { missionId: 'mission-2' })), key: String(userId + 1_000_000) }
    case 'no-event-type': {
      const { eventType: _dropped, ...body } = valid('UserLoggedOut', {})
      return json('auth-events', body)
    }
    case 'header-conflict': {
      const body = valid('MissionPaused', { missionId: 'mission-3', pauseReason: 'BREAK' })
      return json('mission-events', body, [['eventType', Buffer.from('MissionResumed')]])
    }
  }
}

export function generateWorkload (options: WorkloadOptions): Workload {
  check(options)
  const policies = options.policies ?? CHAOS_POLICIES
  const random = new Random(options.seed)
  const poisonCount = Math.max(POISON_KINDS.length, Math.round(options.events * (options.poisonRate ?? 0.002)))
  const duplicateCount = Math.round(options.events * (options.duplicateRate ?? 0.01))
  const validCount = options.events - poisonCount - duplicateCount

  const timelines: DraftEvent[][] = []
  for (let u = 1; u <= options.users; u++) {
    const budget = Math.round(validCount / options.users * (0.8 + 0.4 * random.next()))
    timelines.push(userTimeline(u, budget, random.fork(), policies))
  }
  fitTo(timelines, validCount, random, policies)

  // production order: timestamp, then user, then the user's own order (timestamps are distinct per user)
  const drafts = timelines.flat().sort((a, b) => a.timestamp - b.timestamp || (a.fields.userId as number) - (b.fields.userId as number))
  const ordered: Array<Omit<EventRecord, 'seq'> | Omit<PoisonRecord, 'seq'> | (Omit<DuplicateRecord, 'seq' | 'original'> & { originalIndex: number })> =
    drafts.map((d) => {
      const event = toEvent(d, random)
      return { kind: 'event' as const, topic: EVENT_TOPIC[event.eventType], key: recordKeyFor(event), timestamp: event.timestamp, userId: d.fields.userId as number, event }
    })

  // poison at known positions: spread over the run, each between two events of its user
  for (let i = 0; i < poisonCount; i++) {
    const at = random.int(1, ordered.length - 1)
    const neighbour = ordered[at - 1]!
    const kind = POISON_KINDS[i % POISON_KINDS.length]!
    ordered.splice(at, 0, { kind: 'poison', poison: kind, userId: neighbour.userId, timestamp: neighbour.timestamp, ...poisonOf(kind, neighbour.userId, neighbour.timestamp, random) })
  }
  // duplicates: a valid record re-sent a little later (a producer retry), same bytes
  for (let i = 0; i < duplicateCount; i++) {
    let at = random.int(0, ordered.length - 2)
    while (ordered[at]!.kind !== 'event') at = random.int(0, ordered.length - 2)
    const original = ordered[at] as Omit<EventRecord, 'seq'>
    const to = Math.min(ordered.length, at + random.int(1, 300))
    ordered.splice(to, 0, { ...original, kind: 'duplicate', originalIndex: -1 })
  }

  const firstSeq = new Map<string, number>()
  const records: WorkloadRecord[] = ordered.map((r, seq) => {
    if (r.kind === 'event') {
      firstSeq.set(r.event.eventId, seq)
      return { ...r, seq }
    }
    if (r.kind === 'duplicate') {
      const { originalIndex: _unused, ...rest } = r
      return { ...rest, seq, original: firstSeq.get(r.event.eventId) as number }
    }
    return { ...r, seq }
  })
  let first = Infinity
  let last = -Infinity
  for (const r of records) {
    first = Math.min(first, r.timestamp)
    last = Math.max(last, r.timestamp)
  }
  return Object.freeze({
    seed: options.seed,
    users: options.users,
    records,
    counts: { events: records.length, duplicates: duplicateCount, poison: poisonCount },
    timeRange: [first, last] as const
  })
}

/** Every event type the workload can contain (all 25), for the generator's own test. */
export const WORKLOAD_EVENT_TYPES: readonly EventType[] = EVENT_TYPES
