/**
 * The ceiling: what the broker itself does on this machine, measured with Kafka's own perf tools from the
 * kafka-tools jar, for the same record count and value size as the engine benchmark.
 *
 *   java -cp "<libs>/*" org.apache.kafka.tools.ProducerPerformance --bootstrap-server B --topic T --num-records N
 *        --record-size S --throughput -1 --command-property acks=all
 *   java -cp "<libs>/*" org.apache.kafka.tools.ConsumerPerformance --bootstrap-server B --topic T --num-records N
 *
 * ceilingEventsPerSec = min(producer records/s, consumer fetch records/s): the engine both reads and writes every
 * record, so it can go no faster than the slower of the two directions. The consumer figure is `fetch.nMsg.sec`,
 * which leaves out the group join (`rebalance.time.ms`) — the engine figure leaves out start-up the same way.
 *
 * The caller (cli/commands/bench.ts) gives the java executable and the classpath: bench/ may not import cli/.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createKafkaClients } from '../streams/kafka'

/** What the tools need from the caller. */
export interface KafkaToolsEnv {
  readonly java: string
  /** the Kafka libs folder as a classpath wildcard, e.g. `.cache/kafka/4.3.1/libs/*` */
  readonly classpath: string
  /** a log4j2 configuration file for the JVM (keeps the tools' logging at WARN); optional */
  readonly log4jConfig?: string
}

/** The final summary line of ProducerPerformance. */
export interface ProducerPerfResult {
  readonly records: number
  readonly recordsPerSec: number
  readonly mbPerSec: number
  readonly avgLatencyMs: number
  readonly maxLatencyMs: number
  readonly p50Ms: number
  readonly p95Ms: number
  readonly p99Ms: number
  readonly p999Ms: number
}

/** The summary row of ConsumerPerformance (the columns this benchmark uses). */
export interface ConsumerPerfResult {
  readonly records: number
  readonly mb: number
  /** records / (end − start), group join included */
  readonly recordsPerSec: number
  readonly mbPerSec: number
  readonly rebalanceMs: number
  readonly fetchMs: number
  /** records / fetch time: the group join left out */
  readonly fetchRecordsPerSec: number
  readonly fetchMbPerSec: number
}

export interface CeilingResult {
  readonly topic: string
  readonly records: number
  readonly recordSize: number
  readonly producer: ProducerPerfResult
  readonly consumer: ConsumerPerfResult
  /** min(producer.recordsPerSec, consumer.fetchRecordsPerSec) */
  readonly eventsPerSec: number
}

const NUM = '([0-9]+(?:\\.[0-9]+)?)'
// e.g. "200000 records sent, 90049.527240 records/sec (17.18 MB/sec), 99.76 ms avg latency, 441.00 ms max latency,
//       67 ms 50th, 250 ms 95th, 279 ms 99th, 306 ms 99.9th."  (the periodic lines stop after "max latency.")
const PRODUCER_SUMMARY = new RegExp(
  `^([0-9]+) records sent, ${NUM} records/sec \\(${NUM} MB/sec\\), ${NUM} ms avg latency, ${NUM} ms max latency, ` +
  `${NUM} ms 50th, ${NUM} ms 95th, ${NUM} ms 99th, ${NUM} ms 99\\.9th\\.?$`)

/** Parses ProducerPerformance's output (all of it); the final summary line is the one with the percentiles. */
export function parseProducerPerformance (output: string): ProducerPerfResult {
  const lines = output.split(/\r?\n/).map((l) => l.trim())
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = PRODUCER_SUMMARY.exec(lines[i] as string)
    if (m === null) continue
    const n = m.slice(1).map(Number)
    return {
      records: n[0] as number,
      recordsPerSec: n[1] as number,
      mbPerSec: n[2] as number,
      avgLatencyMs: n[3] as number,
      maxLatencyMs: n[4] as number,
      p50Ms: n[5] as number,
      p95Ms: n[6] as number,
      p99Ms: n[7] as number,
      p999Ms: n[8] as number
    }
  }
  throw new Error(`no ProducerPerformance summary line ("N records sent, … 99.9th.") in its output:\n${tail(output)}`)
}

const CONSUMER_COLUMNS = {
  records: 'data.consumed.in.nMsg',
  mb: 'data.consumed.in.MB',
  recordsPerSec: 'nMsg.sec',
  mbPerSec: 'MB.sec',
  rebalanceMs: 'rebalance.time.ms',
  fetchMs: 'fetch.time.ms',
  fetchRecordsPerSec: 'fetch.nMsg.sec',
  fetchMbPerSec: 'fetch.MB.sec'
} as const

/**
 * Parses ConsumerPerformance's output: a header row of comma-separated column names (`start.time, end.time, …`),
 * then one data row. Columns are looked up by name, so a reordering in a later Kafka version is harmless.
 */
export function parseConsumerPerformance (output: string): ConsumerPerfResult {
  const lines = output.split(/\r?\n/).map((l) => l.trim())
  const h = lines.findIndex((l) => { const cells = l.split(',').map((c) => c.trim()); return cells.includes('start.time') && cells.includes('end.time') })
  if (h < 0) throw new Error(`no ConsumerPerformance header row ("start.time, end.time, …") in its output:\n${tail(output)}`)
  const names = (lines[h] as string).split(',').map((s) => s.trim())
  const row = lines.slice(h + 1).find((l) => l.split(',').length === names.length)
  if (row === undefined) throw new Error(`no ConsumerPerformance data row after its header:\n${tail(output)}`)
  const cells = row.split(',').map((s) => s.trim())
  const value = (column: string): number => {
    const i = names.indexOf(column)
    if (i < 0) throw new Error(`ConsumerPerformance output has no column "${column}" (columns: ${names.join(', ')})`)
    const v = Number(cells[i])
    if (cells[i] === '' || !Number.isFinite(v)) throw new Error(`ConsumerPerformance column "${column}" is not a number: ${JSON.stringify(cells[i])}`)
    return v
  }
  const out: Record<string, number> = {}
  for (const [key, column] of Object.entries(CONSUMER_COLUMNS)) out[key] = value(column)
  return out as unknown as ConsumerPerfResult
}

function tail (text: string, chars = 2000): string {
  return text.length > chars ? `…${text.slice(-chars)}` : text
}

export interface ToolRun {
  readonly code: number | null
  readonly output: string
}

/** Runs one Kafka tool class on the JVM; stdout and stderr together (the tools print warnings on both). */
export async function runKafkaTool (env: KafkaToolsEnv, mainClass: string, args: readonly string[], timeoutMs: number): Promise<ToolRun> {
  // user.language=en: the tools format numbers with the JVM's default locale (a German one would print "1,5")
  const jvm = ['-Duser.language=en', '-Duser.country=US', ...(env.log4jConfig !== undefined ? [`-Dlog4j2.configurationFile=${env.log4jConfig}`] : [])]
  const child = spawn(env.java, [...jvm, '-cp', env.classpath, mainClass, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  const chunks: Buffer[] = []
  child.stdout.on('data', (c: Buffer) => chunks.push(c))
  child.stderr.on('data', (c: Buffer) => chunks.push(c))
  return await new Promise<ToolRun>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${mainClass} did not finish within ${timeoutMs} ms:\n${tail(Buffer.concat(chunks).toString('utf8'))}`))
    }, timeoutMs)
    child.on('error', (error) => { clearTimeout(timer); reject(error) })
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, output: Buffer.concat(chunks).toString('utf8') }) })
  })
}

export interface CeilingOptions {
  readonly brokers: readonly string[]
  readonly records: number
  readonly recordSize: number
  readonly partitions: number
  readonly tools: KafkaToolsEnv
  readonly onProgress?: (line: string) => void
}

/** One ceiling measurement on a fresh topic (deleted afterwards). */
export async function runCeiling (options: CeilingOptions): Promise<CeilingResult> {
  const say = options.onProgress ?? (() => {})
  const brokers = options.brokers.join(',')
  const topic = `bench-ceiling-${randomBytes(4).toString('hex')}`
  const admin = createKafkaClients({ brokers: options.brokers, clientId: 'devtrip-bench-ceiling' }).createAdmin()
  const timeoutMs = 120_000 + options.records // generous: a slow machine must not fail, a hung tool must
  try {
    await admin.createTopics([{ name: topic, partitions: options.partitions, replicationFactor: 1 }])
    say(`ceiling: ProducerPerformance ${options.records} records of ${options.recordSize} bytes → ${topic}`)
    const produced = await runKafkaTool(options.tools, 'org.apache.kafka.tools.ProducerPerformance', [
      '--bootstrap-server', brokers, '--topic', topic, '--num-records', String(options.records),
      '--record-size', String(options.recordSize), '--throughput', '-1', '--command-property', 'acks=all'
    ], timeoutMs)
    if (produced.code !== 0) throw new Error(`ProducerPerformance exited with ${String(produced.code)}:\n${tail(produced.output)}`)
    const producer = parseProducerPerformance(produced.output)
    say(`ceiling: producer ${Math.round(producer.recordsPerSec)} records/s; ConsumerPerformance reading them back`)
    const consumed = await runKafkaTool(options.tools, 'org.apache.kafka.tools.ConsumerPerformance', [
      '--bootstrap-server', brokers, '--topic', topic, '--num-records', String(options.records),
      '--group', `${topic}-group`, '--timeout', '30000'
    ], timeoutMs)
    if (consumed.code !== 0) throw new Error(`ConsumerPerformance exited with ${String(consumed.code)}:\n${tail(consumed.output)}`)
    const consumer = parseConsumerPerformance(consumed.output)
    if (consumer.records < options.records) {
      throw new Error(`ConsumerPerformance read ${consumer.records} of ${options.records} records (timed out?):\n${tail(consumed.output)}`)
    }
    say(`ceiling: consumer ${Math.round(consumer.fetchRecordsPerSec)} records/s (fetch time)`)
    return {
      topic,
      records: options.records,
      recordSize: options.recordSize,
      producer,
      consumer,
      eventsPerSec: Math.min(producer.recordsPerSec, consumer.fetchRecordsPerSec)
    }
  } finally {
    await admin.deleteTopics([topic]).catch(() => undefined)
    await admin.close().catch(() => undefined)
  }
}
