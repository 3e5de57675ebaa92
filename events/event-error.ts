/**
 * The one shape of a validation failure: where (an RFC 6901 JSON pointer into the event body, '' for the
 * body itself) and why (one sentence a person can act on). Envelope fields keep their body pointer
 * (`/eventId`) even when the bad value came from a Kafka header; the message then says so.
 */
export interface EventError {
  pointer: string
  message: string
}

/** RFC 6901: `~` → `~0`, `/` → `~1` inside one reference token. */
export function escapePointerToken (token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1')
}

/** Joins unescaped tokens into a pointer: pointerOf('details', 'logic') → '/details/logic'. */
export function pointerOf (...tokens: Array<string | number>): string {
  return tokens.map((t) => '/' + escapePointerToken(String(t))).join('')
}

/** The JSON type name of a value as people read it in messages (null, array, integer, number, ...). */
export function jsonTypeOf (value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number'
  return typeof value
}
