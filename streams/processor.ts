/**
 * The Processor API: what a hand-written processor implements and the context the stream task gives it.
 * The DSL is built from the same pieces, so a topology mixing both runs unchanged under the test driver and
 * the Kafka runtime.
 */
import type { StateStore, StoreBuilder } from '../state/base/types'
import type { Record, RecordMetadata } from './record'

export type PunctuationType = 'stream-time' | 'wall-clock'

/** Called with the time that triggered it: stream time for 'stream-time', the wall clock for 'wall-clock'. */
export type Punctuator = (timestampMs: number) => void

export interface Cancellable {
  cancel (): void
}

export interface ProcessorContext<KForward = unknown, VForward = unknown> {
  readonly applicationId: string
  /** `<subtopologyId>_<partition>` */
  readonly taskId: string
  /**
   * Sends a record to every child of the current processor, or only to `childName`. The child runs before
   * forward returns (depth first), as in Kafka Streams.
   */
  forward<K extends KForward, V extends VForward> (record: Record<K, V>, childName?: string): void
  /** A store connected to this processor (Topology.addStateStore / connectProcessorAndStateStores). */
  getStateStore<S extends StateStore> (name: string): S
  /**
   * 'stream-time' punctuators fire when stream time (the largest record timestamp the task has processed) reaches
   * the next multiple of the interval; 'wall-clock' ones when the task's clock passes `now + interval`, then every
   * interval. A punctuator that falls behind fires once, not once per missed interval.
   */
  schedule (intervalMs: number, type: PunctuationType, punctuator: Punctuator): Cancellable
  /** topic, partition and offset of the source record being processed; undefined inside a punctuator */
  recordMetadata (): RecordMetadata | undefined
  /** the largest record timestamp this task has processed; -1 before the first record */
  currentStreamTimeMs (): number
  /** the task's clock (the runtime's wall clock, or the test driver's mocked one) */
  currentSystemTimeMs (): number
}

export interface Processor<KIn, VIn, KOut = never, VOut = never> {
  init? (context: ProcessorContext<KOut, VOut>): void
  process (record: Record<KIn, VIn>): void
  close? (): void
}

/** Returns a NEW processor on every call: each task owns its own instances. */
export interface ProcessorSupplier<KIn, VIn, KOut = never, VOut = never> {
  get (): Processor<KIn, VIn, KOut, VOut>
  /** stores this processor owns; they are added to the topology and connected to it (Kafka's ConnectedStoreProvider) */
  stores? (): ReadonlyArray<StoreBuilder>
}
