/**
 * From one partition of a Fetch response to the port's records and the next position.
 *
 * Under read_committed, records of aborted transactions are dropped with kafkajs's own filter, which applies the
 * Java consumer's rule (the response's aborted-transaction list, ended by each producer's ABORT marker); control
 * records never reach the caller. The next position is the end of the last record BATCH returned (first offset +
 * last offset delta + 1), not the last record: a batch can end in a control record or in records compaction
 * removed, and a position left before them would fetch the same batch forever.
 */
import type { ConsumedRecord } from '../port'
import type { InternalMessage } from './library'
import { toConsumedRecord } from './partition-table'

// eslint-disable-next-line @typescript-eslint/no-require-imports
const filterAbortedMessages = require('kafkajs/src/consumer/filterAbortedMessages') as (input: {
  messages: readonly InternalMessage[]
  abortedTransactions: ReadonlyArray<{ producerId: string, firstOffset: string }>
}) => InternalMessage[]

/** The offset after the last record batch among `messages` (null when there are none). */
export function endOfBatches (messages: readonly InternalMessage[]): bigint | null {
  let end: bigint | null = null
  for (const m of messages) {
    const context = m.batchContext
    const next = context === undefined ? BigInt(m.offset) + 1n : BigInt(context.firstOffset) + BigInt(context.lastOffsetDelta) + 1n
    if (end === null || next > end) end = next
  }
  return end
}

export function collectRecords (topic: string, partition: number, messages: readonly InternalMessage[], fetchOffset: bigint,
  abortedTransactions: ReadonlyArray<{ producerId: string, firstOffset: string }>, readCommitted: boolean): { records: ConsumedRecord[], nextOffset: bigint } {
  // a fetch may return a whole batch that starts before the requested offset
  const within = messages.filter((m) => BigInt(m.offset) >= fetchOffset)
  const visible = readCommitted ? filterAbortedMessages({ messages: within, abortedTransactions }) : within
  const records = visible.filter((m) => m.isControlRecord !== true).map((m) => toConsumedRecord(topic, partition, m))
  const end = endOfBatches(messages)
  return { records, nextOffset: end !== null && end > fetchOffset ? end : fetchOffset }
}
