/**
 * EvaluationStateMachineProcessor: the evaluation state machine (evaluation-state-machine.ts) over two stores —
 * `attempts` (AttemptState by missionAttemptId; all events of an attempt carry the same userId, hence the same
 * record key and partition) and `deadlines`, a time index `<16-digit due time>:<missionAttemptId>` → attempt id,
 * ordered so that everything due is one range scan.
 *
 * When deadlines fire (docs/topologies.md, "Time"):
 *   - on every record: first everything due at or before min(record event time, stream time), then the record,
 *     then everything due at or before stream time. Records are the only thing that moves stream time, so this
 *     alone decides every transition deterministically; stream time is kept in the deadlines store so that it
 *     survives a restart (baseStreamTime);
 *   - on the wall-clock punctuator (evaluation.checkIntervalMs): everything due at or before the EFFECTIVE time,
 *     which is stream time, except on an idle task: once stream time has stood still for idleAdvance.afterMs of
 *     wall-clock time, effective time = stream time + the wall-clock time elapsed since it last moved. That lets a
 *     quiet partition time out its last attempts; on a busy or replaying partition stream time keeps moving, the
 *     rule never applies and the punctuator finds nothing the records did not already fire.
 */
import type { DevtripEvent } from '../events'
import type { KeyValueStore, StoreBuilder } from '../state'
import { Serdes } from '../state'
import type { ProcessorContext, ProcessorSupplier } from '../streams/processor'
import { DomainEventProcessor, type DomainProcessorOptions } from './domain-event-processor'
import { paddedTime } from './event-dedup'
import type { EventBody } from './event-input'
import type { EvaluationOutput } from './evaluation-outputs'
import {
  advanceEvaluation,
  assertSameAttempt,
  isEvaluationMachineEvent,
  reduceEvaluation,
  type AttemptState,
  type EvaluationMachineEvent
} from './evaluation-state-machine'
import type { OutputEnvelope } from './output-records'
import { dedupStoreBuilder, jsonStoreBuilder, keyValueStoreBuilder, type StoreKind } from './processor-stores'

export interface EvaluationProcessorOptions extends DomainProcessorOptions {
  /** store of AttemptState by missionAttemptId */
  readonly attemptsStore: string
  /** time index: `<due>:<missionAttemptId>` → missionAttemptId */
  readonly deadlinesStore: string
  /** children: RetryRequested/RetryCompleted, MissionResultUpdated, EvaluationReviewRequested */
  readonly evaluationEventsChild: string
  readonly missionResultsChild: string
  readonly reviewChild: string
}

const STREAM_TIME_KEY = 'stream-time'

function deadlineKey (due: number, missionAttemptId: string): string {
  return `${paddedTime(due)}:${missionAttemptId}`
}

export class EvaluationStateMachineProcessor extends DomainEventProcessor<EvaluationMachineEvent> {
  private attempts!: KeyValueStore<string, AttemptState>
  private deadlines!: KeyValueStore<string, string>
  /** stream time seen last, and the wall-clock time when it last moved (the idle rule's inputs) */
  private lastStreamTime = -1
  private streamTimeMovedAtWall = 0

  constructor (private readonly machineOptions: EvaluationProcessorOptions) {
    super(machineOptions)
  }

  protected initProcessor (context: ProcessorContext<string, OutputEnvelope>): void {
    this.attempts = context.getStateStore<KeyValueStore<string, AttemptState>>(this.machineOptions.attemptsStore)
    this.deadlines = context.getStateStore<KeyValueStore<string, string>>(this.machineOptions.deadlinesStore)
    this.lastStreamTime = context.currentStreamTimeMs()
    this.streamTimeMovedAtWall = context.currentSystemTimeMs()
    context.schedule(this.options.policies.evaluation.checkIntervalMs, 'wall-clock', (wallNow) => { this.onWallClock(wallNow) })
  }

  protected accepts (event: DevtripEvent): event is EvaluationMachineEvent {
    return isEvaluationMachineEvent(event)
  }

  protected handle (event: EvaluationMachineEvent): void {
    const key = String(event.missionAttemptId)
    // reject a foreign event before anything is written (the record goes to the dead-letter topic untouched)
    const existing = this.attempts.get(key)
    if (existing !== undefined) assertSameAttempt(existing, event)
    const streamTime = this.baseStreamTime()
    this.fireDue(Math.min(event.timestamp, streamTime))
    const before = this.attempts.get(key)
    const result = reduceEvaluation(before, event, this.options.policies)
    if (result.state !== undefined && result.state !== before) this.save(key, before, result.state)
    this.forwardAll(result.outputs)
    this.fireDue(streamTime)
    this.noteStreamTime(streamTime)
  }

  /** The effective time of the idle rule (see the file comment); stream time itself while the task is busy. */
  effectiveTime (wallNow: number): number {
    const streamTime = this.baseStreamTime()
    this.noteStreamTime(streamTime)
    if (streamTime < 0) return streamTime
    const { enabled, afterMs } = this.options.policies.evaluation.idleAdvance
    const idleFor = wallNow - this.streamTimeMovedAtWall
    return enabled && idleFor >= afterMs ? streamTime + idleFor : streamTime
  }

  private onWallClock (wallNow: number): void {
    const now = this.effectiveTime(wallNow)
    if (now >= 0) this.fireDue(now)
  }

  /**
   * The task's stream time, made durable: kept in the deadlines store under a key that sorts after every deadline
   * ('s' follows the digits) and written in the same transaction as the state it governs. A restarted task has no
   * stream time until its first record (the engine does not persist it), and that record may carry an older
   * timestamp than records processed before the crash; without the remembered value, deadlines the crashed run had
   * already passed would be judged against an earlier time, and a replay would diverge. On an idle partition the
   * first record may never come; the idle rule then starts from this value too.
   */
  private baseStreamTime (): number {
    const streamTime = this.context.currentStreamTimeMs()
    const remembered = Number(this.deadlines.get(STREAM_TIME_KEY) ?? -1)
    if (streamTime > remembered) {
      this.deadlines.put(STREAM_TIME_KEY, String(streamTime))
      return streamTime
    }
    return Math.max(streamTime, remembered)
  }

  private noteStreamTime (streamTime: number): void {
    if (streamTime !== this.lastStreamTime) {
      this.lastStreamTime = streamTime
      this.streamTimeMovedAtWall = this.context.currentSystemTimeMs()
    }
  }

  /** Fires, in (due time, attempt id) order, every attempt whose deadline is ≤ now. */
  private fireDue (now: number): void {
    if (now < 0) return
    // keys `<padded(now)>:…` sort below `<padded(now)>;` (';' follows ':'), later due times above it
    const due = this.deadlines.range(undefined, `${paddedTime(now)};`)
    for (const { key, value: attemptKey } of due) {
      const state = this.attempts.get(attemptKey)
      if (state === undefined || state.deadline === null || deadlineKey(state.deadline, attemptKey) !== key) {
        // an index entry whose attempt moved on without the index being told: drop it, never act on it
        this.deadlines.delete(key)
        continue
      }
      const result = advanceEvaluation(state, now, this.options.policies)
      if (result.state !== undefined) this.save(attemptKey, state, result.state)
      this.forwardAll(result.outputs)
    }
  }

  private save (key: string, before: AttemptState | undefined, after: AttemptState): void {
    if (before?.deadline !== after.deadline) {
      if (before?.deadline != null) this.deadlines.delete(deadlineKey(before.deadline, key))
      if (after.deadline !== null) this.deadlines.put(deadlineKey(after.deadline, key), key)
    }
    this.attempts.put(key, after)
  }

  private forwardAll (outputs: readonly EvaluationOutput[]): void {
    for (const output of outputs) {
      const child = output.kind === 'evaluation-event'
        ? this.machineOptions.evaluationEventsChild
        : output.kind === 'mission-result' ? this.machineOptions.missionResultsChild : this.machineOptions.reviewChild
      this.emit(child, output.value)
    }
  }
}

export function evaluationProcessorSupplier (options: EvaluationProcessorOptions, storeKind: StoreKind = 'persistent'): ProcessorSupplier<string | null, EventBody | null, string, OutputEnvelope> {
  return {
    get: () => new EvaluationStateMachineProcessor(options),
    stores: (): StoreBuilder[] => [
      jsonStoreBuilder<AttemptState>(options.attemptsStore, storeKind),
      keyValueStoreBuilder(options.deadlinesStore, Serdes.String(), storeKind),
      dedupStoreBuilder(options.dedupStore, storeKind)
    ]
  }
}
