/**
 * Helpers shared by the operator-tool integration tests (lag-*, dlq-*, dashboard-*): unique names, a Kafka
 * client factory on KAFKA_BROKERS, running bin/devtrip-streams, Kafka's own ConsumerGroupCommand, and a tiny
 * group consumer that can be stopped and started to make lag grow and shrink.
 */
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { javaExecutable, kafkaClasspath } from '../../cli/infra'
import { createKafkaClients, type KafkaAdmin, type KafkaClientFactory, type KafkaGroupConsumer, type TopicPartition } from '../../streams/kafka'

export const root = join(__dirname, '..', '..')
export const bin = join(root, 'bin', 'devtrip-streams')
export const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',').map((b) => b.trim()).filter((b) => b !== '')

export function unique (what: string): string {
  return `tools-${what}-${randomBytes(4).toString('hex')}`
}

export function kafkaClients (clientId = 'tools-test'): KafkaClientFactory {
  return createKafkaClients({ brokers, clientId })
}

export interface CliRun { code: number | null, stdout: string, stderr: string }

/** Runs the CLI synchronously with no terminal (stdin closed), KAFKA_BROKERS set. */
export function cli (args: string[], env: Record<string, string> = {}): CliRun {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 170_000,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, KAFKA_BROKERS: brokers.join(','), ...env }
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** Same, without blocking the event loop (tests that do other work meanwhile). */
export function cliAsync (args: string[], env: Record<string, string> = {}): { child: ReturnType<typeof spawn>, done: Promise<CliRun> } {
  const child = spawn(process.execPath, [bin, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KAFKA_BROKERS: brokers.join(','), ...env } })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString('utf8') })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString('utf8') })
  const done = new Promise<CliRun>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })))
  return { child, done }
}

export interface KafkaToolRow { topic: string, partition: number, currentOffset: string, logEndOffset: string, lag: string }

/** `ConsumerGroupCommand --describe --group G` from the Kafka jars, its table parsed. */
export function kafkaDescribeGroup (group: string): KafkaToolRow[] {
  const r = spawnSync(javaExecutable(), [
    '-cp', kafkaClasspath(), 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
    '--bootstrap-server', brokers.join(','), '--describe', '--group', group
  ], { encoding: 'utf8', timeout: 60_000 })
  if (r.status !== 0) throw new Error(`ConsumerGroupCommand failed (${String(r.status)}): ${r.stderr}`)
  const lines = r.stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '')
  const header = lines.findIndex((l) => l.startsWith('GROUP'))
  if (header < 0) throw new Error(`ConsumerGroupCommand printed no table:\n${r.stdout}`)
  const columns = lines[header]!.split(/\s+/)
  const at = (name: string): number => columns.indexOf(name)
  return lines.slice(header + 1).map((line) => {
    const cells = line.split(/\s+/)
    return {
      topic: cells[at('TOPIC')]!,
      partition: Number(cells[at('PARTITION')]),
      currentOffset: cells[at('CURRENT-OFFSET')]!,
      logEndOffset: cells[at('LOG-END-OFFSET')]!,
      lag: cells[at('LAG')]!
    }
  }).sort((a, b) => a.partition - b.partition)
}

/**
 * A consumer-group member that reads a topic and commits after every poll, and can be stopped (left the
 * group, its committed offsets stay) and started again: lag grows while it is stopped and shrinks after.
 */
export class ToggleConsumer {
  private consumer: KafkaGroupConsumer | null = null
  private loop: Promise<void> | null = null
  consumed = 0

  constructor (private readonly kafka: KafkaClientFactory, readonly groupId: string, private readonly topic: string, private readonly perPollDelayMs = 0) {}

  start (): void {
    if (this.consumer !== null) return
    const consumer = this.kafka.createGroupConsumer({ groupId: this.groupId, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1000, rebalanceTimeoutMs: 10_000, clientId: 'tools-toggle' })
    consumer.subscribe([this.topic])
    this.consumer = consumer
    this.loop = (async () => {
      while (this.consumer === consumer) {
        const batches = await consumer.poll(200).catch(() => [])
        if (batches.length === 0) continue
        this.consumed += batches.reduce((s, b) => s + b.records.length, 0)
        await consumer.commitOffsets(batches.map((b) => ({ topic: b.topic, partition: b.partition, offset: b.records[b.records.length - 1]!.offset + 1n }))).catch(() => undefined)
        if (this.perPollDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.perPollDelayMs))
      }
    })()
  }

  async stop (): Promise<void> {
    const consumer = this.consumer
    this.consumer = null
    await this.loop
    await consumer?.close()
  }
}

/** Waits until `check` passes (polling every 200 ms), or fails with the last error after `timeoutMs`. */
export async function eventually (check: () => Promise<void> | void, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      await check()
      return
    } catch (error) {
      if (Date.now() > deadline) throw error
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }
}

/** Until the last stable offset equals the high watermark (transaction markers written). */
export async function settled (admin: KafkaAdmin, partitions: TopicPartition[]): Promise<void> {
  await eventually(async () => {
    const stable = await admin.listOffsets(partitions, 'latest', 'read_committed')
    const high = await admin.listOffsets(partitions, 'latest', 'read_uncommitted')
    if (!stable.every((s, i) => s.offset === high[i]!.offset)) throw new Error('transaction markers not written yet')
  }, 15_000)
}
