/**
 * Restore progress of state stores, for the dashboard.
 *
 * When the stream apps run in the same process as the caller (the API started with the pipeline), their metrics
 * registry says exactly how far each store's restoration is: `devtrip_streams_restore_remaining_records` (per
 * store and partition) and `devtrip_streams_restored_records_total` (per store). Otherwise only the changelog
 * topics are visible from outside: their size (records between log start and end) is what a cold restore would
 * read, and no progress can be known — the local checkpoints live on the app's disk.
 */
import type { Registry } from 'prom-client'
import type { KafkaAdmin } from '../kafka/port'
import { METRIC_NAMES } from '../runtime/metrics'

export interface StoreRestoreProgress {
  readonly applicationId: string
  readonly store: string
  /** 'metrics': the app's own counters (in-process); 'changelog': changelog offsets only */
  readonly source: 'metrics' | 'changelog'
  readonly restored: number | null
  readonly remaining: number | null
  /** 0..1, or null when unknown */
  readonly progress: number | null
  /** records in the changelog topic (end − start offsets), when read from Kafka */
  readonly changelogRecords: number | null
  readonly changelogTopic: string | null
}

const REMAINING = METRIC_NAMES[6]
const RESTORED = METRIC_NAMES[7]

interface MetricValues { values: Array<{ value: number, labels: Record<string, string | number | undefined> }> }

async function valuesOf (registry: Registry, name: string): Promise<MetricValues['values']> {
  const metric = registry.getSingleMetric(name)
  if (metric === undefined) return []
  return ((await metric.get()) as MetricValues).values
}

async function fromMetrics (registry: Registry): Promise<StoreRestoreProgress[]> {
  const byStore = new Map<string, { applicationId: string, store: string, restored: number, remaining: number }>()
  const entry = (labels: Record<string, string | number | undefined>): { applicationId: string, store: string, restored: number, remaining: number } => {
    const applicationId = String(labels.application_id ?? '')
    const store = String(labels.store ?? '')
    const key = `${applicationId}\u0000${store}`
    const e = byStore.get(key) ?? { applicationId, store, restored: 0, remaining: 0 }
    byStore.set(key, e)
    return e
  }
  for (const v of await valuesOf(registry, REMAINING)) entry(v.labels).remaining += v.value
  for (const v of await valuesOf(registry, RESTORED)) entry(v.labels).restored += v.value
  return [...byStore.values()].map((e) => ({
    applicationId: e.applicationId,
    store: e.store,
    source: 'metrics' as const,
    restored: e.restored,
    remaining: e.remaining,
    progress: e.restored + e.remaining === 0 ? 1 : e.restored / (e.restored + e.remaining),
    changelogRecords: null,
    changelogTopic: `${e.applicationId}-${e.store}-changelog`
  }))
}

/** `<applicationId>-<store>-changelog` split with the known application ids (an id may contain '-'). */
function splitChangelog (topic: string, applicationIds: readonly string[]): { applicationId: string, store: string } | null {
  const bare = topic.slice(0, -'-changelog'.length)
  const owner = [...applicationIds].sort((a, b) => b.length - a.length).find((id) => bare.startsWith(id + '-'))
  if (owner !== undefined) return { applicationId: owner, store: bare.slice(owner.length + 1) }
  return null
}

async function fromChangelogs (admin: KafkaAdmin, applicationIds: readonly string[]): Promise<StoreRestoreProgress[]> {
  const topics = (await admin.listTopics()).filter((t) => t.endsWith('-changelog'))
  const named = topics.map((t) => ({ topic: t, parts: splitChangelog(t, applicationIds) })).filter((t) => t.parts !== null)
  if (named.length === 0) return []
  const described = await admin.describeTopics(named.map((n) => n.topic))
  const tps = described.flatMap((d) => d.partitions.map((p) => ({ topic: d.name, partition: p.partition })))
  const [starts, ends] = await Promise.all([admin.listOffsets(tps, 'earliest', 'read_uncommitted'), admin.listOffsets(tps, 'latest', 'read_uncommitted')])
  const size = new Map<string, number>()
  tps.forEach((tp, i) => size.set(tp.topic, (size.get(tp.topic) ?? 0) + Number(ends[i]!.offset - starts[i]!.offset)))
  return named.map((n) => ({
    applicationId: n.parts!.applicationId,
    store: n.parts!.store,
    source: 'changelog' as const,
    restored: null,
    remaining: null,
    progress: null,
    changelogRecords: size.get(n.topic) ?? 0,
    changelogTopic: n.topic
  }))
}

/**
 * Restore progress per store: from `registry` when it holds the restore metrics, else from the changelogs of
 * the given applications (group ids). Sorted by application and store.
 */
export async function readRestoreProgress (admin: KafkaAdmin, applicationIds: readonly string[], registry?: Registry): Promise<StoreRestoreProgress[]> {
  const metrics = registry === undefined ? [] : await fromMetrics(registry)
  const list = metrics.length > 0 ? metrics : await fromChangelogs(admin, applicationIds)
  return list.sort((a, b) => (a.applicationId === b.applicationId ? (a.store < b.store ? -1 : 1) : a.applicationId < b.applicationId ? -1 : 1))
}
