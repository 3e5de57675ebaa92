/**
 * The public face of processors/: DevTrip's business rules as pure reducers, the Processor wrappers that run them
 * over state stores, the policies they read, and the helpers topologies need (event input, deterministic ids).
 */
export * from './policies'
export { derivedEventId, OUTPUT_NAMESPACE, type IdPart } from './derived-ids'
export { EventBodyDeserializer, eventFromRecord, type EventBody } from './event-input'
export { EventDeduplicator, paddedTime } from './event-dedup'
export { envelopeHeaders, outputRecord, type OutputEnvelope } from './output-records'
export { type StoreKind } from './processor-stores'
export { DomainEventProcessor, type DomainProcessorOptions } from './domain-event-processor'
export * from './ticket-ledger-reducer'
export { TicketLedgerProcessor, ticketLedgerProcessorSupplier, type TicketLedgerProcessorOptions } from './ticket-ledger-processor'
export * from './user-stats-reducer'
export { UserStatsProcessor, userStatsProcessorSupplier, type UserStatsProcessorOptions } from './user-stats-processor'
export * from './evaluation-outputs'
export * from './evaluation-state-machine'
export { EvaluationStateMachineProcessor, evaluationProcessorSupplier, type EvaluationProcessorOptions } from './evaluation-processor'
