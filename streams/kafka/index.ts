/**
 * The entry point of the Kafka port: `createKafkaClients(connection, adapter)` returns a factory for producers,
 * consumers and admin clients of one cluster. Options are validated and frozen here, once, whatever the
 * adapter. Adapters are picked by name and loaded on first use (streams/kafka/adapter.ts), so an adapter whose
 * optional client library is not installed fails only when asked for, with what to do.
 */
import { DevtripError } from '../../events/errors'
import type { KafkaAdapter } from './adapter'
import { resolveConnectionOptions, resolveFetchOptions, resolveGroupConsumerOptions, resolveProducerOptions } from './options'
import type { GroupConsumerOptions, KafkaClientFactory, KafkaConnectionOptions } from './port'
import { withVisibleNewTopics } from './visible-topics'

export type * from './port'
export { topicPartitionKey } from './port'
export { ASSIGNOR_NAME } from './assignor'

export const KAFKA_ADAPTERS = ['platformatic', 'kafkajs', 'rdkafka'] as const
export type KafkaAdapterName = (typeof KAFKA_ADAPTERS)[number]
export const DEFAULT_KAFKA_ADAPTER: KafkaAdapterName = 'platformatic'

/** what to install when an adapter's client library is missing */
const INSTALL_HINTS: Record<KafkaAdapterName, string> = {
  platformatic: 'run `npm install` (it is a regular dependency)',
  kafkajs: 'run `npm install` (kafkajs is a regular dependency)',
  rdkafka: 'run `npm run setup:rdkafka` (builds the optional native @confluentinc/kafka-javascript, librdkafka included, into .local/rdkafka)'
}

const loaded = new Map<KafkaAdapterName, KafkaAdapter>()

/** Loads an adapter module by name (a static require per adapter, so bundlers and tsc see every path). */
function loadAdapter (name: KafkaAdapterName): KafkaAdapter {
  const cached = loaded.get(name)
  if (cached !== undefined) return cached
  let adapter: KafkaAdapter
  try {
    /* eslint-disable @typescript-eslint/no-require-imports */
    switch (name) {
      case 'platformatic': adapter = (require('./platformatic') as { adapter: KafkaAdapter }).adapter; break
      case 'kafkajs': adapter = (require('./kafkajs') as { adapter: KafkaAdapter }).adapter; break
      case 'rdkafka': adapter = (require('./rdkafka') as { adapter: KafkaAdapter }).adapter; break
    }
    /* eslint-enable @typescript-eslint/no-require-imports */
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') {
      throw new DevtripError('DEVTRIP_KAFKA_ADAPTER_UNAVAILABLE',
        `Kafka adapter "${name}" cannot be loaded (${(error as Error).message.split('\n')[0]}): ${INSTALL_HINTS[name]}, or pick another with --client`,
        { cause: error, details: { adapter: name } })
    }
    throw error
  }
  loaded.set(name, adapter)
  return adapter
}

/** Checks an adapter name from a flag, an env var or a config file. */
export function parseKafkaAdapterName (value: string): KafkaAdapterName {
  if (!(KAFKA_ADAPTERS as readonly string[]).includes(value)) {
    throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `unknown Kafka client "${value}" (known: ${KAFKA_ADAPTERS.join(', ')})`)
  }
  return value as KafkaAdapterName
}

export function createKafkaClients (connection: KafkaConnectionOptions, adapterName: KafkaAdapterName = DEFAULT_KAFKA_ADAPTER): KafkaClientFactory {
  const name = parseKafkaAdapterName(String(adapterName))
  const resolved = resolveConnectionOptions(connection)
  const adapter = loadAdapter(name)
  return Object.freeze({
    adapter: name,
    capabilities: adapter.capabilities,
    createProducer: (options = {}) => adapter.createProducer(resolved, resolveProducerOptions(options)),
    createGroupConsumer: (options: GroupConsumerOptions) => adapter.createGroupConsumer(resolved, resolveGroupConsumerOptions(options)),
    createAssignedConsumer: (options = {}) => adapter.createAssignedConsumer(resolved, resolveFetchOptions(options)),
    createAdmin: () => withVisibleNewTopics(adapter.createAdmin(resolved), resolved.operationTimeoutMs)
  })
}
