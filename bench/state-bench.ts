/**
 * Micro benchmark of the state stores: puts and gets per second through the full key-value stack
 * (metered → transactional buffer → engine, logging off), RocksDB against memory, median of 5 runs.
 * Not a test: numbers depend on the machine. Run: `npm run build && node dist/bench/state-bench.js [records]`.
 *
 * Each run: `records` puts of distinct string keys with a commit every 1 000 puts (as a task commits),
 * then `records` gets of random existing keys, then one full range scan.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Stores, type KeyValueBytesStoreSupplier } from '../state/builders'
import { Serdes } from '../state/serdes-builtin'
import type { StateStoreContext } from '../state/base/types'

const RUNS = 5
const COMMIT_EVERY = 1000

interface RunResult {
  putsPerSecond: number
  getsPerSecond: number
  scanRowsPerSecond: number
}

function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

function seconds (started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e9
}

async function runOnce (supplier: KeyValueBytesStoreSupplier, records: number, taskDir: string): Promise<RunResult> {
  const store = Stores.keyValueStoreBuilder(supplier, Serdes.String(), Serdes.String()).withLoggingDisabled().build()
  const context: StateStoreContext = { applicationId: 'bench', taskId: '0_0', partition: 0, taskDir, currentTimestamp: () => 0 }
  await store.init(context)
  const value = 'v'.repeat(100)
  const keys = Array.from({ length: records }, (_, i) => `user-${(i * 7919) % records}`.padEnd(24, '.'))

  let started = process.hrtime.bigint()
  for (let i = 0; i < records; i++) {
    store.put(keys[i], value)
    if ((i + 1) % COMMIT_EVERY === 0) await store.commit(BigInt(i + 1))
  }
  await store.commit(BigInt(records))
  const putsPerSecond = records / seconds(started)

  let seed = 12345
  started = process.hrtime.bigint()
  let found = 0
  for (let i = 0; i < records; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0
    if (store.get(keys[seed % records]) !== undefined) found++
  }
  const getsPerSecond = records / seconds(started)
  if (found !== records) throw new Error(`benchmark sanity: found ${found} of ${records} keys`)

  started = process.hrtime.bigint()
  const rows = store.all().length
  const scanRowsPerSecond = rows / seconds(started)

  await store.destroy()
  return { putsPerSecond, getsPerSecond, scanRowsPerSecond }
}

async function main (): Promise<void> {
  const records = Number(process.argv[2] ?? 100_000)
  if (!Number.isSafeInteger(records) || records < COMMIT_EVERY) {
    console.error(`usage: node dist/bench/state-bench.js [records >= ${COMMIT_EVERY}]`)
    process.exit(2)
  }
  const root = mkdtempSync(join(tmpdir(), 'devtrip-state-bench-'))
  const engines: Array<[string, () => KeyValueBytesStoreSupplier]> = [
    ['memory', () => Stores.inMemoryKeyValueStore('bench')],
    ['rocksdb', () => Stores.persistentKeyValueStore('bench')]
  ]
  try {
    console.log(`state store micro benchmark: ${records} records, ${RUNS} runs each, median (node ${process.version})`)
    console.log('engine     puts/s      gets/s      scan rows/s')
    for (const [label, supplier] of engines) {
      const results: RunResult[] = []
      for (let run = 0; run < RUNS; run++) results.push(await runOnce(supplier(), records, join(root, `${label}-${run}`)))
      const fmt = (pick: (r: RunResult) => number): string => Math.round(median(results.map(pick))).toLocaleString('en-US').padStart(11)
      console.log(`${label.padEnd(8)} ${fmt((r) => r.putsPerSecond)} ${fmt((r) => r.getsPerSecond)} ${fmt((r) => r.scanRowsPerSecond)}`)
    }
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
