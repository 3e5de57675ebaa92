/**
 * A StreamsApp in a process of its own, for the crash, zombie and shutdown tests: they SIGKILL, SIGSTOP/SIGCONT
 * and SIGTERM it. Runs the count-by-key topology of streams-test-kit.ts with the config given as JSON in argv[2]
 * and reports what happens as one JSON line per event on stdout:
 *   {"event":"state","from","to"}                      every state change
 *   {"event":"progress","processed","commits","processedAtCommit","restored"}   whenever a number changed
 *   {"event":"commit","commits","processed"}            after each commit (processed = records it covers in total)
 *   {"event":"aborted","reason"}                        a transaction was aborted
 *   {"event":"rebalance","phase","partitions"}          revoked / lost / assigned
 *   {"event":"restore","store","partition","startOffset","endOffset","restoredRecords"}
 * Run: node --require ./test/support/swc-register.js test/support/streams-child.ts '<json>'
 */
import { subscribe } from 'node:diagnostics_channel'
import { createKafkaClients, type KafkaClientFactory, type KafkaProducer } from '../../streams/kafka'
import { StreamsApp } from '../../streams/runtime/streams-app'
import { countTopology, type ChildConfig } from './streams-test-kit'

const config = JSON.parse(process.argv[2] ?? '{}') as ChildConfig

/**
 * The real clients; with `killAfterKafkaCommit`, the producer kills the process (SIGKILL, no cleanup) the moment its
 * Nth commitTransaction returned: Kafka has the transaction, the stores have not written their batch yet.
 */
function clients (): KafkaClientFactory {
  const real = createKafkaClients({ brokers: config.brokers, clientId: config.applicationId }, config.client)
  const killAt = config.killAfterKafkaCommit
  if (killAt === undefined) return real
  let commits = 0
  return {
    ...real,
    createProducer: (options) => {
      const producer = real.createProducer(options)
      const wrapped: KafkaProducer = {
        transactionalId: producer.transactionalId,
        send: async (records) => await producer.send(records),
        initTransactions: async () => { await producer.initTransactions() },
        beginTransaction: async () => { await producer.beginTransaction() },
        sendOffsetsToTransaction: async (offsets, group) => { await producer.sendOffsetsToTransaction(offsets, group) },
        commitTransaction: async () => {
          await producer.commitTransaction()
          if (++commits === killAt) {
            emit('killing', { afterCommit: commits, processed: app.processedRecords })
            process.kill(process.pid, 'SIGKILL')
          }
        },
        abortTransaction: async () => { await producer.abortTransaction() },
        close: async () => { await producer.close() }
      }
      return wrapped
    }
  }
}

function emit (event: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(JSON.stringify({ event, ...fields }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) + '\n')
}

const app = new StreamsApp(countTopology(config.input, config.output), {
  applicationId: config.applicationId,
  bootstrapServers: config.brokers,
  stateDir: config.stateDir,
  commitIntervalMs: config.commitIntervalMs,
  sessionTimeoutMs: config.sessionTimeoutMs ?? 10_000,
  heartbeatIntervalMs: config.heartbeatIntervalMs ?? 1000,
  rebalanceTimeoutMs: 20_000,
  transactionTimeoutMs: config.transactionTimeoutMs ?? 10_000,
  producerBatchRecords: config.producerBatchRecords ?? 5000
}, { clientFactory: clients() })

const mine = (message: unknown): boolean => (message as { applicationId?: string }).applicationId === config.applicationId
let processedAtCommit = 0
subscribe('devtrip-streams:commit', (message) => {
  if (!mine(message)) return
  const m = message as { aborted?: boolean, reason?: string }
  if (m.aborted === true) {
    emit('aborted', { reason: m.reason })
    return
  }
  // a commit runs between two processing turns: every record processed so far is part of it
  processedAtCommit = app.processedRecords
  emit('commit', { commits: app.commits, processed: processedAtCommit })
})
subscribe('devtrip-streams:rebalance', (message) => {
  if (!mine(message)) return
  const m = message as { phase: string, partitions: Array<{ topic: string, partition: number }> }
  emit('rebalance', { phase: m.phase, partitions: m.partitions.map((p) => `${p.topic}:${p.partition}`) })
})
subscribe('devtrip-streams:restore', (message) => {
  if (mine(message)) emit('restore', message as Record<string, unknown>)
})
app.onStateChange((to, from) => { emit('state', { from, to, restored: app.restoredRecords }) })

let reported = ''
const progress = setInterval(() => {
  const now = { processed: app.processedRecords, commits: app.commits, processedAtCommit, restored: app.restoredRecords }
  const text = JSON.stringify(now)
  if (text === reported) return
  reported = text
  emit('progress', now)
}, 25)
progress.unref()

app.installSignalHandlers({ timeoutMs: 20_000 })
app.start().catch((error: unknown) => {
  emit('start-failed', { error: String(error) })
  process.exit(1)
})
