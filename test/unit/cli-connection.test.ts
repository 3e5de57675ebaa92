/**
 * cli/connection.ts: where commands find Kafka and Redis — option, then environment, then the infra.env that
 * `infra up` wrote (in $DEVTRIP_LOCAL_DIR); nothing found is an error pointing at `infra up`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { resolveBrokers, resolveRedisUrl } from '../../cli/connection'
import { CliError } from '../../cli/output'

const saved = { KAFKA_BROKERS: process.env.KAFKA_BROKERS, REDIS_URL: process.env.REDIS_URL, DEVTRIP_LOCAL_DIR: process.env.DEVTRIP_LOCAL_DIR }
let dir: string

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'devtrip-connection-'))
  process.env.DEVTRIP_LOCAL_DIR = dir
  delete process.env.KAFKA_BROKERS
  delete process.env.REDIS_URL
})

afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key]
    else process.env[key] = value
  }
})

test('the option wins over the environment, which wins over infra.env', () => {
  writeFileSync(join(dir, 'infra.env'), '# written by infra up\nKAFKA_BROKERS=127.0.0.1:1111\nREDIS_URL=redis://127.0.0.1:2222\n')
  expect(resolveBrokers()).toEqual(['127.0.0.1:1111'])
  expect(resolveRedisUrl()).toBe('redis://127.0.0.1:2222')
  process.env.KAFKA_BROKERS = '127.0.0.1:3333, 127.0.0.1:4444'
  process.env.REDIS_URL = 'redis://127.0.0.1:5555'
  expect(resolveBrokers()).toEqual(['127.0.0.1:3333', '127.0.0.1:4444'])
  expect(resolveRedisUrl()).toBe('redis://127.0.0.1:5555')
  expect(resolveBrokers('10.0.0.1:9092')).toEqual(['10.0.0.1:9092'])
  expect(resolveRedisUrl('redis://10.0.0.1:6379')).toBe('redis://10.0.0.1:6379')
})

test('nothing anywhere: a CliError that says to run infra up', () => {
  for (const resolve of [() => resolveBrokers(), () => resolveRedisUrl()]) {
    try {
      resolve()
      throw new Error('no error')
    } catch (error) {
      expect(error).toBeInstanceOf(CliError)
      expect((error as CliError).hint).toContain('run `bin/devtrip-streams infra up` first')
      expect((error as CliError).message).toContain(join(dir, 'infra.env'))
      expect((error as CliError).exitCode).toBe(1)
    }
  }
})

test('malformed addresses are bad usage (exit 2)', () => {
  expect(() => resolveBrokers('localhost')).toThrow(expect.objectContaining({ exitCode: 2 }))
  expect(() => resolveRedisUrl('127.0.0.1:6379')).toThrow(expect.objectContaining({ exitCode: 2 }))
})
