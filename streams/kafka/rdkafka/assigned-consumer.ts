/**
 * The port's assigned consumer (no group: restoring state stores from changelogs) on librdkafka's consumer with
 * manual assignment. librdkafka's consumer needs a group id even then: a private random one, never joined and
 * never committed to. New partitions start at `autoOffsetReset` (or where a seek put them), kept ones at their
 * position; the assignment reaches librdkafka at the next `poll()`.
 */
import { randomBytes } from 'node:crypto'
import { DevtripError } from '../../../events/errors'
import type { ResolvedConnectionOptions, ResolvedFetchOptions } from '../options'
import { topicPartitionKey, type KafkaAssignedConsumer, type TopicPartition } from '../port'
import { assignedConsumerConfig, topicConfig } from './config'
import { checkTopicPartitions, newPartState, OFFSET, RdkafkaConsumerBase, type PartState } from './consumer-base'
import { RD } from './errors'
import { rdkafka, type RdConsumer } from './library'

export class RdkafkaAssignedConsumer extends RdkafkaConsumerBase implements KafkaAssignedConsumer {
  protected readonly rd: RdConsumer
  private assignmentPending = false

  constructor (connection: ResolvedConnectionOptions, options: ResolvedFetchOptions) {
    super(connection, options, 'assigned consumer')
    const groupId = `devtrip-assigned-${randomBytes(8).toString('hex')}`
    const config = assignedConsumerConfig(connection, options, groupId)
    this.rd = new rdkafka.KafkaConsumer(config, topicConfig(config))
    this.start()
  }

  assign (partitions: readonly TopicPartition[]): void {
    this.assertOpen('assign')
    checkTopicPartitions('assign', 'partitions', partitions)
    const next = new Map<string, PartState>()
    for (const tp of partitions) {
      const key = topicPartitionKey(tp)
      const kept = this.parts.get(key)
      next.set(key, kept === undefined ? newPartState(tp) : { ...kept, fetching: false, fresh: false })
    }
    for (const key of this.pendingSeeks.keys()) if (!next.has(key)) this.pendingSeeks.delete(key)
    this.parts.clear()
    for (const [key, part] of next) this.parts.set(key, part)
    this.assignmentPending = true
  }

  protected async beforeFetch (): Promise<void> {
    if (!this.assignmentPending) return
    this.assignmentPending = false
    const reset = this.fetch.autoOffsetReset === 'earliest' ? OFFSET.BEGINNING : this.fetch.autoOffsetReset === 'latest' ? OFFSET.END : OFFSET.INVALID
    const list = [...this.parts.values()].map((p) => ({ topic: p.topic, partition: p.partition, offset: this.startOffset(p, reset) }))
    this.rd.assign(list)
    for (const p of this.parts.values()) p.fetching = true
    this.repause()
  }

  protected ignorable (code: number | null): boolean {
    if (code === RD.UNKNOWN_TOPIC || code === RD.UNKNOWN_TOPIC_OR_PART || code === RD.UNKNOWN_PARTITION) {
      throw new DevtripError('DEVTRIP_UNKNOWN_TOPIC', `poll: an assigned partition's topic does not exist (${this.assignment().map((tp) => `${tp.topic}[${tp.partition}]`).join(', ')})`, {
        details: { hint: 'create it first: bin/devtrip-streams topics apply' }
      })
    }
    // the network and broker restarts: librdkafka keeps retrying on its own
    return code === RD.TRANSPORT || code === RD.ALL_BROKERS_DOWN || code === RD.TIMED_OUT
  }
}
