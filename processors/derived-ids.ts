/**
 * Deterministic event ids for everything the DevTrip processors emit.
 *
 * An output's id is a function of what caused it (the input eventId, or the mission attempt and the transition),
 * never of a random source or the clock: after a crash the task replays its input, produces the same outputs, and
 * those outputs carry the same ids, so any consumer deduplicating by eventId sees a replay as a duplicate.
 *
 * Layout (RFC 9562 §5.5, UUID version 5): SHA-1 over the 16 bytes of OUTPUT_NAMESPACE followed by the UTF-8 bytes
 * of the name, where name = JSON.stringify(parts) (a JSON array is unambiguous: ["a","b:c"] ≠ ["a:b","c"]). Of the
 * 20-byte digest the first 16 bytes are kept; byte 6's high nibble becomes the version (0101) and byte 8's two high
 * bits the variant (10).
 */
import { createHash } from 'node:crypto'

/** A fixed, project-specific namespace: no other generator can produce these ids by accident. */
export const OUTPUT_NAMESPACE = 'a3a1c2f0-5d7e-4c59-9a3e-64d0c0b7e911'

const NAMESPACE_BYTES = Buffer.from(OUTPUT_NAMESPACE.replace(/-/g, ''), 'hex')

export type IdPart = string | number

/** UUIDv5 of the parts under OUTPUT_NAMESPACE. */
export function derivedEventId (...parts: IdPart[]): string {
  const digest = createHash('sha1').update(NAMESPACE_BYTES).update(JSON.stringify(parts), 'utf8').digest()
  digest[6] = (digest[6]! & 0x0f) | 0x50
  digest[8] = (digest[8]! & 0x3f) | 0x80
  const hex = digest.subarray(0, 16).toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`
}
