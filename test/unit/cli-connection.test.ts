/**
 * cli/connection.ts: where commands find Kafka and Redis — option, then environment, then the infra.env that
 * `infra up` wrote (in $DEVTRIP_LOCAL_DIR); nothing found is an error pointing at `infra up`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Command } from 'commander'
import { KAFKA_CLIENT_ENV, resolveBrokers, resolveKafkaClient, resolveKafkaClients, resolveRedisUrl } from '../../cli/connection'
import { buildProgram } from '../../cli/main'
import { CliError } from '../../cli/output'

const saved = { KAFKA_BROKERS: process.env.KAFKA_BROKERS, REDIS_URL: process.env.REDIS_URL, DEVTRIP_LOCAL_DIR: process.env.DEVTRIP_LOCAL_DIR, KAFKA_CLIENT: process.env.KAFKA_CLIENT }
let dir: string

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'devtrip-connection-'))
  process.env.DEVTRIP_LOCAL_DIR = dir
  delete process.env.KAFKA_BROKERS
  delete process.env.REDIS_URL
  delete process.env.KAFKA_CLIENT
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

test('the Kafka client: --client, else $KAFKA_CLIENT, else platformatic; an unknown name is a usage error naming the choices', () => {
  expect(resolveKafkaClient()).toBe('platformatic')
  process.env[KAFKA_CLIENT_ENV] = 'kafkajs'
  expect(resolveKafkaClient()).toBe('kafkajs')
  expect(resolveKafkaClient('rdkafka')).toBe('rdkafka')
  let error: unknown
  try { resolveKafkaClient('franz-go') } catch (e) { error = e }
  expect(error).toBeInstanceOf(CliError)
  expect((error as CliError).message).toMatch(/unknown Kafka client "franz-go"/)
  expect((error as CliError).hint).toMatch(/platformatic, kafkajs, rdkafka/)
  expect((error as CliError).exitCode).toBe(2)
})

test('several Kafka clients (bench engine): a comma list in order, each resolved like one; a name twice or an unknown one is a usage error', () => {
  delete process.env[KAFKA_CLIENT_ENV]
  expect(resolveKafkaClients()).toEqual(['platformatic'])
  expect(resolveKafkaClients('kafkajs, platformatic,rdkafka')).toEqual(['kafkajs', 'platformatic', 'rdkafka'])
  process.env[KAFKA_CLIENT_ENV] = 'rdkafka,kafkajs'
  expect(resolveKafkaClients()).toEqual(['rdkafka', 'kafkajs'])
  expect(() => resolveKafkaClients('kafkajs,kafkajs')).toThrow(expect.objectContaining({ exitCode: 2, message: expect.stringMatching(/name each Kafka client once/) }))
  expect(() => resolveKafkaClients('kafkajs,franz-go')).toThrow(expect.objectContaining({ exitCode: 2, message: expect.stringMatching(/unknown Kafka client "franz-go"/) }))
})

test('every command that takes --brokers also takes --client', () => {
  const withBrokers: string[] = []
  const missing: string[] = []
  const walk = (command: Command, path: string): void => {
    const flags = command.options.map((o) => o.long)
    if (flags.includes('--brokers')) {
      withBrokers.push(path)
      if (!flags.includes('--client')) missing.push(path)
    }
    for (const sub of command.commands) walk(sub, `${path} ${sub.name()}`.trim())
  }
  walk(buildProgram(), '')
  expect(withBrokers.length).toBeGreaterThanOrEqual(8)
  expect(missing).toEqual([])
})
