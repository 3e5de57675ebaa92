/** The @platformatic/kafka adapter (the default): KIP-447 offsets with the consumer's group metadata. */
import type { KafkaAdapter } from '../adapter'
import { PlatformaticAdmin } from './admin'
import { PlatformaticAssignedConsumer, PlatformaticGroupConsumer } from './consumers'
import { PlatformaticProducer } from './producer'

const platformaticAdapter: KafkaAdapter = {
  capabilities: Object.freeze({ transactionalOffsetFencing: 'group-metadata' as const, nullHeaderValues: 'kept' as const, committedOffsetReads: 'stable' as const }),
  createProducer: (connection, options) => new PlatformaticProducer(connection, options),
  createGroupConsumer: (connection, options) => new PlatformaticGroupConsumer(connection, options),
  createAssignedConsumer: (connection, options) => new PlatformaticAssignedConsumer(connection, options),
  createAdmin: (connection) => new PlatformaticAdmin(connection)
}

export const adapter: KafkaAdapter = Object.freeze(platformaticAdapter)
