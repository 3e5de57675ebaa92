/**
 * A request body → the events it holds, each validated against the catalog, or every reason it is not.
 *
 * Body shapes: one event object, or a JSON array of them. Each event carries the seed's §5.1 envelope
 * fields (eventId, eventType, source, timestamp, version) beside its payload fields at the top level;
 * normalizeEvent() fills what is absent (timestamp = when the request arrived, eventId = derived from the
 * content, source = the type's producer, version = "1.0") and checks the rest.
 *
 * Also checked here, because the broker or the idempotency rule would otherwise fail later and less clearly:
 * an eventId used twice in one request, and a timestamp too far in the future (brokers refuse records
 * whose time is far ahead of theirs).
 */
import { createHash } from 'node:crypto'
import {
  envelopeToHeaders, formatTimestamp, normalizeEvent, recordKeyFor, topicOfEventType,
  type DevtripEvent, type DomainTopic, type EventError, type EventType
} from '../../events'
import type { ProducerRecord } from '../../streams/kafka'
import { ApiError } from '../api-error'

export interface BatchInput {
  readonly body: unknown
  /** the topic of a /v1/topics/:topic/events request: every event must belong to it */
  readonly topic?: DomainTopic
  /** a type for events that do not name one (the `eventType` query parameter) */
  readonly eventType?: string
  /** epoch ms the request arrived: the timestamp of events without one */
  readonly receivedAt: number
}

export interface BatchLimits {
  readonly maxEventsPerRequest: number
  readonly maxFutureSkewMs: number
}

/** One event of the body, as far as it could be understood. */
export interface InspectedEvent {
  readonly index: number
  /** the event's type and topic, when its type could be resolved (even if the event is otherwise invalid) */
  readonly eventType?: EventType
  readonly topic?: DomainTopic
  /** the normalised event, when valid */
  readonly event?: DevtripEvent
  /** content hash used to tell a retry from an eventId reused for other content */
  readonly fingerprint?: string
  readonly errors: readonly EventError[]
}

/** An error of one event, as the 400 body lists it. */
export interface BatchEventError extends EventError {
  readonly index: number
}

function isPlainObject (value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function jsonKind (value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  return typeof value
}

/** JSON with object keys sorted at every level, so equal content hashes equally whatever the key order. */
function sortedJson (value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(',')}]`
  if (isPlainObject(value)) return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${sortedJson(value[k])}`).join(',')}}`
  return JSON.stringify(value) ?? 'null'
}

/**
 * The content an eventId stands for: the normalised event, minus a timestamp the server filled in (a client
 * retrying an event without a timestamp sends the same content, but arrives at another time).
 */
export function eventFingerprint (event: DevtripEvent, raw: Readonly<Record<string, unknown>>): string {
  const content: Record<string, unknown> = { ...event }
  if (raw.timestamp === undefined) delete content.timestamp
  return createHash('sha256').update(sortedJson(content)).digest('hex')
}

/** The elements of the body; throws 400/413 for a body that is not events at all. */
function elementsOf (body: unknown, limits: BatchLimits): unknown[] {
  if (Array.isArray(body)) {
    if (body.length === 0) throw new ApiError('DEVTRIP_API_BAD_REQUEST', 'the body is an empty array: send at least one event')
    if (body.length > limits.maxEventsPerRequest) {
      throw new ApiError('DEVTRIP_API_PAYLOAD_TOO_LARGE', `the body holds ${body.length} events; at most ${limits.maxEventsPerRequest} are accepted per request`, {
        details: { events: body.length, maxEventsPerRequest: limits.maxEventsPerRequest, hint: 'split the batch' }
      })
    }
    return body
  }
  if (isPlainObject(body)) return [body]
  throw new ApiError('DEVTRIP_API_BAD_REQUEST', `the body must be an event object or an array of events, got ${jsonKind(body)}`)
}

/** Validates every event of the body; never throws for an invalid event (the caller decides, after the scope check). */
export function inspectBatch (input: BatchInput, limits: BatchLimits): InspectedEvent[] {
  const elements = elementsOf(input.body, limits)
  const firstIndexOfId = new Map<string, number>()
  return elements.map((raw, index): InspectedEvent => {
    const result = normalizeEvent(raw, {
      ...(input.eventType === undefined ? {} : { type: input.eventType }),
      ...(input.topic === undefined ? {} : { topic: input.topic }),
      recordTimestamp: input.receivedAt
    })
    if (!result.ok) {
      const type = result.eventType
      return { index, errors: result.errors, ...(type === undefined ? {} : { eventType: type, topic: topicOfEventType(type) }) }
    }
    const event = result.event
    const errors: EventError[] = []
    const earlier = firstIndexOfId.get(event.eventId)
    if (earlier !== undefined) {
      errors.push({ pointer: '/eventId', message: `repeats the eventId of event ${earlier} in this request; an eventId names exactly one event` })
    } else {
      firstIndexOfId.set(event.eventId, index)
    }
    const ahead = event.timestamp - input.receivedAt
    if (ahead > limits.maxFutureSkewMs) {
      errors.push({ pointer: '/timestamp', message: `${formatTimestamp(event.timestamp)} is ${ahead} ms ahead of the server clock; at most ${limits.maxFutureSkewMs} ms is accepted` })
    }
    const base = { index, eventType: event.eventType, topic: topicOfEventType(event.eventType) }
    if (errors.length > 0) return { ...base, errors }
    return { ...base, event, fingerprint: eventFingerprint(event, raw as Record<string, unknown>), errors }
  })
}

/** Every event error of the batch, in body order. */
export function batchErrors (events: readonly InspectedEvent[]): BatchEventError[] {
  return events.flatMap((e) => e.errors.map((error) => ({ index: e.index, pointer: error.pointer, message: error.message })))
}

/**
 * The Kafka record of a valid event: on its catalog topic (behind the prefix), keyed by userId (the key
 * rule that co-partitions all topics), the normalised event as the JSON value (envelope included, for
 * consumers that read only bodies), the envelope as headers, and the event time as the record time.
 */
export function toProducerRecord (event: DevtripEvent, topicPrefix: string): ProducerRecord {
  const headers = Object.entries(envelopeToHeaders(event)).map(([name, value]) => [name, Buffer.from(value, 'utf8')] as const)
  return {
    topic: topicPrefix + topicOfEventType(event.eventType),
    key: Buffer.from(recordKeyFor(event), 'utf8'),
    value: Buffer.from(JSON.stringify(event), 'utf8'),
    headers,
    timestamp: event.timestamp
  }
}
