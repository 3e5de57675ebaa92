/**
 * docker-compose.yml must stay usable for people who have Docker, although this machine has no engine.
 * Three independent checks, none of which starts a container:
 *  1. Debian's docker-compose 1.29 parses, validates and interpolates it (`config`); it is older and stricter
 *     than Compose v2 (no top-level `name:`, for one), so passing it keeps the file portable;
 *  2. the compose-spec JSON Schema (vendored: test/fixtures/compose-spec.schema.json, from the compose-spec
 *     project's schema/compose-spec.json, Apache-2.0) accepts it;
 *  3. the pieces that no schema can see agree with each other: depends_on conditions against healthchecks,
 *     Prometheus targets against the ports the services listen on, Grafana provisioning against its mounts,
 *     the single-node Kafka settings, the image build inputs.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import Ajv from 'ajv'
import addFormats from 'ajv-formats'
import { parse as parseYaml } from 'yaml'

const root = resolve(__dirname, '..', '..')
const composePath = join(root, 'docker-compose.yml')

// ---------------------------------------------------------------------------------------------------------------
// Loading

interface Healthcheck { test?: string | string[] }
interface DependsOn { condition: string }
interface Service {
  image?: string
  build?: unknown
  command?: string[]
  environment?: Record<string, string | null>
  ports?: string[]
  volumes?: string[]
  healthcheck?: Healthcheck
  depends_on?: Record<string, DependsOn>
  restart?: string
}
interface ComposeFile {
  services: Record<string, Service>
  volumes?: Record<string, unknown>
  [key: string]: unknown
}

/** The compose file as Compose itself sees it: YAML 1.1 merge keys (`<<: *anchor`) resolved. */
function loadCompose (): ComposeFile {
  return parseYaml(readFileSync(composePath, 'utf8'), { merge: true }) as ComposeFile
}

function loadYaml<T> (relativePath: string): T {
  return parseYaml(readFileSync(join(root, relativePath), 'utf8')) as T
}

// ---------------------------------------------------------------------------------------------------------------
// docker-compose 1.29

function findOnPath (name: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' })
  const path = found.stdout.trim()
  return found.status === 0 && path !== '' ? path : undefined
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
const composeBinaryAtStart = findOnPath('docker-compose')
const canRunCompose = composeBinaryAtStart !== undefined || isRoot
if (!canRunCompose) {
  console.warn('compose.test: SKIPPING the docker-compose checks: `docker-compose` is not installed and this user is not ' +
    'root, so it cannot be installed here. Install it (sudo apt-get install docker-compose) to run them.')
}

/** Fresh CI machines start without it; as root, install it the way scripts/test.sh does. */
function ensureComposeInstalled (): void {
  if (findOnPath('docker-compose') !== undefined) return
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  const install = (): SpawnSyncReturns<string> => spawnSync('apt-get', ['install', '-y', '-qq', 'docker-compose'], { encoding: 'utf8', env })
  let result = install()
  if (result.status !== 0) {
    // an old or missing package list is the usual reason on a fresh machine
    spawnSync('apt-get', ['update', '-qq'], { encoding: 'utf8', env })
    result = install()
  }
  if (result.status !== 0 || findOnPath('docker-compose') === undefined) {
    throw new Error(`apt-get install docker-compose failed (exit ${String(result.status)}): ${result.stderr}`)
  }
}

/** Variables the file interpolates; removed so a developer's shell cannot change what is being checked. */
const interpolatedVariables = ['KAFKA_HOST_PORT', 'REDIS_HOST_PORT', 'API_HOST_PORT', 'KAFKA_UI_HOST_PORT',
  'PROMETHEUS_HOST_PORT', 'GRAFANA_HOST_PORT', 'GRAFANA_ADMIN_PASSWORD']

function runCompose (args: string[], extraEnv: Record<string, string> = {}): SpawnSyncReturns<string> {
  const env: NodeJS.ProcessEnv = { ...process.env }
  for (const name of Object.keys(env)) if (name.startsWith('COMPOSE_') || name === 'DOCKER_HOST') delete env[name]
  for (const name of interpolatedVariables) delete env[name]
  return spawnSync('docker-compose', args, { cwd: root, encoding: 'utf8', env: { ...env, ...extraEnv }, timeout: 60_000 })
}

const describeCompose = canRunCompose ? describe : describe.skip

describeCompose('docker-compose 1.29 accepts docker-compose.yml', () => {
  beforeAll(ensureComposeInstalled, 600_000)

  test('`config -q` exits 0 without warnings', () => {
    const result = runCompose(['-f', 'docker-compose.yml', 'config', '-q'])
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' })
  })

  test('interpolation: the advertised host listener follows the published Kafka port, by default and when overridden', () => {
    const hostAdvertisedAndPublished = (env: Record<string, string>): { advertised: string, published: string[] } => {
      const result = runCompose(['-f', 'docker-compose.yml', 'config'], env)
      expect(result.status).toBe(0)
      const kafka = (parseYaml(result.stdout) as ComposeFile).services.kafka!
      const advertised = String(kafka.environment?.KAFKA_ADVERTISED_LISTENERS)
      return { advertised, published: (kafka.ports ?? []).map(String) }
    }
    const byDefault = hostAdvertisedAndPublished({})
    expect(byDefault.advertised).toContain('HOST://127.0.0.1:9094')
    expect(byDefault.published).toEqual(['127.0.0.1:9094:9094/tcp'])

    const overridden = hostAdvertisedAndPublished({ KAFKA_HOST_PORT: '29999' })
    expect(overridden.advertised).toContain('HOST://127.0.0.1:29999')
    expect(overridden.published).toEqual(['127.0.0.1:29999:9094/tcp'])
  })

  test('the same check rejects a broken variant (so a pass above means something)', () => {
    const broken = loadCompose()
    broken.services.api!.depends_on = { 'no-such-service': { condition: 'service_started' } }
    const dir = mkdtempSync(join(tmpdir(), 'devtrip-compose-'))
    try {
      const file = join(dir, 'docker-compose.yml')
      // JSON is YAML too, and unlike a YAML 1.2 dump it cannot turn the string "no" into PyYAML's boolean false
      writeFileSync(file, JSON.stringify(broken, null, 2))
      const result = runCompose(['-f', file, '--project-directory', root, 'config', '-q'])
      expect(result.status).not.toBe(0)
      expect(result.stderr).toContain('no-such-service')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

// ---------------------------------------------------------------------------------------------------------------
// compose-spec JSON Schema

describe('compose-spec JSON Schema accepts docker-compose.yml', () => {
  const schema = JSON.parse(readFileSync(join(root, 'test', 'fixtures', 'compose-spec.schema.json'), 'utf8')) as Record<string, unknown>
  // The schema says "$schema": "https://json-schema.org/draft-07/schema" (https, no '#'), which Ajv does not
  // know by that spelling; its vocabulary is draft-07, which the default Ajv class implements (checked below).
  const { $schema: declaredDialect, ...draft07Schema } = schema
  // The upstream schema uses union types and leaves out some "type": "object"; strictTypes would refuse it.
  const ajv = new Ajv({ allErrors: true, allowUnionTypes: true, strictTypes: false })
  addFormats(ajv)
  const validate = ajv.compile(draft07Schema)
  const explain = (): string => ajv.errorsText(validate.errors, { separator: '\n' })

  test('the vendored schema is draft-07 and the file validates', () => {
    expect(String(declaredDialect)).toMatch(/json-schema\.org\/draft-07\//)
    const valid = validate(loadCompose())
    expect(valid ? 'valid' : explain()).toBe('valid')
  })

  test('the schema rejects what Compose would reject: an unknown depends_on condition, an unknown healthcheck key', () => {
    const badCondition = loadCompose()
    badCondition.services.pipeline!.depends_on!.kafka = { condition: 'service_ready' }
    expect(validate(badCondition)).toBe(false)
    expect(explain()).toMatch(/allowed values|must be equal to one of/)

    const badHealthcheck = loadCompose()
    ;(badHealthcheck.services.redis!.healthcheck as Record<string, unknown>).intervall = '5s'
    expect(validate(badHealthcheck)).toBe(false)
    expect(explain()).toMatch(/additional properties/)
  })
})

// ---------------------------------------------------------------------------------------------------------------
// What no schema checks

/** Host and port from "host:port" or "http://host:port/...". */
function hostPort (address: string): { host: string, port: number } {
  const match = /^(?:[a-z]+:\/\/)?([^:/]+):(\d+)/.exec(address)
  if (match === null) throw new Error(`not a host:port address: ${address}`)
  return { host: match[1]!, port: Number(match[2]) }
}

/** Ports a service listens on inside the network: its `--port` argument, METRICS_PORT, container side of `ports`. */
function listeningPorts (service: Service): number[] {
  const ports: number[] = []
  const command = service.command ?? []
  const portFlag = command.indexOf('--port')
  if (portFlag >= 0) ports.push(Number(command[portFlag + 1]))
  const metricsPort = service.environment?.METRICS_PORT
  if (metricsPort != null) ports.push(Number(metricsPort))
  for (const mapping of service.ports ?? []) ports.push(Number(String(mapping).split(':').at(-1)))
  return ports
}

/** [source, target] of every entry in `volumes` (short syntax). */
function mounts (service: Service): Array<[string, string]> {
  return (service.volumes ?? []).map((entry) => {
    const [source, target] = entry.split(':')
    return [source!, target!]
  })
}

const isAppService = (service: Service): boolean => service.command?.[0] === 'bin/devtrip-streams'

describe('docker-compose.yml hangs together', () => {
  const compose = loadCompose()
  const services = compose.services

  test('has the DevTrip stack and neither `name:` nor the obsolete `version:` at the top', () => {
    expect(Object.keys(services).sort()).toEqual(
      ['api', 'evaluator', 'grafana', 'kafka', 'kafka-ui', 'pipeline', 'prometheus', 'redis', 'topics-init'])
    expect(compose).not.toHaveProperty('name')
    expect(compose).not.toHaveProperty('version')
  })

  test('every depends_on names a service; service_healthy only on services with a healthcheck; one-shots do not restart', () => {
    const problems: string[] = []
    for (const [name, service] of Object.entries(services)) {
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        const target = services[dependency]
        if (target === undefined) { problems.push(`${name} depends on unknown ${dependency}`); continue }
        if (condition === 'service_healthy' && target.healthcheck === undefined) {
          problems.push(`${name} waits for ${dependency} to be healthy, but ${dependency} has no healthcheck`)
        }
        // with a restart policy, a one-shot that exits 0 is started again and again
        if (condition === 'service_completed_successfully' && target.restart !== 'no') {
          problems.push(`${name} waits for ${dependency} to complete, but ${dependency} restarts (${String(target.restart)})`)
        }
      }
    }
    expect(problems).toEqual([])
  })

  test('the app services run bin/devtrip-streams from the image this repo builds, pointed at the in-network Kafka and Redis', () => {
    const app = Object.entries(services).filter(([, service]) => isAppService(service))
    expect(app.map(([name, service]) => [name, service.command!.slice(1).join(' ')]).sort()).toEqual([
      ['api', 'api --port 3000'], ['evaluator', 'evaluator'], ['pipeline', 'run all --application-server pipeline:7070'], ['topics-init', 'topics apply']])

    const kafkaEnv = services.kafka!.environment!
    const inNetworkListener = /PLAINTEXT:\/\/([^,]+)/.exec(String(kafkaEnv.KAFKA_ADVERTISED_LISTENERS))![1]
    for (const [name, service] of app) {
      expect([name, service.build]).toEqual([name, { context: '.', dockerfile: 'Dockerfile' }])
      expect([name, service.environment?.KAFKA_BROKERS]).toEqual([name, inNetworkListener])
      const redis = hostPort(String(service.environment?.REDIS_URL))
      expect(services[redis.host]).toBeDefined()
      expect(listeningPorts(services[redis.host]!)).toContain(redis.port)
    }
    const evaluatorEnv = services.evaluator!.environment!
    for (const optional of ['OPENAI_BASE_URL', 'OPENAI_API_KEY', 'EVALUATOR_MODEL']) {
      // declared without a value: passed through from the user's environment only when set there
      expect([optional, evaluatorEnv[optional]]).toEqual([optional, null])
    }
  })

  test('Kafka is configured as a working single node', () => {
    const env = services.kafka!.environment!
    expect(services.kafka!.image).toMatch(/^apache\/kafka:4\./)
    expect(env).toMatchObject({
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_MIN_INSYNC_REPLICAS: '1',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false'
    })
    // every advertised listener is also a bound listener with a security protocol
    const names = (list: string): string[] => list.split(',').map((listener) => listener.split('://')[0]!)
    const protocols = String(env.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP).split(',').map((entry) => entry.split(':')[0]!)
    for (const advertised of names(String(env.KAFKA_ADVERTISED_LISTENERS))) {
      expect(names(String(env.KAFKA_LISTENERS))).toContain(advertised)
      expect(protocols).toContain(advertised)
    }
    // the healthcheck and the controller quorum use ports the broker binds
    const bound = String(env.KAFKA_LISTENERS).split(',').map((listener) => hostPort(listener.split('://')[1]!).port)
    expect(bound).toContain(hostPort(String(env.KAFKA_CONTROLLER_QUORUM_VOTERS).split('@')[1]!).port)
    const probe = /--bootstrap-server (\S+)/.exec(String(services.kafka!.healthcheck!.test))
    expect(probe?.[1]).toBe(services.pipeline!.environment!.KAFKA_BROKERS)
  })

  test('healthchecks probe kafka, redis and the API on the port the API is told to use', () => {
    expect(String(services.kafka!.healthcheck!.test)).toContain('kafka-broker-api-versions')
    expect(services.redis!.healthcheck!.test).toEqual(['CMD', 'redis-cli', 'ping'])
    const apiProbe = /http:\/\/[^'"]+\/healthz/.exec(String(services.api!.healthcheck!.test))
    expect(apiProbe).not.toBeNull()
    expect(listeningPorts(services.api!)).toContain(hostPort(apiProbe![0]).port)
  })

  test('Prometheus scrapes /metrics of the api and the pipeline at ports they listen on', () => {
    const prometheus = services.prometheus!
    const configMount = mounts(prometheus).find(([source]) => source.endsWith('prometheus.yml'))!
    expect(prometheus.command).toContain(`--config.file=${configMount[1]}`)

    interface ScrapeConfig { job_name: string, metrics_path?: string, static_configs: Array<{ targets: string[] }> }
    const config = loadYaml<{ scrape_configs: ScrapeConfig[] }>(configMount[0])
    const scraped = new Set<string>()
    for (const job of config.scrape_configs) {
      for (const target of job.static_configs.flatMap((group) => group.targets)) {
        const { host, port } = hostPort(target)
        if (host === 'localhost') continue // Prometheus scraping itself
        expect([job.job_name, services[host] !== undefined]).toEqual([job.job_name, true])
        expect([job.job_name, listeningPorts(services[host]!)]).toEqual([job.job_name, expect.arrayContaining([port])])
        expect([job.job_name, job.metrics_path ?? '/metrics']).toEqual([job.job_name, '/metrics'])
        scraped.add(host)
      }
    }
    expect([...scraped].sort()).toEqual(['api', 'pipeline'])
  })

  test('Grafana is provisioned with the Prometheus datasource and the dashboards folder', () => {
    const grafana = services.grafana!
    const targetOf = (source: string): string | undefined => mounts(grafana).find(([from]) => from === source)?.[1]
    expect(targetOf('./deploy/grafana/provisioning')).toBe('/etc/grafana/provisioning')

    const datasources = loadYaml<{ datasources: Array<{ type: string, url: string }> }>('deploy/grafana/provisioning/datasources/prometheus.yml')
    const prometheusSource = datasources.datasources.find((source) => source.type === 'prometheus')!
    const { host, port } = hostPort(prometheusSource.url)
    expect(host).toBe('prometheus')
    expect(listeningPorts(services.prometheus!)).toContain(port)

    const dashboards = loadYaml<{ providers: Array<{ type: string, options: { path: string } }> }>('deploy/grafana/provisioning/dashboards/devtrip.yml')
    expect(dashboards.providers.map((provider) => provider.options.path)).toEqual([targetOf('./deploy/grafana/dashboards')])
  })

  test('every bind mount exists in the repo and every named volume is declared and used', () => {
    const declared = Object.keys(compose.volumes ?? {})
    const used = new Set<string>()
    for (const service of Object.values(services)) {
      for (const [source] of mounts(service)) {
        if (source.startsWith('.') || source.startsWith('/')) expect([source, existsSync(join(root, source))]).toEqual([source, true])
        else used.add(source)
      }
    }
    expect([...used].sort()).toEqual(declared.sort())
  })

  test('the image builds this repo on node:20 (npm install, npm run build) and state lives under its .local/', () => {
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8')
    const instructions = dockerfile.split('\n').filter((line) => !line.trimStart().startsWith('#')).join('\n')
    const bases = [...instructions.matchAll(/^FROM\s+(\S+)/gm)].map((match) => match[1]!)
    expect(bases.length).toBeGreaterThan(0)
    for (const base of bases) expect(base).toMatch(/^node:20[-.]/)
    expect(instructions).toMatch(/RUN npm install\b/)
    expect(instructions).toMatch(/npm run build\b/)
    const workdir = [...instructions.matchAll(/^WORKDIR\s+(\S+)/gm)].at(-1)![1]
    expect(mounts(services.pipeline!).map(([, target]) => target)).toContain(`${workdir}/.local`)
  })

  test('.dockerignore keeps host build output and caches out of the build context', () => {
    const ignored = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n').map((line) => line.trim())
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.cache', '.local']))
  })
})
