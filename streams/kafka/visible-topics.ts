/**
 * createTopics that returns only once the new topics can be used.
 *
 * The controller answers CreateTopics as soon as it accepted the topics; the brokers learn about them a moment
 * later through the metadata log. In that window a describeTopics, a produce or a consumer's metadata request
 * says "unknown topic" — Java's AdminClient has the same window, and every caller then needs its own retry loop.
 * Waiting here, once, for the new topics to show up with a leader for every partition closes the window for all
 * adapters alike. deleteTopics has the mirror window (a deleted topic is still listed for a moment, and a create of
 * the same name fails meanwhile): it returns once no deleted topic is listed.
 */
import { DevtripError } from '../../events/errors'
import type { CreateTopicResult, KafkaAdmin, NewTopic } from './port'

const POLL_MS = 25

export function withVisibleNewTopics (admin: KafkaAdmin, timeoutMs: number): KafkaAdmin {
  async function createTopics (topics: readonly NewTopic[]): Promise<CreateTopicResult[]> {
    const results = await admin.createTopics(topics)
    const created = results.filter((r) => r.created).map((r) => r.name)
    if (created.length > 0) await waitUntilVisible(admin, created, timeoutMs)
    return results
  }
  async function deleteTopics (names: readonly string[]): Promise<void> {
    await admin.deleteTopics(names)
    if (names.length > 0) await waitUntilGone(admin, names, timeoutMs)
  }
  return Object.freeze({
    createTopics,
    describeTopics: admin.describeTopics.bind(admin),
    listTopics: admin.listTopics.bind(admin),
    deleteTopics,
    listOffsets: admin.listOffsets.bind(admin),
    listGroupOffsets: admin.listGroupOffsets.bind(admin),
    describeGroups: admin.describeGroups.bind(admin),
    listGroups: admin.listGroups.bind(admin),
    deleteRecords: admin.deleteRecords.bind(admin),
    close: admin.close.bind(admin)
  })
}

async function waitUntilVisible (admin: KafkaAdmin, names: readonly string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const listed = new Set(await admin.listTopics())
    if (names.every((n) => listed.has(n))) {
      const described = await admin.describeTopics(names).catch(() => [])
      const ready = described.length === names.length && described.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))
      if (ready) return
    }
    if (Date.now() > deadline) {
      throw new DevtripError('DEVTRIP_TIMEOUT', `createTopics: ${names.join(', ')} created but not visible with a leader for every partition after ${timeoutMs} ms`, {
        canRetry: true,
        details: { topics: names, hint: 'the broker may be overloaded; check its log, then retry (createTopics is idempotent)' }
      })
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
}

async function waitUntilGone (admin: KafkaAdmin, names: readonly string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const listed = new Set(await admin.listTopics())
    const still = names.filter((n) => listed.has(n))
    if (still.length === 0) return
    if (Date.now() > deadline) {
      throw new DevtripError('DEVTRIP_TIMEOUT', `deleteTopics: ${still.join(', ')} deleted but still listed after ${timeoutMs} ms`, {
        canRetry: true,
        details: { topics: still, hint: 'the broker may be overloaded; check its log, then retry (deleteTopics is idempotent)' }
      })
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
}
