/**
 * The Apache Kafka jars (broker, kafka-tools, log4j binding), resolved from Maven Central through
 * scripts/kafka/pom.xml into `<projectRoot>/.cache/kafka/<version>/libs` (git-ignored).
 *
 * A marker file is written only after a successful copy, so an interrupted download is redone
 * instead of leaving a broker that fails on a missing class.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DevtripError } from '../../events/errors'
import { cacheDir, projectRoot } from '../paths'
import type { ProgressFn } from './options'
import { findExecutable, runCommand } from './processes'

export const KAFKA_VERSION = '4.3.1'

const MARKER = '.complete'
const POM = join(projectRoot, 'scripts', 'kafka', 'pom.xml')

/** `<projectRoot>/.cache/kafka/4.3.1/libs` */
export function kafkaLibsDir (): string {
  return join(cacheDir, 'kafka', KAFKA_VERSION, 'libs')
}

/** The JVM classpath for broker and tools: the libs folder as a wildcard (pass it quoted / as one argv element). */
export function kafkaClasspath (): string {
  return join(kafkaLibsDir(), '*')
}

/** The log4j2 configuration every Kafka JVM we start uses (WARN, console). */
export function kafkaLog4jConfig (): string {
  return join(projectRoot, 'scripts', 'kafka', 'log4j2.xml')
}

/** `java`, from JAVA_HOME when set, else PATH; a clear error when there is none. */
export function javaExecutable (): string {
  const fromHome = process.env.JAVA_HOME !== undefined ? findExecutable(join(process.env.JAVA_HOME, 'bin', 'java')) : undefined
  const java = fromHome ?? findExecutable('java')
  if (java === undefined) {
    throw new DevtripError('DEVTRIP_INFRA', 'java was not found (Kafka needs Java 17 or newer)', {
      details: { hint: 'install a JDK/JRE 17+ (Debian: apt-get install -y openjdk-17-jre-headless) or set JAVA_HOME' }
    })
  }
  return java
}

function jarCount (dir: string): number {
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.jar')).length : 0
}

async function copyDependencies (outputDir: string, onProgress: ProgressFn): Promise<void> {
  const mvn = findExecutable('mvn')
  if (mvn === undefined) {
    throw new DevtripError('DEVTRIP_INFRA', 'mvn (Apache Maven) was not found; it is needed once to download the Kafka jars', {
      details: { hint: 'install Maven (Debian: apt-get install -y maven) and run `devtrip-streams infra up` again' }
    })
  }
  const args = ['-B', '-q', '-Dstyle.color=never', '-f', POM, 'dependency:copy-dependencies', `-DoutputDirectory=${outputDir}`]
  const result = await runCommand(mvn, args, { cwd: projectRoot, timeoutMs: 15 * 60_000, onLine: (line) => {
    // maven prints colour codes even with -B -q; what is left after removing them may be nothing
    const plain = line.replace(/\u001b\[[0-9;]*m/g, '').trim()
    if (plain !== '') onProgress(`mvn: ${plain}`)
  } })
  if (result.code !== 0) {
    throw new DevtripError('DEVTRIP_INFRA', `downloading the Kafka jars failed (mvn exited with ${result.code ?? result.signal})`, {
      canRetry: true,
      details: { hint: `check network access to Maven Central, then retry; command: mvn ${args.join(' ')}`, output: result.output.slice(-4000) }
    })
  }
}

/**
 * Makes sure the Kafka jars are in kafkaLibsDir(); returns that folder. A no-op when the marker of
 * an earlier successful copy is there.
 */
export async function ensureKafkaJars (options: { onProgress?: ProgressFn } = {}): Promise<string> {
  const libs = kafkaLibsDir()
  if (existsSync(join(libs, MARKER))) return libs
  const onProgress = options.onProgress ?? (() => {})
  onProgress(`kafka: fetching Apache Kafka ${KAFKA_VERSION} jars from Maven Central into ${libs} (first run only)`)
  if (existsSync(libs)) {
    // Copy in place: a broker started earlier may be running from these very jars, so the folder
    // must not be moved away; maven only rewrites files that are missing or older.
    await copyDependencies(libs, onProgress)
    writeFileSync(join(libs, MARKER), `${new Date().toISOString()}\n`)
  } else {
    // Copy into a private folder and rename it into place, so a concurrent caller never sees half a folder.
    const staging = `${libs}.tmp-${process.pid}`
    rmSync(staging, { recursive: true, force: true })
    mkdirSync(staging, { recursive: true })
    try {
      await copyDependencies(staging, onProgress)
      writeFileSync(join(staging, MARKER), `${new Date().toISOString()}\n`)
      try {
        renameSync(staging, libs)
      } catch (error) {
        // another process finished first: its copy is as good as ours
        if (!existsSync(join(libs, MARKER))) throw error
      }
    } finally {
      rmSync(staging, { recursive: true, force: true })
    }
  }
  onProgress(`kafka: ${jarCount(libs)} jars ready`)
  return libs
}
