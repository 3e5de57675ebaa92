/**
 * What a lag sample holds, shared by the collector (lag.ts), the rate arithmetic (lag-rates.ts), the monitor that
 * keeps a history for the dashboard (lag-monitor.ts), the CLI and the API. Offsets are bigints here; the JSON
 * forms (CLI --json, GET /v1/lag) carry them as decimal strings.
 */

export interface LagMember {
  readonly memberId: string
  readonly groupInstanceId: string | null
  readonly clientId: string
  readonly host: string
  readonly partitions: number
}

export interface PartitionLag {
  readonly topic: string
  readonly partition: number
  /** the group's committed offset (next record to consume); null when the group never committed for it */
  readonly committedOffset: bigint | null
  /** the high watermark (read_uncommitted end of the log): what Kafka's tools call LOG-END-OFFSET */
  readonly logEndOffset: bigint
  /** the end of what a read_committed consumer may read (open transactions stop it) */
  readonly lastStableOffset: bigint
  readonly logStartOffset: bigint
  /** logEndOffset − committedOffset: Kafka's LAG column (counts transaction markers and open-transaction records) */
  readonly lag: bigint | null
  /** max(0, lastStableOffset − committedOffset): what a read_committed consumer still has to read */
  readonly committedLag: bigint | null
  /** ms timestamp of the oldest unconsumed (read_committed) record; null when there is none or it was not read */
  readonly oldestUnconsumedTimestamp: number | null
  /** age of that record when the sample was taken (0 when nothing is waiting; null when unknown) */
  readonly lagSeconds: number | null
  /** committed-offset growth per second since the previous sample; null on a first sample */
  readonly consumeRate: number | null
  /** log-end growth per second since the previous sample */
  readonly produceRate: number | null
  /** committedLag / (consumeRate − produceRate); 0 without lag; null when not catching up or unknown */
  readonly catchUpSeconds: number | null
  /** the member the partition is assigned to, if any */
  readonly memberId: string | null
  readonly clientId: string | null
  readonly host: string | null
}

export interface GroupLag {
  readonly groupId: string
  /** as the broker says: Stable, PreparingRebalance, CompletingRebalance, Empty, Dead */
  readonly state: string
  readonly protocolType: string
  readonly protocol: string
  readonly members: readonly LagMember[]
  readonly partitions: readonly PartitionLag[]
  readonly totals: {
    readonly lag: bigint | null
    readonly committedLag: bigint | null
    readonly lagSeconds: number | null
    readonly consumeRate: number | null
    readonly produceRate: number | null
    readonly catchUpSeconds: number | null
  }
  /** committed offsets of topics that no longer exist (Kafka's tool skips them too) */
  readonly missingTopics: readonly string[]
}

export interface LagSnapshot {
  /** ms since the epoch, when the offsets were read */
  readonly takenAt: number
  /** seconds between this sample and the one its rates come from; null on a first sample */
  readonly sampleSeconds: number | null
  readonly groups: readonly GroupLag[]
}

/** A JSON-safe copy (bigints as decimal strings), for --json and HTTP. */
export function lagSnapshotToJson (snapshot: LagSnapshot): unknown {
  return JSON.parse(JSON.stringify(snapshot, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)))
}
