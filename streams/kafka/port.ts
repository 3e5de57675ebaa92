/**
 * The Kafka port: the only way the engine, the processors and the tools talk to Kafka.
 *
 * It is deliberately small and free of any client library's types, so that several adapters
 * (@platformatic/kafka today; kafkajs and librdkafka later) can implement it and the engine never notices
 * which one runs. Everything here is shaped for a Kafka Streams-style runtime with exactly-once v2:
 *   - one transactional producer per stream thread, committing consumed offsets inside its transaction with the
 *     consumer's group metadata (KIP-447), so a zombie is fenced by the group generation, not by per-task ids;
 *   - a poll-driven group consumer whose rebalance callbacks run inside `poll()`, BEFORE the partitions are given
 *     up, so the runtime can commit or close its tasks while it still owns them;
 *   - an "assigned" consumer without a group for restoring state stores from changelogs;
 *   - an admin client for topics, offsets and groups.
 *
 * docs/kafka-port.md describes every method, its semantics and its errors. Failures are always a
 * `DevtripError` (events/errors.ts); the codes a caller must tell apart are:
 *   - DEVTRIP_KAFKA_FENCED: a newer producer with the same transactional id, or a newer static member with the
 *     same group instance id, exists. The object is dead: close it, close the tasks dirty, create a new one.
 *   - DEVTRIP_TASK_MIGRATED: the consumer group moved on (our generation is stale), so an offset commit
 *     (plain or transactional) was refused. Close the tasks dirty; the next `poll()` rejoins.
 *   - DEVTRIP_UNKNOWN_TOPIC: a topic does not exist (topics are never auto-created).
 *   - DEVTRIP_KAFKA: anything else from the broker or the network; `canRetry` says whether trying again may help.
 *   - DEVTRIP_INVALID_OPTIONS: bad arguments or a call in the wrong state (e.g. `send` outside a transaction on a
 *     transactional producer). DEVTRIP_CLOSED: the object was closed.
 */

/** One partition of one topic. */
export interface TopicPartition {
  readonly topic: string
  readonly partition: number
}

/**
 * A partition and an offset. For commits this is the offset of the NEXT record to consume
 * (last processed offset + 1), exactly as Kafka stores committed offsets.
 */
export interface TopicPartitionOffset extends TopicPartition {
  readonly offset: bigint
}

/** A record header. Kafka allows repeated names and null values, so headers are an ordered list, not a map. */
export type RecordHeader = readonly [name: string, value: Buffer | null]

/** A record read from Kafka. Keys, values and header values are the raw bytes; serdes live above the port. */
export interface ConsumedRecord {
  readonly topic: string
  readonly partition: number
  readonly offset: bigint
  /** milliseconds since the epoch (CreateTime, or LogAppendTime when the topic is configured so) */
  readonly timestamp: number
  readonly key: Buffer | null
  /** null is a tombstone */
  readonly value: Buffer | null
  readonly headers: readonly RecordHeader[]
}

/** A record to write. Without `partition`, keyed records go to murmur2(key) mod partitions (the Java client's
 * default, so data written here co-partitions with data written by Java producers); unkeyed records round-robin. */
export interface ProducerRecord {
  readonly topic: string
  readonly partition?: number
  readonly key?: Buffer | null
  readonly value: Buffer | null
  readonly headers?: readonly RecordHeader[]
  /** milliseconds since the epoch; defaults to now */
  readonly timestamp?: number
}

/** Where a produced record landed: one entry per record, in the order they were given to `send`. */
export type RecordMetadata = TopicPartitionOffset

/** The consumer's group identity, handed to the producer so the broker can fence zombie commits (KIP-447). */
export interface ConsumerGroupMetadata {
  readonly groupId: string
  readonly generationId: number
  readonly memberId: string
  readonly groupInstanceId: string | null
}

/** The records of one partition returned by one `poll()`, with what the broker said about that partition. */
export interface PartitionBatch extends TopicPartition {
  /** in offset order; never empty */
  readonly records: readonly ConsumedRecord[]
  /** offset after the last record of the log (highest visible offset + 1) */
  readonly highWatermark: bigint
  /** under read_committed, the end of what may be read: nothing at or above it is visible yet */
  readonly lastStableOffset: bigint
  readonly logStartOffset: bigint
}

/**
 * What the consumer knows about one assigned partition. The watermarks come from the last fetch response that
 * covered the partition (no extra request), so a runtime can tell "nothing more to read" (position ≥ lastStable
 * offset) from "data exists but was not fetched yet" — the question behind Kafka Streams' max.task.idle.ms.
 */
export interface PartitionState extends TopicPartition {
  /** next offset to fetch; null until it is resolved (committed offset or reset policy) */
  readonly position: bigint | null
  readonly paused: boolean
  /** null until a fetch response covered the partition */
  readonly highWatermark: bigint | null
  readonly lastStableOffset: bigint | null
  readonly logStartOffset: bigint | null
}

/** Called from inside `poll()` (and `close()`), awaited before the consumer goes on. */
export interface RebalanceListener {
  /**
   * The partitions are about to be given up, and the consumer still owns them: the generation is still valid,
   * so commits (plain or transactional) made here succeed. Runs before the consumer rejoins the group.
   */
  onPartitionsRevoked? (partitions: readonly TopicPartition[]): Promise<void> | void
  /**
   * The partitions were already lost (the session expired or the generation was fenced): commits made here will
   * fail with DEVTRIP_TASK_MIGRATED, so close the tasks without committing. Defaults to `onPartitionsRevoked`.
   */
  onPartitionsLost? (partitions: readonly TopicPartition[]): Promise<void> | void
  /** The new assignment, before positions are resolved: a `seek` here decides where fetching starts. */
  onPartitionsAssigned? (partitions: readonly TopicPartition[]): Promise<void> | void
}

/** Where a seek or a reset goes. */
export type OffsetSpec = bigint | 'earliest' | 'latest'

/** Reading behaviour shared by both consumer kinds (code that only reads, like a restorer, can take either). */
export interface KafkaConsumer {
  /**
   * Fetches from every assigned, unpaused partition whose position is known, waiting up to `maxWaitMs` for data.
   * Returns one batch per partition that produced records (empty array when none did). Under read_committed,
   * records of aborted transactions and transaction markers are never returned. In a group consumer, a pending
   * rebalance is carried out first (revoke callback → rejoin → assigned callback). Not re-entrant.
   */
  poll (maxWaitMs: number): Promise<PartitionBatch[]>
  /** Stops fetching these partitions (positions are kept). Unassigned partitions are an error. */
  pause (partitions: readonly TopicPartition[]): void
  resume (partitions: readonly TopicPartition[]): void
  /** Moves the fetch position; 'earliest'/'latest' are resolved at the next poll. */
  seek (partition: TopicPartition, offset: OffsetSpec): void
  /** Next offset to fetch, or null if not resolved yet. Throws for an unassigned partition. */
  position (partition: TopicPartition): bigint | null
  /** Positions, pause flags and the watermarks of the last fetch, for every assigned partition. */
  partitionStates (): PartitionState[]
  assignment (): TopicPartition[]
  close (): Promise<void>
}

/** A member of a consumer group. Never commits on its own (no auto-commit). */
export interface KafkaGroupConsumer extends KafkaConsumer {
  /** Sets the subscription; the group is joined (or rejoined) by the next `poll()`. */
  subscribe (topics: readonly string[], listener?: RebalanceListener): void
  /** Commits offsets (next offset to read) for at-least-once processing, with the current generation. */
  commitOffsets (offsets: readonly TopicPartitionOffset[]): Promise<void>
  /** The group's committed offsets for these partitions (null where none), read with require_stable. */
  committed (partitions: readonly TopicPartition[]): Promise<Array<TopicPartition & { offset: bigint | null }>>
  /** Identity for `KafkaProducer.sendOffsetsToTransaction`. */
  groupMetadata (): ConsumerGroupMetadata
  /** Makes the next `poll()` rejoin the group (e.g. after a DEVTRIP_TASK_MIGRATED). */
  requestRejoin (): void
}

/** A consumer without a group: the caller assigns partitions (used to restore state stores from changelogs). */
export interface KafkaAssignedConsumer extends KafkaConsumer {
  /** Replaces the assignment. Kept partitions keep their positions; new ones start at the reset policy. */
  assign (partitions: readonly TopicPartition[]): void
}

/**
 * An idempotent producer (acks=all, always). With a `transactionalId` it is transactional: call
 * `initTransactions()` once, then every `send` must happen between `beginTransaction()` and
 * `commitTransaction()`/`abortTransaction()`. Calls are serialized internally; put many records in one `send`.
 */
export interface KafkaProducer {
  readonly transactionalId: string | null
  send (records: readonly ProducerRecord[]): Promise<RecordMetadata[]>
  /** Registers the transactional id with its coordinator, fencing older producers with the same id and
   * completing (aborting) any transaction they left open. */
  initTransactions (): Promise<void>
  beginTransaction (): Promise<void>
  /** Commits consumed offsets (next offset to read) as part of the current transaction (KIP-447). */
  sendOffsetsToTransaction (offsets: readonly TopicPartitionOffset[], group: ConsumerGroupMetadata): Promise<void>
  commitTransaction (): Promise<void>
  abortTransaction (): Promise<void>
  close (): Promise<void>
}

/** A topic to create. */
export interface NewTopic {
  readonly name: string
  readonly partitions: number
  readonly replicationFactor: number
  readonly configs?: Readonly<Record<string, string>>
}

export interface CreateTopicResult {
  readonly name: string
  /** false when the topic already existed (nothing was changed) */
  readonly created: boolean
  /** the partition count the topic has now (for an existing topic, its real count, which may differ) */
  readonly partitions: number
}

export interface TopicDescription {
  readonly name: string
  readonly partitions: ReadonlyArray<{ readonly partition: number, readonly leader: number, readonly replicas: readonly number[], readonly isr: readonly number[] }>
  /** every topic config the broker reports (cleanup.policy, retention.ms, ...) */
  readonly configs: Readonly<Record<string, string>>
}

export type IsolationLevel = 'read_committed' | 'read_uncommitted'

/** 'earliest', 'latest', or a timestamp in ms (first offset whose record time is ≥ it). */
export type ListOffsetsSpec = 'earliest' | 'latest' | { readonly timestamp: number }

export interface GroupListing {
  readonly groupId: string
  readonly state: string
  readonly protocolType: string
}

export interface GroupMemberDescription {
  readonly memberId: string
  readonly groupInstanceId: string | null
  readonly clientId: string
  readonly clientHost: string
  /** decoded from the consumer protocol; empty when the group is not a consumer group */
  readonly assignment: readonly TopicPartition[]
  /** the bytes the member advertised with `GroupConsumerOptions.userData`; null when it advertised none */
  readonly userData: Buffer | null
}

export interface GroupDescription {
  readonly groupId: string
  /** as the broker names it: Stable, PreparingRebalance, CompletingRebalance, Empty, Dead */
  readonly state: string
  readonly protocolType: string
  /** the assignor the group agreed on */
  readonly protocol: string
  readonly members: readonly GroupMemberDescription[]
}

export interface KafkaAdmin {
  /** Idempotent: existing topics are reported (with their real partition count), not changed. */
  createTopics (topics: readonly NewTopic[]): Promise<CreateTopicResult[]>
  /** Throws DEVTRIP_UNKNOWN_TOPIC naming every missing topic. */
  describeTopics (names: readonly string[]): Promise<TopicDescription[]>
  /** Names of all non-internal topics, sorted. */
  listTopics (): Promise<string[]>
  /** Idempotent: topics that do not exist are skipped. */
  deleteTopics (names: readonly string[]): Promise<void>
  /**
   * Offsets per partition. 'latest' under read_committed is the last stable offset. For a timestamp with no
   * record at or after it, the result is the log end offset (where such a record would go).
   */
  listOffsets (partitions: readonly TopicPartition[], spec: ListOffsetsSpec, isolation?: IsolationLevel): Promise<TopicPartitionOffset[]>
  /** Committed offsets of a group (next offset to read), every partition it has one for, read with require_stable. */
  listGroupOffsets (groupId: string): Promise<TopicPartitionOffset[]>
  describeGroups (groupIds: readonly string[]): Promise<GroupDescription[]>
  listGroups (): Promise<GroupListing[]>
  /** Deletes records before `offset` in each partition; returns the new log start offsets. */
  deleteRecords (offsets: readonly TopicPartitionOffset[]): Promise<TopicPartitionOffset[]>
  close (): Promise<void>
}

/** Options common to every client of one cluster. */
export interface KafkaConnectionOptions {
  /** host:port of one or more brokers */
  readonly brokers: readonly string[]
  readonly clientId?: string
  /** how long one request may take before it fails (default 30 000) */
  readonly requestTimeoutMs?: number
  readonly connectTimeoutMs?: number
  /** how long an operation keeps retrying retriable errors before it fails (default 30 000) */
  readonly operationTimeoutMs?: number
}

export interface ProducerOptions {
  /** makes the producer transactional */
  readonly transactionalId?: string
  /** how long the coordinator lets a transaction stay open before aborting it (default 60 000) */
  readonly transactionTimeoutMs?: number
  readonly compression?: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'
  readonly clientId?: string
}

/** Fetch behaviour shared by both consumer kinds. */
export interface FetchOptions {
  /** default 'read_committed' */
  readonly isolationLevel?: IsolationLevel
  /** where a partition without a committed offset (or with an out-of-range one) starts; 'none' throws. Default 'earliest'. */
  readonly autoOffsetReset?: 'earliest' | 'latest' | 'none'
  /** default 50 MiB */
  readonly fetchMaxBytes?: number
  /** default 1 MiB */
  readonly maxPartitionFetchBytes?: number
  readonly clientId?: string
}

export interface GroupConsumerOptions extends FetchOptions {
  readonly groupId: string
  /** static membership (KIP-345): a restart within the session timeout keeps the assignment */
  readonly groupInstanceId?: string
  /** default 45 000 */
  readonly sessionTimeoutMs?: number
  /** default 3 000 */
  readonly heartbeatIntervalMs?: number
  /** how long the group waits for members to rejoin; also the longest gap between two `poll()` calls during a
   * rebalance (default 60 000) */
  readonly rebalanceTimeoutMs?: number
  /**
   * Opaque bytes (at most 4 KiB) this member advertises to the group, readable by anyone through
   * `KafkaAdmin.describeGroups` (`GroupMemberDescription.userData`). The runtime advertises its interactive-query
   * address here, as Kafka Streams does with `application.server`. Carried in the consumer protocol's subscription
   * user data where the client library allows it; an adapter that cannot must carry it some other way visible to
   * describeGroups and say how in docs/kafka-port.md.
   */
  readonly userData?: Buffer
}

export type AssignedConsumerOptions = FetchOptions

/** What an adapter's client library can do, where adapters differ in ways the runtime must plan around. */
export interface KafkaAdapterCapabilities {
  /**
   * How `sendOffsetsToTransaction` fences a zombie:
   *  - 'group-metadata': the consumer's generation and member id go with the offsets (KIP-447), so the broker refuses
   *    a commit from a member that lost its partitions: one transactional producer per instance is safe (EOS v2);
   *  - 'group-id-only': only the group id goes (kafkajs): a zombie is fenced only by a newer producer with the same
   *    transactional id, so the runtime uses one transactional producer per task, `<applicationId>-<taskId>`.
   */
  readonly transactionalOffsetFencing: 'group-metadata' | 'group-id-only'
  /**
   * What a header with a null value becomes: 'kept' (written and read back as null), or 'written-empty' (the client
   * library can only write bytes, so it arrives as an empty value — kafkajs and the librdkafka binding).
   */
  readonly nullHeaderValues: 'kept' | 'written-empty'
  /**
   * How `committed()` and `listGroupOffsets()` read: 'stable' (OffsetFetch with require_stable: a transactional
   * offset commit is seen as soon as commitTransaction returned, an open one makes the read wait), or 'eventual'
   * (the client library's OffsetFetch has no require_stable — kafkajs: a commit shows a moment after its markers land).
   */
  readonly committedOffsetReads: 'stable' | 'eventual'
}

/** Creates clients of one cluster through one adapter. */
export interface KafkaClientFactory {
  /** which adapter implements the port: "platformatic", "kafkajs" or "rdkafka" */
  readonly adapter: string
  readonly capabilities: KafkaAdapterCapabilities
  createProducer (options?: ProducerOptions): KafkaProducer
  createGroupConsumer (options: GroupConsumerOptions): KafkaGroupConsumer
  createAssignedConsumer (options?: AssignedConsumerOptions): KafkaAssignedConsumer
  createAdmin (): KafkaAdmin
}

/** "topic:partition", the key the port's implementations use for maps keyed by partition. */
export function topicPartitionKey (tp: TopicPartition): string {
  return `${tp.topic}:${tp.partition}`
}
