/**
 * Where the CLI finds Kafka and Redis, the same way for every command:
 *   1. the command's option (--brokers / --redis-url), when given;
 *   2. the environment (KAFKA_BROKERS / REDIS_URL);
 *   3. the `infra.env` file `infra up` wrote (in $DEVTRIP_LOCAL_DIR, else <project>/.local).
 * Nothing found is an error that says how to get an address. The Kafka client adapter is picked the same way
 * (--client, $KAFKA_CLIENT), defaulting to @platformatic/kafka.
 */
import { Option } from 'commander'
import { existsSync, readFileSync } from 'node:fs'
import { DEFAULT_KAFKA_ADAPTER, KAFKA_ADAPTERS, type KafkaAdapterName } from '../streams/kafka'
import { splitBrokers } from './infra/health'
import { parseEnvFile } from './infra/infra-files'
import { infraPaths } from './infra/local-dir'
import { CliError, EXIT_USAGE } from './output'

const INFRA_HINT = 'run `bin/devtrip-streams infra up` first'

function fromEnvFile (key: string): { value: string | undefined, file: string } {
  const file = infraPaths().envFile
  if (!existsSync(file)) return { value: undefined, file }
  const value = parseEnvFile(readFileSync(file, 'utf8'))[key]?.trim()
  return { value: value === '' ? undefined : value, file }
}

function lookup (key: string, option: string | undefined): string | undefined {
  if (option !== undefined && option.trim() !== '') return option.trim()
  const env = process.env[key]?.trim()
  if (env !== undefined && env !== '') return env
  return fromEnvFile(key).value
}

/** The Kafka bootstrap brokers ("host:port" each). */
export function resolveBrokers (option?: string): string[] {
  const value = lookup('KAFKA_BROKERS', option)
  if (value === undefined) {
    throw new CliError(`no Kafka broker address: no --brokers, no KAFKA_BROKERS, and no ${fromEnvFile('KAFKA_BROKERS').file}`,
      `${INFRA_HINT} (or pass --brokers host:port / set KAFKA_BROKERS)`)
  }
  const brokers = splitBrokers(value)
  const bad = brokers.filter((b) => !/^[^\s:]+:[0-9]{1,5}$/.test(b))
  if (brokers.length === 0 || bad.length > 0) {
    throw new CliError(`invalid Kafka broker address ${JSON.stringify(value)}`, 'give host:port pairs separated by commas, e.g. 127.0.0.1:19092', EXIT_USAGE)
  }
  return brokers
}

/** The Redis URL (redis://host:port). */
export function resolveRedisUrl (option?: string): string {
  const value = lookup('REDIS_URL', option)
  if (value === undefined) {
    throw new CliError(`no Redis address: no --redis-url, no REDIS_URL, and no ${fromEnvFile('REDIS_URL').file}`,
      `${INFRA_HINT} (or pass --redis-url redis://host:port / set REDIS_URL)`)
  }
  if (!/^rediss?:\/\/\S+$/.test(value)) {
    throw new CliError(`invalid Redis URL ${JSON.stringify(value)}`, 'give a redis://host:port URL', EXIT_USAGE)
  }
  return value
}

/** Prefix of every topic name (and application id) for tests or several tenants on one cluster. */
export const TOPIC_PREFIX_ENV = 'DEVTRIP_TOPIC_PREFIX'

/** The topic prefix: the option when given, else $DEVTRIP_TOPIC_PREFIX, else none. */
export function resolveTopicPrefix (option?: string): string {
  return option ?? process.env[TOPIC_PREFIX_ENV] ?? ''
}

/** Which Kafka client adapter a command uses when --client is not given. */
export const KAFKA_CLIENT_ENV = 'KAFKA_CLIENT'

/** The `--client` option every command that talks to Kafka carries (one definition, one help text). */
export function kafkaClientOption (): Option {
  return new Option('--client <name>', `Kafka client adapter: ${KAFKA_ADAPTERS.join(' | ')} (default: $${KAFKA_CLIENT_ENV}, else ${DEFAULT_KAFKA_ADAPTER})`)
}

/** The Kafka client adapter: the option when given, else $KAFKA_CLIENT, else the default (platformatic). */
export function resolveKafkaClient (option?: string): KafkaAdapterName {
  const value = lookupPlain(KAFKA_CLIENT_ENV, option) ?? DEFAULT_KAFKA_ADAPTER
  if (!(KAFKA_ADAPTERS as readonly string[]).includes(value)) {
    throw new CliError(`unknown Kafka client ${JSON.stringify(value)}`, `pick one of ${KAFKA_ADAPTERS.join(', ')} with --client (or $${KAFKA_CLIENT_ENV})`, EXIT_USAGE)
  }
  return value as KafkaAdapterName
}

/**
 * Several Kafka client adapters, comma-separated (`bench engine --client platformatic,kafkajs,rdkafka`); a single
 * name, $KAFKA_CLIENT or the default otherwise. A name twice is a usage error.
 */
export function resolveKafkaClients (option?: string): KafkaAdapterName[] {
  const names = (lookupPlain(KAFKA_CLIENT_ENV, option) ?? DEFAULT_KAFKA_ADAPTER).split(',').map((n) => n.trim()).filter((n) => n !== '')
  const clients = names.map((n) => resolveKafkaClient(n))
  const twice = clients.find((c, i) => clients.indexOf(c) !== i)
  if (twice !== undefined || clients.length === 0) {
    throw new CliError(`--client lists ${JSON.stringify(option ?? '')}: name each Kafka client once`, `e.g. --client ${KAFKA_ADAPTERS.join(',')}`, EXIT_USAGE)
  }
  return clients
}

function lookupPlain (key: string, option: string | undefined): string | undefined {
  if (option !== undefined && option.trim() !== '') return option.trim()
  const env = process.env[key]?.trim()
  return env === undefined || env === '' ? undefined : env
}
