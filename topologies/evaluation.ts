/**
 * The evaluation retries and mission results topology (application id `devtrip-evaluation`): one state machine per
 * mission attempt (rules: processors/evaluation-state-machine.ts; diagram and timing: docs/topologies.md
 * "Evaluation").
 *
 *   mission-events, evaluation-events
 *     → evaluation-state-machine [attempts, deadlines, dedup]
 *         → evaluation-events-sink → evaluation-events  (EvaluationRetryRequested / EvaluationRetryCompleted)
 *         → mission-results-sink   → mission-results    (MissionResultUpdated)
 *         → evaluation-review-sink → evaluation-review  (EvaluationReviewRequested)
 *
 * The topology reads the topic it writes (evaluation-events): its own retry events come back and are recognised
 * as echoes by their derived eventIds.
 */
import type { DomainTopic } from '../events'
import { evaluationProcessorSupplier, type Policies } from '../processors'
import { Topology } from '../streams'
import { addDomainSources, addJsonSink } from './domain-sources'
import { domainTopicMap, resolveTopologyOptions, type TopologyOptions } from './topology-options'

export const EVALUATION_APPLICATION_ID = 'devtrip-evaluation'
export const EVALUATION_SOURCE_TOPICS: readonly DomainTopic[] = Object.freeze(['mission-events', 'evaluation-events'])
export const EVALUATION_NAMES = Object.freeze({
  processor: 'evaluation-state-machine',
  attemptsStore: 'attempts',
  deadlinesStore: 'deadlines',
  dedupStore: 'dedup',
  evaluationEventsSink: 'evaluation-events-sink',
  missionResultsSink: 'mission-results-sink',
  reviewSink: 'evaluation-review-sink'
})

export function buildEvaluationTopology (policies: Policies, options?: TopologyOptions): Topology {
  const resolved = resolveTopologyOptions(options)
  const n = EVALUATION_NAMES
  const topology = new Topology()
  const sources = addDomainSources(topology, 'evaluation', EVALUATION_SOURCE_TOPICS, resolved)
  topology.addProcessor(n.processor, evaluationProcessorSupplier({
    policies,
    dedupStore: n.dedupStore,
    topicMap: domainTopicMap(resolved, EVALUATION_SOURCE_TOPICS),
    attemptsStore: n.attemptsStore,
    deadlinesStore: n.deadlinesStore,
    evaluationEventsChild: n.evaluationEventsSink,
    missionResultsChild: n.missionResultsSink,
    reviewChild: n.reviewSink
  }, resolved.storeKind), ...sources)
  addJsonSink(topology, n.evaluationEventsSink, resolved.topics['evaluation-events'], n.processor)
  addJsonSink(topology, n.missionResultsSink, resolved.topics['mission-results'], n.processor)
  addJsonSink(topology, n.reviewSink, resolved.topics['evaluation-review'], n.processor)
  return topology
}
