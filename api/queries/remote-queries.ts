/**
 * The QueriesService of a process that runs no topology (the API): every query is answered by the `run` instance
 * that holds the key, found through the consumer group of the topology's application (OwnerLookup, normally a
 * streams QueryMetadataResolver) and asked over HTTP (InstanceClient → api/instance/).
 *
 *   stats, tickets     keyed by userId, the record key of every input: one lookup gives the partition and its owner;
 *                      the owner is asked for that partition only. If it answers "not the owner" (a rebalance moved
 *                      the partition since the lookup), the lookup is refreshed and the new owner asked, once.
 *   mission attempts   the `attempts` store is keyed by missionAttemptId while its records are keyed (partitioned) by
 *                      userId, so the key says nothing about the partition: every instance is asked for all of its
 *                      partitions at once, and "unknown" (404) needs every partition to have said so.
 *
 * Outcomes: value; undefined (404); QueryUnavailableError (503) with reason `restoring` (the owner restores),
 * `rebalancing` / `no-owner` (nobody holds the partition right now, or the application is not running) or
 * `owner-unreachable` (the owner did not answer in time).
 */
import { isDevtripError } from '../../events'
import type { AttemptState, TicketAccount, UserStats } from '../../processors'
import { formatHostInfo, parseHostInfo, type HostInfo, type KeyQueryMetadata, type StoreQueryMetadata } from '../../streams'
import { EVALUATION_NAMES, TICKETING_NAMES, USER_STATS_NAMES } from '../../topologies'
import { QueryUnavailableError, StateRestoringError, type QueriesService, type QueryContext, type UserTickets } from '../queries'
import type { InstanceAnswer, InstanceClient } from './instance-client'

/** Who holds which key of an application's stores (streams' QueryMetadataResolver is one; tests fake it). */
export interface OwnerLookup {
  readonly applicationId: string
  queryMetadataForKey (store: string, key: string): Promise<KeyQueryMetadata>
  allMetadataForStore (store: string): Promise<StoreQueryMetadata>
  /** forget what is cached: an instance said it is not the owner, or did not answer */
  invalidate (): void
}

/** The part of InstanceClient the service uses. */
export type InstanceGetter = Pick<InstanceClient, 'get'>

export interface RemoteQueriesOptions {
  readonly ticketing: OwnerLookup
  readonly userStats: OwnerLookup
  readonly evaluation: OwnerLookup
  readonly instances: InstanceGetter
  /** Retry-After of a 503 when the instance did not say (seconds; default 1) */
  readonly retryAfterSeconds?: number
}

export class RemoteQueries implements QueriesService {
  private readonly retryAfterSeconds: number

  constructor (private readonly options: RemoteQueriesOptions) {
    this.retryAfterSeconds = options.retryAfterSeconds ?? 1
  }

  async getUserStats (userId: string, context?: QueryContext): Promise<UserStats | undefined> {
    return await this.byKey<UserStats>(this.options.userStats, USER_STATS_NAMES.statsStore, userId, context)
  }

  async getTickets (userId: string, limit: number, context?: QueryContext): Promise<UserTickets | undefined> {
    const account = await this.byKey<TicketAccount>(this.options.ticketing, TICKETING_NAMES.accountsStore, userId, context)
    if (account === undefined) return undefined
    // the account keeps the newest ledger.entriesPerUser entries, oldest first; the route returns newest first
    const entries = Array.isArray(account.recentEntries) ? account.recentEntries.slice(-limit).reverse() : []
    return {
      userId: account.userId,
      plan: account.plan,
      balance: account.balance,
      granted: account.granted,
      deducted: account.deducted,
      rejected: account.rejected,
      entries
    }
  }

  async getMissionAttempt (missionAttemptId: string, context?: QueryContext): Promise<AttemptState | undefined> {
    return await this.everywhere<AttemptState>(this.options.evaluation, EVALUATION_NAMES.attemptsStore, missionAttemptId, context)
  }

  /** A store keyed by the record key: ask the owner of the key's partition (and the new owner once, if it moved). */
  private async byKey<V> (lookup: OwnerLookup, store: string, key: string, context: QueryContext | undefined): Promise<V | undefined> {
    let redirect: HostInfo | undefined
    for (let attempt = 0; attempt < 2; attempt++) {
      const meta = await this.metadata(lookup, () => lookup.queryMetadataForKey(store, key))
      const facts = { applicationId: lookup.applicationId, store, partition: meta.partition }
      const host = redirect ?? meta.activeHost
      if (host === null) {
        lookup.invalidate()
        throw noOwner(meta.reason ?? 'not-running', facts, this.retryAfterSeconds)
      }
      const answer = await this.options.instances.get({ host, applicationId: lookup.applicationId, store, key, partition: meta.partition })
      switch (answer.kind) {
        case 'found':
          if (context !== undefined) context.servedBy = answer.servedBy
          return answer.value as V
        case 'absent':
          return undefined
        case 'restoring':
          throw new StateRestoringError(`partition ${meta.partition} of ${store} is restoring on ${formatHostInfo(host)}`, answer.retryAfterSeconds ?? this.retryAfterSeconds, facts)
        case 'unreachable':
          lookup.invalidate()
          throw new QueryUnavailableError('owner-unreachable', `the instance holding it (${formatHostInfo(host)}) did not answer`, this.retryAfterSeconds, { ...facts, owner: formatHostInfo(host) })
        case 'not-owner':
          lookup.invalidate()
          redirect = parseOwner(answer.owner)
          break
      }
    }
    throw new QueryUnavailableError('rebalancing', 'its partition is moving between instances', this.retryAfterSeconds, { applicationId: lookup.applicationId, store })
  }

  /** A store not keyed by the record key: every instance is asked about all its partitions; 404 needs them all. */
  private async everywhere<V> (lookup: OwnerLookup, store: string, key: string, context: QueryContext | undefined): Promise<V | undefined> {
    const meta = await this.metadata(lookup, () => lookup.allMetadataForStore(store))
    const facts = { applicationId: lookup.applicationId, store }
    const answers = await Promise.all(meta.hosts.map(async (h) => ({ host: h.host, answer: await this.options.instances.get({ host: h.host, applicationId: lookup.applicationId, store, key }) })))
    const found = answers.find((a): a is { host: HostInfo, answer: Extract<InstanceAnswer, { kind: 'found' }> } => a.answer.kind === 'found')
    if (found !== undefined) {
      if (context !== undefined) context.servedBy = found.answer.servedBy
      return found.answer.value as V
    }
    const checked = new Set<number>()
    let restoring: Extract<InstanceAnswer, { kind: 'restoring' }> | undefined
    let unreachable: HostInfo | undefined
    for (const { host, answer } of answers) {
      if (answer.kind === 'absent' || answer.kind === 'restoring') for (const p of answer.checked) checked.add(p)
      if (answer.kind === 'restoring') restoring = answer
      if (answer.kind === 'unreachable') unreachable = host
    }
    // every partition looked at by its running task, none has it: unknown (an instance may answer for a partition
    // the lookup gave to another, if it moved meanwhile — what counts is that each one was checked somewhere)
    if (meta.partitions > 0 && checked.size >= meta.partitions && [...Array(meta.partitions).keys()].every((p) => checked.has(p))) return undefined
    if (restoring !== undefined) throw new StateRestoringError(`partitions ${restoring.notReady.join(', ')} of ${store} are restoring`, restoring.retryAfterSeconds ?? this.retryAfterSeconds, facts)
    lookup.invalidate()
    if (unreachable !== undefined) {
      throw new QueryUnavailableError('owner-unreachable', `the instance ${formatHostInfo(unreachable)} did not answer`, this.retryAfterSeconds, { ...facts, owner: formatHostInfo(unreachable) })
    }
    const missing = [...Array(meta.partitions).keys()].filter((p) => !checked.has(p))
    // every partition had an owner, yet some were not checked: they moved between the lookup and the answers
    const reason = meta.groupState === 'PreparingRebalance' || meta.groupState === 'CompletingRebalance' || meta.unowned.length === 0 ? 'rebalancing' : 'not-running'
    throw noOwner(reason, { ...facts, partitions: missing }, this.retryAfterSeconds)
  }

  /** Runs a lookup; a broker that cannot be asked, or topics that do not exist, mean nobody can answer now. */
  private async metadata<T> (lookup: OwnerLookup, run: () => Promise<T>): Promise<T> {
    try {
      return await run()
    } catch (error) {
      if (isDevtripError(error, 'DEVTRIP_UNKNOWN_TOPIC')) {
        throw new QueryUnavailableError('no-owner', `application "${lookup.applicationId}" has never run: its topics do not exist`, this.retryAfterSeconds, { applicationId: lookup.applicationId })
      }
      if (isDevtripError(error) && (error.canRetry || error.code === 'DEVTRIP_KAFKA' || error.code === 'DEVTRIP_TIMEOUT')) {
        throw new QueryUnavailableError('no-owner', `cannot ask the broker who holds it (${error.message})`, this.retryAfterSeconds, { applicationId: lookup.applicationId })
      }
      throw error
    }
  }
}

function noOwner (reason: string, facts: Record<string, unknown>, retryAfterSeconds: number): QueryUnavailableError {
  if (reason === 'rebalancing') return new QueryUnavailableError('rebalancing', 'its partition is moving between instances', retryAfterSeconds, facts)
  const why = reason === 'not-advertised'
    ? 'the instance holding it serves no queries (started without an application server)'
    : 'no running instance holds its partition (is `run` running?)'
  return new QueryUnavailableError('no-owner', why, retryAfterSeconds, { ...facts, cause: reason })
}

function parseOwner (owner: string | null): HostInfo | undefined {
  if (owner === null) return undefined
  try {
    return parseHostInfo(owner)
  } catch {
    return undefined
  }
}
