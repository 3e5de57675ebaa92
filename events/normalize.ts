/**
 * normalizeEvent(): raw JSON (+ optional Kafka headers) → one validated, normalised DevtripEvent, or every
 * reason it is not one, each with a JSON pointer.
 *
 * Normalised form (what every processor downstream may rely on):
 *   - eventType is the canonical name (aliases such as `mission.completed` resolved);
 *   - eventId, source, timestamp, version are always present: taken from the body or the headers (they must
 *     agree when both are given), else source = the type's producer, version = "1.0", eventId = a UUID derived
 *     from the event's content (so the same event re-sent without an id gets the same id), and timestamp =
 *     the type's fallback field (MissionCompleted.completedAt) or the Kafka record timestamp;
 *   - timestamp and every other time field (completedAt) are epoch milliseconds;
 *   - every other field is passed through unchanged (ids keep their number/string form).
 */
import { createHash } from 'node:crypto'
import { DevtripError } from './errors'
import { canonicalEventType, EVENT_TOPIC, type EventType } from './event-types'
import { eventDefinition, type DevtripEvent, type EventByType } from './catalog'
import { envelopeFromHeaders, type HeaderEnvelope, type HeaderInput } from './envelope'
import { jsonTypeOf, pointerOf, type EventError } from './event-error'
import { parseTimestamp } from './timestamps'
import { schemaErrors } from './schema-validators'
import { DEFAULT_EVENT_VERSION } from './schemas/common'

export interface NormalizeOptions {
  /** the type the caller expects (a CLI --type, an API route); any alias; must agree with body and headers */
  type?: string
  /** the Kafka record's headers, carrying the envelope */
  headers?: HeaderInput | null
  /** the Kafka record's timestamp (epoch ms), the last source for `timestamp` */
  recordTimestamp?: number | bigint
  /** the topic the record came from: the type must belong to it */
  topic?: string
}

export type NormalizeResult =
  | { ok: true, event: DevtripEvent }
  | { ok: false, errors: EventError[], eventType?: EventType }

function isPlainObject (value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** Finds the one type the body, the headers and the caller agree on. */
function resolveType (body: Record<string, unknown>, header: HeaderEnvelope, options: NormalizeOptions, errors: EventError[]): EventType | undefined {
  const at = pointerOf('eventType')
  const claims: Array<{ where: string, type: EventType }> = []
  if (options.type !== undefined) {
    const type = canonicalEventType(options.type)
    if (type === undefined) errors.push({ pointer: at, message: `the expected type ${JSON.stringify(options.type)} is not a known event type (run \`devtrip-streams events list\`)` })
    else claims.push({ where: 'the expected type', type })
  }
  if (header.eventType !== undefined) claims.push({ where: 'the eventType header', type: header.eventType })
  if (body.eventType !== undefined) {
    if (typeof body.eventType !== 'string') {
      errors.push({ pointer: at, message: `must be a string naming the event type, got ${jsonTypeOf(body.eventType)}` })
    } else {
      const type = canonicalEventType(body.eventType)
      if (type === undefined) errors.push({ pointer: at, message: `${JSON.stringify(body.eventType)} is not a known event type or alias (run \`devtrip-streams events list\`)` })
      else claims.push({ where: 'the body', type })
    }
  }
  if (errors.some((e) => e.pointer === at)) return undefined
  const first = claims[0]
  if (first === undefined) {
    const spring = header.springTypeId === undefined ? '' : ` (the __TypeId__ header ${JSON.stringify(header.springTypeId)} names no event type)`
    errors.push({ pointer: at, message: `is required: give it in the body, in the eventType header or as the expected type${spring}` })
    return undefined
  }
  const other = claims.find((c) => c.type !== first.type)
  if (other !== undefined) {
    errors.push({ pointer: at, message: `${first.where} says ${first.type} but ${other.where} says ${other.type}` })
    return undefined
  }
  if (options.topic !== undefined && EVENT_TOPIC[first.type] !== options.topic) {
    errors.push({ pointer: at, message: `${first.type} belongs on ${EVENT_TOPIC[first.type]}, not on ${options.topic}` })
    return undefined
  }
  return first.type
}

/** Body and header must not disagree about an envelope field; returns the agreed value. */
function agree<T> (field: string, fromBody: T | undefined, fromHeader: T | undefined, errors: EventError[], show: (v: T) => string = (v) => JSON.stringify(v)): T | undefined {
  if (fromBody !== undefined && fromHeader !== undefined && fromBody !== fromHeader) {
    errors.push({ pointer: pointerOf(field), message: `the body says ${show(fromBody)} but the ${field} header says ${show(fromHeader)}` })
  }
  return fromBody ?? fromHeader
}

function recordTime (value: number | bigint | undefined, errors: EventError[]): number | undefined {
  if (value === undefined) return undefined
  const parsed = parseTimestamp(typeof value === 'bigint' ? Number(value) : value)
  if (parsed.ok) return parsed.ms
  errors.push({ pointer: pointerOf('timestamp'), message: `the record timestamp ${parsed.reason}` })
  return undefined
}

/** Key-sorted JSON, so that the derived id does not depend on property order. */
function canonicalJson (value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (isPlainObject(value)) {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

/** A fixed namespace for derived event ids (random, chosen once for this project). */
const EVENT_ID_NAMESPACE = Buffer.from('6f1c2a4e9b8d4c3f8e2a7d5b1c0e9f34', 'hex')

/**
 * RFC 9562 name-based UUID (version 5): SHA-1 over namespace ‖ name, first 16 bytes, with the version
 * nibble (byte 6, high 4 bits) set to 5 and the variant bits (byte 8, high 2 bits) set to 10.
 */
export function deriveEventId (content: unknown): string {
  const hash = createHash('sha1').update(EVENT_ID_NAMESPACE).update(canonicalJson(content)).digest()
  hash[6] = (hash[6]! & 0x0f) | 0x50
  hash[8] = (hash[8]! & 0x3f) | 0x80
  const hex = hash.subarray(0, 16).toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`
}

/** Keeps the first error per pointer: one location, one reason (Ajv may report the same value twice). */
function firstPerPointer (errors: EventError[]): EventError[] {
  const seen = new Set<string>()
  return errors.filter((e) => (seen.has(e.pointer) ? false : (seen.add(e.pointer), true)))
}

export function normalizeEvent (raw: unknown, options: NormalizeOptions = {}): NormalizeResult {
  const errors: EventError[] = []
  const headerResult = envelopeFromHeaders(options.headers)
  const header: HeaderEnvelope = headerResult.ok ? headerResult.envelope : {}
  if (!headerResult.ok) errors.push(...headerResult.errors)
  if (!isPlainObject(raw)) {
    errors.push({ pointer: '', message: `must be a JSON object (one event), got ${jsonTypeOf(raw)}` })
    return { ok: false, errors: firstPerPointer(errors) }
  }
  // work on a copy: the normalised event must not share objects with the caller's input
  const body = structuredClone(raw)
  const type = resolveType(body, header, options, errors)
  if (type === undefined) return { ok: false, errors: firstPerPointer(errors) }
  const definition = eventDefinition(type)
  const bodyErrors = schemaErrors(type, body)
  errors.push(...bodyErrors)
  if (bodyErrors.length > 0) return { ok: false, errors: firstPerPointer(errors), eventType: type }

  // the schema passed, so every time field parses
  const times: Record<string, number> = {}
  for (const field of ['timestamp', ...definition.timestampFields]) {
    if (body[field] !== undefined) times[field] = (parseTimestamp(body[field]) as { ms: number }).ms
  }
  const fallback = definition.timestampFallback === undefined ? undefined : times[definition.timestampFallback]
  const timestamp = agree('timestamp', times.timestamp, header.timestamp, errors, (ms) => new Date(ms).toISOString()) ??
    fallback ?? recordTime(options.recordTimestamp, errors)
  if (timestamp === undefined && !errors.some((e) => e.pointer === '/timestamp')) {
    errors.push({ pointer: pointerOf('timestamp'), message: 'is required: give it in the body, in the timestamp header or as the record timestamp' })
  }
  const source = agree('source', body.source as string | undefined, header.source, errors) ?? definition.producer
  const version = agree('version', body.version as string | undefined, header.version, errors) ?? DEFAULT_EVENT_VERSION
  const givenId = agree('eventId', body.eventId as string | undefined, header.eventId, errors)
  if (errors.length > 0 || timestamp === undefined) return { ok: false, errors: firstPerPointer(errors), eventType: type }

  const rest: Record<string, unknown> = { ...body, ...times }
  for (const field of ['eventId', 'eventType', 'source', 'timestamp', 'version']) delete rest[field]
  const withoutId = { eventType: type, source, timestamp, version, ...rest }
  const eventId = givenId === undefined ? deriveEventId(withoutId) : givenId.toLowerCase()
  return { ok: true, event: { eventId, ...withoutId } as unknown as DevtripEvent }
}

/** normalizeEvent() for callers that cannot continue without a valid event: throws DEVTRIP_INVALID_EVENT. */
export function requireEvent<T extends EventType = EventType> (raw: unknown, options: NormalizeOptions & { type?: T } = {}): EventByType[T] {
  const result = normalizeEvent(raw, options)
  if (result.ok) return result.event as EventByType[T]
  const summary = result.errors.slice(0, 3).map((e) => `${e.pointer || '(body)'} ${e.message}`).join('; ')
  throw new DevtripError('DEVTRIP_INVALID_EVENT', `invalid ${result.eventType ?? 'event'}: ${summary}${result.errors.length > 3 ? ` (+${result.errors.length - 3} more)` : ''}`, {
    details: { eventType: result.eventType, errors: result.errors, hint: 'run `devtrip-streams events validate` on the event for every reason' }
  })
}
