/**
 * Argument checks shared by every adapter, so bad input gets the same clear error whichever library runs.
 * Records carry Buffers, which JSON Schema cannot describe, hence plain code; errors name the bad field by
 * JSON pointer (e.g. /records/3/value).
 */
import { DevtripError } from '../../events/errors'
import type { ConsumerGroupMetadata, OffsetSpec, ProducerRecord, TopicPartition, TopicPartitionOffset } from './port'

function invalid (operation: string, pointer: string, problem: string): DevtripError {
  return new DevtripError('DEVTRIP_INVALID_OPTIONS', `${operation}: ${pointer} ${problem}`, { details: { operation, pointer } })
}

function isTopicName (v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= 249
}

function isPartition (v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0
}

export function checkTopicPartitions (operation: string, name: string, tps: readonly TopicPartition[]): void {
  if (!Array.isArray(tps)) throw invalid(operation, `/${name}`, 'must be an array')
  tps.forEach((tp, i) => checkTopicPartition(operation, `/${name}/${i}`, tp))
}

export function checkTopicPartition (operation: string, pointer: string, tp: TopicPartition): void {
  if (tp === null || typeof tp !== 'object') throw invalid(operation, pointer, 'must be a {topic, partition} object')
  if (!isTopicName(tp.topic)) throw invalid(operation, `${pointer}/topic`, 'must be a topic name (1-249 characters)')
  if (!isPartition(tp.partition)) throw invalid(operation, `${pointer}/partition`, 'must be an integer >= 0')
}

export function checkOffsets (operation: string, offsets: readonly TopicPartitionOffset[]): void {
  if (!Array.isArray(offsets)) throw invalid(operation, '/offsets', 'must be an array')
  offsets.forEach((o, i) => {
    checkTopicPartition(operation, `/offsets/${i}`, o)
    if (typeof o.offset !== 'bigint' || o.offset < 0n) throw invalid(operation, `/offsets/${i}/offset`, 'must be a bigint >= 0')
  })
}

export function checkOffsetSpec (operation: string, spec: OffsetSpec): void {
  if (spec === 'earliest' || spec === 'latest') return
  if (typeof spec !== 'bigint' || spec < 0n) throw invalid(operation, '/offset', "must be a bigint >= 0, 'earliest' or 'latest'")
}

export function checkGroupMetadata (operation: string, group: ConsumerGroupMetadata): void {
  if (group === null || typeof group !== 'object') throw invalid(operation, '/group', 'must be the consumer\'s groupMetadata()')
  if (typeof group.groupId !== 'string' || group.groupId === '') throw invalid(operation, '/group/groupId', 'must be a non-empty string')
  if (!Number.isInteger(group.generationId)) throw invalid(operation, '/group/generationId', 'must be an integer')
  if (typeof group.memberId !== 'string') throw invalid(operation, '/group/memberId', 'must be a string')
  if (group.groupInstanceId !== null && typeof group.groupInstanceId !== 'string') throw invalid(operation, '/group/groupInstanceId', 'must be a string or null')
}

function isBytesOrNull (v: unknown): boolean {
  return v === null || Buffer.isBuffer(v)
}

function recordPointer (index: number, field = ''): string {
  return `/records/${index}${field}`
}

export function checkProducerRecords (operation: string, records: readonly ProducerRecord[]): void {
  if (!Array.isArray(records)) throw invalid(operation, '/records', 'must be an array')
  // runs for every record the engine writes: a plain loop, and the JSON pointer is built only for a bad record
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as ProducerRecord
    if (r === null || typeof r !== 'object') throw invalid(operation, recordPointer(i), 'must be a record object')
    if (!isTopicName(r.topic)) throw invalid(operation, recordPointer(i, '/topic'), 'must be a topic name (1-249 characters)')
    if (r.partition !== undefined && !isPartition(r.partition)) throw invalid(operation, recordPointer(i, '/partition'), 'must be an integer >= 0')
    if (r.key !== undefined && !isBytesOrNull(r.key)) throw invalid(operation, recordPointer(i, '/key'), 'must be a Buffer or null')
    if (!('value' in r) || !isBytesOrNull(r.value)) throw invalid(operation, recordPointer(i, '/value'), 'must be a Buffer or null (null = tombstone)')
    if (r.timestamp !== undefined && !(Number.isSafeInteger(r.timestamp) && r.timestamp >= 0)) {
      throw invalid(operation, recordPointer(i, '/timestamp'), 'must be an integer number of milliseconds >= 0')
    }
    if (r.headers !== undefined) {
      if (!Array.isArray(r.headers)) throw invalid(operation, recordPointer(i, '/headers'), 'must be an array of [name, value] pairs')
      const headers: readonly unknown[] = r.headers
      for (let j = 0; j < headers.length; j++) {
        const h = headers[j]
        if (!Array.isArray(h) || h.length !== 2 || typeof h[0] !== 'string' || !isBytesOrNull(h[1])) {
          throw invalid(operation, recordPointer(i, `/headers/${j}`), 'must be a [string, Buffer | null] pair')
        }
      }
    }
  }
}
