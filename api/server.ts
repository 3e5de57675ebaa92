/**
 * buildApiServer(): the Fastify application, with every dependency injected, so tests can swap Kafka and
 * Redis for fakes and a process that runs topologies can pass its query service.
 *
 *   const app = await buildApiServer({ tokens, kafka: createKafkaClients({ brokers }), redis, config: { port: 8088 } })
 *   await app.listen({ host: app.devtrip.config.host, port: app.devtrip.config.port })
 *   ...
 *   await app.close()   // stops accepting, finishes in-flight requests and transactions, closes producers and the store
 *
 * Ownership: the server closes the publisher and idempotency store it uses (created here or injected);
 * an injected Redis client or Kafka client factory stays the caller's to close.
 */
import fastify, { LogController, type FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import { DevtripError, DOMAIN_TOPICS } from '../events'
import type { KafkaClientFactory } from '../streams/kafka'
import { resolveApiConfig, type ApiConfig, type ApiConfigInput, type LogLevel } from './config'
import type { ApiContext, ExtraServices, LagService } from './context'
import { RedisIdempotencyStore } from './idempotency/redis-store'
import type { IdempotencyStore } from './idempotency/store'
import { IngestService } from './ingest/ingest-service'
import type { EventPublisher } from './ingest/publisher'
import { TransactionalPublisher } from './ingest/transactional-publisher'
import { ApiMetrics } from './metrics'
import type { RouteInfo } from './openapi'
import { authPlugin } from './plugins/auth'
import { bodyPlugin } from './plugins/body'
import { errorsPlugin } from './plugins/errors'
import { idempotencyPlugin } from './plugins/idempotency'
import { metricsPlugin } from './plugins/metrics'
import { rateLimitPlugin } from './plugins/rate-limit'
import { generateRequestId } from './plugins/request-id'
import { requestIdPlugin } from './plugins/request-id'
import type { QueriesService } from './queries'
import { registerRouteModules, ROUTES_DIR } from './route-loader'
import { TokenVerifier, type TokenConfig } from './tokens'

/** Where log lines go: Fastify's pino logger at a level, optionally into a stream (tests capture it). */
export interface ApiLoggerOptions {
  readonly level?: LogLevel
  readonly stream?: { write (line: string): void }
}

export interface ApiServerOptions {
  readonly config?: ApiConfigInput
  /** the token config (hashes), or a verifier built from one */
  readonly tokens: TokenConfig | TokenVerifier
  /** Kafka clients; used to create the transactional publisher unless `publisher` is given */
  readonly kafka?: KafkaClientFactory
  readonly publisher?: EventPublisher
  /** Redis client; used to create the idempotency store unless `idempotency` is given */
  readonly redis?: Redis
  readonly idempotency?: IdempotencyStore
  readonly queries?: QueriesService
  readonly lag?: LagService
  readonly extras?: Partial<ExtraServices>
  /** false: no logging; default: config.logLevel to stdout */
  readonly logger?: false | ApiLoggerOptions
  readonly metrics?: ApiMetrics
  /** where route modules are loaded from (tests point it elsewhere) */
  readonly routesDir?: string
}

function loggerOption (options: ApiServerOptions, config: ApiConfig): unknown {
  if (options.logger === false) return false
  const level = options.logger?.level ?? config.logLevel
  return {
    level,
    // belt and braces: the request serializer logs no headers, but a future log call must not leak a token
    redact: { paths: ['req.headers.authorization', 'headers.authorization', 'authorization'], censor: '[redacted]' },
    ...(options.logger?.stream === undefined ? {} : { stream: options.logger.stream })
  }
}

function requirePublisher (options: ApiServerOptions, config: ApiConfig, app: FastifyInstance): EventPublisher {
  if (options.publisher !== undefined) return options.publisher
  if (options.kafka === undefined) {
    throw new DevtripError('DEVTRIP_INVALID_OPTIONS', 'buildApiServer needs `kafka` (a client factory) or `publisher`')
  }
  const p = config.producer
  return new TransactionalPublisher(options.kafka, {
    poolSize: p.poolSize,
    transactionalIdPrefix: p.transactionalIdPrefix,
    transactionTimeoutMs: p.transactionTimeoutMs,
    maxQueuedEvents: p.maxQueuedEvents,
    maxEventsPerTransaction: p.maxEventsPerTransaction,
    unavailableForMs: p.retryAfterSeconds * 1000,
    clientId: 'devtrip-api'
  }, app.log.child({ component: 'publisher' }))
}

function requireIdempotencyStore (options: ApiServerOptions, config: ApiConfig): IdempotencyStore {
  if (options.idempotency !== undefined) return options.idempotency
  if (options.redis === undefined) {
    throw new DevtripError('DEVTRIP_INVALID_OPTIONS', 'buildApiServer needs `redis` (an ioredis client) or `idempotency`')
  }
  return new RedisIdempotencyStore(options.redis, { keyPrefix: config.idempotency.keyPrefix, ownsClient: false })
}

export async function buildApiServer (options: ApiServerOptions): Promise<FastifyInstance> {
  const config = resolveApiConfig(options.config)
  const tokens = options.tokens instanceof TokenVerifier ? options.tokens : new TokenVerifier(options.tokens)
  const app = fastify({
    logger: loggerOption(options, config) as boolean,
    bodyLimit: config.maxBodyBytes,
    genReqId: generateRequestId,
    // log lines carry the request id under the same name as error bodies do
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // ids in paths may be 200 characters (the event id rule); longer ones reach the route's own 400
    routerOptions: { maxParamLength: 256 },
    return503OnClosing: true,
    forceCloseConnections: 'idle'
  })
  try {
    const metrics = options.metrics ?? new ApiMetrics()
    const publisher = requirePublisher(options, config, app)
    const idempotency = requireIdempotencyStore(options, config)
    const ingest = new IngestService({ config, publisher, idempotency, metrics, log: app.log.child({ component: 'ingest' }) })
    const routes: RouteInfo[] = []
    const context: ApiContext = {
      config,
      metrics,
      tokens,
      publisher,
      idempotency,
      ingest,
      queries: options.queries,
      lag: options.lag,
      extras: options.extras ?? {},
      ingestTopics: Object.freeze(DOMAIN_TOPICS.map((t) => config.topicPrefix + t)),
      routes
    }
    app.decorate('devtrip', context)
    app.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method]
      const routeConfig = (route.config ?? {}) as { description?: string, auth?: 'public' | 'token', scopes?: readonly string[] }
      for (const method of methods) {
        routes.push({
          method,
          url: route.url,
          ...(routeConfig.description === undefined ? {} : { description: routeConfig.description }),
          ...(routeConfig.auth === undefined ? {} : { auth: routeConfig.auth }),
          ...(routeConfig.scopes === undefined ? {} : { scopes: routeConfig.scopes })
        })
      }
    })

    // order matters: hooks of the same kind run in registration order (auth before rate limit)
    await app.register(requestIdPlugin)
    await app.register(errorsPlugin, { bodyLimit: config.maxBodyBytes })
    await app.register(metricsPlugin, { metrics })
    await app.register(authPlugin, { tokens })
    await app.register(rateLimitPlugin, { rateLimit: config.rateLimit })
    await app.register(bodyPlugin, { maxBodyBytes: config.maxBodyBytes })
    await app.register(idempotencyPlugin, {
      store: idempotency,
      drain: async () => {
        await publisher.close()
        await ingest.drain()
      }
    })
    await registerRouteModules(app, options.routesDir ?? ROUTES_DIR)
    await app.ready()
    return app
  } catch (error) {
    await app.close().catch(() => undefined)
    throw error
  }
}
