/**
 * Reading a dead-letter record (written by buildDlqRecord in streams/error-handling.ts, KIP-1034 style): the
 * original key, value, timestamp and headers, followed by `__streams.errors.*` headers describing the failure.
 * This file splits the two kinds of headers apart, decodes values for people (JSON when the bytes parse as
 * JSON, else UTF-8 text, else base64), and builds the headers of a replayed record.
 */
import { DLQ_HEADERS } from '../error-handling'
import type { ConsumedRecord, RecordHeader } from '../kafka/port'

export const ERROR_HEADER_PREFIX = '__streams.errors.'

/** Headers a replay adds to the republished record (the error headers are removed). */
export const REPLAY_HEADERS = Object.freeze({
  at: '__streams.replay.timestamp',
  topic: '__streams.replay.dlq.topic',
  partition: '__streams.replay.dlq.partition',
  offset: '__streams.replay.dlq.offset'
})
const REPLAY_HEADER_PREFIX = '__streams.replay.'

/** The failure, from the error headers (null where a header is missing). */
export interface DlqErrorInfo {
  readonly exception: string | null
  readonly message: string | null
  readonly stacktrace: string | null
  readonly topic: string | null
  readonly partition: number | null
  readonly offset: string | null
  readonly applicationId: string | null
  readonly taskId: string | null
  readonly processor: string | null
}

/** A payload shown to a person: parsed JSON, text, or base64 for bytes that are not UTF-8. */
export type DecodedBytes =
  | { readonly encoding: 'null' }
  | { readonly encoding: 'json', readonly json: unknown }
  | { readonly encoding: 'utf8', readonly text: string }
  | { readonly encoding: 'base64', readonly base64: string }

export interface DlqRecordView {
  readonly dlqTopic: string
  readonly partition: number
  readonly offset: string
  readonly timestamp: number
  readonly key: DecodedBytes
  readonly value: DecodedBytes
  readonly error: DlqErrorInfo
  /** the original record's headers, decoded as text where they are UTF-8 */
  readonly originalHeaders: ReadonlyArray<{ name: string, value: DecodedBytes }>
  /** every `__streams.errors.*` header as text */
  readonly errorHeaders: Readonly<Record<string, string | null>>
}

export function decodeBytes (bytes: Buffer | null): DecodedBytes {
  if (bytes === null) return { encoding: 'null' }
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes)
  const isUtf8 = Buffer.from(text, 'utf8').equals(bytes)
  if (!isUtf8) return { encoding: 'base64', base64: bytes.toString('base64') }
  const trimmed = text.trim()
  if (trimmed.startsWith('{') || trimmed.startsWith('[') || trimmed.startsWith('"')) {
    try {
      return { encoding: 'json', json: JSON.parse(text) }
    } catch {
      // not JSON after all: shown as text
    }
  }
  return { encoding: 'utf8', text }
}

/** A short one-line form (for tables and the dashboard). */
export function bytesPreview (decoded: DecodedBytes, max = 80): string {
  let text: string
  switch (decoded.encoding) {
    case 'null': return 'null'
    case 'json': text = JSON.stringify(decoded.json); break
    case 'utf8': text = decoded.text; break
    case 'base64': text = `base64:${decoded.base64}`; break
  }
  return text.length > max ? text.slice(0, max - 1) + '…' : text
}

const isErrorHeader = (name: string): boolean => name.startsWith(ERROR_HEADER_PREFIX)

function lastText (headers: readonly RecordHeader[], name: string): string | null {
  for (let i = headers.length - 1; i >= 0; i--) {
    const [n, v] = headers[i]!
    if (n === name) return v === null ? null : v.toString('utf8')
  }
  return null
}

export function dlqErrorInfo (headers: readonly RecordHeader[]): DlqErrorInfo {
  const partition = lastText(headers, DLQ_HEADERS.partition)
  return {
    exception: lastText(headers, DLQ_HEADERS.exception),
    message: lastText(headers, DLQ_HEADERS.message),
    stacktrace: lastText(headers, DLQ_HEADERS.stacktrace),
    topic: lastText(headers, DLQ_HEADERS.topic),
    partition: partition !== null && /^[0-9]+$/.test(partition) ? Number(partition) : null,
    offset: lastText(headers, DLQ_HEADERS.offset),
    applicationId: lastText(headers, DLQ_HEADERS.applicationId),
    taskId: lastText(headers, DLQ_HEADERS.taskId),
    processor: lastText(headers, DLQ_HEADERS.processor)
  }
}

export function viewDlqRecord (record: ConsumedRecord): DlqRecordView {
  const errorHeaders: Record<string, string | null> = {}
  const originalHeaders: Array<{ name: string, value: DecodedBytes }> = []
  for (const [name, value] of record.headers) {
    if (isErrorHeader(name)) errorHeaders[name] = value === null ? null : value.toString('utf8')
    else originalHeaders.push({ name, value: decodeBytes(value) })
  }
  return {
    dlqTopic: record.topic,
    partition: record.partition,
    offset: record.offset.toString(),
    timestamp: record.timestamp,
    key: decodeBytes(record.key),
    value: decodeBytes(record.value),
    error: dlqErrorInfo(record.headers),
    originalHeaders,
    errorHeaders
  }
}

/**
 * The headers of a replayed record: the original ones in their order (error headers and the markers of an
 * earlier replay removed), then where and when this replay took it from.
 */
export function replayHeaders (record: ConsumedRecord, replayedAt: number): RecordHeader[] {
  const kept = record.headers.filter(([name]) => !isErrorHeader(name) && !name.startsWith(REPLAY_HEADER_PREFIX))
  return [
    ...kept,
    [REPLAY_HEADERS.at, Buffer.from(new Date(replayedAt).toISOString(), 'utf8')],
    [REPLAY_HEADERS.topic, Buffer.from(record.topic, 'utf8')],
    [REPLAY_HEADERS.partition, Buffer.from(String(record.partition), 'utf8')],
    [REPLAY_HEADERS.offset, Buffer.from(record.offset.toString(), 'utf8')]
  ]
}
