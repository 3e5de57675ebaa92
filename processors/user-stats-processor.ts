/**
 * UserStatsProcessor: the user-stats reducer (user-stats-reducer.ts) over the `stats` store, keyed by userId.
 * Every accepted event produces the user's new row on the stats child.
 */
import type { DevtripEvent } from '../events'
import type { KeyValueStore, StoreBuilder } from '../state'
import type { ProcessorContext, ProcessorSupplier } from '../streams/processor'
import { DomainEventProcessor, type DomainProcessorOptions } from './domain-event-processor'
import type { EventBody } from './event-input'
import type { OutputEnvelope } from './output-records'
import { dedupStoreBuilder, jsonStoreBuilder, type StoreKind } from './processor-stores'
import { reduceUserStats, type UserStats } from './user-stats-reducer'

export interface UserStatsProcessorOptions extends DomainProcessorOptions {
  /** store of UserStats by userId */
  readonly statsStore: string
  readonly statsChild: string
}

export class UserStatsProcessor extends DomainEventProcessor<DevtripEvent> {
  private stats!: KeyValueStore<string, UserStats>

  constructor (private readonly statsOptions: UserStatsProcessorOptions) {
    super(statsOptions)
  }

  protected initProcessor (context: ProcessorContext<string, OutputEnvelope>): void {
    this.stats = context.getStateStore<KeyValueStore<string, UserStats>>(this.statsOptions.statsStore)
  }

  /** every catalog type counts for something (user-stats-reducer.ts), so every valid event is accepted */
  protected accepts (_event: DevtripEvent): _event is DevtripEvent {
    return true
  }

  protected handle (event: DevtripEvent): void {
    const key = String(event.userId)
    const result = reduceUserStats(this.stats.get(key), event, this.options.policies)
    this.stats.put(key, result.state)
    for (const output of result.outputs) this.emit(this.statsOptions.statsChild, output)
  }
}

export function userStatsProcessorSupplier (options: UserStatsProcessorOptions, storeKind: StoreKind = 'persistent'): ProcessorSupplier<string | null, EventBody | null, string, OutputEnvelope> {
  return {
    get: () => new UserStatsProcessor(options),
    stores: (): StoreBuilder[] => [
      jsonStoreBuilder<UserStats>(options.statsStore, storeKind),
      dedupStoreBuilder(options.dedupStore, storeKind)
    ]
  }
}
