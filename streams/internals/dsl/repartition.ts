/**
 * Repartitioning: a sink writing the records keyed by their current key to `<applicationId>-<name>-repartition`
 * and a source reading that topic, which starts a new sub-topology. The name always comes from the user
 * (Repartitioned / Grouped / Joined / StreamJoined): nothing is auto-numbered, so a topology change never silently
 * renames a topic that holds data.
 */
import type { Serde } from '../../../state/serdes'
import type { StreamPartitioner } from '../../partitioner'
import { topologyError, type DslContext, type StreamState } from './dsl-context'
import { dropNullKeyProcessor } from './stream-processors'

export interface RepartitionRequest<K, V> {
  readonly name: string
  readonly keySerde: Serde<K> | undefined
  readonly valueSerde: Serde<V> | undefined
  readonly numPartitions?: number
  readonly partitioner?: StreamPartitioner<K, V>
  /** set for grouping and joins: a null-key record cannot be placed and is dropped (and reported) first */
  readonly dropNullKeysFor?: string
}

export function repartitionStream<K, V> (ctx: DslContext, state: StreamState<K, V>, request: RepartitionRequest<K, V>): StreamState<K, V> {
  const { name } = request
  const keySerde = request.keySerde ?? state.keySerde
  const valueSerde = request.valueSerde ?? state.valueSerde
  if (keySerde === undefined || valueSerde === undefined) {
    throw topologyError(`repartition "${name}" needs ${keySerde === undefined ? 'a key' : 'a value'} serde: the stream's serdes are unknown after the last key or value change; ` +
      'give them in Grouped / Repartitioned / Joined / StreamJoined (withKeySerde / withValueSerde)')
  }
  const topic = `${name}-repartition`
  ctx.topology.addInternalTopic(topic, request.numPartitions)
  let parent = state.node
  if (request.dropNullKeysFor !== undefined) {
    const filterName = `${name}-repartition-filter`
    ctx.topology.addProcessor(filterName, dropNullKeyProcessor(request.dropNullKeysFor), [parent])
    parent = filterName
  }
  ctx.topology.addSink(`${name}-repartition-sink`, topic, [parent], keySerde as Serde<unknown>, valueSerde as Serde<unknown>,
    request.partitioner as StreamPartitioner<unknown, unknown> | undefined)
  const source = `${name}-repartition-source`
  ctx.topology.addSource(source, [topic], keySerde as Serde<unknown>, valueSerde as Serde<unknown>)
  return { node: source, sourceTopics: [topic], keySerde, valueSerde, repartitionRequired: false }
}

/** The stream to use for a stateful operation: repartitioned through `name` when its key changed, else as is. */
export function repartitionIfRequired<K, V> (ctx: DslContext, state: StreamState<K, V>, operation: string, hint: string,
  request: Omit<RepartitionRequest<K, V>, 'name'> & { name: string | undefined }): StreamState<K, V> {
  if (!state.repartitionRequired) return state
  if (request.name === undefined) {
    throw topologyError(`${operation} follows a key-changing operation (selectKey, map, flatMap or process), so it needs a repartition topic, ` +
      `and repartition topics are never auto-named: pass ${hint} — the topic becomes "<applicationId>-<name>-repartition"`)
  }
  return repartitionStream(ctx, state, { ...request, name: request.name })
}
