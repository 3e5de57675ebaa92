/**
 * StreamsApp configuration: validation, defaults, freezing — and docs/configuration.md lists every key of the
 * schema with its default.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { isDevtripError } from '../../events/errors'
import { resolveStreamsConfig, STREAMS_CONFIG_SCHEMA } from '../../streams/runtime/config'

const base = { applicationId: 'app-1', bootstrapServers: ['127.0.0.1:19092'] }

function schemaKeys (): Array<{ key: string, default: unknown }> {
  const out: Array<{ key: string, default: unknown }> = []
  for (const [key, def] of Object.entries(STREAMS_CONFIG_SCHEMA.properties)) {
    const nested = (def as { properties?: Record<string, { default?: unknown }> }).properties
    if (nested !== undefined) {
      for (const [sub, subDef] of Object.entries(nested)) out.push({ key: `${key}.${sub}`, default: subDef.default })
    } else {
      out.push({ key, default: (def as { default?: unknown }).default })
    }
  }
  return out
}

describe('docs/configuration.md', () => {
  const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'configuration.md'), 'utf8')
  const keysSection = doc.slice(doc.indexOf('## Keys'), doc.indexOf('\n## ', doc.indexOf('## Keys') + 1))
  const rows = new Map<string, string>()
  for (const line of keysSection.split('\n')) {
    const m = /^\| `([A-Za-z.]+)` \| ([^|]+) \|/.exec(line)
    if (m !== null) rows.set(m[1] as string, (m[2] as string).trim())
  }

  test.each(schemaKeys())('lists $key with its default', ({ key, default: value }) => {
    expect(rows.has(key)).toBe(true)
    if (value !== undefined) expect(rows.get(key)).toBe(`\`${String(value)}\``)
  })

  test('lists no key the schema does not have', () => {
    const keys = new Set(schemaKeys().map((k) => k.key))
    expect([...rows.keys()].filter((k) => !keys.has(k))).toEqual([])
  })

  test('required keys say so', () => {
    for (const key of STREAMS_CONFIG_SCHEMA.required) expect(rows.get(key)).toBe('(required)')
  })
})

describe('resolveStreamsConfig', () => {
  test('fills the documented defaults and freezes the result', () => {
    const config = resolveStreamsConfig(base)
    expect(config.processingGuarantee).toBe('exactly-once')
    expect(config.commitIntervalMs).toBe(100)
    expect(config.transactionTimeoutMs).toBe(10_000)
    expect(config.rocksdb).toEqual({ blockCacheBytes: 64 * 1024 * 1024, writeBufferBytes: 16 * 1024 * 1024, readCacheBytes: 4 * 1024 * 1024 })
    expect(config.clientId).toBe(`app-1-${process.pid}`)
    expect(config.applicationServer).toBeUndefined()
    expect(Object.isFrozen(config)).toBe(true)
    expect(Object.isFrozen(config.rocksdb)).toBe(true)
    expect(Object.isFrozen(config.bootstrapServers)).toBe(true)
  })

  test('at-least-once commits every 30 s unless told otherwise', () => {
    expect(resolveStreamsConfig({ ...base, processingGuarantee: 'at-least-once' }).commitIntervalMs).toBe(30_000)
    expect(resolveStreamsConfig({ ...base, processingGuarantee: 'at-least-once', commitIntervalMs: 5 }).commitIntervalMs).toBe(5)
  })

  test('the caller object is not changed', () => {
    const input = { ...base }
    resolveStreamsConfig(input)
    expect(input).toEqual(base)
  })

  test.each([
    [{ ...base, applicationId: 'has space' }, '/applicationId'],
    [{ ...base, bootstrapServers: [] }, '/bootstrapServers'],
    [{ ...base, bootstrapServers: ['no-port'] }, '/bootstrapServers/0'],
    [{ ...base, commitIntervalMs: 0 }, '/commitIntervalMs'],
    [{ ...base, processingGuarantee: 'maybe-once' }, '/processingGuarantee'],
    [{ ...base, deserializationExceptionHandler: 'ignore' }, '/deserializationExceptionHandler'],
    [{ ...base, rocksdb: { writeBufferBytes: 10 } }, '/rocksdb/writeBufferBytes'],
    [{ ...base, unknownKey: 1 }, 'must NOT have additional properties'],
    [{ ...base, heartbeatIntervalMs: 6000, sessionTimeoutMs: 6000 }, '/heartbeatIntervalMs must be below /sessionTimeoutMs']
  ])('rejects %j naming %s', (input, pointer) => {
    try {
      resolveStreamsConfig(input as never)
      throw new Error('accepted')
    } catch (error) {
      expect(isDevtripError(error, 'DEVTRIP_INVALID_OPTIONS')).toBe(true)
      expect((error as Error).message).toContain(pointer)
    }
  })
})
