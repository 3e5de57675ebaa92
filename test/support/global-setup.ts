/**
 * jest global setup for the integration project: make sure a Kafka broker and a Redis answer
 * before any test runs, and publish their addresses as KAFKA_BROKERS / REDIS_URL (the workers jest
 * starts afterwards inherit this process's environment).
 *
 * Given addresses are used as they are (only checked). Otherwise an isolated broker / Redis is
 * started in a fresh temp directory, never touching the developer's own `.local` infra;
 * global-teardown.ts stops it and deletes the directory.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startInfra, stopInfra } from '../../cli/infra'

/** What teardown needs to undo (globals set here are visible to the global teardown). */
export interface TestInfraRecord {
  localDir: string
}

declare global {
  // eslint-disable-next-line no-var
  var __DEVTRIP_TEST_INFRA__: TestInfraRecord | undefined
}

const given = (name: string): boolean => (process.env[name] ?? '').trim() !== ''

export default async function globalSetup (): Promise<void> {
  const startsSomething = !given('KAFKA_BROKERS') || !given('REDIS_URL')
  const localDir = mkdtempSync(join(tmpdir(), 'devtrip-jest-infra-'))
  const progress = (line: string): void => { process.stderr.write(`[infra] ${line}\n`) }
  if (startsSomething) {
    const what = [given('KAFKA_BROKERS') ? '' : 'a Kafka broker', given('REDIS_URL') ? '' : 'Redis'].filter((w) => w !== '').join(' and ')
    progress(`starting ${what} for the integration tests in ${localDir} (set KAFKA_BROKERS / REDIS_URL to use running ones)`)
  }
  try {
    // undefined addresses: startInfra takes KAFKA_BROKERS / REDIS_URL when set and starts what is not
    const info = await startInfra({
      localDir,
      onProgress: startsSomething ? progress : undefined,
      // many tests stamp records with the seed's 2024 dates: the broker's periodic retention check (every 5 min by
      // default, first run soon after start) would delete them from 7-day topics while a test still reads them
      kafkaProperties: { 'log.retention.check.interval.ms': 6 * 60 * 60 * 1000 }
    })
    process.env.KAFKA_BROKERS = info.kafkaBrokers
    process.env.REDIS_URL = info.redisUrl
    globalThis.__DEVTRIP_TEST_INFRA__ = { localDir }
  } catch (error) {
    // jest skips the teardown when setup fails: clean up here, or the processes would outlive jest
    await stopInfra({ localDir, graceMs: 5000 }).catch(() => {})
    rmSync(localDir, { recursive: true, force: true })
    throw error
  }
}
