/**
 * The chaos run's result: the JSON document `chaos --json` prints, and its verdict. ALL-RECORDS-DELIVERED only when
 * every check passed; otherwise `FAILED: …` naming the failed checks, with examples in `examples`.
 */
import type { ChaosOptions } from './orchestrator'
import type { Fleet, RestoreRecord } from './fleet'
import type { Workload } from './generator'
import type { Example } from './verifier'
import type { KafkaVerification } from './verify-kafka'

export const VERDICT_OK = 'ALL-RECORDS-DELIVERED'

export interface RestoreSummary {
  /** restores (one per store and task) over the whole run */
  readonly restores: number
  /** changelog records restored over the whole run */
  readonly restoredRecords: number
  /** restores in instances after they were killed and restarted */
  readonly afterRestart: number
  readonly afterRestartRecords: number
  /** the largest single restore after a restart of a task the instance had owned before, and its changelog partition's size then */
  readonly largestOwnRestore: { readonly records: number, readonly changelogRecords: number, readonly instance: number, readonly app: string, readonly store: string, readonly partition: number } | undefined
  /** restores of a task the instance had owned before that started from offset 0 (the local state was lost) */
  readonly fullRestoresOfOwnTasks: number
  /** restores of a task new to the instance (it moved there while its owner was dead): from offset 0 by necessity */
  readonly takeovers: number
  readonly takeoverRecords: number
}

export interface ChaosReport {
  readonly events: number
  readonly users: number
  readonly seed: number
  readonly instances: number
  readonly kills: number
  readonly brokerRestarts: number
  readonly duplicates: number
  readonly missing: number
  readonly mismatches: number
  readonly unexpected: number
  readonly dlqExpected: number
  readonly dlqActual: number
  readonly openTransactions: number
  readonly maxRestoredRecords: number
  readonly verdict: string
  readonly failures: readonly string[]
  readonly details: Record<string, unknown>
  readonly examples: readonly Example[]
}

export interface ReportInput {
  readonly options: ChaosOptions
  readonly workload: Workload
  readonly verification: KafkaVerification
  readonly fleet: Fleet
  readonly kills: number
  readonly brokerRestarts: number
  readonly feederResent: number
  readonly feederHoldWaits: number
  readonly stopped: { clean: number, total: number }
  readonly durations: { produceSeconds: number, drainSeconds: number, totalSeconds: number }
  readonly sourceTopics: number
}

export function summarizeRestores (restores: readonly RestoreRecord[]): RestoreSummary {
  const after = restores.filter((r) => r.launch > 1)
  const own = after.filter((r) => r.ownedBefore)
  let largest: RestoreSummary['largestOwnRestore']
  for (const r of own) {
    if (largest === undefined || r.records > largest.records) {
      largest = { records: r.records, changelogRecords: r.endOffset, instance: r.instance, app: r.app, store: r.store, partition: r.partition }
    }
  }
  const takeovers = restores.filter((r) => !r.ownedBefore && r.startOffset === 0 && r.records > 0)
  return {
    restores: restores.length,
    restoredRecords: restores.reduce((n, r) => n + r.records, 0),
    afterRestart: after.length,
    afterRestartRecords: after.reduce((n, r) => n + r.records, 0),
    largestOwnRestore: largest,
    fullRestoresOfOwnTasks: own.filter((r) => r.startOffset === 0 && r.endOffset > 0 && r.records > 0).length,
    takeovers: takeovers.length,
    takeoverRecords: takeovers.reduce((n, r) => n + r.records, 0)
  }
}

export function buildReport (input: ReportInput): ChaosReport {
  const { counts, input: census, openTransactions, changelogs } = input.verification
  const restores = summarizeRestores(input.fleet.restores)
  const maxRestoredRecords = input.fleet.restores.reduce((m, r) => Math.max(m, r.records), 0)
  const failures: string[] = []
  const fail = (n: number, what: string): void => { if (n > 0) failures.push(`${n} ${what}`) }
  fail(counts.missing, 'expected outputs missing')
  fail(counts.duplicates, 'outputs written more than once')
  fail(counts.unexpected, 'outputs the model does not expect')
  fail(counts.mismatches, 'outputs that differ from the model')
  fail(counts.finalBalanceMismatches, 'final balances that differ from the model')
  fail(counts.finalStatsMismatches, 'final user statistics that differ from the model')
  fail(counts.dlqMissing, 'dead letters missing')
  fail(counts.dlqUnexpected, 'dead letters not expected')
  fail(openTransactions.length, 'partitions with an open transaction')
  fail(census.lost, 'input records never written (producer)')
  fail(counts.pendingTimers, 'evaluation timers the workload left pending (generator bug)')
  fail(restores.fullRestoresOfOwnTasks, 'restores of an own task from offset 0 after a restart (local state lost)')
  return {
    events: input.workload.records.length,
    users: input.workload.users,
    seed: input.workload.seed,
    instances: input.options.instances,
    kills: input.kills,
    brokerRestarts: input.brokerRestarts,
    duplicates: counts.duplicates,
    missing: counts.missing,
    mismatches: counts.mismatches + counts.finalBalanceMismatches + counts.finalStatsMismatches,
    unexpected: counts.unexpected,
    dlqExpected: counts.dlqExpected,
    dlqActual: counts.dlqActual,
    openTransactions: openTransactions.length,
    maxRestoredRecords,
    verdict: failures.length === 0 ? VERDICT_OK : `FAILED: ${failures.join('; ')}`,
    failures,
    details: {
      workload: { ...input.workload.counts, timeRange: input.workload.timeRange.map((t) => new Date(t).toISOString()) },
      input: { ...census, feederResent: input.feederResent, feederHoldWaits: input.feederHoldWaits },
      outputs: { expected: counts.expectedOutputs, actual: counts.actualOutputs, finalBalanceMismatches: counts.finalBalanceMismatches, finalStatsMismatches: counts.finalStatsMismatches },
      deadLetters: { expected: counts.dlqExpected, actual: counts.dlqActual, missing: counts.dlqMissing, unexpected: counts.dlqUnexpected },
      transactions: {
        open: openTransactions.map((o) => `${o.topic}:${o.partition}`),
        commits: input.fleet.commits,
        abortedOutputRecords: input.verification.abortedOutputRecords
      },
      restores,
      changelogs: { topics: changelogs.topics, partitions: changelogs.partitions, totalRecords: changelogs.totalRecords, largestPartition: changelogs.largestPartition },
      instances: { unexpectedExits: input.fleet.unexpectedExits, closedCleanly: `${input.stopped.clean}/${input.stopped.total}` },
      settings: {
        rate: input.options.rate, partitions: input.options.partitions, commitIntervalMs: input.options.commitIntervalMs,
        sessionTimeoutMs: input.options.sessionTimeoutMs, maxTaskIdleMs: input.options.maxTaskIdleMs, producerBatchRecords: input.options.producerBatchRecords,
        sourceTopics: input.sourceTopics
      },
      durations: input.durations
    },
    examples: counts.examples
  }
}
