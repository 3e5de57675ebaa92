/**
 * One source node per domain topic, each with the deserializer of ITS topic: a record of a type that belongs on
 * another topic is refused at the source (to `<topic>.dlq`) rather than counted where it does not belong.
 * Sources are named `<prefix>-source-<logical topic>`; outputs are written with JSON values and string keys.
 */
import type { DomainTopic } from '../events'
import { EventBodyDeserializer } from '../processors'
import { Serdes } from '../state'
import type { Topology } from '../streams'
import type { ResolvedTopologyOptions } from './topology-options'

export function sourceNodeName (prefix: string, topic: DomainTopic): string {
  return `${prefix}-source-${topic}`
}

/** Adds the sources and returns their node names (the processor's parents). */
export function addDomainSources (topology: Topology, prefix: string, topics: readonly DomainTopic[], options: ResolvedTopologyOptions): string[] {
  return topics.map((topic) => {
    const name = sourceNodeName(prefix, topic)
    topology.addSource(name, options.topics[topic], { keyDeserializer: Serdes.String(), valueDeserializer: new EventBodyDeserializer(topic) })
    return name
  })
}

/** A sink writing string keys and JSON values to a (renamable) topic. */
export function addJsonSink (topology: Topology, name: string, topic: string, parent: string): void {
  topology.addSink(name, topic, { keySerializer: Serdes.String(), valueSerializer: Serdes.Json<unknown>() }, parent)
}
