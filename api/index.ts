/**
 * The public face of api/: the ingest HTTP API (Fastify). Build a server with buildApiServer(); the CLI's
 * `devtrip-streams api` does exactly that with brokers, Redis and tokens from its options.
 */
export { buildApiServer, type ApiServerOptions, type ApiLoggerOptions } from './server'
export { resolveApiConfig, type ApiConfig, type ApiConfigInput, type IdempotencyConfig, type ProducerConfig, type QueriesConfig, type RateLimitConfig, type LogLevel } from './config'
export type { ApiContext, ExtraServices, LagService, RouteAuth } from './context'
export { ApiError, isApiError, statusForCode, unavailable } from './api-error'
export {
  ADMIN_SCOPE, READ_SCOPE, SCOPES, SERVICE_SCOPES, TOKENS_ENV, TokenVerifier,
  canProduceTo, generateToken, hashToken, hasAnyScope, loadTokenConfig, loadTokenFile, parseBearer, parseTokenConfig,
  type Principal, type Scope, type TokenConfig, type TokenEntry
} from './tokens'
export { DEV_TOKENS_FILE_NAME, ensureDevTokens, generateDevTokens, type DevTokens } from './dev-tokens'
export {
  DEFAULT_TICKET_LIMIT, MAX_TICKET_LIMIT, SERVED_BY_HEADER, QueryUnavailableError, StateRestoringError, isRestoringError,
  type QueriesService, type QueryContext, type UnavailableReason, type UserTickets
} from './queries'
export type { IdempotencyStore, IdempotencyRecord, ProducedLocation, ReserveOutcome } from './idempotency/store'
export { RedisIdempotencyStore, type RedisIdempotencyStoreOptions } from './idempotency/redis-store'
export { MemoryIdempotencyStore } from './idempotency/memory-store'
export { PublishError, type EventPublisher, type PublishOptions } from './ingest/publisher'
export { TransactionalPublisher, type TransactionalPublisherOptions } from './ingest/transactional-publisher'
export { IngestService, type IngestRequest, type IngestResult, type IngestResultItem } from './ingest/ingest-service'
export { ApiMetrics } from './metrics'
export { buildOpenApiDocument, type RouteInfo } from './openapi'
export { sendError, type ErrorBody } from './plugins/errors'
export { REQUEST_ID_HEADER } from './plugins/request-id'
export {
  createRemoteQueries, topologyResolver, InstanceClient, RemoteQueries,
  type InstanceAnswer, type InstanceClientOptions, type InstanceGetter, type InstanceRequest, type OwnerLookup, type RemoteQueriesOptions, type RemoteQueriesSetup
} from './queries/index'
export { buildInstanceServer, type InstanceServerOptions, type InstanceContext, type QueryableApp } from './instance/instance-server'
