/**
 * What a stream task does when a record cannot be deserialized, processed or produced: `continue` (skip it and
 * report it), `fail` (stop the task; the runtime aborts the transaction and the record is retried after restart) or
 * `dlq` (write the ORIGINAL source record to a dead-letter topic, then continue). DevTrip's default is `dlq`.
 *
 * Dead-letter records follow KIP-1034: same key, value, timestamp and headers as the source record, written to
 * `<sourceTopic><dlqTopicSuffix>` on the source record's partition (so the DLQ stays co-partitioned with its source),
 * plus headers describing the failure.
 */
import Ajv from 'ajv'
import { DevtripError } from '../events/errors'
import type { Header } from './record'
import type { ConsumedRecord, ProducedRecord } from './record-collector'

export type ErrorAction = 'continue' | 'fail' | 'dlq'
export type ErrorKind = 'deserialization' | 'processing' | 'production'

export interface ErrorContext {
  readonly kind: ErrorKind
  readonly error: unknown
  readonly applicationId: string
  readonly taskId: string
  /** the node where it failed: the source for deserialization, the sink for production */
  readonly processor: string
  /** the source record being processed; undefined when a punctuator failed (there is no source record) */
  readonly source: SourceRecordRef | undefined
}

export interface SourceRecordRef {
  readonly topic: string
  readonly partition: number
  readonly record: ConsumedRecord
}

/** Decides per failure; a fixed action is the common case. */
export type ErrorHandler = (context: ErrorContext) => ErrorAction

export interface ErrorHandlingOptions {
  deserialization?: ErrorAction | ErrorHandler
  processing?: ErrorAction | ErrorHandler
  production?: ErrorAction | ErrorHandler
  /** dead-letter topic = source topic + this suffix; default '.dlq' */
  dlqTopicSuffix?: string
}

export interface ErrorHandling {
  readonly deserialization: ErrorHandler
  readonly processing: ErrorHandler
  readonly production: ErrorHandler
  readonly dlqTopicSuffix: string
}

const ACTIONS = ['continue', 'fail', 'dlq']
const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    // a handler function is swapped for the marker 'function' before validation
    deserialization: { enum: [...ACTIONS, 'function'], default: 'dlq' },
    processing: { enum: [...ACTIONS, 'function'], default: 'dlq' },
    production: { enum: [...ACTIONS, 'function'], default: 'dlq' },
    dlqTopicSuffix: { type: 'string', minLength: 1, pattern: '^[A-Za-z0-9._-]+$', default: '.dlq' }
  }
} as const
const validate = new Ajv({ useDefaults: true, allErrors: true }).compile(schema)
const KINDS: readonly ErrorKind[] = ['deserialization', 'processing', 'production']

/** Validates, fills defaults (dlq everywhere, suffix '.dlq') and freezes. */
export function resolveErrorHandling (options: ErrorHandlingOptions = {}): ErrorHandling {
  if (options === null || typeof options !== 'object') {
    throw new DevtripError('DEVTRIP_INVALID_OPTIONS', 'error handling options must be an object')
  }
  const copy: { [key: string]: unknown } = { ...options }
  const functions = new Map<string, ErrorHandler>()
  for (const kind of KINDS) {
    const value = copy[kind]
    if (typeof value === 'function') {
      functions.set(kind, value as ErrorHandler)
      copy[kind] = 'function'
    }
  }
  if (!validate(copy)) {
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath === '' ? '/' : e.instancePath} ${e.message ?? 'is invalid'}`)
    throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `invalid error handling options: ${problems.join('; ')}`, { details: { problems } })
  }
  const handler = (kind: ErrorKind): ErrorHandler => {
    const fn = functions.get(kind)
    if (fn !== undefined) return fn
    const action = copy[kind] as ErrorAction
    return () => action
  }
  return Object.freeze({
    deserialization: handler('deserialization'),
    processing: handler('processing'),
    production: handler('production'),
    dlqTopicSuffix: copy.dlqTopicSuffix as string
  })
}

export const DLQ_HEADERS = Object.freeze({
  exception: '__streams.errors.exception',
  message: '__streams.errors.message',
  stacktrace: '__streams.errors.stacktrace',
  topic: '__streams.errors.topic',
  partition: '__streams.errors.partition',
  offset: '__streams.errors.offset',
  applicationId: '__streams.errors.application.id',
  taskId: '__streams.errors.task.id',
  processor: '__streams.errors.processor'
})

export interface DlqRecordInput {
  readonly dlqTopic: string
  readonly source: SourceRecordRef
  readonly error: unknown
  readonly applicationId: string
  readonly taskId: string
  readonly processor: string
}

/**
 * The exception header names the error class; for errors with a string `code` (DevtripError) the code is appended
 * in brackets, e.g. `DevtripError[DEVTRIP_INVALID_EVENT]`, so a DLQ consumer can route on it without parsing text.
 */
export function describeException (error: unknown): { exception: string, message: string, stacktrace: string } {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    return {
      exception: typeof code === 'string' ? `${error.name}[${code}]` : error.name,
      message: error.message,
      stacktrace: error.stack ?? `${error.name}: ${error.message}`
    }
  }
  const text = String(error)
  return { exception: typeof error, message: text, stacktrace: text }
}

/** The dead-letter record for a failed source record: the original bytes plus the KIP-1034 error headers (UTF-8). */
export function buildDlqRecord (input: DlqRecordInput): ProducedRecord {
  const { record, topic, partition } = input.source
  const described = describeException(input.error)
  const errorHeaders: Header[] = [
    [DLQ_HEADERS.exception, Buffer.from(described.exception, 'utf8')],
    [DLQ_HEADERS.message, Buffer.from(described.message, 'utf8')],
    [DLQ_HEADERS.stacktrace, Buffer.from(described.stacktrace, 'utf8')],
    [DLQ_HEADERS.topic, Buffer.from(topic, 'utf8')],
    [DLQ_HEADERS.partition, Buffer.from(String(partition), 'utf8')],
    [DLQ_HEADERS.offset, Buffer.from(String(record.offset), 'utf8')],
    [DLQ_HEADERS.applicationId, Buffer.from(input.applicationId, 'utf8')],
    [DLQ_HEADERS.taskId, Buffer.from(input.taskId, 'utf8')],
    [DLQ_HEADERS.processor, Buffer.from(input.processor, 'utf8')]
  ]
  return {
    topic: input.dlqTopic,
    partition,
    key: record.key,
    value: record.value,
    timestamp: record.timestamp,
    headers: record.headers.length === 0 ? errorHeaders : [...record.headers, ...errorHeaders]
  }
}
