/**
 * TicketLedgerProcessor: the ticket-ledger reducer (ticket-ledger-reducer.ts) over the `accounts` store, keyed by
 * userId. Every ledger entry goes to the ledger child, the account's new balance row to the balances child.
 */
import type { DevtripEvent } from '../events'
import type { KeyValueStore, StoreBuilder } from '../state'
import type { ProcessorContext, ProcessorSupplier } from '../streams/processor'
import { DomainEventProcessor, type DomainProcessorOptions } from './domain-event-processor'
import type { EventBody } from './event-input'
import type { OutputEnvelope } from './output-records'
import { dedupStoreBuilder, jsonStoreBuilder, type StoreKind } from './processor-stores'
import { LEDGER_EVENT_TYPES, reduceTicketLedger, type TicketAccount } from './ticket-ledger-reducer'

export interface TicketLedgerProcessorOptions extends DomainProcessorOptions {
  /** store of TicketAccount by userId */
  readonly accountsStore: string
  /** child node names the outputs are forwarded to */
  readonly ledgerChild: string
  readonly balancesChild: string
}

const LEDGER_TYPES: ReadonlySet<string> = new Set(LEDGER_EVENT_TYPES)

export class TicketLedgerProcessor extends DomainEventProcessor<DevtripEvent> {
  private accounts!: KeyValueStore<string, TicketAccount>

  constructor (private readonly ledgerOptions: TicketLedgerProcessorOptions) {
    super(ledgerOptions)
  }

  protected initProcessor (context: ProcessorContext<string, OutputEnvelope>): void {
    this.accounts = context.getStateStore<KeyValueStore<string, TicketAccount>>(this.ledgerOptions.accountsStore)
  }

  protected accepts (event: DevtripEvent): event is DevtripEvent {
    return LEDGER_TYPES.has(event.eventType)
  }

  protected handle (event: DevtripEvent): void {
    const key = String(event.userId)
    const result = reduceTicketLedger(this.accounts.get(key), event, this.options.policies)
    if (result.outputs.length === 0 || result.state === undefined) return
    this.accounts.put(key, result.state)
    for (const output of result.outputs) {
      this.emit(output.kind === 'ledger-entry' ? this.ledgerOptions.ledgerChild : this.ledgerOptions.balancesChild, output.value)
    }
  }
}

/** A supplier that owns the accounts and dedup stores (persistent unless `storeKind` says otherwise). */
export function ticketLedgerProcessorSupplier (options: TicketLedgerProcessorOptions, storeKind: StoreKind = 'persistent'): ProcessorSupplier<string | null, EventBody | null, string, OutputEnvelope> {
  return {
    get: () => new TicketLedgerProcessor(options),
    stores: (): StoreBuilder[] => [
      jsonStoreBuilder<TicketAccount>(options.accountsStore, storeKind),
      dedupStoreBuilder(options.dedupStore, storeKind)
    ]
  }
}
