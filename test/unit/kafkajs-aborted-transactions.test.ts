/**
 * read_committed filtering for the kafkajs adapter (streams/kafka/kafkajs/aborted-transactions.ts), on the partition
 * the kafkajs chaos run found (mission-events.dlq, partition 5): three producers dead-letter the same poison record;
 * producer 14's first attempt (offset 0) and producer 6's (offset 2) are aborted, producer 6's ABORT marker (offset 4)
 * lands before producer 14's (offset 5), so the broker lists the aborted transactions in that order — not by first
 * offset. Only offsets 1, 6 and 7 are committed records.
 */
import { filterAbortedTransactions, type FilterableMessage } from '../../streams/kafka/kafkajs/aborted-transactions'
import { tapCluster } from '../../streams/kafka/kafkajs/cluster-taps'
import type { FetchResponse, InternalBroker, InternalCluster } from '../../streams/kafka/kafkajs/library'

const ABORT = Buffer.from([0, 0, 0, 0])
const COMMIT = Buffer.from([0, 0, 0, 1])

function data (offset: number, producerId: number): FilterableMessage {
  return { offset: String(offset), key: Buffer.from('400'), batchContext: { firstOffset: String(offset), lastOffsetDelta: 0, producerId: String(producerId), inTransaction: true } }
}

function marker (offset: number, producerId: number, key: Buffer): FilterableMessage {
  return { offset: String(offset), key, isControlRecord: true, batchContext: { firstOffset: String(offset), lastOffsetDelta: 0, producerId: String(producerId), inTransaction: true } }
}

const PARTITION = [
  data(0, 14), data(1, 17), data(2, 6), marker(3, 17, COMMIT), marker(4, 6, ABORT), marker(5, 14, ABORT),
  data(6, 6), data(7, 14), marker(8, 6, COMMIT), marker(9, 14, COMMIT)
]
// the broker's order: by the end of each transaction
const ABORTED = [{ producerId: '6', firstOffset: '2' }, { producerId: '14', firstOffset: '0' }]

const dataOffsets = (messages: readonly FilterableMessage[]): string[] => messages.filter((m) => m.isControlRecord !== true).map((m) => m.offset)

test('aborted transactions listed in the order they ended: only the committed records remain', () => {
  expect(dataOffsets(filterAbortedTransactions({ messages: PARTITION, abortedTransactions: ABORTED }))).toEqual(['1', '6', '7'])
})

test('kafkajs\'s own filter gets this partition wrong (why the adapter has its own)', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const kafkajsFilter = require('kafkajs/src/consumer/filterAbortedMessages') as typeof filterAbortedTransactions
  expect(dataOffsets(kafkajsFilter({ messages: PARTITION, abortedTransactions: ABORTED }))).not.toEqual(['1', '6', '7'])
})

test('a fetch from the middle of the partition, a producer aborting twice in a row, and batches of several records', () => {
  expect(dataOffsets(filterAbortedTransactions({ messages: PARTITION.slice(2), abortedTransactions: ABORTED }))).toEqual(['6', '7'])
  const twice = [data(0, 3), marker(1, 3, ABORT), data(2, 4), data(3, 3), marker(4, 3, ABORT), marker(5, 4, COMMIT), data(6, 3)]
  expect(dataOffsets(filterAbortedTransactions({ messages: twice, abortedTransactions: [{ producerId: '3', firstOffset: '3' }, { producerId: '3', firstOffset: '0' }] })))
    .toEqual(['2', '6'])
  // one batch of three records (offsets 10..12) of an aborted producer: all three go, whatever record the list names
  const batch = [10, 11, 12].map((o) => ({ ...data(o, 8), batchContext: { firstOffset: '10', lastOffsetDelta: 2, producerId: '8', inTransaction: true } }))
  expect(dataOffsets(filterAbortedTransactions({ messages: [...batch, marker(13, 8, ABORT), data(14, 8)], abortedTransactions: [{ producerId: '8', firstOffset: '10' }] }))).toEqual(['14'])
  // no list (read_uncommitted, or nothing aborted): everything, control records included
  expect(filterAbortedTransactions({ messages: PARTITION, abortedTransactions: [] })).toHaveLength(PARTITION.length)
})

test('the group consumer\'s fetch responses reach kafkajs with the aborted records hidden as markers and no aborted transactions left for its own filter', async () => {
  const response = {
    responses: [{ topicName: 'mission-events.dlq', partitions: [{ partition: 5, errorCode: 0, highWatermark: '10', lastStableOffset: '10', abortedTransactions: ABORTED, messages: PARTITION }] }]
  } as unknown as FetchResponse
  const broker = { fetch: async () => response, joinGroup: async () => ({ generationId: 1, memberId: 'm' }) } as unknown as InternalBroker
  const cluster = { findBroker: async () => broker, findGroupCoordinator: async () => broker } as unknown as InternalCluster
  const seen: FetchResponse[] = []
  tapCluster(cluster, { beforeJoin: async () => {}, onJoined: () => {}, onFetched: (r) => { seen.push(r) } })
  const tapped = await (await cluster.findBroker({ nodeId: 1 } as never)).fetch({} as never)
  const partition = tapped.responses[0]!.partitions[0]!
  expect(partition.abortedTransactions).toEqual([])
  // every record is still there (kafkajs moves its offsets past them); the aborted ones look like markers to it
  expect(partition.messages.map((m) => m.offset)).toEqual(PARTITION.map((m) => m.offset))
  expect(dataOffsets(partition.messages as unknown as FilterableMessage[])).toEqual(['1', '6', '7'])
  expect(seen).toEqual([tapped])
})
