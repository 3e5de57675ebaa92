/**
 * Bearer-token authentication for every route that does not declare `config: { auth: 'public' }`, and the
 * route-level scope check (`config: { scopes: [...] }`). Runs in onRequest, before the body is read, so an
 * unauthenticated client cannot make the server parse or decompress anything.
 *
 * 401 (with WWW-Authenticate) for a missing, malformed or unknown token; 403 for a token without the scope.
 * The token itself is never logged or echoed; only the holder's name is (request.principal.name).
 */
import { ApiError } from '../api-error'
import { hasAnyScope, parseBearer, type TokenVerifier } from '../tokens'
import { sendError } from './errors'
import { globalPlugin } from './global-plugin'

const REALM = 'devtrip-api'

export const authPlugin = globalPlugin<{ tokens: TokenVerifier }>('devtrip-auth', async (app, options) => {
  app.decorateRequest('principal', null)

  app.addHook('onRequest', async (request, reply) => {
    const config = request.routeOptions.config
    // unknown routes answer 404 whoever asks; the route list is public (/docs) anyway
    if (request.is404 || config.auth === 'public') return
    const bearer = parseBearer(request.headers.authorization)
    if (bearer.kind !== 'token') {
      const missing = bearer.kind === 'missing'
      return sendError(request, reply, new ApiError('DEVTRIP_API_UNAUTHORIZED',
        missing ? 'this route needs a bearer token: send Authorization: Bearer <token>' : 'the Authorization header is not a bearer token',
        { headers: { 'www-authenticate': missing ? `Bearer realm="${REALM}"` : `Bearer realm="${REALM}", error="invalid_request"` } }))
    }
    const principal = options.tokens.verify(bearer.token)
    if (principal === undefined) {
      return sendError(request, reply, new ApiError('DEVTRIP_API_UNAUTHORIZED', 'the bearer token is not valid',
        { headers: { 'www-authenticate': `Bearer realm="${REALM}", error="invalid_token"` } }))
    }
    request.principal = principal
    request.log.debug({ principal: principal.name }, 'authenticated')
    const scopes = config.scopes
    if (scopes !== undefined && scopes.length > 0 && !hasAnyScope(principal, scopes)) {
      return sendError(request, reply, new ApiError('DEVTRIP_API_FORBIDDEN', `the token "${principal.name}" lacks the scope this route needs (one of: ${scopes.join(', ')})`, {
        details: { required: [...scopes], scopes: [...principal.scopes] },
        headers: { 'www-authenticate': `Bearer realm="${REALM}", error="insufficient_scope", scope="${scopes.join(' ')}"` }
      }))
    }
  })
})
