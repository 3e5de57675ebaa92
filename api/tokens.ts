/**
 * Bearer tokens: which exist, what each may do, and checking a presented one.
 *
 * Config holds only SHA-256 hashes of tokens, never the tokens. A plain (unsalted, fast) hash is enough
 * because the tokens are 256-bit random strings, not passwords: nobody can guess a preimage, so a slow,
 * salted hash (scrypt) would only cost CPU on every request and buy nothing.
 *
 * Config document (a file, or the JSON itself in DEVTRIP_API_TOKENS):
 *   { "tokens": [ { "name": "payment-service", "sha256": "<64 hex>", "scopes": ["payment-events", "subscription-events"] } ],
 *     "secrets": { ... } }   // optional, only in the dev file `api` writes; never read by the server
 * Scopes: a domain topic (may produce to it), "read" (may call the query routes), "admin" (everything).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import Ajv from 'ajv'
import { DevtripError, DOMAIN_TOPICS, TOPIC_CATALOG, type DomainTopic, type Service } from '../events'

export const ADMIN_SCOPE = 'admin'
export const READ_SCOPE = 'read'
export type Scope = DomainTopic | typeof ADMIN_SCOPE | typeof READ_SCOPE
export const SCOPES: readonly Scope[] = Object.freeze([...DOMAIN_TOPICS, ADMIN_SCOPE, READ_SCOPE])

/** Environment variable holding the token config: inline JSON, or the path of a JSON file. */
export const TOKENS_ENV = 'DEVTRIP_API_TOKENS'

export interface TokenEntry {
  /** who holds it (a service name); shown in logs and metrics, so never a secret */
  readonly name: string
  /** hex SHA-256 of the token's UTF-8 bytes */
  readonly sha256: string
  readonly scopes: readonly Scope[]
}

export interface TokenConfig {
  readonly tokens: readonly TokenEntry[]
}

/** The caller a valid token identifies. */
export interface Principal {
  readonly name: string
  readonly scopes: ReadonlySet<Scope>
}

/**
 * The topics each producing service may write, from the seed's producer tables (the topic catalog's
 * `producers` of each source topic): auth-service → auth-events, payment-service → payment-events and
 * subscription-events, …
 */
export const SERVICE_SCOPES: Readonly<Partial<Record<Service, readonly DomainTopic[]>>> = (() => {
  const scopes: Partial<Record<Service, DomainTopic[]>> = {}
  for (const topic of TOPIC_CATALOG) {
    if (topic.role !== 'source') continue
    for (const producer of topic.producers ?? []) {
      const list = scopes[producer as Service] ?? []
      list.push(topic.name as DomainTopic)
      scopes[producer as Service] = list
    }
  }
  for (const list of Object.values(scopes)) Object.freeze(list)
  return Object.freeze(scopes)
})()

const configSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['tokens'],
  properties: {
    tokens: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'sha256', 'scopes'],
        properties: {
          name: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,100}$' },
          sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
          scopes: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: SCOPES } }
        }
      }
    },
    // the dev file keeps the generated tokens beside their hashes so a developer can read them; ignored here
    secrets: { type: 'object', additionalProperties: { type: 'string' } },
    note: { type: 'string' }
  }
} as const

const validateConfig = new Ajv({ allErrors: true }).compile(configSchema)

/** Checks a token config document; `source` names where it came from, for the error message. */
export function parseTokenConfig (document: unknown, source: string): TokenConfig {
  if (!validateConfig(document)) {
    const problems = (validateConfig.errors ?? []).map((e) => `${e.instancePath === '' ? '/' : e.instancePath} ${e.message ?? 'is invalid'}`)
    throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `invalid API token config in ${source}: ${problems.join('; ')}`, {
      details: { problems, hint: 'see "Authentication" in docs/api.md for the format' }
    })
  }
  const doc = document as { tokens: TokenEntry[] }
  const names = new Set<string>()
  const hashes = new Set<string>()
  for (const [i, entry] of doc.tokens.entries()) {
    if (names.has(entry.name)) throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `invalid API token config in ${source}: /tokens/${i}/name "${entry.name}" is used twice`)
    if (hashes.has(entry.sha256)) throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `invalid API token config in ${source}: /tokens/${i}/sha256 repeats another token's hash`)
    names.add(entry.name)
    hashes.add(entry.sha256)
  }
  return Object.freeze({
    tokens: Object.freeze(doc.tokens.map((t) => Object.freeze({ name: t.name, sha256: t.sha256, scopes: Object.freeze([...t.scopes]) })))
  })
}

function readJsonFile (path: string): unknown {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `cannot read the API token file ${path}: ${(error as Error).message}`, { cause: error })
  }
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `the API token file ${path} is not JSON: ${(error as Error).message}`, { cause: error })
  }
}

export function loadTokenFile (path: string): TokenConfig {
  return parseTokenConfig(readJsonFile(path), path)
}

/**
 * The token config from a file option, else from DEVTRIP_API_TOKENS (inline JSON when it starts with `{`,
 * else a file path); undefined when neither is set.
 */
export function loadTokenConfig (file: string | undefined, env: NodeJS.ProcessEnv = process.env): TokenConfig | undefined {
  if (file !== undefined && file !== '') return loadTokenFile(file)
  const value = env[TOKENS_ENV]?.trim()
  if (value === undefined || value === '') return undefined
  if (value.startsWith('{')) {
    let document: unknown
    try {
      document = JSON.parse(value)
    } catch (error) {
      throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `${TOKENS_ENV} starts with "{" but is not JSON: ${(error as Error).message}`, { cause: error })
    }
    return parseTokenConfig(document, TOKENS_ENV)
  }
  if (!existsSync(value)) throw new DevtripError('DEVTRIP_INVALID_OPTIONS', `${TOKENS_ENV} names the file ${value}, which does not exist`)
  return loadTokenFile(value)
}

export function hashToken (token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex')
}

/** A new token: `dts_` + 32 random bytes in base64url (256 bits of entropy). */
export function generateToken (): string {
  return 'dts_' + randomBytes(32).toString('base64url')
}

/** Token syntax of RFC 6750 (b64token); anything else cannot be one of ours. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/

/** What the Authorization header holds: no header, something that is not a bearer token, or a token. */
export type BearerParse = { kind: 'missing' } | { kind: 'malformed' } | { kind: 'token', token: string }

export function parseBearer (header: string | string[] | undefined): BearerParse {
  if (header === undefined || header === '') return { kind: 'missing' }
  if (Array.isArray(header)) return { kind: 'malformed' }
  const match = /^Bearer +(\S+) *$/i.exec(header)
  if (match === null || match[1]!.length > 512 || !B64TOKEN.test(match[1]!)) return { kind: 'malformed' }
  return { kind: 'token', token: match[1]! }
}

/** Checks presented tokens against the configured hashes in constant time. */
export class TokenVerifier {
  private readonly entries: ReadonlyArray<{ readonly hash: Buffer, readonly principal: Principal }>

  constructor (config: TokenConfig) {
    this.entries = config.tokens.map((t) => ({
      hash: Buffer.from(t.sha256, 'hex'),
      principal: Object.freeze({ name: t.name, scopes: new Set(t.scopes) })
    }))
  }

  get size (): number {
    return this.entries.length
  }

  /** The principal of a valid token, else undefined. */
  verify (token: string): Principal | undefined {
    const presented = createHash('sha256').update(token, 'utf8').digest()
    let found: Principal | undefined
    // compare against every entry, without stopping at a match, so the time taken does not tell which (or
    // whether) an entry matched; both sides are always 32 bytes, as timingSafeEqual requires
    for (const entry of this.entries) {
      if (timingSafeEqual(presented, entry.hash)) found = entry.principal
    }
    return found
  }
}

/** Whether a principal may produce to a topic. */
export function canProduceTo (principal: Principal, topic: DomainTopic): boolean {
  return principal.scopes.has(ADMIN_SCOPE) || principal.scopes.has(topic)
}

/** Whether a principal holds any of the scopes (admin holds all). */
export function hasAnyScope (principal: Principal, scopes: readonly Scope[]): boolean {
  return principal.scopes.has(ADMIN_SCOPE) || scopes.some((s) => principal.scopes.has(s))
}
