/**
 * Which dead-letter records a `show` or `replay` is about. A filter is a plain object (validated by one JSON
 * Schema, then frozen); the CLI builds it from `--filter name=value` pairs and the shortcuts `--error`/`--since`.
 * All given conditions must hold (AND).
 */
import Ajv from 'ajv'
import { DevtripError } from '../../events/errors'
import type { ConsumedRecord } from '../kafka/port'
import { dlqErrorInfo } from './dlq-record'

export interface DlqFilter {
  /** case-insensitive text found in the exception class or the error message */
  readonly error?: string
  /** exact exception header, e.g. `DevtripError[DEVTRIP_INVALID_EVENT]` */
  readonly exception?: string
  /** the record time is at or after this (ms since the epoch) */
  readonly since?: number
  /** the record time is before this (ms since the epoch) */
  readonly until?: number
  /** the key, as UTF-8 text, is exactly this */
  readonly key?: string
  /** only this DLQ partition */
  readonly partition?: number
  /** the record failed while read from this topic (the `__streams.errors.topic` header) */
  readonly sourceTopic?: string
  /** the failing application (`__streams.errors.application.id`) */
  readonly applicationId?: string
}

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    error: { type: 'string', minLength: 1 },
    exception: { type: 'string', minLength: 1 },
    since: { type: 'integer', minimum: 0 },
    until: { type: 'integer', minimum: 0 },
    key: { type: 'string' },
    partition: { type: 'integer', minimum: 0 },
    sourceTopic: { type: 'string', minLength: 1 },
    applicationId: { type: 'string', minLength: 1 }
  }
} as const
const validate = new Ajv({ allErrors: true }).compile(schema)

export const FILTER_NAMES = ['error', 'exception', 'since', 'until', 'key', 'partition', 'source-topic', 'application-id'] as const

export function resolveDlqFilter (filter: DlqFilter = {}): Readonly<DlqFilter> {
  const copy = { ...filter }
  if (!validate(copy)) {
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath === '' ? '/' : e.instancePath} ${e.message ?? 'is invalid'}`)
    throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `invalid DLQ filter: ${problems.join('; ')}`, { details: { problems } })
  }
  if (copy.since !== undefined && copy.until !== undefined && copy.until <= copy.since) {
    throw new DevtripError('DEVTRIP_INVALID_OPTIONS', 'invalid DLQ filter: until must be after since')
  }
  return Object.freeze(copy)
}

export function isEmptyFilter (filter: DlqFilter): boolean {
  return Object.values(filter).every((v) => v === undefined)
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/**
 * A point in time: ISO 8601 (`2025-01-31T10:00:00Z`, `2025-01-31`), ms since the epoch, or an age before `now`
 * (`90s`, `15m`, `2h`, `7d`). Throws DEVTRIP_INVALID_OPTIONS naming the accepted forms.
 */
export function parseTime (text: string, now = Date.now()): number {
  const t = text.trim()
  const relative = /^([0-9]+)([smhd])$/.exec(t)
  if (relative !== null) return now - Number(relative[1]) * UNITS[relative[2]!]!
  if (/^[0-9]{10,16}$/.test(t)) return Number(t)
  if (/^[0-9]{4}-[0-9]{2}-[0-9]{2}/.test(t)) {
    const ms = Date.parse(t)
    if (Number.isFinite(ms)) return ms
  }
  throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `invalid time ${JSON.stringify(text)}: use ISO 8601 (2025-01-31T10:00:00Z), epoch milliseconds, or an age like 15m, 2h, 7d`)
}

/** Builds a filter from `name=value` pairs (names in FILTER_NAMES). */
export function parseFilterPairs (pairs: readonly string[], now = Date.now()): DlqFilter {
  const out: Record<string, unknown> = {}
  for (const pair of pairs) {
    const eq = pair.indexOf('=')
    const name = eq < 0 ? pair : pair.slice(0, eq)
    const value = eq < 0 ? '' : pair.slice(eq + 1)
    if (eq < 0 || !(FILTER_NAMES as readonly string[]).includes(name)) {
      throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `invalid filter ${JSON.stringify(pair)}: expected name=value with name one of ${FILTER_NAMES.join(', ')}`)
    }
    if (name === 'since' || name === 'until') out[name] = parseTime(value, now)
    else if (name === 'partition') {
      if (!/^[0-9]+$/.test(value)) throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `invalid filter ${JSON.stringify(pair)}: partition must be an integer >= 0`)
      out.partition = Number(value)
    } else if (name === 'source-topic') out.sourceTopic = value
    else if (name === 'application-id') out.applicationId = value
    else out[name] = value
  }
  return resolveDlqFilter(out as DlqFilter)
}

export function matchesFilter (filter: DlqFilter, record: ConsumedRecord): boolean {
  if (filter.partition !== undefined && record.partition !== filter.partition) return false
  if (filter.since !== undefined && record.timestamp < filter.since) return false
  if (filter.until !== undefined && record.timestamp >= filter.until) return false
  if (filter.key !== undefined && (record.key === null || record.key.toString('utf8') !== filter.key)) return false
  if (filter.error === undefined && filter.exception === undefined && filter.sourceTopic === undefined && filter.applicationId === undefined) return true
  const info = dlqErrorInfo(record.headers)
  if (filter.exception !== undefined && info.exception !== filter.exception) return false
  if (filter.sourceTopic !== undefined && info.topic !== filter.sourceTopic) return false
  if (filter.applicationId !== undefined && info.applicationId !== filter.applicationId) return false
  if (filter.error !== undefined) {
    const needle = filter.error.toLowerCase()
    const hay = `${info.exception ?? ''}\n${info.message ?? ''}`.toLowerCase()
    if (!hay.includes(needle)) return false
  }
  return true
}
