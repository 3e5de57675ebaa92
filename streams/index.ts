/**
 * The public face of streams/: the DSL, the Processor API, the Topology, error handling, the test driver and the
 * Kafka runtime (StreamsApp, in streams/runtime), which drives the same StreamTask the test driver uses.
 */
export { StreamsBuilder, type StreamsBuilderOptions } from './streams-builder'
export { Topology, type SourceOptions, type SinkOptions } from './topology'
export type { KStream, KTable, KGroupedStream, TimeWindowedKStream, BranchedKStream } from './dsl/kstream'
export { Branched, Consumed, Grouped, Joined, Materialized, Named, Produced, Repartitioned, StreamJoined, type StoreType } from './dsl/options'
export { JoinWindows, TimeWindows, type Windowed } from './dsl/windows'
export type { Processor, ProcessorContext, ProcessorSupplier, Punctuator, PunctuationType, Cancellable } from './processor'
export { NO_HEADERS, lastHeader, type Header, type Headers, type Record, type RecordMetadata } from './record'
export type { ConsumedRecord, ProducedRecord, RecordCollector, TopicPartition, TopicPartitionOffset } from './record-collector'
export { murmur2, toPositive, partitionForKey, type StreamPartitioner } from './partitioner'
export {
  DLQ_HEADERS, buildDlqRecord, describeException, resolveErrorHandling,
  type DlqRecordInput, type ErrorAction, type ErrorContext, type ErrorHandler, type ErrorHandling, type ErrorHandlingOptions, type ErrorKind,
  type SourceRecordRef
} from './error-handling'
export type { TopologyDescription, SubtopologyDescription, NodeDescription } from './internals/topology/describe'
export {
  changelogTopicName, resolvePartitionCounts,
  type TopologyMetadata, type SubtopologyMetadata, type RepartitionTopicMetadata, type StoreMetadata
} from './internals/topology/metadata'
export {
  StreamTask, type StreamTaskOptions, type TaskListener, type TaskMetrics, type HandledErrorEvent, type SkippedRecordEvent, type StoreToRestore
} from './internals/task/stream-task'
export { TaskFailure } from './internals/task/nodes'
export { TopologyTestDriver, type TopologyTestDriverOptions } from './test-driver'
export { TestInputTopic, TestOutputTopic, type TestRecord, type TestInput, type StoredRecord } from './test-topics'
export { StreamsApp, type StreamsAppOptions, type CloseOptions, type LocalTaskInfo, type LocalTaskStatus } from './runtime/streams-app'
export { resolveStreamsConfig, type StreamsConfig, type StreamsConfigInput, type ProcessingGuarantee, type ExceptionHandling } from './runtime/config'
export { StreamsMetrics, METRIC_NAMES, DIAGNOSTICS } from './runtime/metrics'
export { APP_STATES, type AppState, type StateListener } from './runtime/app-state'
export type { StreamsLogger } from './runtime/logger'
export {
  QueryMetadataResolver, groupViewOf,
  type KeyQueryMetadata, type StoreQueryMetadata, type StoreHostMetadata, type NoOwnerReason, type QueryMetadataAdmin, type QueryMetadataOptions, type GroupView
} from './runtime/query-metadata'
export {
  ADVERTISEMENT_VERSION, MAX_USER_DATA_BYTES, decodeAdvertisement, encodeAdvertisement, formatHostInfo, parseHostInfo,
  type HostInfo, type InstanceAdvertisement
} from './runtime/query-advertisement'
export { hasStore, readLocalKey, type LocalKeyRead, type LocalReadOptions, type LocalStoreSource } from './runtime/local-store-read'
