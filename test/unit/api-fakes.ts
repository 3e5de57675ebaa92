/**
 * Test doubles for the API's injected dependencies: a publisher that keeps what it was given (with
 * real partitioning and per-partition offsets, so results look like the broker's) and can be told to fail,
 * hang or refuse; plus helpers to build a server with known tokens.
 */
import { DOMAIN_TOPICS } from '../../events'
import { partitionForKey } from '../../streams/partitioner'
import type { ProducerRecord, RecordMetadata } from '../../streams/kafka'
import {
  buildApiServer, hashToken, MemoryIdempotencyStore, PublishError,
  type ApiConfigInput, type ApiServerOptions, type EventPublisher, type PublishOptions, type Scope
} from '../../api'
import type { FastifyInstance } from 'fastify'

export const PARTITIONS = 6

type Behaviour =
  | { kind: 'ok' }
  | { kind: 'fail', error: PublishError }
  | { kind: 'hang' }

export class FakePublisher implements EventPublisher {
  /** every committed batch, in order */
  readonly batches: ProducerRecord[][] = []
  private readonly offsets = new Map<string, bigint>()
  private behaviours: Behaviour[] = []
  /** batches held by `hang`, released by `releaseHung()` */
  private readonly hung: Array<{ records: readonly ProducerRecord[], resolve: (m: RecordMetadata[]) => void, reject: (e: unknown) => void }> = []
  ready: () => Promise<void> = async () => {}
  closed = false
  publishCalls = 0

  /** the next publishes behave like this, one behaviour each, then back to 'ok' */
  next (...behaviours: Behaviour[]): void {
    this.behaviours.push(...behaviours)
  }

  get records (): ProducerRecord[] {
    return this.batches.flat()
  }

  async publish (records: readonly ProducerRecord[], options: PublishOptions = {}): Promise<RecordMetadata[]> {
    this.publishCalls++
    const behaviour = this.behaviours.shift() ?? { kind: 'ok' }
    if (behaviour.kind === 'fail') throw behaviour.error
    if (behaviour.kind === 'hang') {
      return new Promise((resolve, reject) => {
        this.hung.push({ records, resolve, reject })
        options.signal?.addEventListener('abort', () => { /* already "taken by a producer": not cancellable */ })
      })
    }
    return this.commit(records)
  }

  /** Lets hung publishes finish: committed, or failed with `error`. */
  releaseHung (error?: PublishError): void {
    for (const h of this.hung.splice(0)) {
      if (error === undefined) h.resolve(this.commit(h.records))
      else h.reject(error)
    }
  }

  private commit (records: readonly ProducerRecord[]): RecordMetadata[] {
    this.batches.push([...records])
    return records.map((r) => {
      const partition = partitionForKey(r.key!, PARTITIONS)
      const key = `${r.topic}:${partition}`
      const offset = this.offsets.get(key) ?? 0n
      this.offsets.set(key, offset + 1n)
      return { topic: r.topic, partition, offset }
    })
  }

  async checkReady (_topics: readonly string[], _timeoutMs: number): Promise<void> {
    await this.ready()
  }

  async close (): Promise<void> {
    this.closed = true
  }
}

/** Named tokens with scopes; the secret of each is `secret-<name>`. */
export const TEST_TOKENS: Record<string, Scope[]> = {
  'auth-service': ['auth-events'],
  'user-management-service': ['user-events'],
  'payment-service': ['payment-events', 'subscription-events'],
  'mission-service': ['mission-events'],
  'ai-evaluation-service': ['evaluation-events'],
  reader: ['read'],
  admin: ['admin']
}

export function tokenOf (name: keyof typeof TEST_TOKENS | string): string {
  return `secret-${name}`
}

export function bearer (name: string): Record<string, string> {
  return { authorization: `Bearer ${tokenOf(name)}` }
}

export const testTokenConfig = {
  tokens: Object.entries(TEST_TOKENS).map(([name, scopes]) => ({ name, sha256: hashToken(tokenOf(name)), scopes }))
}

export interface TestServer {
  app: FastifyInstance
  publisher: FakePublisher
  store: MemoryIdempotencyStore
  logs: string[]
}

export async function testServer (config: ApiConfigInput = {}, extra: Partial<ApiServerOptions> = {}): Promise<TestServer> {
  const publisher = new FakePublisher()
  const store = new MemoryIdempotencyStore()
  const logs: string[] = []
  const app = await buildApiServer({
    tokens: testTokenConfig,
    publisher,
    idempotency: store,
    logger: { level: 'info', stream: { write: (line: string) => { logs.push(line) } } },
    ...extra,
    config: { producer: { transactionalIdPrefix: 'unit-test' }, ...config }
  })
  return { app, publisher, store, logs }
}

export const DOMAIN_TOPIC_LIST: readonly string[] = DOMAIN_TOPICS
