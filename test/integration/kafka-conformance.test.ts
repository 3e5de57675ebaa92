/**
 * Runs the Kafka port's conformance suite (kafka-conformance.suite.ts) on the real broker for every adapter named
 * in KAFKA_CONFORMANCE_ADAPTERS (comma list; default "platformatic,kafkajs"). An adapter in the list that cannot
 * be loaded fails its suite with DEVTRIP_KAFKA_ADAPTER_UNAVAILABLE, saying what to install: nothing is skipped.
 * The librdkafka adapter needs a native build first: `npm run test:rdkafka` builds it and runs this file for it.
 */
import { parseKafkaAdapterName } from '../../streams/kafka'
import { describeKafkaConformance } from './kafka-conformance.suite'

jest.setTimeout(120_000)

const DEFAULT_ADAPTERS = 'platformatic,kafkajs'

const adapters = (process.env.KAFKA_CONFORMANCE_ADAPTERS ?? DEFAULT_ADAPTERS).split(',').map((a) => a.trim()).filter((a) => a !== '')
if (adapters.length === 0) throw new Error('KAFKA_CONFORMANCE_ADAPTERS names no adapter (a comma list such as "platformatic,kafkajs,rdkafka")')

for (const adapter of new Set(adapters.map(parseKafkaAdapterName))) describeKafkaConformance(adapter)
