/**
 * The latency phase of the engine benchmark: a producer at a FIXED rate and a read_committed consumer of the
 * output, both in the benchmark process, measuring end-to-end latency without coordinated omission.
 *
 * Record i is scheduled at t0 + i / rate, and that INTENDED time is stamped into the record (header
 * `bench-intended-ms`, with `bench-seq` = i). The producer sends whatever is due whenever it gets to run: if a send
 * stalls, the records that fell due meanwhile go out late but keep their intended time, so the stall shows up in
 * their latency instead of silently slowing the load down (the coordinated-omission trap of "send, wait, send").
 *
 *   latency(i) = time the consumer of the output first returns record i's output − intended send time of record i
 *
 * Both clocks are this process's `performance.timeOrigin + performance.now()` (monotonic), so no clock sync enters.
 * Anything the benchmark process itself is slow at (its own poll loop) is charged to the engine: the figures err on
 * the high side, never the low one.
 */
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import type { KafkaClientFactory, ProducerRecord, RecordHeader, TopicPartition } from '../streams/kafka'
import { eventValue, userKey } from './engine-workload'
import { summarizeLatencies, type LatencySummary } from './stats'

export const INTENDED_HEADER = 'bench-intended-ms'
export const SEQ_HEADER = 'bench-seq'

/** Milliseconds on the benchmark's clock (epoch-based, monotonic within the process). */
export function clockMs (): number {
  return performance.timeOrigin + performance.now()
}

/** How many records of the schedule are due `elapsedMs` after t0 (record 0 is due at t0), at most `total`. */
export function dueCount (elapsedMs: number, ratePerSec: number, total: number): number {
  if (elapsedMs < 0) return 0
  return Math.min(total, Math.floor((elapsedMs * ratePerSec) / 1000) + 1)
}

/** The intended send time of record `seq`: t0 + seq / rate. */
export function intendedTimeMs (t0: number, seq: number, ratePerSec: number): number {
  return t0 + (seq * 1000) / ratePerSec
}

/** The two stamp headers: `bench-intended-ms` (decimal ms, 3 decimals) and `bench-seq` (decimal), UTF-8 text. */
export function stampHeaders (seq: number, intendedMs: number): Array<readonly [string, Buffer]> {
  return [[INTENDED_HEADER, Buffer.from(intendedMs.toFixed(3), 'utf8')], [SEQ_HEADER, Buffer.from(String(seq), 'utf8')]]
}

/** Reads the stamp back; undefined when the record carries none (not a latency-phase record). */
export function readStamp (headers: readonly RecordHeader[]): { seq: number, intendedMs: number } | undefined {
  let seq: number | undefined
  let intendedMs: number | undefined
  for (const [name, value] of headers) {
    if (value === null) continue
    if (name === SEQ_HEADER) seq = Number(value.toString('utf8'))
    else if (name === INTENDED_HEADER) intendedMs = Number(value.toString('utf8'))
  }
  if (seq === undefined || intendedMs === undefined) return undefined
  if (!Number.isSafeInteger(seq) || seq < 0 || !Number.isFinite(intendedMs)) {
    throw new Error(`malformed latency stamp: seq ${String(seq)}, intended ${String(intendedMs)}`)
  }
  return { seq, intendedMs }
}

export interface LatencyPhaseOptions {
  readonly kafka: KafkaClientFactory
  readonly input: string
  readonly output: string
  readonly outputPartitions: number
  readonly ratePerSec: number
  readonly durationSec: number
  readonly keys: number
  readonly recordSize: number
  /** index of the first record (keys and event ids go on from the throughput phase) */
  readonly firstIndex: number
  /** how long to wait for the last outputs after the last send */
  readonly drainTimeoutMs: number
  readonly onProgress?: (line: string) => void
}

export interface LatencyPhaseResult {
  readonly ratePerSec: number
  readonly records: number
  /** first intended send → last send handed to the producer */
  readonly sendDurationMs: number
  /** records / sendDurationMs: below the target rate when the producer could not keep up */
  readonly achievedRatePerSec: number
  /** the most any batch's oldest record was handed to the producer after its intended time */
  readonly maxSendLagMs: number
  readonly latency: LatencySummary
}

/** Runs the phase against an app that is already RUNNING on `input` → `output`. */
export async function runLatencyPhase (options: LatencyPhaseOptions): Promise<LatencyPhaseResult> {
  const total = Math.max(1, Math.round(options.ratePerSec * options.durationSec))
  const say = options.onProgress ?? (() => {})
  const consumer = options.kafka.createAssignedConsumer({ isolationLevel: 'read_committed' })
  const producer = options.kafka.createProducer()
  const latencies = new Float64Array(total)
  const seenFlags = new Uint8Array(total)
  let seen = 0
  let duplicates = 0
  let unstamped = 0
  let producerError: unknown
  let drainDeadline = Number.POSITIVE_INFINITY
  try {
    const partitions: TopicPartition[] = Array.from({ length: options.outputPartitions }, (_v, p) => ({ topic: options.output, partition: p }))
    consumer.assign(partitions)
    for (const tp of partitions) consumer.seek(tp, 'latest')
    // resolve the positions before the first record is sent, so none of its output can be skipped
    while (partitions.some((tp) => consumer.position(tp) === null)) {
      for (const batch of await consumer.poll(10)) unstamped += batch.records.length
    }

    const t0 = clockMs() + 50
    let sent = 0
    let maxSendLagMs = 0
    let lastSendMs = t0
    const produce = async (): Promise<void> => {
      while (sent < total) {
        const due = dueCount(clockMs() - t0, options.ratePerSec, total)
        if (due <= sent) {
          await sleep(Math.max(1, Math.ceil(intendedTimeMs(t0, sent, options.ratePerSec) - clockMs())))
          continue
        }
        const records: ProducerRecord[] = []
        for (let seq = sent; seq < due; seq++) {
          const intended = intendedTimeMs(t0, seq, options.ratePerSec)
          const index = options.firstIndex + seq
          records.push({
            topic: options.input,
            key: Buffer.from(userKey(index, options.keys), 'utf8'),
            value: eventValue(index, options.keys, options.recordSize, Math.floor(intended)),
            timestamp: Math.floor(intended),
            headers: stampHeaders(seq, intended)
          })
        }
        maxSendLagMs = Math.max(maxSendLagMs, clockMs() - intendedTimeMs(t0, sent, options.ratePerSec))
        sent = due
        await producer.send(records)
        lastSendMs = clockMs()
      }
    }
    const producing = produce().then(() => { drainDeadline = clockMs() + options.drainTimeoutMs },
      (error: unknown) => { producerError = error; drainDeadline = clockMs() })

    let nextReport = clockMs() + 5000
    while (seen < total && clockMs() < drainDeadline) {
      const batches = await consumer.poll(20)
      const now = clockMs()
      for (const batch of batches) {
        for (const record of batch.records) {
          const stamp = readStamp(record.headers)
          if (stamp === undefined) { unstamped++; continue }
          if (stamp.seq >= total) throw new Error(`output record with bench-seq ${stamp.seq} beyond the ${total} records sent`)
          if (seenFlags[stamp.seq] === 1) { duplicates++; continue }
          seenFlags[stamp.seq] = 1
          latencies[stamp.seq] = now - stamp.intendedMs
          seen++
        }
      }
      if (now >= nextReport) {
        say(`latency: sent ${sent}/${total}, outputs seen ${seen}`)
        nextReport = now + 5000
      }
    }
    await producing
    if (producerError !== undefined) throw producerError
    if (duplicates > 0) throw new Error(`exactly-once violated: ${duplicates} latency-phase records produced more than one committed output`)
    if (seen < total) {
      throw new Error(`only ${seen} of ${total} latency-phase outputs were seen within ${options.drainTimeoutMs} ms after the last send ` +
        `(the app fell behind or stopped); try a lower --rate`)
    }
    if (unstamped > 0) say(`latency: ignored ${unstamped} output records of the throughput phase committed after it ended`)
    const sendDurationMs = Math.max(1, lastSendMs - t0)
    return {
      ratePerSec: options.ratePerSec,
      records: total,
      sendDurationMs,
      achievedRatePerSec: total / (sendDurationMs / 1000),
      maxSendLagMs,
      latency: summarizeLatencies(latencies)
    }
  } finally {
    await producer.close().catch(() => undefined)
    await consumer.close().catch(() => undefined)
  }
}
