/**
 * Operator tools on the Kafka port, shared by the CLI (`lag`, `dlq`) and the API (`/v1/lag`, the dashboard):
 * consumer-group lag with lag in seconds and rates, a lag monitor with history, and the dead-letter tools
 * (list, show, replay exactly once, purge).
 */
export { LagCollector, resolveLagOptions, type LagOptions, type ResolvedLagOptions } from './lag'
export { withRates, catchUpSeconds, totalsOf } from './lag-rates'
export { lagSnapshotToJson, type GroupLag, type LagMember, type LagSnapshot, type PartitionLag } from './lag-types'
export { LagMonitor, type LagMonitorOptions, type LagHistoryPoint, type LagEvent, type LagListener } from './lag-monitor'
export { listDlqTopics, summarizeDlqTopic, showDlqRecords, isDlqTopic, type DlqTopicSummary, type DlqRecordRef, type ListDlqOptions, type ShowDlqOptions, type ShowDlqResult } from './dlq'
export { parseFilterPairs, parseTime, resolveDlqFilter, matchesFilter, isEmptyFilter, FILTER_NAMES, type DlqFilter } from './dlq-filter'
export { viewDlqRecord, decodeBytes, bytesPreview, dlqErrorInfo, replayHeaders, REPLAY_HEADERS, ERROR_HEADER_PREFIX, type DlqRecordView, type DlqErrorInfo, type DecodedBytes } from './dlq-record'
export { replayDlq, resolveReplayOptions, type ReplayOptions, type ReplayResult, type ReplayedRecord } from './dlq-replay'
export { planPurge, applyPurge, type PurgeBefore, type PurgePlan, type PurgePartitionPlan, type PurgeResult } from './dlq-purge'
export { replayGroupId, markerTopicName, REPLAY_GROUP_PREFIX } from './dlq-markers'
export { scanRanges, topicRanges, type PartitionRange, type ScanOptions } from './topic-scan'
export { readRestoreProgress, type StoreRestoreProgress } from './restore-progress'
export { StreamsOverview, type OverviewOptions, type OverviewDocument, type OverviewListener } from './overview'
