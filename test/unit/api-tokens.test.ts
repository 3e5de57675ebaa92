/**
 * Tokens and configuration: the token config format, hashing and verification, the bearer header, the
 * seed's producer tables as scopes, development tokens on disk (mode 600, reused, refused when others can
 * read them), and the API config's validation.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isDevtripError } from '../../events'
import {
  canProduceTo, ensureDevTokens, generateToken, hashToken, loadTokenConfig, parseBearer, parseTokenConfig,
  resolveApiConfig, SERVICE_SCOPES, TokenVerifier, TOKENS_ENV
} from '../../api'

let dir: string
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'devtrip-api-tokens-')) })
afterEach(() => { rmSync(dir, { recursive: true, force: true }) })

function problemOf (work: () => unknown): string {
  try {
    work()
  } catch (error) {
    if (isDevtripError(error, 'DEVTRIP_INVALID_OPTIONS')) return error.message
    throw error
  }
  throw new Error('expected DEVTRIP_INVALID_OPTIONS')
}

describe('token config', () => {
  const entry = { name: 'payment-service', sha256: hashToken('s3cret'), scopes: ['payment-events'] }

  test('a valid config verifies its token and only it', () => {
    const verifier = new TokenVerifier(parseTokenConfig({ tokens: [entry, { name: 'admin', sha256: hashToken('root'), scopes: ['admin'] }] }, 'test'))
    expect(verifier.verify('s3cret')?.name).toBe('payment-service')
    expect([...verifier.verify('root')!.scopes]).toEqual(['admin'])
    expect(verifier.verify('s3cret ')).toBeUndefined()
    expect(verifier.verify('')).toBeUndefined()
  })

  test('hashes are SHA-256 hex of the token', () => {
    expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
  })

  test('bad configs are refused with the pointer of the problem', () => {
    expect(problemOf(() => parseTokenConfig({}, 'f.json'))).toMatch(/in f\.json: \/ must have required property 'tokens'/)
    expect(problemOf(() => parseTokenConfig({ tokens: [{ ...entry, sha256: 'ABC' }] }, 'f'))).toMatch(/\/tokens\/0\/sha256/)
    expect(problemOf(() => parseTokenConfig({ tokens: [{ ...entry, scopes: ['ticket-ledger'] }] }, 'f'))).toMatch(/\/tokens\/0\/scopes\/0/)
    expect(problemOf(() => parseTokenConfig({ tokens: [{ ...entry, token: 'plain' }] }, 'f'))).toMatch(/must NOT have additional properties/)
    expect(problemOf(() => parseTokenConfig({ tokens: [entry, { ...entry, sha256: hashToken('x') }] }, 'f'))).toMatch(/"payment-service" is used twice/)
    expect(problemOf(() => parseTokenConfig({ tokens: [entry, { ...entry, name: 'other' }] }, 'f'))).toMatch(/repeats another token's hash/)
  })

  test('loadTokenConfig: a file option, else DEVTRIP_API_TOKENS as inline JSON or as a path, else undefined', () => {
    const file = join(dir, 'tokens.json')
    writeFileSync(file, JSON.stringify({ tokens: [entry] }))
    expect(loadTokenConfig(file, {})?.tokens[0]?.name).toBe('payment-service')
    expect(loadTokenConfig(undefined, { [TOKENS_ENV]: JSON.stringify({ tokens: [] }) })?.tokens).toEqual([])
    expect(loadTokenConfig(undefined, { [TOKENS_ENV]: file })?.tokens).toHaveLength(1)
    expect(loadTokenConfig(undefined, {})).toBeUndefined()
    expect(problemOf(() => loadTokenConfig(undefined, { [TOKENS_ENV]: '{oops' }))).toMatch(/starts with "\{" but is not JSON/)
    expect(problemOf(() => loadTokenConfig(undefined, { [TOKENS_ENV]: join(dir, 'missing.json') }))).toMatch(/which does not exist/)
  })

  test('generated tokens are long, random and of bearer syntax', () => {
    const a = generateToken()
    expect(a).toMatch(/^dts_[A-Za-z0-9_-]{43}$/)
    expect(generateToken()).not.toBe(a)
    expect(parseBearer(`Bearer ${a}`)).toEqual({ kind: 'token', token: a })
  })

  test('parseBearer', () => {
    expect(parseBearer(undefined)).toEqual({ kind: 'missing' })
    expect(parseBearer('')).toEqual({ kind: 'missing' })
    expect(parseBearer('bearer abc')).toEqual({ kind: 'token', token: 'abc' })
    expect(parseBearer('Basic abc')).toEqual({ kind: 'malformed' })
    expect(parseBearer('Bearer')).toEqual({ kind: 'malformed' })
    expect(parseBearer('Bearer a b')).toEqual({ kind: 'malformed' })
    expect(parseBearer('Bearer tok"en')).toEqual({ kind: 'malformed' })
    expect(parseBearer(['Bearer a', 'Bearer b'])).toEqual({ kind: 'malformed' })
  })
})

test('service scopes follow the seed producer tables', () => {
  expect(SERVICE_SCOPES).toEqual({
    'auth-service': ['auth-events'],
    'user-management-service': ['user-events'],
    'payment-service': ['payment-events', 'subscription-events'],
    'mission-service': ['mission-events'],
    'ai-evaluation-service': ['evaluation-events']
  })
  const admin = { name: 'admin', scopes: new Set(['admin'] as const) }
  expect(canProduceTo(admin, 'user-events')).toBe(true)
})

describe('development tokens', () => {
  test('generated once into a mode-600 file with hashes and the tokens; reused afterwards', () => {
    const file = join(dir, 'nested', 'api-tokens.json')
    const first = ensureDevTokens(file)
    expect(first.created).toBe(true)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const doc = JSON.parse(readFileSync(file, 'utf8'))
    expect(doc.tokens.map((t: { name: string }) => t.name)).toEqual([
      'auth-service', 'user-management-service', 'payment-service', 'mission-service', 'ai-evaluation-service', 'reader', 'admin'
    ])
    const verifier = new TokenVerifier(first.config)
    for (const [name, secret] of Object.entries(doc.secrets as Record<string, string>)) {
      expect(hashToken(secret)).toBe(doc.tokens.find((t: { name: string }) => t.name === name).sha256)
      expect(verifier.verify(secret)?.name).toBe(name)
    }
    const again = ensureDevTokens(file)
    expect(again.created).toBe(false)
    expect(again.config).toEqual(first.config)
  })

  test('a dev token file others can read is refused', () => {
    const file = join(dir, 'api-tokens.json')
    ensureDevTokens(file)
    chmodSync(file, 0o644)
    expect(problemOf(() => ensureDevTokens(file))).toMatch(/readable by others \(mode 644\)/)
  })
})

describe('API config', () => {
  test('defaults', () => {
    const config = resolveApiConfig({})
    expect(config).toMatchObject({
      host: '127.0.0.1', port: 8088, topicPrefix: '', maxBodyBytes: 1048576, maxEventsPerRequest: 1000,
      rateLimit: { requestsPerSecond: 100, burst: 200 },
      idempotency: { retentionMs: 604800000, pendingTtlMs: 120000 },
      producer: { poolSize: 8, transactionTimeoutMs: 60000, produceTimeoutMs: 10000 }
    })
    expect(config.producer.transactionalIdPrefix).toMatch(/^devtrip-api-.+-\d+$/)
    expect(Object.isFrozen(config.producer)).toBe(true)
  })

  test('unknown fields, wrong types and a reservation shorter than a transaction are refused', () => {
    expect(problemOf(() => resolveApiConfig({ prot: 1 } as never))).toMatch(/must NOT have additional properties/)
    expect(problemOf(() => resolveApiConfig({ maxBodyBytes: 'big' } as never))).toMatch(/\/maxBodyBytes must be integer/)
    expect(problemOf(() => resolveApiConfig({ topicPrefix: 'bad prefix' }))).toMatch(/\/topicPrefix/)
    expect(problemOf(() => resolveApiConfig({ idempotency: { pendingTtlMs: 30000 }, producer: { transactionTimeoutMs: 60000 } })))
      .toMatch(/pendingTtlMs \(30000\) must be larger than \/producer\/transactionTimeoutMs \(60000\)/)
  })
})
