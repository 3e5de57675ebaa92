/**
 * The ingest path, free of HTTP: body → validated events → scope check → idempotency reservations →
 * one transaction → results. Routes call `ingest()` and turn what it throws (ApiError) into responses.
 *
 * Guarantees:
 *   - all-or-nothing: any invalid or forbidden event rejects the whole request before anything is reserved
 *     or produced; the events produced for a request are committed in one transaction;
 *   - a 202 is sent only after the broker acknowledged the commit (acks=all), with each event's location;
 *   - an eventId already accepted is not produced again: its first location is returned (`duplicate: true`);
 *   - an eventId reserved by a request still in flight makes this request wait its turn (409 + Retry-After),
 *     so two simultaneous posts of one event never both produce it;
 *   - nothing is accepted and then dropped: any failure to produce is a 503, and a produce whose outcome
 *     is not known when the request gives up keeps its eventIds reserved until the outcome is known.
 */
import { randomUUID } from 'node:crypto'
import type { DevtripEvent, DomainTopic, EventType } from '../../events'
import type { RecordMetadata } from '../../streams/kafka'
import { ApiError, causeSummary, unavailable } from '../api-error'
import type { ApiConfig } from '../config'
import type { IdempotencyStore, ProducedLocation, ReserveOutcome } from '../idempotency/store'
import type { ApiMetrics } from '../metrics'
import { canProduceTo, type Principal } from '../tokens'
import { batchErrors, inspectBatch, toProducerRecord, type BatchInput, type InspectedEvent } from './event-batch'
import { PublishError, type EventPublisher } from './publisher'

export interface IngestRequest extends BatchInput {
  readonly principal: Principal
  readonly requestId: string
}

export interface IngestResultItem extends ProducedLocation {
  readonly index: number
  readonly eventId: string
  readonly eventType: EventType
  /** true when the eventId had been accepted before: nothing was produced, the location is the first one */
  readonly duplicate: boolean
}

export interface IngestResult {
  readonly accepted: number
  readonly duplicates: number
  readonly results: readonly IngestResultItem[]
}

export interface IngestLog {
  warn (fields: Record<string, unknown>, message: string): void
}

export interface IngestServiceDeps {
  readonly config: ApiConfig
  readonly publisher: EventPublisher
  readonly idempotency: IdempotencyStore
  readonly metrics?: ApiMetrics
  readonly log?: IngestLog
}

type ValidEvent = InspectedEvent & { readonly event: DevtripEvent, readonly fingerprint: string, readonly topic: DomainTopic }

function locationOf (metadata: RecordMetadata): ProducedLocation {
  return { topic: metadata.topic, partition: metadata.partition, offset: metadata.offset.toString() }
}

export class IngestService {
  /** reservation updates still running after their request was answered (a publish that outlived its timeout) */
  private readonly settling = new Set<Promise<unknown>>()

  constructor (private readonly deps: IngestServiceDeps) {}

  /** Resolves when every reservation update started so far has finished (call after the publisher closed). */
  async drain (): Promise<void> {
    while (this.settling.size > 0) await Promise.allSettled([...this.settling])
  }

  async ingest (request: IngestRequest): Promise<IngestResult> {
    const { config } = this.deps
    const inspected = inspectBatch(request, config)
    this.checkScopes(inspected, request.principal, request.topic)
    const errors = batchErrors(inspected)
    if (errors.length > 0) {
      const invalid = new Set(errors.map((e) => e.index)).size
      throw new ApiError('DEVTRIP_INVALID_EVENT', `${invalid} of ${inspected.length} event${inspected.length === 1 ? '' : 's'} ${invalid === 1 ? 'is' : 'are'} invalid; nothing was produced`, {
        details: { errors, hint: 'each error names the event (index) and the field (JSON pointer); `devtrip-streams events schema <Type>` prints a schema' }
      })
    }
    const events = inspected as ValidEvent[]
    const owner = `${request.requestId}:${randomUUID()}`
    const outcomes = await this.reserve(events, owner)

    const fresh: ValidEvent[] = []
    const results = new Map<number, IngestResultItem>()
    const conflicts: Array<{ index: number, eventId: string }> = []
    const inFlight: Array<{ index: number, eventId: string }> = []
    events.forEach((e, i) => {
      const outcome = outcomes[i]!
      if (outcome.status === 'reserved') fresh.push(e)
      else if (outcome.status === 'pending') inFlight.push({ index: e.index, eventId: e.event.eventId })
      else if (outcome.record.fingerprint !== e.fingerprint) conflicts.push({ index: e.index, eventId: e.event.eventId })
      else results.set(e.index, { index: e.index, eventId: e.event.eventId, eventType: e.event.eventType, ...outcome.record.location, duplicate: true })
    })

    if (conflicts.length > 0 || inFlight.length > 0) {
      await this.release(fresh, owner)
      if (conflicts.length > 0) {
        throw new ApiError('DEVTRIP_API_IDEMPOTENCY_CONFLICT', `${conflicts.length === 1 ? 'an eventId was' : `${conflicts.length} eventIds were`} already accepted for an event with different content; nothing was produced`, {
          details: { events: conflicts.map((c) => ({ ...c, pointer: '/eventId' })), hint: 'an eventId names one event: give a new event a new eventId' }
        })
      }
      throw new ApiError('DEVTRIP_API_IDEMPOTENCY_CONFLICT', `${inFlight.length === 1 ? 'an eventId is' : `${inFlight.length} eventIds are`} being produced by another request right now; nothing was produced`, {
        retryAfterSeconds: 1,
        details: { events: inFlight.map((c) => ({ ...c, pointer: '/eventId' })), hint: 'retry after Retry-After seconds to get the first request\'s result' }
      })
    }

    this.deps.metrics?.idempotentHits.inc(results.size)
    if (fresh.length > 0) {
      const locations = await this.produce(fresh, owner)
      fresh.forEach((e, i) => {
        results.set(e.index, { index: e.index, eventId: e.event.eventId, eventType: e.event.eventType, ...locations[i]!, duplicate: false })
        this.deps.metrics?.producedEvents.inc({ topic: e.topic })
      })
    }
    const ordered = events.map((e) => results.get(e.index)!)
    return { accepted: fresh.length, duplicates: ordered.length - fresh.length, results: ordered }
  }

  /** 403 when any event's topic is outside the token's scopes (checked before validity: a forbidden caller learns nothing more). */
  private checkScopes (inspected: readonly InspectedEvent[], principal: Principal, routeTopic: DomainTopic | undefined): void {
    // on a topic route the route's topic is what is asked for (an event of another topic is invalid there: 400)
    const forbidden = routeTopic !== undefined
      ? (canProduceTo(principal, routeTopic) ? [] : inspected.map((e) => ({ ...e, topic: routeTopic })))
      : inspected.filter((e) => e.topic !== undefined && !canProduceTo(principal, e.topic))
    if (forbidden.length === 0) return
    const topics = [...new Set(forbidden.map((e) => e.topic!))]
    throw new ApiError('DEVTRIP_API_FORBIDDEN', `the token "${principal.name}" may not produce to ${topics.join(', ')}; nothing was produced`, {
      details: {
        events: forbidden.map((e) => ({ index: e.index, pointer: '/eventType', eventType: e.eventType, topic: e.topic })),
        scopes: [...principal.scopes],
        hint: 'post each event with the token of the service that produces its topic'
      }
    })
  }

  private async reserve (events: readonly ValidEvent[], owner: string): Promise<ReserveOutcome[]> {
    try {
      return await this.deps.idempotency.reserve(events.map((e) => e.event.eventId), owner, this.deps.config.idempotency.pendingTtlMs)
    } catch (error) {
      throw unavailable('the idempotency store (Redis) is unavailable; nothing was produced', this.deps.config.producer.retryAfterSeconds, { cause: causeSummary(error) }, error)
    }
  }

  private async release (events: readonly ValidEvent[], owner: string): Promise<void> {
    try {
      await this.deps.idempotency.release(events.map((e) => e.event.eventId), owner)
    } catch (error) {
      // the reservations expire by themselves after pendingTtlMs; until then retries get 409
      this.deps.log?.warn({ owner, error: causeSummary(error) }, 'could not release idempotency reservations')
    }
  }

  private async complete (events: readonly ValidEvent[], locations: readonly ProducedLocation[], owner: string): Promise<void> {
    const acceptedAt = Date.now()
    try {
      await this.deps.idempotency.complete(events.map((e, i) => ({ eventId: e.event.eventId, record: { fingerprint: e.fingerprint, location: locations[i]!, acceptedAt } })), owner, this.deps.config.idempotency.retentionMs)
    } catch (error) {
      // the events are committed, so the request is still a success; the reservations stay pending until
      // they expire, which keeps retries out meanwhile (a retry after that would produce a duplicate)
      this.deps.log?.warn({ owner, error: causeSummary(error) }, 'events committed but their idempotency records could not be written')
    }
  }

  /**
   * One transaction for the request's new events; a 503 when it fails or takes longer than produceTimeoutMs.
   * The 503's `details.outcome` says what became of the eventIds: 'not-written' (free again: the retry
   * produces), 'pending' (still in flight: decided when the publish ends, a retry meanwhile gets 409) or
   * 'unknown' (the commit was not confirmed: reserved for pendingTtlMs more, then free).
   */
  private async produce (events: readonly ValidEvent[], owner: string): Promise<ProducedLocation[]> {
    const { config, publisher, idempotency } = this.deps
    const records = events.map((e) => toProducerRecord(e.event, config.topicPrefix))
    const ids = events.map((e) => e.event.eventId)
    const pendingTtlMs = config.idempotency.pendingTtlMs
    const extend = (): void => {
      idempotency.extend(ids, owner, pendingTtlMs).catch((error: unknown) => {
        this.deps.log?.warn({ owner, error: causeSummary(error) }, 'could not extend idempotency reservations')
      })
    }
    // a publish can outlive its request by far (the producer keeps retrying while the broker is away):
    // its reservations must live as long as it does, or a retry could write the events a second time
    const renewal = setInterval(extend, Math.max(250, Math.floor(pendingTtlMs / 3)))
    renewal.unref()
    const abort = new AbortController()
    // whatever the request is told, the reservations follow the real outcome of the publish
    const publishing = publisher.publish(records, { signal: abort.signal }).then(
      async (metadata) => {
        clearInterval(renewal)
        const locations = metadata.map(locationOf)
        await this.complete(events, locations, owner)
        return locations
      },
      async (error: unknown) => {
        clearInterval(renewal)
        const outcome = error instanceof PublishError ? error.outcome : 'unknown'
        this.deps.metrics?.transactionsFailed.inc({ outcome })
        if (outcome === 'not-written') await this.release(events, owner)
        else extend() // the commit may have happened: keep retries out for one more pendingTtlMs while the broker settles it
        throw error
      })
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), config.producer.produceTimeoutMs) })
    try {
      const first = await Promise.race([publishing, timedOut])
      if (first !== 'timeout') return first
    } catch (error) {
      const reason = error instanceof PublishError ? error.reason : 'failed'
      const outcome = error instanceof PublishError ? error.outcome : 'unknown'
      const message = error instanceof Error ? error.message : String(error)
      throw unavailable(outcome === 'not-written'
        ? `${message}; nothing was written`
        : `${message}; the eventIds stay reserved for ${pendingTtlMs} ms (a retry before then gets 409)`,
      config.producer.retryAfterSeconds, {
        reason,
        outcome,
        hint: 'nothing was accepted: retry the same request (same eventIds) after Retry-After seconds'
      }, error)
    } finally {
      clearTimeout(timer)
    }
    // too slow: take the batch back if no producer has it yet; otherwise its outcome settles the reservations later
    abort.abort()
    const settled = publishing.catch(() => undefined).finally(() => { this.settling.delete(settled) })
    this.settling.add(settled)
    throw unavailable(`the broker did not confirm the events within ${config.producer.produceTimeoutMs} ms`, config.producer.retryAfterSeconds, {
      reason: 'timeout',
      outcome: 'pending',
      hint: 'retry the same request (same eventIds) after Retry-After seconds: an event that was written after all is then reported as a duplicate, not written twice'
    })
  }
}
