/**
 * One event schema as a self-contained document (for `events schema`, docs and other tools): the shared
 * definitions it `$ref`s are copied into its own `$defs`. The custom keywords `devtripId` and
 * `devtripTimestamp` stay; a validator without them still checks everything else.
 */
import type { EventType } from './event-types'
import { eventDefinition } from './catalog'
import { COMMON_SCHEMA, COMMON_SCHEMA_ID, type JsonSchema } from './schemas/common'

function rewriteRefs (node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rewriteRefs)
  if (node === null || typeof node !== 'object') return node
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(node)) {
    out[key] = key === '$ref' && typeof value === 'string' && value.startsWith(COMMON_SCHEMA_ID + '#')
      ? value.slice(COMMON_SCHEMA_ID.length)
      : rewriteRefs(value)
  }
  return out
}

export function bundledEventSchema (type: EventType): JsonSchema {
  const schema = rewriteRefs(eventDefinition(type).schema) as JsonSchema
  return { ...schema, $defs: rewriteRefs(COMMON_SCHEMA.$defs) }
}
