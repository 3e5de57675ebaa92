/**
 * Turns what a reducer emits into the records a processor forwards: keyed by userId, stamped with the output's own
 * event time, and carrying the §5.1 envelope as headers like every other DevTrip event (so DLQ tooling and
 * tracing can read it without parsing the value).
 *
 * Header layout — each value is the UTF-8 bytes of a string (as events/envelope.ts):
 *   eventId    UUID             eventType  e.g. "TicketDeducted"     source  e.g. "devtrip-ticketing"
 *   timestamp  ISO-8601 UTC with milliseconds                        version e.g. "1.0"
 * Catalog event types go through envelopeToHeaders(), which also checks them; the pipeline's own record types
 * (ledger entries, balances, stats, results) are not catalog events, so their headers are written directly.
 */
import { ENVELOPE_HEADERS, envelopeToHeaders, formatTimestamp, isEventType, type EventEnvelope, type Id } from '../events'
import type { Header, Record } from '../streams/record'

/** The envelope every output value carries. */
export interface OutputEnvelope {
  readonly eventId: string
  readonly eventType: string
  readonly source: string
  readonly timestamp: number
  readonly version: string
  readonly userId: Id
}

export function envelopeHeaders (value: OutputEnvelope): Header[] {
  const strings: { [name: string]: string } = isEventType(value.eventType)
    ? envelopeToHeaders(value as unknown as EventEnvelope)
    : {
        [ENVELOPE_HEADERS.eventId]: value.eventId,
        [ENVELOPE_HEADERS.eventType]: value.eventType,
        [ENVELOPE_HEADERS.source]: value.source,
        [ENVELOPE_HEADERS.timestamp]: formatTimestamp(value.timestamp),
        [ENVELOPE_HEADERS.version]: value.version
      }
  return Object.entries(strings).map(([name, text]) => [name, Buffer.from(text, 'utf8')] as const)
}

/** The record for one output: key = userId as a string (the co-partitioning rule of events/keys.ts). */
export function outputRecord<V extends OutputEnvelope> (value: V): Record<string, V> {
  return { key: String(value.userId), value, timestamp: value.timestamp, headers: envelopeHeaders(value) }
}
