/**
 * Live group consumers of this adapter, so a producer can turn the port's ConsumerGroupMetadata back into the
 * librdkafka consumer that `sendOffsetsToTransaction` needs: librdkafka takes the consumer handle and reads the
 * group metadata (generation, member id, instance id) from it itself — it has no way to send metadata given as data.
 */
import { DevtripError } from '../../../events/errors'
import type { ConsumerGroupMetadata } from '../port'
import type { RdConsumer } from './library'

export interface RegisteredGroupConsumer {
  groupMetadata (): ConsumerGroupMetadata
  readonly handle: RdConsumer
}

const live = new Set<RegisteredGroupConsumer>()

export function registerGroupConsumer (consumer: RegisteredGroupConsumer): void {
  live.add(consumer)
}

export function unregisterGroupConsumer (consumer: RegisteredGroupConsumer): void {
  live.delete(consumer)
}

/**
 * The librdkafka consumer whose current group metadata is `group`. Metadata that no live consumer has any more
 * (its generation moved on, or the consumer was closed) belongs to a zombie: DEVTRIP_TASK_MIGRATED, as the
 * group coordinator would answer (ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID) if it were sent.
 */
export function liveGroupConsumer (group: ConsumerGroupMetadata): RdConsumer {
  let sameMember: ConsumerGroupMetadata | null = null
  for (const consumer of live) {
    const current = consumer.groupMetadata()
    if (current.groupId !== group.groupId || current.memberId !== group.memberId) continue
    if (current.generationId === group.generationId) return consumer.handle
    sameMember = current
  }
  const why = sameMember === null
    ? `no open consumer of this process is member "${group.memberId}" of group "${group.groupId}" any more`
    : `generation ${group.generationId} is not the member's current generation ${sameMember.generationId}`
  throw new DevtripError('DEVTRIP_TASK_MIGRATED', `sendOffsetsToTransaction: the consumer group generation is stale (${why}); close the tasks and rejoin`, {
    details: { operation: 'sendOffsetsToTransaction', groupId: group.groupId, memberId: group.memberId, generationId: group.generationId }
  })
}
