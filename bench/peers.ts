/**
 * The systems `bench all` compares this engine with, built and started by the benchmark itself:
 *
 * - Kafka Streams (bench/peers/kafka-streams/): `mvn package` (offline first, online from Maven Central when the
 *   local repository lacks something), then `dependency:copy-dependencies`; the jar and its libraries are cached
 *   under `<cache>/kafka-streams-<hash>/lib`. Run as `java -cp "<lib>/*" dev.devtrip.bench.CountApp …`.
 * - Quix Streams (bench/peers/quix/): a venv with `pip install -r requirements.txt` (pinned), cached under
 *   `<cache>/quix-<hash>/venv`. Run as `<venv>/bin/python count_app.py …`.
 *
 * Both speak the JSON line protocol of bench/system-process.ts on stdout.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { assertSucceeded, cachedBuild, filesUnder, runCommand } from './peer-build'
import { peerSystem, type BenchSystem } from './system-process'

export interface PeerEnv {
  /** bench/peers in the project */
  readonly peersDir: string
  /** where builds are cached, e.g. <project>/.cache/bench-peers */
  readonly cacheRoot: string
  readonly java: string
  readonly onProgress: (line: string) => void
}

const KS_MAIN = 'dev.devtrip.bench.CountApp'

/** Builds (or reuses) the Kafka Streams peer; returns the folder of its jars. */
export async function buildKafkaStreamsPeer (env: PeerEnv): Promise<string> {
  const project = join(env.peersDir, 'kafka-streams')
  const pom = join(project, 'pom.xml')
  const inputs = [pom, ...filesUnder(join(project, 'src'))]
  const result = await cachedBuild(env.cacheRoot, 'kafka-streams', project, inputs, async (dir) => {
    env.onProgress('kafka-streams peer: building with Maven (first run only; downloads kafka-streams from Maven Central if needed)')
    const lib = join(dir, 'lib')
    mkdirSync(lib, { recursive: true })
    const goals = ['package', 'dependency:copy-dependencies', `-DoutputDirectory=${lib}`, '-DskipTests']
    const base = ['-B', '-q', '-Dstyle.color=never', '-f', pom]
    let run = await runCommand('mvn', [...base, '-o', ...goals], { cwd: project, timeoutMs: 10 * 60_000 })
    if (run.code !== 0) {
      env.onProgress('kafka-streams peer: offline build incomplete, resolving from Maven Central')
      run = await runCommand('mvn', [...base, ...goals], { cwd: project, timeoutMs: 15 * 60_000, onLine: (l) => { env.onProgress(`mvn: ${l}`) } })
    }
    assertSucceeded(`mvn ${goals.join(' ')} (in ${project})`, run)
    const jar = join(project, 'target', 'kafka-streams-peer.jar')
    if (!existsSync(jar)) throw new Error(`the Maven build did not produce ${jar}`)
    copyFileSync(jar, join(lib, 'kafka-streams-peer.jar'))
  })
  env.onProgress(`kafka-streams peer: ${result.built ? 'built' : 'cached'} (${result.dir})`)
  return join(result.dir, 'lib')
}

export function kafkaStreamsSystem (java: string, libDir: string): BenchSystem {
  return peerSystem('kafka-streams', 'Kafka Streams 4.3.1 (Java), exactly_once_v2, RocksDB, record cache off', (o) => ({
    command: java,
    args: [
      // the library logs through slf4j-simple: WARN and up, to stderr (stdout is the protocol)
      '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn', '-Dorg.slf4j.simpleLogger.logFile=System.err',
      '-cp', join(libDir, '*'), KS_MAIN,
      '--bootstrap', o.brokers.join(','), '--application-id', o.applicationId, '--input', o.input, '--output', o.output,
      '--state-dir', o.stateDir, '--store', o.store, '--commit-interval-ms', String(o.commitIntervalMs),
      '--session-timeout-ms', String(o.sessionTimeoutMs)
    ]
  }))
}

/** The first Python 3.9+ on PATH (Quix Streams needs 3.9 or newer). */
async function findPython (): Promise<string> {
  for (const candidate of ['python3.11', 'python3.12', 'python3.13', 'python3.10', 'python3']) {
    const probe = await runCommand(candidate, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { timeoutMs: 30_000 }).catch(() => null)
    if (probe === null || probe.code !== 0) continue
    const [major, minor] = probe.output.trim().split('.').map(Number)
    if (major === 3 && (minor as number) >= 9) return candidate
  }
  throw new Error('no Python 3.9+ found on PATH (python3.11, python3.12, python3.13, python3.10, python3); the Quix Streams peer needs one')
}

/** Builds (or reuses) the Quix Streams venv; returns its python executable. */
export async function buildQuixPeer (env: PeerEnv): Promise<string> {
  const project = join(env.peersDir, 'quix')
  const requirements = join(project, 'requirements.txt')
  const result = await cachedBuild(env.cacheRoot, 'quix', project, [requirements], async (dir) => {
    const python = await findPython()
    env.onProgress(`quix peer: creating a venv with ${python} and installing requirements.txt from PyPI (first run only)`)
    const venv = join(dir, 'venv')
    assertSucceeded(`${python} -m venv`, await runCommand(python, ['-m', 'venv', venv], { timeoutMs: 5 * 60_000 }))
    assertSucceeded('pip install -r requirements.txt', await runCommand(join(venv, 'bin', 'python'),
      ['-m', 'pip', 'install', '--disable-pip-version-check', '-q', '-r', requirements], { timeoutMs: 15 * 60_000, onLine: (l) => { env.onProgress(`pip: ${l}`) } }))
  })
  env.onProgress(`quix peer: ${result.built ? 'built' : 'cached'} (${result.dir})`)
  return join(result.dir, 'venv', 'bin', 'python')
}

export function quixSystem (python: string, peersDir: string): BenchSystem {
  const script = join(peersDir, 'quix', 'count_app.py')
  return peerSystem('quix-streams', 'Quix Streams 3.28.1 (Python), exactly-once, RocksDB State', (o) => ({
    command: python,
    args: [
      script, '--bootstrap', o.brokers.join(','), '--application-id', o.applicationId, '--input', o.input, '--output', o.output,
      '--state-dir', o.stateDir, '--commit-interval-ms', String(o.commitIntervalMs), '--session-timeout-ms', String(o.sessionTimeoutMs)
    ],
    env: { PYTHONUNBUFFERED: '1' }
  }))
}
