/**
 * `run --instances N`: N child processes of `run` (each with its own state directory `<state-dir>/instance-<i>`, so
 * its own instance id, transactional id and RocksDB stores), supervised:
 *   - a child that exits without being asked to is restarted after a back-off (1 s, doubling to 30 s; reset once it
 *     has run for a minute) — the group moves its partitions meanwhile, and back again when it returns;
 *   - /metrics sums the children's metrics (each child serves its own on a free port);
 *   - each child serves its stores' queries on its own address (a free port each unless --application-server named
 *     a port P: then child i gets P+i-1) and advertises it to the groups;
 *   - SIGTERM / SIGINT is passed on; the supervisor exits 0 when every child closed cleanly.
 * With --json-events the children's lines are passed through with `"instance": i` added.
 */
import type { Server } from 'node:http'
import { join } from 'node:path'
import type { RunSettings } from '../commands/run'
import { freePorts } from '../infra'
import { printLine } from '../output'
import { RunChild, type RunEvent } from './child-process'
import { aggregatedSource, closeServer, serveMetrics } from './metrics-http'

const MAX_BACKOFF_MS = 30_000
const HEALTHY_AFTER_MS = 60_000

interface Slot {
  readonly index: number
  readonly stateDir: string
  readonly metricsPort: number
  child: RunChild | undefined
  running: boolean
  backoffMs: number
  restarts: number
}

/** The arguments a child gets: the same run, one instance, its own state dir and metrics port, JSON events. */
export function childRunArgs (settings: RunSettings, stateDir: string, metricsPort: number | undefined, index = 1): string[] {
  const server = settings.applicationServer
  // distinct query endpoints: a free port each, or P, P+1, … when a port was given
  const queries = server === undefined ? ['--no-application-server'] : ['--application-server', `${server.host}:${server.port === 0 ? 0 : server.port + index - 1}`]
  return [
    'run', settings.target,
    '--state-dir', stateDir,
    '--brokers', settings.brokers.join(','),
    '--client', settings.client,
    '--max-task-idle-ms', String(settings.maxTaskIdleMs),
    '--json-events',
    ...(settings.topicPrefix === '' ? [] : ['--topic-prefix', settings.topicPrefix]),
    ...(settings.commitIntervalMs === undefined ? [] : ['--commit-interval-ms', String(settings.commitIntervalMs)]),
    ...(settings.sessionTimeoutMs === undefined ? [] : ['--session-timeout-ms', String(settings.sessionTimeoutMs)]),
    ...(settings.producerBatchRecords === undefined ? [] : ['--producer-batch-records', String(settings.producerBatchRecords)]),
    ...(metricsPort === undefined ? ['--no-metrics'] : ['--metrics-port', String(metricsPort), '--metrics-host', '127.0.0.1']),
    ...queries
  ]
}

export async function superviseInstances (settings: RunSettings): Promise<void> {
  const ports = settings.metricsPort === undefined ? [] : await freePorts(settings.instances)
  const slots: Slot[] = Array.from({ length: settings.instances }, (_, i) => ({
    index: i + 1,
    stateDir: join(settings.stateDir, `instance-${i + 1}`),
    metricsPort: ports[i] ?? 0,
    child: undefined,
    running: false,
    backoffMs: 1000,
    restarts: 0
  }))
  let stopping = false
  let announced = false
  const say = (event: string, fields: Record<string, unknown>, human: string): void => {
    if (settings.jsonEvents) process.stdout.write(JSON.stringify({ event, ...fields }) + '\n')
    else printLine(human)
  }

  const start = (slot: Slot): void => {
    const startedAt = Date.now()
    const onEvent = (event: RunEvent): void => {
      if (settings.jsonEvents) process.stdout.write(JSON.stringify({ ...event, instance: slot.index }) + '\n')
      if (event.event === 'running' && Array.isArray(event.apps)) {
        slot.running = true
        if (!announced && slots.every((s) => s.running)) {
          announced = true
          say('running', { instances: settings.instances, apps: settings.names },
            `running: ${settings.names.join(', ')} on ${settings.instances} instances — exactly-once, state in ${settings.stateDir}` +
            `${settings.metricsPort === undefined ? '' : `, metrics on http://${settings.metricsHost}:${settings.metricsPort}/metrics`} (SIGTERM or Ctrl-C stops)`)
        }
      }
    }
    const child = new RunChild({
      args: childRunArgs(settings, slot.stateDir, settings.metricsPort === undefined ? undefined : slot.metricsPort, slot.index),
      onEvent,
      onStderr: (line) => { process.stderr.write(`[instance ${slot.index}] ${line}\n`) }
    })
    slot.child = child
    void child.exited.then((exit) => {
      slot.running = false
      if (stopping) return
      if (Date.now() - startedAt > HEALTHY_AFTER_MS) slot.backoffMs = 1000
      slot.restarts++
      say('instance-exited', { instance: slot.index, code: exit.code, signal: exit.signal, restartInMs: slot.backoffMs },
        `instance ${slot.index} exited (${exit.signal ?? `code ${String(exit.code)}`}); restarting in ${slot.backoffMs / 1000} s`)
      setTimeout(() => { if (!stopping) start(slot) }, slot.backoffMs)
      slot.backoffMs = Math.min(MAX_BACKOFF_MS, slot.backoffMs * 2)
    })
  }

  let server: Server | undefined
  if (settings.metricsPort !== undefined) {
    server = await serveMetrics(aggregatedSource(() => slots.filter((s) => s.child?.running === true).map((s) => s.metricsPort)), settings.metricsPort, settings.metricsHost)
  }
  for (const slot of slots) start(slot)

  const stop = async (signal: string): Promise<void> => {
    if (stopping) return
    stopping = true
    const exits = await Promise.all(slots.map(async (s) => await (s.child?.stop(40_000) ?? Promise.resolve({ code: 0, signal: null }))))
    await closeServer(server)
    const clean = exits.every((e) => e.code === 0)
    say('stopped', { clean, reason: signal }, `stopped ${settings.instances} instances (${signal})${clean ? '' : ' — some did not close cleanly'}`)
    process.exit(clean ? 0 : 1)
  }
  process.once('SIGTERM', () => { void stop('SIGTERM') })
  process.once('SIGINT', () => { void stop('SIGINT') })
  await new Promise<never>(() => {})
}
