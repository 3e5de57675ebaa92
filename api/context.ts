/**
 * What every route and plugin can reach: `app.devtrip` (the services of this server), `request.principal`
 * (who called) and the per-route `config` options the plugins read. Route modules added by other files
 * (api/routes/*.ts) use exactly these.
 *
 *   app.get('/v1/thing', { config: { scopes: ['admin'] } }, async (request) => app.devtrip.lag ...)
 *
 * Route config:
 *   auth: 'public'      no token needed (health, metrics, docs); default: a valid bearer token is required
 *   scopes: [...]       the token must hold one of these scopes (admin holds all); 403 otherwise
 *   rateLimit: false    not counted against the token's rate limit
 *   description: '…'    one line for the generated OpenAPI document
 */
import type { ApiConfig } from './config'
import type { IdempotencyStore } from './idempotency/store'
import type { IngestService } from './ingest/ingest-service'
import type { EventPublisher } from './ingest/publisher'
import type { ApiMetrics } from './metrics'
import type { RouteInfo } from './openapi'
import type { QueriesService } from './queries'
import type { Principal, Scope, TokenVerifier } from './tokens'

/**
 * The consumer-lag service the lag route reads. Its methods are defined where it is implemented: that
 * module adds them to this interface by declaration merging
 * (`declare module '<path>/api/context' { interface LagService { … } }`), so buildApiServer stays typed
 * without this file knowing them.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface LagService {}

/** Further services a route module may need; extended by declaration merging like LagService. */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface ExtraServices {}

export interface ApiContext {
  readonly config: ApiConfig
  readonly metrics: ApiMetrics
  readonly tokens: TokenVerifier
  readonly publisher: EventPublisher
  readonly idempotency: IdempotencyStore
  readonly ingest: IngestService
  /** undefined: this process serves no queries (the query routes answer 503) */
  readonly queries: QueriesService | undefined
  readonly lag: LagService | undefined
  readonly extras: Partial<ExtraServices>
  /** the Kafka topics this server produces to (catalog names behind the prefix), for readiness */
  readonly ingestTopics: readonly string[]
  /** every route registered, in order (filled as routes are added; read by the OpenAPI document) */
  readonly routes: readonly RouteInfo[]
}

export type RouteAuth = 'public' | 'token'

declare module 'fastify' {
  interface FastifyInstance {
    devtrip: ApiContext
  }
  interface FastifyRequest {
    /** the caller, once the auth plugin accepted its token; null on public routes */
    principal: Principal | null
    /** the error code the response carries, for the rejected-requests metric */
    errorCode: string | null
  }
  interface FastifyContextConfig {
    auth?: RouteAuth
    scopes?: readonly Scope[]
    rateLimit?: boolean
    description?: string
  }
}
