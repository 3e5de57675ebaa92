/**
 * The ticket ledger topology (application id `devtrip-ticketing`): every user's ticket account, from signup,
 * payments, plan changes, completed missions and completed evaluations (rules: processors/ticket-ledger-reducer.ts,
 * docs/topologies.md "Ticketing").
 *
 *   auth-events, payment-events, subscription-events, mission-events, evaluation-events
 *     → ticket-ledger-processor [accounts, dedup]
 *         → ticket-ledger-sink   → ticket-ledger    (append-only entries)
 *         → ticket-balances-sink → ticket-balances  (compacted: the latest balance row per user)
 */
import type { DomainTopic } from '../events'
import { ticketLedgerProcessorSupplier, type Policies } from '../processors'
import { Topology } from '../streams'
import { addDomainSources, addJsonSink } from './domain-sources'
import { domainTopicMap, resolveTopologyOptions, type TopologyOptions } from './topology-options'

export const TICKETING_APPLICATION_ID = 'devtrip-ticketing'
export const TICKETING_SOURCE_TOPICS: readonly DomainTopic[] = Object.freeze(['auth-events', 'payment-events', 'subscription-events', 'mission-events', 'evaluation-events'])
export const TICKETING_NAMES = Object.freeze({
  processor: 'ticket-ledger-processor',
  accountsStore: 'accounts',
  dedupStore: 'dedup',
  ledgerSink: 'ticket-ledger-sink',
  balancesSink: 'ticket-balances-sink'
})

export function buildTicketingTopology (policies: Policies, options?: TopologyOptions): Topology {
  const resolved = resolveTopologyOptions(options)
  const n = TICKETING_NAMES
  const topology = new Topology()
  const sources = addDomainSources(topology, 'ticketing', TICKETING_SOURCE_TOPICS, resolved)
  topology.addProcessor(n.processor, ticketLedgerProcessorSupplier({
    policies,
    dedupStore: n.dedupStore,
    topicMap: domainTopicMap(resolved, TICKETING_SOURCE_TOPICS),
    accountsStore: n.accountsStore,
    ledgerChild: n.ledgerSink,
    balancesChild: n.balancesSink
  }, resolved.storeKind), ...sources)
  addJsonSink(topology, n.ledgerSink, resolved.topics['ticket-ledger'], n.processor)
  addJsonSink(topology, n.balancesSink, resolved.topics['ticket-balances'], n.processor)
  return topology
}
