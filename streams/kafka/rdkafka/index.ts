/**
 * The librdkafka adapter, through @confluentinc/kafka-javascript's node-rdkafka API (optional: built by
 * `npm run setup:rdkafka`). KIP-447: transactional offsets go with the consumer's group metadata, which
 * librdkafka reads from the consumer itself. docs/kafka-port.md says how it maps the port and where it differs.
 */
import type { KafkaAdapter } from '../adapter'
import { RdkafkaAdmin } from './admin'
import { RdkafkaAssignedConsumer } from './assigned-consumer'
import { RdkafkaGroupConsumer } from './group-consumer'
import { RdkafkaProducer } from './producer'

const rdkafkaAdapter: KafkaAdapter = {
  capabilities: Object.freeze({ transactionalOffsetFencing: 'group-metadata' as const, nullHeaderValues: 'written-empty' as const, committedOffsetReads: 'stable' as const }),
  createProducer: (connection, options) => new RdkafkaProducer(connection, options),
  createGroupConsumer: (connection, options) => new RdkafkaGroupConsumer(connection, options),
  createAssignedConsumer: (connection, options) => new RdkafkaAssignedConsumer(connection, options),
  createAdmin: (connection) => new RdkafkaAdmin(connection)
}

export const adapter: KafkaAdapter = Object.freeze(rdkafkaAdapter)
