/**
 * What the three DevTrip processors share: turning a domain-topic record into a normalised event (or a dead
 * letter), skipping event types the processor does not use, skipping duplicates by eventId, and purging the dedup
 * store as stream time passes. Subclasses implement `accepts` and `handle`, which runs a pure reducer and writes
 * its result.
 *
 * Order inside process(): normalise → accepts? → duplicate? → handle → remember the id. handle computes everything
 * before it writes anything, so a record that throws (and is dead-lettered by the processing handler) leaves no
 * trace, and the same eventId sent again after a fix is processed.
 */
import type { DevtripEvent, DomainTopic } from '../events'
import type { KeyValueStore } from '../state/base/types'
import type { Processor, ProcessorContext } from '../streams/processor'
import type { Record } from '../streams/record'
import { EventDeduplicator } from './event-dedup'
import { eventFromRecord, type EventBody } from './event-input'
import { outputRecord, type OutputEnvelope } from './output-records'
import type { Policies } from './policies'

export interface DomainProcessorOptions {
  readonly policies: Policies
  /** name of the dedup store (string → int64) */
  readonly dedupStore: string
  /** physical topic name → the domain topic it carries (identity unless a deployment renames topics) */
  readonly topicMap: ReadonlyMap<string, DomainTopic>
}

export abstract class DomainEventProcessor<E extends DevtripEvent> implements Processor<string | null, EventBody | null, string, OutputEnvelope> {
  protected context!: ProcessorContext<string, OutputEnvelope>
  private dedup!: EventDeduplicator
  /** records skipped as duplicates since init; for tests and diagnostics */
  duplicatesSkipped = 0

  constructor (protected readonly options: DomainProcessorOptions) {}

  init (context: ProcessorContext<string, OutputEnvelope>): void {
    this.context = context
    const { dedup } = this.options.policies
    this.dedup = new EventDeduplicator(context.getStateStore<KeyValueStore<string, number>>(this.options.dedupStore), dedup.retentionMs)
    context.schedule(dedup.purgeIntervalMs, 'stream-time', (streamTime) => { this.dedup.purge(streamTime) })
    this.initProcessor(context)
  }

  process (record: Record<string | null, EventBody | null>): void {
    const physical = this.context.recordMetadata()?.topic
    const event = eventFromRecord(record, physical === undefined ? undefined : this.options.topicMap.get(physical))
    if (!this.accepts(event)) return
    if (this.dedup.isDuplicate(event.eventId)) {
      this.duplicatesSkipped += 1
      return
    }
    this.handle(event)
    this.dedup.remember(event.eventId, event.timestamp)
  }

  /** Sends one output to the child node `child`. */
  protected emit (child: string, value: OutputEnvelope): void {
    this.context.forward(outputRecord(value), child)
  }

  /** Stores and punctuators of the subclass. */
  protected abstract initProcessor (context: ProcessorContext<string, OutputEnvelope>): void
  protected abstract accepts (event: DevtripEvent): event is E
  protected abstract handle (event: E): void
}
