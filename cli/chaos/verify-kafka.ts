/**
 * The chaos run's verification against the broker, after the pipeline drained and stopped: reads every topic
 * read_committed — the domain topics (what really went in, and the evaluation topology's own events on
 * evaluation-events), the five output topics and the six dead-letter topics — and hands the records to the
 * OutputVerifier (verifier.ts). Also: open transactions on any partition, and the changelog sizes the restores are
 * compared with.
 */
import { DOMAIN_TOPICS, DLQ_SUFFIX, type DomainTopic } from '../../events'
import type { ConsumedRecord, KafkaAdmin, KafkaClientFactory } from '../../streams/kafka'
import type { ChaosPolicies } from './chaos-policies'
import { SEQ_HEADER, type Workload } from './generator'
import type { Json } from './model-ticketing'
import { countUncommitted, openTransactions, partitionsOf, readCommitted, type OpenTransaction } from './topic-reader'
import { OutputVerifier, type CheckedTopic, type VerificationCounts } from './verifier'

/** the KIP-1034 header the engine puts on a dead letter (docs/streams.md) */
const DLQ_APPLICATION_HEADER = '__streams.errors.application.id'

export interface InputCensus {
  /** generator records found in the domain topics */
  readonly records: number
  /** generator records not found at all */
  readonly lost: number
  /** extra copies (a batch the feeder sent again after a failed send) */
  readonly extraCopies: number
  /** records on domain topics that are neither generator records nor pipeline outputs */
  readonly foreign: number
}

export interface ChangelogSizes {
  readonly topics: number
  readonly partitions: number
  /** records (end offsets) over all changelog partitions */
  readonly totalRecords: number
  readonly largestPartition: { readonly topic: string, readonly partition: number, readonly records: number } | undefined
  readonly byPartition: ReadonlyMap<string, number>
}

export interface KafkaVerification {
  readonly counts: VerificationCounts
  /** output records written in transactions that were aborted (by a kill, a fenced producer, a failed commit): invisible to read_committed readers */
  readonly abortedOutputRecords: number
  readonly input: InputCensus
  readonly openTransactions: readonly OpenTransaction[]
  readonly changelogs: ChangelogSizes
}

function header (record: ConsumedRecord, name: string): string | undefined {
  for (let i = record.headers.length - 1; i >= 0; i--) {
    const [k, v] = record.headers[i]!
    if (k === name) return v === null ? undefined : v.toString('utf8')
  }
  return undefined
}

/** Waits (up to `waitMs`) until no partition has an open transaction; returns those still open then. */
export async function settleTransactions (admin: KafkaAdmin, waitMs: number): Promise<OpenTransaction[]> {
  const partitions = await partitionsOf(admin, (await admin.listTopics()).filter((t) => !t.startsWith('__')))
  const deadline = Date.now() + waitMs
  for (;;) {
    const open = await openTransactions(admin, partitions)
    if (open.length === 0 || Date.now() >= deadline) return open
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
}

export async function changelogSizes (admin: KafkaAdmin): Promise<ChangelogSizes> {
  const topics = (await admin.listTopics()).filter((t) => t.endsWith('-changelog'))
  const partitions = await partitionsOf(admin, topics)
  const ends = partitions.length === 0 ? [] : await admin.listOffsets(partitions, 'latest', 'read_committed')
  const byPartition = new Map(ends.map((e) => [`${e.topic}:${e.partition}`, Number(e.offset)]))
  let largest: ChangelogSizes['largestPartition']
  for (const e of ends) if (largest === undefined || Number(e.offset) > largest.records) largest = { topic: e.topic, partition: e.partition, records: Number(e.offset) }
  return { topics: topics.length, partitions: partitions.length, totalRecords: ends.reduce((n, e) => n + Number(e.offset), 0), largestPartition: largest, byPartition }
}

export async function verifyOnKafka (kafka: KafkaClientFactory, admin: KafkaAdmin, workload: Workload, policies: ChaosPolicies, onProgress: (line: string) => void): Promise<KafkaVerification> {
  const open = await settleTransactions(admin, 30_000)

  // 1. what went in: every generator record by its seq header; the evaluation topology's events are outputs
  onProgress('verify: reading the six domain topics')
  const copies = new Map<number, number>()
  const pipelineEvents: Array<{ key: string, value: Json }> = []
  let foreign = 0
  await readCommitted(kafka, admin, DOMAIN_TOPICS, (r) => {
    const seq = header(r, SEQ_HEADER)
    if (seq !== undefined) copies.set(Number(seq), (copies.get(Number(seq)) ?? 0) + 1)
    else if (r.topic === 'evaluation-events' && r.value !== null) pipelineEvents.push({ key: r.key?.toString('utf8') ?? '', value: JSON.parse(r.value.toString('utf8')) as Json })
    else foreign++
  }, 120_000)
  let lost = 0
  let extraCopies = 0
  for (const r of workload.records) {
    const n = copies.get(r.seq) ?? 0
    if (n === 0) lost++
    else extraCopies += n - 1
  }

  // 2. what came out, against the model
  onProgress('verify: building the model\'s expectations')
  const verifier = new OutputVerifier(workload, policies, copies)
  for (const e of pipelineEvents) verifier.output('evaluation-events', e.key, e.value)
  const outputs: CheckedTopic[] = ['ticket-ledger', 'ticket-balances', 'user-stats', 'mission-results', 'evaluation-review']
  let committedOutputs = 0
  for (const topic of outputs) {
    onProgress(`verify: reading ${topic}`)
    committedOutputs += await readCommitted(kafka, admin, [topic], (r) => {
      verifier.output(topic, r.key?.toString('utf8') ?? '', JSON.parse(r.value!.toString('utf8')) as Json)
    }, 120_000)
  }
  onProgress('verify: counting the output records of aborted transactions (read_uncommitted)')
  const abortedOutputRecords = await countUncommitted(kafka, admin, outputs, 120_000) - committedOutputs
  onProgress('verify: reading the dead-letter topics')
  const dlqTopics = DOMAIN_TOPICS.map((t: DomainTopic) => t + DLQ_SUFFIX)
  await readCommitted(kafka, admin, dlqTopics, (r) => {
    const seq = header(r, SEQ_HEADER)
    verifier.deadLetter(r.topic, seq === undefined ? undefined : Number(seq), header(r, DLQ_APPLICATION_HEADER))
  }, 120_000)

  return {
    counts: verifier.finish(),
    abortedOutputRecords,
    input: { records: copies.size, lost, extraCopies, foreign },
    openTransactions: open,
    changelogs: await changelogSizes(admin)
  }
}
