/**
 * Per-token rate limit: a token bucket per token holder, `burst` requests deep, refilled at
 * `requestsPerSecond`. A request that finds the bucket empty gets 429 with Retry-After = the seconds until
 * a request's worth has refilled. Counted after authentication (an unknown token is already a 401), before
 * the body is read.
 *
 * The buckets live in this process: with several API processes behind a balancer each enforces the limit
 * on the share it sees. That is deliberate — the limit protects this process and the broker behind it, and
 * a shared counter would put a Redis round trip in front of every request.
 */
import { ApiError } from '../api-error'
import type { RateLimitConfig } from '../config'
import { sendError } from './errors'
import { globalPlugin } from './global-plugin'

export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number, updatedAt: number }>()

  constructor (private readonly config: RateLimitConfig, private readonly now: () => number = Date.now) {}

  /** Takes one request's worth for `key`; returns 0 when allowed, else the seconds to wait. */
  take (key: string): number {
    const { requestsPerSecond, burst } = this.config
    if (requestsPerSecond <= 0) return 0
    const now = this.now()
    const bucket = this.buckets.get(key) ?? { tokens: burst, updatedAt: now }
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * requestsPerSecond)
    bucket.updatedAt = now
    this.buckets.set(key, bucket)
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return 0
    }
    return (1 - bucket.tokens) / requestsPerSecond
  }
}

export const rateLimitPlugin = globalPlugin<{ rateLimit: RateLimitConfig, now?: () => number }>('devtrip-rate-limit', async (app, options) => {
  const buckets = new TokenBuckets(options.rateLimit, options.now)
  app.addHook('onRequest', async (request, reply) => {
    if (request.principal === null || request.routeOptions.config.rateLimit === false) return
    const wait = buckets.take(request.principal.name)
    if (wait > 0) {
      return sendError(request, reply, new ApiError('DEVTRIP_API_RATE_LIMITED', `the token "${request.principal.name}" sent more than ${options.rateLimit.requestsPerSecond} requests per second (burst ${options.rateLimit.burst})`, {
        retryAfterSeconds: wait,
        details: { requestsPerSecond: options.rateLimit.requestsPerSecond, burst: options.rateLimit.burst }
      }))
    }
  })
})
