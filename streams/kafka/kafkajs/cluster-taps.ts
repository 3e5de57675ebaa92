/**
 * Listens in on a kafkajs consumer's internal Cluster for what its public API hides, and holds its JoinGroups:
 *   - the generation id of each JoinGroup answer (kafkajs keeps it private; the port's groupMetadata() and
 *     commitOffsets() need it);
 *   - each Fetch response's high watermark, last stable offset and log start offset per partition (kafkajs's
 *     batches carry the high watermark only, and nothing at all for partitions that returned no records);
 *   - every JoinGroup kafkajs is about to send: `beforeJoin` may hold it (the returned promise) until the runtime
 *     was told about the partitions this member gives up — kafkajs has no hook of its own for that, and the
 *     JoinGroup request is the one point every rejoin of kafkajs goes through (group-consumer.ts).
 *   - each Fetch response's read_committed filtering: the records of aborted transactions are marked here as
 *     control records (aborted-transactions.ts, hideAbortedRecords), and the response goes on with an empty
 *     aborted-transaction list, so kafkajs's own filter (wrong when transactions end in another order than they
 *     began) has nothing to do and kafkajs skips them like transaction markers.
 * Done by wrapping the `fetch` and `joinGroup` methods of every Broker object the cluster hands out; the Cluster
 * belongs to this one consumer, so nothing else is affected.
 */
import { hideAbortedRecords } from './aborted-transactions'
import type { FetchResponse, InternalBroker, InternalCluster } from './library'

export interface ClusterTapListener {
  /** runs before each JoinGroup goes out, on the coordinator it goes to; the request waits for the promise
   * (a rejection fails kafkajs's join with that error) */
  beforeJoin (coordinator: InternalBroker): Promise<void>
  onJoined (generationId: number, memberId: string): void
  onFetched (response: FetchResponse): void
}

const TAPPED = Symbol('devtrip:tapped')

export function tapCluster (cluster: InternalCluster, listener: ClusterTapListener): void {
  const tapBroker = (broker: InternalBroker): InternalBroker => {
    const marked = broker as InternalBroker & { [TAPPED]?: boolean }
    if (marked[TAPPED] === true) return broker
    marked[TAPPED] = true
    const fetch = broker.fetch.bind(broker)
    const joinGroup = broker.joinGroup.bind(broker)
    broker.fetch = async (request) => {
      const response = withoutAbortedRecords(await fetch(request))
      listener.onFetched(response)
      return response
    }
    broker.joinGroup = async (request) => {
      await listener.beforeJoin(broker)
      const answer = await joinGroup(request)
      listener.onJoined(answer.generationId, answer.memberId)
      return answer
    }
    return broker
  }
  const findBroker = cluster.findBroker.bind(cluster)
  const findGroupCoordinator = cluster.findGroupCoordinator.bind(cluster)
  cluster.findBroker = async (request) => tapBroker(await findBroker(request))
  cluster.findGroupCoordinator = async (request) => tapBroker(await findGroupCoordinator(request))
}

/** The response with every partition's aborted records hidden and its aborted-transaction list emptied. */
function withoutAbortedRecords (response: FetchResponse): FetchResponse {
  return {
    ...response,
    responses: response.responses.map((t) => ({
      ...t,
      partitions: t.partitions.map((p) => (p.abortedTransactions === undefined || p.abortedTransactions === null || p.abortedTransactions.length === 0)
        ? p
        : { ...p, messages: hideAbortedRecords({ messages: p.messages, abortedTransactions: p.abortedTransactions }), abortedTransactions: [] })
    }))
  }
}
