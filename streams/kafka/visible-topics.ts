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
  await waitUntilSettled('createTopics', 'created but not visible with a leader for every partition', timeoutMs, async () => {
    const listed = new Set(await admin.listTopics())
    if (!names.every((n) => listed.has(n))) return names
    const described = await admin.describeTopics(names).catch(() => [])
    const ready = described.length === names.length && described.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))
    return ready ? [] : names
  })
}

async function waitUntilGone (admin: KafkaAdmin, names: readonly string[], timeoutMs: number): Promise<void> {
  await waitUntilSettled('deleteTopics', 'deleted but still listed', timeoutMs, async () => {
    const listed = new Set(await admin.listTopics())
    return names.filter((n) => listed.has(n))
  })
}

/**
 * Asks `unsettled` every POLL_MS until it names no topic; past the timeout, a retriable DEVTRIP_TIMEOUT naming the
 * topics it still named.
 */
async function waitUntilSettled (operation: 'createTopics' | 'deleteTopics', problem: string, timeoutMs: number, unsettled: () => Promise<readonly string[]>): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const pending = await unsettled()
    if (pending.length === 0) return
    if (Date.now() > deadline) {
      throw new DevtripError('DEVTRIP_TIMEOUT', `${operation}: ${pending.join(', ')} ${problem} after ${timeoutMs} ms`, {
        canRetry: true,
        details: { topics: pending, hint: `the broker may be overloaded; check its log, then retry (${operation} is idempotent)` }
      })
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
}
