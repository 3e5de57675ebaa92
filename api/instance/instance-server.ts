/**
 * The query endpoint of one `run` instance: a small Fastify server that answers key lookups from the stores of
 * the StreamsApps in this process (the remote half of interactive queries). The API process finds the instance that
 * holds a key (streams/runtime/query-metadata.ts) and asks it here (api/queries/remote-queries.ts).
 *
 *   const server = await buildInstanceServer({ apps })     // apps: applicationId → StreamsApp (may be filled later)
 *   const address = await server.listen({ host: '127.0.0.1', port: 0 })
 *
 * It is an internal endpoint: no tokens (the public API authenticates callers and forwards), so bind it to an
 * address only the API can reach. Routes: store-routes.ts. Errors have the API's body shape
 * (`{ error: { code, message, requestId, details? } }`); every response names this instance in
 * `x-devtrip-served-by` once `applicationServer` is set.
 */
import fastify, { type FastifyInstance } from 'fastify'
import type { AppState, LocalStoreSource, StreamsApp } from '../../streams'
import { errorsPlugin } from '../plugins/errors'
import { generateRequestId, requestIdPlugin } from '../plugins/request-id'
import { SERVED_BY_HEADER } from '../queries'
import { storeRoutes } from './store-routes'

/** What the endpoint needs of a running application; a StreamsApp is one. */
export interface QueryableApp extends LocalStoreSource {
  readonly state: AppState
  /** where the key's partition lives now (to tell a misdirected caller where to go); optional */
  queryMetadataForKey?: StreamsApp['queryMetadataForKey']
}

export interface InstanceServerOptions {
  /** applicationId → app; read on every request, so apps may be added after the server was built */
  readonly apps: ReadonlyMap<string, QueryableApp>
  /** how this instance is advertised ("host:port"); a function when it is known only after listen() */
  readonly applicationServer?: string | (() => string | undefined)
  /** Retry-After of a 503 (restoring), seconds; default 1 */
  readonly retryAfterSeconds?: number
  /** false: no logging (default); or a pino level */
  readonly logLevel?: false | 'error' | 'warn' | 'info' | 'debug'
}

/** Decorations the routes read (this server's own, not the public API's `app.devtrip`). */
export interface InstanceContext {
  readonly apps: ReadonlyMap<string, QueryableApp>
  readonly retryAfterSeconds: number
  applicationServer (): string | undefined
}

declare module 'fastify' {
  interface FastifyInstance {
    devtripInstance: InstanceContext
  }
}

export async function buildInstanceServer (options: InstanceServerOptions): Promise<FastifyInstance> {
  const server = options.applicationServer
  const context: InstanceContext = {
    apps: options.apps,
    retryAfterSeconds: options.retryAfterSeconds ?? 1,
    applicationServer: typeof server === 'function' ? server : () => server
  }
  const level = options.logLevel ?? false
  const app = fastify({
    logger: level === false ? false : { level },
    genReqId: generateRequestId,
    // keys may be 200 characters, and URL-encoding can triple that
    routerOptions: { maxParamLength: 1024 },
    return503OnClosing: true,
    forceCloseConnections: 'idle'
  })
  try {
    app.decorate('devtripInstance', context)
    app.addHook('onSend', async (_request, reply) => {
      const self = context.applicationServer()
      if (self !== undefined) reply.header(SERVED_BY_HEADER, self)
    })
    await app.register(requestIdPlugin)
    await app.register(errorsPlugin, { bodyLimit: 1024, routesHint: 'this instance endpoint serves GET /v1/instance and GET /v1/instance/apps/:applicationId/stores/:store/keys/:key only (docs/api.md)' })
    await app.register(storeRoutes)
    await app.ready()
    return app
  } catch (error) {
    await app.close().catch(() => undefined)
    throw error
  }
}
