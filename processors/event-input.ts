/**
 * How a DevTrip processor turns a Kafka record into a validated, normalised event, in two steps:
 *
 *  1. The source's value deserializer (EventBodyDeserializer) sees only the bytes. It rejects what is wrong no
 *     matter the headers — bytes that are not UTF-8 JSON, JSON that is not an object, a body naming an unknown type
 *     or a type of another topic, a body breaking its type's schema — by throwing DevtripError('DEVTRIP_INVALID_EVENT'),
 *     which the engine's deserialization handler sends to the dead-letter topic.
 *  2. The processor completes the envelope from the record headers and timestamp (seed §5.2's UserSignedUp body
 *     carries no eventType; Spring producers put the type in a header) with normalizeEvent(), and checks that the
 *     record key is the userId (the co-partitioning rule of events/keys.ts). A failure here throws the same error
 *     from process(), which the processing handler dead-letters.
 */
import { DevtripError } from '../events/errors'
import type { DevtripEvent } from '../events/catalog'
import { canonicalEventType, EVENT_TOPIC, type DomainTopic } from '../events/event-types'
import { requireEvent } from '../events/normalize'
import { schemaErrors } from '../events/schema-validators'
import type { EventError } from '../events/event-error'
import type { Deserializer } from '../state/serdes'
import type { Record } from '../streams/record'

/** A JSON object read from a domain topic, not yet normalised. */
export type EventBody = { readonly [field: string]: unknown }

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

function invalidEvent (topic: string, message: string, errors: EventError[] = [], cause?: unknown): DevtripError {
  return new DevtripError('DEVTRIP_INVALID_EVENT', `${topic}: ${message}`, {
    cause,
    details: { topic, errors, hint: 'run `devtrip-streams events validate` on the record value for every reason' }
  })
}

function summary (errors: readonly EventError[]): string {
  const shown = errors.slice(0, 3).map((e) => `${e.pointer || '(body)'} ${e.message}`).join('; ')
  return errors.length > 3 ? `${shown} (+${errors.length - 3} more)` : shown
}

/** Value deserializer of one domain topic's source node (step 1 above). */
export class EventBodyDeserializer implements Deserializer<EventBody> {
  constructor (readonly topic: DomainTopic) {}

  deserialize (data: Buffer): EventBody {
    let text: string
    try {
      text = utf8.decode(data)
    } catch (error) {
      throw invalidEvent(this.topic, 'the record value is not UTF-8 text', [], error)
    }
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch (error) {
      throw invalidEvent(this.topic, `the record value is not JSON: ${(error as Error).message}`, [], error)
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw invalidEvent(this.topic, `the record value must be a JSON object (one event), got ${Array.isArray(body) ? 'an array' : String(body === null ? 'null' : typeof body)}`)
    }
    const record = body as EventBody
    if (record.eventType !== undefined) {
      const type = typeof record.eventType === 'string' ? canonicalEventType(record.eventType) : undefined
      if (type === undefined) {
        throw invalidEvent(this.topic, `eventType ${JSON.stringify(record.eventType)} is not a known event type`, [{ pointer: '/eventType', message: 'is not a known event type' }])
      }
      if (EVENT_TOPIC[type] !== this.topic) {
        throw invalidEvent(this.topic, `${type} belongs on ${EVENT_TOPIC[type]}, not on ${this.topic}`, [{ pointer: '/eventType', message: `belongs on ${EVENT_TOPIC[type]}` }])
      }
      const errors = schemaErrors(type, record)
      if (errors.length > 0) throw invalidEvent(this.topic, `invalid ${type}: ${summary(errors)}`, errors)
    }
    return record
  }
}

/**
 * Step 2: the normalised event of a record from `topic`, or DevtripError('DEVTRIP_INVALID_EVENT').
 * The record key must be the userId as a string: an event on another key sits on another partition than the rest
 * of its user's events, and a per-user aggregate built from it would silently split.
 */
export function eventFromRecord (record: Record<string | null, EventBody | null>, topic: string | undefined): DevtripEvent {
  const where = topic ?? 'record'
  if (record.value === null) throw invalidEvent(where, 'a null record value (tombstone) is not an event')
  const event = requireEvent(record.value, {
    headers: record.headers,
    recordTimestamp: record.timestamp,
    ...(topic === undefined ? {} : { topic })
  })
  const userKey = String(event.userId)
  if (record.key !== userKey) {
    throw invalidEvent(where, `the record key ${record.key === null ? 'is null' : JSON.stringify(record.key)} but the event's userId is ${JSON.stringify(userKey)}; ` +
      'DevTrip events must be keyed by userId (events/keys.ts) so that one task sees all of a user\'s events', [{ pointer: '/userId', message: 'does not match the record key' }])
  }
  return event
}
