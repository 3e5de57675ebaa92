/**
 * The chaos run's K pipeline processes: `run all` children, each with its own state directory that survives its
 * crashes (so a restarted instance has the same instance id, transactional id and local stores), and what they
 * report — restores, commits, failures.
 *
 * `kill(i)` is the crash: SIGKILL, nothing runs on the way out; `restart(i)` starts the same instance again. A child
 * that exits without being killed (an app went to ERROR) is counted and restarted as well: the run goes on, and the
 * report says so.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs'
import { join } from 'node:path'
import { RunChild, type RunEvent } from './child-process'
import type { KafkaAdapterName } from '../../streams/kafka'

export interface FleetOptions {
  readonly instances: number
  readonly dir: string
  readonly brokers: string
  readonly policiesFile: string
  readonly commitIntervalMs: number
  readonly sessionTimeoutMs: number
  readonly maxTaskIdleMs: number
  readonly producerBatchRecords: number
  readonly client: KafkaAdapterName
  readonly onLine?: (line: string) => void
}

/** One `restored` event of a child, with the launch it happened in. */
export interface RestoreRecord {
  readonly instance: number
  /** 1 for the first start of the instance, 2 after its first restart … */
  readonly launch: number
  readonly app: string
  readonly taskId: string
  readonly store: string
  readonly partition: number
  readonly records: number
  readonly startOffset: number
  readonly endOffset: number
  /** this instance had committed this task before (in an earlier launch or this one) */
  readonly ownedBefore: boolean
}

interface Instance {
  readonly index: number
  readonly stateDir: string
  readonly log: WriteStream
  child: RunChild | undefined
  launch: number
  killedOnPurpose: boolean
  running: boolean
  /** `app:taskId` whose stores this instance gave a changelog checkpoint at least once (a commit that wrote
   * nothing to a task's stores leaves none: restoring such a task from offset 0 later is right, not a loss) */
  readonly committedTasks: Set<string>
}

export class Fleet {
  readonly restores: RestoreRecord[] = []
  unexpectedExits = 0
  commits = 0
  private readonly instances: Instance[]
  private stopping = false

  constructor (private readonly options: FleetOptions) {
    this.instances = Array.from({ length: options.instances }, (_, i) => {
      const stateDir = join(options.dir, `instance-${i + 1}`)
      mkdirSync(stateDir, { recursive: true })
      return { index: i + 1, stateDir, log: createWriteStream(join(options.dir, `instance-${i + 1}.log`), { flags: 'a' }), child: undefined, launch: 0, killedOnPurpose: false, running: false, committedTasks: new Set() }
    })
  }

  get size (): number {
    return this.instances.length
  }

  /** true once every live instance reported all three apps RUNNING since its last start */
  get allRunning (): boolean {
    return this.instances.every((i) => i.running)
  }

  logFile (index: number): string {
    return join(this.options.dir, `instance-${index}.log`)
  }

  startAll (): void {
    for (const instance of this.instances) this.launch(instance)
  }

  private launch (instance: Instance): void {
    instance.launch++
    instance.killedOnPurpose = false
    instance.running = false
    const launch = instance.launch
    instance.log.write(`--- launch ${launch} at ${new Date().toISOString()}\n`)
    const child = new RunChild({
      args: [
        'run', 'all', '--state-dir', instance.stateDir, '--brokers', this.options.brokers, '--client', this.options.client, '--json-events', '--no-metrics',
        '--commit-interval-ms', String(this.options.commitIntervalMs),
        '--session-timeout-ms', String(this.options.sessionTimeoutMs),
        '--max-task-idle-ms', String(this.options.maxTaskIdleMs),
        '--producer-batch-records', String(this.options.producerBatchRecords)
      ],
      env: childEnv(this.options),
      onEvent: (event) => { this.onEvent(instance, launch, event) },
      onLine: (line) => { instance.log.write(`${line}\n`) },
      onStderr: (line) => { instance.log.write(`${line}\n`) }
    })
    instance.child = child
    void child.exited.then((exit) => {
      instance.running = false
      instance.log.write(`--- launch ${launch} exited: ${exit.signal ?? `code ${String(exit.code)}`}\n`)
      if (this.stopping || instance.killedOnPurpose || instance.child !== child) return
      this.unexpectedExits++
      this.options.onLine?.(`instance ${instance.index} exited on its own (${exit.signal ?? `code ${String(exit.code)}`}); restarting it (see ${this.logFile(instance.index)})`)
      setTimeout(() => { if (!this.stopping && instance.child === child) this.launch(instance) }, 1000)
    })
  }

  private onEvent (instance: Instance, launch: number, event: RunEvent): void {
    instance.log.write(`${new Date().toISOString()} ${JSON.stringify(event)}\n`)
    switch (event.event) {
      case 'running':
        if (Array.isArray(event.apps)) instance.running = true
        break
      case 'committed':
        this.commits++
        for (const task of (event.checkpointedTasks as string[] | undefined) ?? []) instance.committedTasks.add(`${String(event.app)}:${task}`)
        break
      case 'restored': {
        const key = `${String(event.app)}:${String(event.taskId)}`
        this.restores.push({
          instance: instance.index,
          launch,
          app: String(event.app),
          taskId: String(event.taskId),
          store: String(event.store),
          partition: Number(event.partition),
          records: Number(event.records),
          startOffset: Number(event.startOffset),
          endOffset: Number(event.endOffset),
          ownedBefore: instance.committedTasks.has(key)
        })
        break
      }
      case 'state':
        if (event.to !== 'RUNNING') instance.running = false
        break
    }
  }

  /** SIGKILL instance `index` (1-based); resolves when it is gone. */
  async kill (index: number): Promise<number | undefined> {
    const instance = this.instances[index - 1]!
    instance.killedOnPurpose = true
    const pid = instance.child?.pid
    instance.log.write(`--- SIGKILL at ${new Date().toISOString()}\n`)
    await instance.child?.kill()
    return pid
  }

  restart (index: number): void {
    if (!this.stopping) this.launch(this.instances[index - 1]!)
  }

  /** SIGTERM to every instance (they close cleanly), SIGKILL after `graceMs`; returns how many closed cleanly. */
  async stopAll (graceMs = 40_000): Promise<{ clean: number, total: number }> {
    this.stopping = true
    const exits = await Promise.all(this.instances.map(async (i) => await (i.child?.stop(graceMs) ?? Promise.resolve({ code: 0, signal: null }))))
    await Promise.all(this.instances.map(async (i) => await new Promise<void>((resolve) => i.log.end(resolve))))
    return { clean: exits.filter((e) => e.code === 0).length, total: exits.length }
  }

  /** At exit or on SIGINT: no grace, nothing may outlive the chaos run. */
  async killAll (): Promise<void> {
    this.stopping = true
    await Promise.all(this.instances.map(async (i) => { await i.child?.kill() }))
  }
}

function childEnv (options: FleetOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, KAFKA_BROKERS: options.brokers, DEVTRIP_POLICIES: options.policiesFile }
  // the children run on the chaos broker's plain topic names, whatever the caller's shell says
  delete env.DEVTRIP_TOPIC_PREFIX
  delete env.METRICS_PORT
  return env
}
