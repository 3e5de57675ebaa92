/**
 * The public face of events/: the DevTrip event catalog, validation/normalisation, envelope headers,
 * record keys, the topic catalog and sample events. Other layers import from here.
 */
export * from './errors'
export * from './event-types'
export * from './event-error'
export { MIN_EPOCH_MS, MAX_EPOCH_MS, parseTimestamp, formatTimestamp, type TimestampParse } from './timestamps'
export {
  COMMON_SCHEMA,
  DEFAULT_EVENT_VERSION,
  ENVELOPE_FIELDS,
  SCHEMA_MAJOR_VERSION,
  schemaIdFor,
  type CommonEventFields,
  type EventDefinition,
  type EventEnvelope,
  type Id,
  type JsonSchema
} from './schemas/common'
export type * from './schemas/auth'
export type * from './schemas/user'
export type * from './schemas/payment'
export type * from './schemas/mission'
export type * from './schemas/evaluation'
export { DEFAULT_MAX_SCORE } from './schemas/evaluation'
export * from './catalog'
export * from './envelope'
export { normalizeEvent, requireEvent, deriveEventId, type NormalizeOptions, type NormalizeResult } from './normalize'
export { bundledEventSchema } from './schema-bundle'
export * from './keys'
export * from './topics'
export * from './samples'
