/**
 * Raw protocol access on top of one @platformatic/kafka client.
 *
 * The library's high-level Consumer cannot give a runtime what the port promises (rebalance callbacks that run
 * before revocation, per-partition watermarks, correct read_committed filtering across fetches), and its
 * Producer has no batched, KIP-447-complete TxnOffsetCommit. So parts of the adapter speak the Kafka protocol
 * directly, through the library's exported building blocks: its connection pool, metadata cache, API-version
 * negotiation (`kGetApi` picks the newest version both sides support) and the per-API request encoders.
 * This class wraps those callback-style building blocks in promises and adds coordinator lookup and a
 * deadline-bounded retry loop.
 */
import { DevtripError } from '../../../events/errors'
import { hasKafkaError, isRetriable, translateError } from './errors'
import { kafka, type Platformatic } from './library'

const UNKNOWN_TOPIC_OR_PARTITION = 3

type Callback<T> = (error: Error | null, value?: T) => void

function viaCallback<T> (start: (callback: Callback<T>) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    start((error, value) => { if (error) reject(error); else resolve(value as T) })
  })
}

export function sleep (ms: number): Promise<void> {
  return new Promise((resolve) => { setTimeout(resolve, ms).unref?.() })
}

export type CoordinatorType = 'group' | 'transaction'

export interface RawClientOptions {
  readonly clientId: string
  readonly brokers: readonly string[]
  readonly requestTimeoutMs: number
  readonly connectTimeoutMs: number
  /** how long `withRetry` keeps retrying retriable failures */
  readonly operationTimeoutMs: number
}

/** A library Admin client with the port's connection settings; also the base of the consumers' raw clients. */
export function createAdminClient (options: RawClientOptions): Platformatic.Admin {
  return new kafka.Admin({
    clientId: options.clientId,
    bootstrapBrokers: [...options.brokers],
    requestTimeout: options.requestTimeoutMs,
    connectTimeout: options.connectTimeoutMs,
    retries: 3,
    retryDelay: 250,
    autocreateTopics: false
  })
}

export class RawClient {
  /** The library client that owns the connection pool, the metadata cache and the negotiated API versions.
   * Any library client works (the producer adapter wraps its Producer so both share one connection pool). */
  readonly lib: Platformatic.Base
  readonly options: RawClientOptions
  private readonly coordinators = new Map<string, number>()
  private closed = false

  constructor (lib: Platformatic.Base, options: RawClientOptions) {
    this.lib = lib
    this.options = options
  }

  metadata (topics: readonly string[], forceUpdate = false): Promise<Platformatic.ClusterMetadata> {
    return viaCallback((cb) => this.lib[kafka.kMetadata]({ topics: [...topics], forceUpdate }, cb))
  }

  /**
   * Metadata of topics that must exist. The library's metadata lookup retries an unknown topic with the
   * client's whole retry budget (many seconds for the producer); a topic not in the cache is first probed with
   * one raw Metadata request, so a missing topic fails at once with DEVTRIP_UNKNOWN_TOPIC naming it.
   */
  async existingTopicsMetadata (operation: string, topics: readonly string[]): Promise<Platformatic.ClusterMetadata> {
    const cached = this.lib.currentMetadata
    const unseen = topics.filter((t) => cached?.topics.has(t) !== true)
    if (unseen.length > 0) {
      const missing = await this.withRetry(operation, () => this.missingTopics(unseen))
      if (missing.length > 0) {
        throw new DevtripError('DEVTRIP_UNKNOWN_TOPIC', `${operation}: ${missing.map((t) => `topic "${t}"`).join(', ')} ${missing.length === 1 ? 'does' : 'do'} not exist`, {
          details: { topics: missing, topic: missing[0], hint: 'create it first: bin/devtrip-streams topics apply' }
        })
      }
    }
    return this.withRetry(operation, () => this.metadata(topics))
  }

  /** Which of `topics` the cluster does not know, from one Metadata request. */
  private async missingTopics (topics: readonly string[]): Promise<string[]> {
    const connection = await this.bootstrapConnection()
    try {
      await this.request<[string[], boolean, boolean], unknown>('Metadata', connection, [...topics], false, false)
      return []
    } catch (error) {
      const response = (error as { response?: { topics?: Array<{ name: string | null, errorCode: number }> } }).response
      if (response?.topics === undefined) throw error
      const missing = response.topics.filter((t) => t.errorCode === UNKNOWN_TOPIC_OR_PARTITION).map((t) => t.name ?? '')
      // any other topic error (e.g. leader election in progress) is for the retry loop to handle
      if (missing.length === 0) throw error
      return missing
    }
  }

  clearMetadata (): void {
    this.lib.clearMetadata()
  }

  async connectionTo (nodeId: number): Promise<Platformatic.Connection> {
    let broker = (await this.metadata([])).brokers.get(nodeId)
    if (broker === undefined) broker = (await this.metadata([], true)).brokers.get(nodeId)
    if (broker === undefined) throw new DevtripError('DEVTRIP_KAFKA', `broker ${nodeId} is not in the cluster metadata`, { canRetry: true })
    const found = broker
    return viaCallback((cb) => this.lib[kafka.kGetConnection](found, cb))
  }

  bootstrapConnection (): Promise<Platformatic.Connection> {
    return viaCallback((cb) => this.lib[kafka.kGetBootstrapConnection](cb))
  }

  /** Sends one request of API `name` at the newest version the broker and the library share. */
  async request<Args extends unknown[], Response> (name: string, connection: Platformatic.Connection, ...args: Args): Promise<Response> {
    const api = await viaCallback<Platformatic.API<Args, Response>>((cb) => this.lib[kafka.kGetApi]<Args, Response>(name, cb))
    return api.async(connection, ...args)
  }

  /** The node id of the group or transaction coordinator for `key` (cached until `forgetCoordinator`). */
  async coordinator (type: CoordinatorType, key: string): Promise<number> {
    const cacheKey = `${type}:${key}`
    const cached = this.coordinators.get(cacheKey)
    if (cached !== undefined) return cached
    const keyType = type === 'group' ? kafka.FindCoordinatorKeyTypes.GROUP : kafka.FindCoordinatorKeyTypes.TRANSACTION
    const connection = await this.bootstrapConnection()
    const response = await this.request<[number, string[]], Platformatic.findCoordinatorV6.FindCoordinatorResponse>('FindCoordinator', connection, keyType, [key])
    const nodeId = response.coordinators[0]?.nodeId
    if (nodeId === undefined || nodeId < 0) throw new DevtripError('DEVTRIP_KAFKA', `no ${type} coordinator for "${key}" yet`, { canRetry: true })
    this.coordinators.set(cacheKey, nodeId)
    return nodeId
  }

  forgetCoordinator (type: CoordinatorType, key: string): void {
    this.coordinators.delete(`${type}:${key}`)
  }

  async coordinatorConnection (type: CoordinatorType, key: string): Promise<Platformatic.Connection> {
    return this.connectionTo(await this.coordinator(type, key))
  }

  /**
   * Runs `attempt` until it succeeds, fails with a non-retriable error, or `operationTimeoutMs` passes.
   * Coordinator and leadership errors also drop the cached coordinator / metadata so the next attempt looks
   * them up again. Failures come out translated (DevtripError).
   */
  async withRetry<T> (operation: string, attempt: () => Promise<T>, options: { coordinator?: [CoordinatorType, string], retriable?: (e: unknown) => boolean } = {}): Promise<T> {
    const deadline = Date.now() + this.options.operationTimeoutMs
    let backoff = 50
    for (;;) {
      try {
        return await attempt()
      } catch (error) {
        if (options.coordinator !== undefined && hasKafkaError(error, 'NOT_COORDINATOR', 'COORDINATOR_NOT_AVAILABLE')) {
          this.forgetCoordinator(...options.coordinator)
        }
        if (hasKafkaError(error, 'NOT_LEADER_OR_FOLLOWER', 'LEADER_NOT_AVAILABLE', 'FENCED_LEADER_EPOCH', 'UNKNOWN_LEADER_EPOCH', 'UNKNOWN_TOPIC_ID')) {
          this.clearMetadata()
        }
        const retriable = (options.retriable ?? isRetriable)(error)
        if (!retriable || this.closed || Date.now() + backoff > deadline) throw translateError(error, operation)
        await sleep(backoff)
        backoff = Math.min(backoff * 2, 1000)
      }
    }
  }

  get isClosed (): boolean {
    return this.closed
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.lib.close()
  }
}
