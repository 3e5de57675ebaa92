/**
 * The contract between the port's entry point (streams/kafka/index.ts) and one adapter: a client library's
 * implementation of the port. The entry point validates and freezes every option once, so an adapter receives
 * resolved options only and never re-checks them. Each adapter lives in its own folder (platformatic/, kafkajs/,
 * rdkafka/) whose index.ts exports `adapter`, and is loaded only when picked, so a missing optional client
 * library breaks nothing but that adapter.
 */
import type { ResolvedConnectionOptions, ResolvedFetchOptions, ResolvedGroupConsumerOptions, ResolvedProducerOptions } from './options'
import type { KafkaAdapterCapabilities, KafkaAdmin, KafkaAssignedConsumer, KafkaGroupConsumer, KafkaProducer } from './port'

export interface KafkaAdapter {
  readonly capabilities: KafkaAdapterCapabilities
  createProducer (connection: ResolvedConnectionOptions, options: ResolvedProducerOptions): KafkaProducer
  createGroupConsumer (connection: ResolvedConnectionOptions, options: ResolvedGroupConsumerOptions): KafkaGroupConsumer
  createAssignedConsumer (connection: ResolvedConnectionOptions, options: ResolvedFetchOptions): KafkaAssignedConsumer
  createAdmin (connection: ResolvedConnectionOptions): KafkaAdmin
}
