/**
 * Interactive-query routing: which instance of an application holds a key of a store (Kafka Streams'
 * `queryMetadataForKey` / `streamsMetadataForStore`). Works from anywhere that has an admin client — inside an
 * instance (StreamsApp.queryMetadataForKey) and in a process that runs no topology at all (the API):
 *
 *   partition   murmur2(key bytes) % the task count of the store's sub-topology, exactly as the producer
 *               partitioned the input record keyed by the same bytes (streams/partitioner.ts). The task count is
 *               the largest partition count of the sub-topology's source topics (not the changelog's, which may
 *               have been created with more);
 *   owner       the group member whose assignment holds that partition of the sub-topology's source topics
 *               (`describeGroups` on the application id, the consumer group), and its address from the user data
 *               it advertises (query-advertisement.ts).
 *
 * The owner is only known while the group is Stable: during a rebalance the broker describes members without
 * assignments, and the answer is `activeHost: null` with `reason: 'rebalancing'` — the caller retries shortly.
 * Results are cached for `cacheMs` (default 2 s) so a burst of queries costs one describeGroups; `invalidate()` drops
 * the cache when an instance said "not the owner" or could not be reached.
 *
 * Assumes the store is keyed like the records that feed it (the store key bytes are the record key bytes), which
 * holds for every store whose processor writes under the record's key. For stores keyed otherwise, use
 * `allMetadataForStore` and ask every host.
 */
import { DevtripError, isDevtripError } from '../../events/errors'
import type { TopologyMetadata } from '../internals/topology/metadata'
import type { GroupDescription, KafkaAdmin } from '../kafka/port'
import { partitionForKey } from '../partitioner'
import { decodeAdvertisement, parseHostInfo, type HostInfo } from './query-advertisement'

export type { HostInfo } from './query-advertisement'

/** Why no owner is known for a partition. */
export type NoOwnerReason =
  /** the group is moving partitions (not Stable): ask again in a moment */
  | 'rebalancing'
  /** no member of the group holds the partition (the application is not running, or the group is empty) */
  | 'not-running'
  /** the member that holds it advertises no application server (started without `applicationServer`) */
  | 'not-advertised'

export interface KeyQueryMetadata {
  readonly applicationId: string
  readonly store: string
  /** the partition (= task number) whose store holds the key */
  readonly partition: number
  /** how many partitions the store is split into */
  readonly partitions: number
  /** where that partition's active task runs; null while unknown */
  readonly activeHost: HostInfo | null
  /** set when activeHost is null */
  readonly reason?: NoOwnerReason
  /** the broker's name of the group's state: Stable, PreparingRebalance, CompletingRebalance, Empty, Dead */
  readonly groupState: string
}

/** One instance and the partitions of a store it holds (the active tasks). */
export interface StoreHostMetadata {
  readonly host: HostInfo
  readonly partitions: readonly number[]
}

export interface StoreQueryMetadata {
  readonly applicationId: string
  readonly store: string
  readonly partitions: number
  readonly groupState: string
  readonly hosts: readonly StoreHostMetadata[]
  /** partitions nobody serves at the moment (no member holds them, or their member advertises no address) */
  readonly unowned: readonly number[]
}

/** The part of the admin client the resolver needs (tests fake it). */
export type QueryMetadataAdmin = Pick<KafkaAdmin, 'describeGroups' | 'describeTopics'>

export interface QueryMetadataOptions {
  /** how long a describeGroups answer is reused (default 2000 ms; 0: never) */
  readonly cacheMs?: number
  /**
   * Partition counts the caller already knows (an instance knows them from its start-up checks); topics it does
   * not know are described through the admin client once and remembered.
   */
  readonly partitionsOf?: (topic: string) => number | undefined
  /** clock for the cache (tests) */
  readonly now?: () => number
}

interface StoreRouting {
  readonly store: string
  /** the sub-topology's source topics: a member holding partition N of one of them runs task N */
  readonly sourceTopics: readonly string[]
}

export interface GroupView {
  readonly at: number
  readonly state: string
  /** "topic:partition" → the owner's address, or null when the owner advertises none */
  readonly owners: ReadonlyMap<string, HostInfo | null>
}

export class QueryMetadataResolver {
  readonly applicationId: string
  private readonly routing = new Map<string, StoreRouting>()
  private readonly counts = new Map<string, number>()
  private readonly cacheMs: number
  private readonly now: () => number
  private group: GroupView | undefined
  private groupLoading: Promise<GroupView> | undefined

  constructor (private readonly admin: QueryMetadataAdmin, metadata: TopologyMetadata, private readonly options: QueryMetadataOptions = {}) {
    this.applicationId = metadata.applicationId
    this.cacheMs = options.cacheMs ?? 2000
    this.now = options.now ?? Date.now
    for (const sub of metadata.subtopologies) {
      for (const store of sub.stores) {
        const sources = [...sub.sourceTopics]
        this.routing.set(store.name, { store: store.name, sourceTopics: sources })
      }
    }
  }

  /** The stores this resolver can route, by name. */
  get stores (): string[] {
    return [...this.routing.keys()]
  }

  /**
   * Where `key` of `storeName` lives. `key` is the record key: a string (its UTF-8 bytes, as the String serde
   * writes them) or the serialized bytes. DEVTRIP_INVALID_OPTIONS for a store the topology does not have;
   * DEVTRIP_UNKNOWN_TOPIC when its source topics do not exist.
   */
  async queryMetadataForKey (storeName: string, key: string | Uint8Array): Promise<KeyQueryMetadata> {
    const routing = this.routingOf(storeName)
    const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key
    const partitions = await this.taskCount(routing)
    const partition = partitionForKey(bytes, partitions)
    const group = await this.groupView()
    const owner = ownerOf(group, routing, partition)
    const base = { applicationId: this.applicationId, store: storeName, partition, partitions, groupState: group.state }
    if (owner.host !== null) return Object.freeze({ ...base, activeHost: owner.host })
    return Object.freeze({ ...base, activeHost: null, reason: owner.reason })
  }

  /** Every instance holding partitions of `storeName`, and the partitions nobody holds (to ask all hosts). */
  async allMetadataForStore (storeName: string): Promise<StoreQueryMetadata> {
    const routing = this.routingOf(storeName)
    const partitions = await this.taskCount(routing)
    const group = await this.groupView()
    const byHost = new Map<string, { host: HostInfo, partitions: number[] }>()
    const unowned: number[] = []
    for (let p = 0; p < partitions; p++) {
      const { host } = ownerOf(group, routing, p)
      if (host === null) {
        unowned.push(p)
        continue
      }
      const id = `${host.host}:${host.port}`
      const entry = byHost.get(id) ?? { host, partitions: [] }
      entry.partitions.push(p)
      byHost.set(id, entry)
    }
    return Object.freeze({
      applicationId: this.applicationId,
      store: storeName,
      partitions,
      groupState: group.state,
      hosts: [...byHost.values()].map((h) => Object.freeze({ host: h.host, partitions: Object.freeze(h.partitions) })),
      unowned: Object.freeze(unowned)
    })
  }

  /** Forget the cached group view (an instance said it is not the owner, or did not answer). */
  invalidate (): void {
    this.group = undefined
  }

  private routingOf (storeName: string): StoreRouting {
    const routing = this.routing.get(storeName)
    if (routing === undefined) {
      throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `application "${this.applicationId}" has no store "${storeName}"`, {
        details: { store: storeName, hint: `its stores: ${this.stores.join(', ')}` }
      })
    }
    return routing
  }

  /** The store's task count: the largest partition count among its sub-topology's sources (as in Kafka Streams). */
  private async taskCount (routing: StoreRouting): Promise<number> {
    const unknown = routing.sourceTopics.filter((t) => (this.options.partitionsOf?.(t) ?? this.counts.get(t)) === undefined)
    if (unknown.length > 0) {
      // partition counts only grow, and a running application refuses a layout change: remembering them is safe
      for (const d of await this.admin.describeTopics(unknown)) this.counts.set(d.name, d.partitions.length)
    }
    const counts = routing.sourceTopics.map((t) => this.options.partitionsOf?.(t) ?? this.counts.get(t) ?? 0)
    const count = Math.max(0, ...counts)
    if (count < 1) throw new DevtripError('DEVTRIP_UNKNOWN_TOPIC', `the sources of store "${routing.store}" have no partitions`, { details: { topics: routing.sourceTopics } })
    return count
  }

  private async groupView (): Promise<GroupView> {
    const cached = this.group
    if (cached !== undefined && this.now() - cached.at < this.cacheMs) return cached
    // concurrent queries share one describeGroups
    this.groupLoading ??= this.loadGroup().finally(() => { this.groupLoading = undefined })
    return await this.groupLoading
  }

  private async loadGroup (): Promise<GroupView> {
    const [description] = await this.admin.describeGroups([this.applicationId])
    const view = groupViewOf(description, this.now())
    this.group = view
    return view
  }
}

/** partition → owner, from one describeGroups answer. */
export function groupViewOf (description: GroupDescription | undefined, at: number): GroupView {
  const owners = new Map<string, HostInfo | null>()
  const state = description?.state ?? 'Dead'
  for (const member of description?.members ?? []) {
    const advertised = decodeAdvertisement(member.userData)
    let host: HostInfo | null = null
    if (advertised !== undefined) {
      try {
        host = parseHostInfo(advertised.applicationServer)
      } catch (error) {
        if (!isDevtripError(error)) throw error
      }
    }
    for (const tp of member.assignment) owners.set(`${tp.topic}:${tp.partition}`, host)
  }
  return { at, state, owners }
}

function ownerOf (group: GroupView, routing: StoreRouting, partition: number): { host: HostInfo, reason?: undefined } | { host: null, reason: NoOwnerReason } {
  for (const topic of routing.sourceTopics) {
    const key = `${topic}:${partition}`
    if (!group.owners.has(key)) continue
    const host = group.owners.get(key) ?? null
    return host === null ? { host: null, reason: 'not-advertised' } : { host }
  }
  // PreparingRebalance / CompletingRebalance: the broker leaves assignments out until the group is Stable again
  const moving = group.state === 'PreparingRebalance' || group.state === 'CompletingRebalance'
  return { host: null, reason: moving ? 'rebalancing' : 'not-running' }
}
