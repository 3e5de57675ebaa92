/**
 * Restore progress (streams/tools/restore-progress.ts) from an in-process StreamsMetrics registry: per store,
 * restored / (restored + remaining) summed over partitions; the admin (changelog fallback) is not touched then.
 */
import { Registry } from 'prom-client'
import type { KafkaAdmin } from '../../streams/kafka'
import { StreamsMetrics } from '../../streams/runtime/metrics'
import { readRestoreProgress } from '../../streams/tools'

const noAdmin = new Proxy({}, { get: (_t, name) => () => { throw new Error(`the admin must not be used (${String(name)})`) } }) as KafkaAdmin

test('progress per store from the restore metrics', async () => {
  const metrics = new StreamsMetrics(new Registry())
  metrics.restoredRecords.inc({ application_id: 'ticketing', store: 'balances' }, 300)
  metrics.restoreRemaining.set({ application_id: 'ticketing', store: 'balances', partition: '0' }, 50)
  metrics.restoreRemaining.set({ application_id: 'ticketing', store: 'balances', partition: '1' }, 50)
  metrics.restoreRemaining.set({ application_id: 'stats', store: 'user-stats', partition: '0' }, 0)
  metrics.restoredRecords.inc({ application_id: 'stats', store: 'user-stats' }, 10)
  const progress = await readRestoreProgress(noAdmin, ['ticketing', 'stats'], metrics.registry)
  expect(progress).toEqual([
    { applicationId: 'stats', store: 'user-stats', source: 'metrics', restored: 10, remaining: 0, progress: 1, changelogRecords: null, changelogTopic: 'stats-user-stats-changelog' },
    { applicationId: 'ticketing', store: 'balances', source: 'metrics', restored: 300, remaining: 100, progress: 0.75, changelogRecords: null, changelogTopic: 'ticketing-balances-changelog' }
  ])
})
