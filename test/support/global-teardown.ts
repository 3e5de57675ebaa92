/**
 * jest global teardown: stops the isolated broker / Redis global-setup.ts started (if any) and
 * deletes its temp directory. Services given through KAFKA_BROKERS / REDIS_URL are never touched.
 */
import { rmSync } from 'node:fs'
import { stopInfra } from '../../cli/infra'
import type { TestInfraRecord } from './global-setup'

export default async function globalTeardown (): Promise<void> {
  const record: TestInfraRecord | undefined = globalThis.__DEVTRIP_TEST_INFRA__
  if (record === undefined) return
  globalThis.__DEVTRIP_TEST_INFRA__ = undefined
  try {
    await stopInfra({ localDir: record.localDir, graceMs: 20_000 })
  } finally {
    rmSync(record.localDir, { recursive: true, force: true })
  }
}
