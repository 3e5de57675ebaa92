/**
 * The one Ajv instance: the common schema and the 25 event schemas, compiled once (on first use, so
 * importing events/ for topic names costs nothing) with Ajv2020 + ajv-formats, allErrors, strict mode.
 * Turns Ajv's error objects into EventError { pointer, message } with messages a producer can act on.
 */
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020'
import type { SchemaValidateFunction } from 'ajv'
import addFormats from 'ajv-formats'
import { isIP } from 'node:net'
import type { EventType } from './event-types'
import { eventDefinition, EVENT_DEFINITIONS } from './catalog'
import { jsonTypeOf, pointerOf, type EventError } from './event-error'
import { parseTimestamp } from './timestamps'
import { COMMON_SCHEMA, ID_KEYWORD, TIMESTAMP_KEYWORD, idProblem } from './schemas/common'

const validateId: SchemaValidateFunction = (_schema: unknown, data: unknown): boolean => {
  const problem = idProblem(data)
  validateId.errors = problem === undefined ? [] : [{ keyword: ID_KEYWORD, message: problem, params: {} }]
  return problem === undefined
}

const validateTimestamp: SchemaValidateFunction = (_schema: unknown, data: unknown): boolean => {
  const parsed = parseTimestamp(data)
  validateTimestamp.errors = parsed.ok ? [] : [{ keyword: TIMESTAMP_KEYWORD, message: parsed.reason, params: {} }]
  return parsed.ok
}

function createAjv (): Ajv2020 {
  // verbose: errors carry the offending value, so messages can say what was received
  const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true })
  addFormats(ajv, ['email', 'uuid'])
  ajv.addFormat('ip', { type: 'string', validate: (s: string) => isIP(s) !== 0 })
  ajv.addKeyword({ keyword: ID_KEYWORD, type: ['string', 'number'], schemaType: 'boolean', errors: true, validate: validateId })
  ajv.addKeyword({ keyword: TIMESTAMP_KEYWORD, type: ['string', 'number'], schemaType: 'boolean', errors: true, validate: validateTimestamp })
  ajv.addSchema(COMMON_SCHEMA)
  return ajv
}

let compiled: ReadonlyMap<EventType, ValidateFunction> | undefined

function validators (): ReadonlyMap<EventType, ValidateFunction> {
  if (compiled === undefined) {
    const ajv = createAjv()
    compiled = new Map(EVENT_DEFINITIONS.map((d) => [d.type, ajv.compile(d.schema)]))
  }
  return compiled
}

const FORMAT_MESSAGES: Readonly<Record<string, string>> = {
  email: 'must be an email address',
  ip: 'must be an IPv4 or IPv6 address',
  uuid: 'must be a UUID (8-4-4-4-12 hex digits)'
}

function shown (value: unknown): string {
  const text = JSON.stringify(value)
  return text === undefined ? String(value) : text.length > 60 ? text.slice(0, 57) + '...' : text
}

/** One Ajv error → one EventError. `required` points AT the missing property, not at its parent. */
export function toEventError (error: ErrorObject): EventError {
  const params = error.params as Record<string, unknown>
  switch (error.keyword) {
    case 'required':
      return { pointer: error.instancePath + pointerOf(String(params.missingProperty)), message: 'is required' }
    case 'type': {
      const expected = String(params.type).split(',').join(' or ')
      return { pointer: error.instancePath, message: `must be ${expected}, got ${jsonTypeOf(error.data)} ${shown(error.data)}` }
    }
    case 'format':
      return { pointer: error.instancePath, message: `${FORMAT_MESSAGES[String(params.format)] ?? `must match format ${String(params.format)}`}, got ${shown(error.data)}` }
    case 'minLength':
      if (params.limit === 1) return { pointer: error.instancePath, message: 'must not be empty' }
      break
    case 'pattern':
      if (error.instancePath === '/version') return { pointer: error.instancePath, message: `must be "1" or "1.<minor>" (only schema version 1 exists), got ${shown(error.data)}` }
      return { pointer: error.instancePath, message: `must match ${String(params.pattern)}, got ${shown(error.data)}` }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { pointer: error.instancePath, message: `${error.message ?? 'is out of range'}, got ${shown(error.data)}` }
    default:
      break
  }
  return { pointer: error.instancePath, message: error.message ?? `fails ${error.keyword}` }
}

/**
 * Schema validation plus the type's cross-field rules, on a body already known to be a JSON object.
 * Returns [] when valid. Cross-field rules run only on a schema-valid body (they may rely on types).
 */
export function schemaErrors (type: EventType, body: Readonly<Record<string, unknown>>): EventError[] {
  const validate = validators().get(type)!
  if (!validate(body)) return (validate.errors ?? []).map(toEventError)
  return eventDefinition(type).check?.(body) ?? []
}
