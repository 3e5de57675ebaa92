/**
 * The §5.1 envelope (eventId, eventType, source, timestamp, version) as Kafka record headers.
 *
 * Our producers write the envelope twice: in the JSON body (so a consumer that ignores headers, like the
 * seed's Spring listeners, still sees it) and as headers (so routing, dead-lettering and tracing can read it
 * without parsing the body). Consumers accept it from either place; normalizeEvent() checks they agree.
 *
 * Header layout — each header value is the UTF-8 bytes of a string:
 *   eventId    UUID, e.g. "0b6f5f2e-3c1d-4e8a-9a57-2f0d1c9e7b42"
 *   eventType  canonical type name, e.g. "MissionCompleted" (any alias is accepted when reading)
 *   source     producing service, e.g. "mission-service"
 *   timestamp  ISO-8601 UTC with milliseconds, e.g. "2024-01-15T09:55:00.000Z" (digits = epoch ms accepted when reading)
 *   version    schema version, e.g. "1.0"
 * Read-only extra: `__TypeId__`, the Java class name Spring's JsonSerializer adds (seed §2.1 uses it); when
 * there is no eventType header and it names a known type (…UserSignedUpEvent), it supplies the type.
 */
import { DevtripError } from './errors'
import { canonicalEventType, type EventType } from './event-types'
import { pointerOf, type EventError } from './event-error'
import { formatTimestamp, parseTimestamp } from './timestamps'
import { SCHEMA_MAJOR_VERSION, type EventEnvelope } from './schemas/common'

export const ENVELOPE_HEADERS = Object.freeze({
  eventId: 'eventId',
  eventType: 'eventType',
  source: 'source',
  timestamp: 'timestamp',
  version: 'version'
} as const)
export const SPRING_TYPE_HEADER = '__TypeId__'

/** Header bytes as any Kafka client hands them over (Buffer is a Uint8Array). */
export type HeaderBytes = string | Uint8Array
/** Accepted header collections: a Map (@platformatic/kafka), a plain object, or [key, value] pairs. */
export type HeaderInput =
  | ReadonlyMap<HeaderBytes, HeaderBytes | null | undefined>
  | Readonly<Record<string, HeaderBytes | null | undefined>>
  | Iterable<readonly [HeaderBytes, HeaderBytes | null | undefined]>

/** What the headers said about the envelope; every field optional (a record may carry none). */
export interface HeaderEnvelope {
  eventId?: string
  eventType?: EventType
  source?: string
  /** epoch ms */
  timestamp?: number
  version?: string
  /** the raw `__TypeId__` value, kept for error messages */
  springTypeId?: string
}

export type HeaderEnvelopeResult = { ok: true, envelope: HeaderEnvelope } | { ok: false, errors: EventError[] }

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const VERSION_PATTERN = new RegExp(`^${SCHEMA_MAJOR_VERSION}(\\.[0-9]+)*$`)

const utf8 = new TextDecoder('utf-8', { fatal: true })

function decode (bytes: HeaderBytes): string | undefined {
  if (typeof bytes === 'string') return bytes
  try {
    return utf8.decode(bytes)
  } catch {
    return undefined
  }
}

function isMapLike (input: HeaderInput): input is ReadonlyMap<HeaderBytes, HeaderBytes | null | undefined> {
  return input instanceof Map
}

function headerPairs (input: HeaderInput): Array<[HeaderBytes, HeaderBytes | null | undefined]> {
  if (isMapLike(input)) return [...input.entries()]
  if (Symbol.iterator in (input as object)) return [...(input as Iterable<readonly [HeaderBytes, HeaderBytes | null | undefined]>)].map(([k, v]) => [k, v])
  return Object.entries(input as Record<string, HeaderBytes | null | undefined>)
}

/** Turns a normalised event's envelope into the five string headers above. */
export function envelopeToHeaders (envelope: EventEnvelope): Record<string, string> {
  const problems: string[] = []
  if (typeof envelope.eventId !== 'string' || !UUID_PATTERN.test(envelope.eventId)) problems.push('eventId must be a UUID')
  if (typeof envelope.eventType !== 'string' || canonicalEventType(envelope.eventType) === undefined) problems.push('eventType must be a known event type')
  if (typeof envelope.source !== 'string' || envelope.source.length === 0) problems.push('source must be a non-empty string')
  if (typeof envelope.timestamp !== 'number' || !parseTimestamp(envelope.timestamp).ok) problems.push('timestamp must be epoch milliseconds')
  if (typeof envelope.version !== 'string' || !VERSION_PATTERN.test(envelope.version)) problems.push(`version must be "${SCHEMA_MAJOR_VERSION}" or "${SCHEMA_MAJOR_VERSION}.<minor>"`)
  if (problems.length > 0) {
    throw new DevtripError('DEVTRIP_INVALID_EVENT', `cannot build envelope headers: ${problems.join('; ')}`, {
      details: { problems, hint: 'pass an event returned by normalizeEvent()' }
    })
  }
  return {
    [ENVELOPE_HEADERS.eventId]: envelope.eventId,
    [ENVELOPE_HEADERS.eventType]: canonicalEventType(envelope.eventType)!,
    [ENVELOPE_HEADERS.source]: envelope.source,
    [ENVELOPE_HEADERS.timestamp]: formatTimestamp(envelope.timestamp),
    [ENVELOPE_HEADERS.version]: envelope.version
  }
}

const HEADER_NAMES: ReadonlySet<string> = new Set([...Object.values(ENVELOPE_HEADERS), SPRING_TYPE_HEADER])

/**
 * Reads the envelope headers (others are ignored: tracing and client headers are none of our business).
 * A header that is present but unusable is an error, never skipped; so is an envelope header given twice
 * with different values.
 */
export function envelopeFromHeaders (headers: HeaderInput | undefined | null): HeaderEnvelopeResult {
  const errors: EventError[] = []
  const values = new Map<string, string>()
  for (const [rawKey, rawValue] of headers == null ? [] : headerPairs(headers)) {
    const key = decode(rawKey)
    if (key === undefined || !HEADER_NAMES.has(key)) continue
    const error = (message: string): void => { errors.push({ pointer: pointerOf(key === SPRING_TYPE_HEADER ? 'eventType' : key), message: `header ${key} ${message}` }) }
    if (rawValue == null) { error('has no value'); continue }
    const value = decode(rawValue)
    if (value === undefined) { error('is not valid UTF-8'); continue }
    const earlier = values.get(key)
    if (earlier !== undefined && earlier !== value) { error(`appears twice with different values (${JSON.stringify(earlier)}, ${JSON.stringify(value)})`); continue }
    values.set(key, value)
  }

  const envelope: HeaderEnvelope = {}
  const fail = (field: string, message: string): void => { errors.push({ pointer: pointerOf(field), message: `header ${field} ${message}` }) }
  const eventId = values.get(ENVELOPE_HEADERS.eventId)
  if (eventId !== undefined) {
    if (UUID_PATTERN.test(eventId)) envelope.eventId = eventId
    else fail('eventId', `must be a UUID, got ${JSON.stringify(eventId)}`)
  }
  const typeName = values.get(ENVELOPE_HEADERS.eventType)
  if (typeName !== undefined) {
    const type = canonicalEventType(typeName)
    if (type !== undefined) envelope.eventType = type
    else fail('eventType', `names no known event type: ${JSON.stringify(typeName)} (run \`devtrip-streams events list\`)`)
  }
  const springTypeId = values.get(SPRING_TYPE_HEADER)
  if (springTypeId !== undefined) {
    envelope.springTypeId = springTypeId
    // a Java class name; only its simple name can be an event type (a nested class is Outer$Inner)
    const simpleName = springTypeId.split(/[.$]/).pop() ?? ''
    const type = canonicalEventType(simpleName)
    if (envelope.eventType === undefined && typeName === undefined && type !== undefined) envelope.eventType = type
  }
  const source = values.get(ENVELOPE_HEADERS.source)
  if (source !== undefined) {
    if (source.length > 0) envelope.source = source
    else fail('source', 'must not be empty')
  }
  const timestamp = values.get(ENVELOPE_HEADERS.timestamp)
  if (timestamp !== undefined) {
    const parsed = parseTimestamp(timestamp, true)
    if (parsed.ok) envelope.timestamp = parsed.ms
    else fail('timestamp', parsed.reason)
  }
  const version = values.get(ENVELOPE_HEADERS.version)
  if (version !== undefined) {
    if (VERSION_PATTERN.test(version)) envelope.version = version
    else fail('version', `must be "${SCHEMA_MAJOR_VERSION}" or "${SCHEMA_MAJOR_VERSION}.<minor>" (only schema version ${SCHEMA_MAJOR_VERSION} exists), got ${JSON.stringify(version)}`)
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, envelope }
}
