/**
 * The kafkajs adapter. kafkajs commits transactional offsets with the group id only (no KIP-447), so a zombie is
 * fenced only by a newer producer with the same transactional id: the runtime runs one transactional producer per
 * task (capability 'group-id-only'; docs/kafka-port.md, "How the kafkajs adapter maps the port").
 */
import type { KafkaAdapter } from '../adapter'
import { KafkajsAdmin } from './admin'
import { KafkajsAssignedConsumer } from './assigned-consumer'
import { KafkajsGroupConsumer } from './group-consumer'
import { KafkajsProducer } from './producer'

const kafkajsAdapter: KafkaAdapter = {
  capabilities: Object.freeze({ transactionalOffsetFencing: 'group-id-only' as const, nullHeaderValues: 'written-empty' as const, committedOffsetReads: 'eventual' as const }),
  createProducer: (connection, options) => new KafkajsProducer(connection, options),
  createGroupConsumer: (connection, options) => new KafkajsGroupConsumer(connection, options),
  createAssignedConsumer: (connection, options) => new KafkajsAssignedConsumer(connection, options),
  createAdmin: (connection) => new KafkajsAdmin(connection)
}

export const adapter: KafkaAdapter = Object.freeze(kafkajsAdapter)
