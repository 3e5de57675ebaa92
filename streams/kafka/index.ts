/**
 * The entry point of the Kafka port: `createKafkaClients(connection)` returns a factory for producers,
 * consumers and admin clients of one cluster. Options are validated and frozen here, once, whatever the
 * adapter; the adapter is picked by name (only "platformatic" exists today; kafkajs and librdkafka adapters
 * will register here and implement the same port).
 */
import { DevtripError } from '../../events/errors'
import { resolveConnectionOptions, resolveFetchOptions, resolveGroupConsumerOptions, resolveProducerOptions } from './options'
import { PlatformaticAdmin } from './platformatic/admin'
import { PlatformaticAssignedConsumer, PlatformaticGroupConsumer } from './platformatic/consumers'
import { PlatformaticProducer } from './platformatic/producer'
import type { GroupConsumerOptions, KafkaClientFactory, KafkaConnectionOptions } from './port'

export type * from './port'
export { topicPartitionKey } from './port'
export { ASSIGNOR_NAME } from './assignor'

export const KAFKA_ADAPTERS = ['platformatic'] as const
export type KafkaAdapterName = (typeof KAFKA_ADAPTERS)[number]

export function createKafkaClients (connection: KafkaConnectionOptions, adapter: KafkaAdapterName = 'platformatic'): KafkaClientFactory {
  if (!(KAFKA_ADAPTERS as readonly string[]).includes(adapter)) {
    throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `unknown Kafka adapter "${String(adapter)}" (known: ${KAFKA_ADAPTERS.join(', ')})`)
  }
  const resolved = resolveConnectionOptions(connection)
  return Object.freeze({
    adapter,
    createProducer: (options = {}) => new PlatformaticProducer(resolved, resolveProducerOptions(options)),
    createGroupConsumer: (options: GroupConsumerOptions) => new PlatformaticGroupConsumer(resolved, resolveGroupConsumerOptions(options)),
    createAssignedConsumer: (options = {}) => new PlatformaticAssignedConsumer(resolved, resolveFetchOptions(options)),
    createAdmin: () => new PlatformaticAdmin(resolved)
  })
}
