/**
 * The child process of the engine benchmark: runs the count-by-key StreamsApp and reports its state changes to the
 * parent over IPC. A separate process so that the load generator and the latency consumer in the parent do not share
 * the app's event loop (they would add their own work to the latencies they measure), and so `--cpu-prof` profiles
 * the engine alone.
 *
 * Started by bench/engine-bench.ts with `fork(dist/bench/engine-worker.js)`; protocol in engine-workload.ts.
 */
import { subscribe } from 'node:diagnostics_channel'
import { StreamsApp } from '../streams'
import { countTopology, type FromWorker, type ToWorker, type WorkerStartMessage } from './engine-workload'

function send (message: FromWorker): void {
  if (process.send !== undefined && process.connected) process.send(message)
}

let app: StreamsApp | undefined

async function start (message: WorkerStartMessage): Promise<void> {
  app = new StreamsApp(countTopology(message.input, message.output), {
    applicationId: message.applicationId,
    bootstrapServers: message.brokers,
    client: message.client,
    stateDir: message.stateDir,
    processingGuarantee: 'exactly-once',
    commitIntervalMs: message.commitIntervalMs,
    ...(message.sessionTimeoutMs !== undefined ? { sessionTimeoutMs: message.sessionTimeoutMs } : {})
  })
  app.onStateChange((next) => { send({ type: 'state', state: next, atMs: Date.now() }) })
  // committed input offsets per partition, from the runtime's commit events (published once a commit is complete)
  const committed = new Map<number, number>()
  subscribe('devtrip-streams:commit', (event) => {
    const e = event as { applicationId?: string, offsets?: ReadonlyArray<{ topic: string, partition: number, offset: bigint }> }
    if (e.applicationId !== message.applicationId || e.offsets === undefined) return
    for (const o of e.offsets) if (o.topic === message.input) committed.set(o.partition, Number(o.offset))
    let sum = 0
    for (const offset of committed.values()) sum += offset
    send({ type: 'commit', committedInputRecords: sum, atMs: Date.now() })
  })
  subscribe('devtrip-streams:restore', (event) => {
    const e = event as { applicationId?: string, store?: string, partition?: number, restoredRecords?: number }
    if (e.applicationId !== message.applicationId) return
    send({ type: 'restored', store: String(e.store), partition: Number(e.partition), records: Number(e.restoredRecords ?? 0), atMs: Date.now() })
  })
  await app.start()
}

async function stop (code: number): Promise<void> {
  if (app !== undefined) {
    await app.close({ timeoutMs: 30_000 })
    send({ type: 'closed', processedRecords: app.processedRecords, commits: app.commits, restoredRecords: app.restoredRecords })
  }
  // process.exit (rather than waiting for the loop to drain) also writes the --cpu-prof profile
  process.exit(code)
}

function fail (error: unknown): void {
  send({ type: 'error', message: error instanceof Error ? error.message : String(error) })
  void stop(1).catch(() => process.exit(1))
}

function main (): void {
  if (process.send === undefined) {
    process.stderr.write('bench/engine-worker: run by the engine benchmark (bin/devtrip-streams bench engine), not by hand\n')
    process.exit(2)
  }
  process.on('message', (message: ToWorker) => {
    if (message.type === 'start') start(message).catch(fail)
    else if (message.type === 'stop') stop(0).catch(fail)
  })
  // the parent went away (killed, crashed): close the app so its transaction and group membership end now
  process.on('disconnect', () => { stop(1).catch(() => process.exit(1)) })
  send({ type: 'state', state: 'FORKED', atMs: Date.now() })
}

if (require.main === module) main()
