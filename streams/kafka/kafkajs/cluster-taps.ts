/**
 * Listens in on a kafkajs consumer's internal Cluster for what its public API hides, and holds its JoinGroups:
 *   - the generation id of each JoinGroup answer (kafkajs keeps it private; the port's groupMetadata() and
 *     commitOffsets() need it);
 *   - each Fetch response's high watermark, last stable offset and log start offset per partition (kafkajs's
 *     batches carry the high watermark only, and nothing at all for partitions that returned no records);
 *   - every JoinGroup kafkajs is about to send: `beforeJoin` may hold it (the returned promise) until the runtime
 *     was told about the partitions this member gives up — kafkajs has no hook of its own for that, and the
 *     JoinGroup request is the one point every rejoin of kafkajs goes through (group-consumer.ts).
 * Done by wrapping the `fetch` and `joinGroup` methods of every Broker object the cluster hands out; the Cluster
 * belongs to this one consumer, so nothing else is affected.
 */
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
      const response = await fetch(request)
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
