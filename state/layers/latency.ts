/** Latency measurement for metered stores: only when a recorder is bound, so unmetered stores pay nothing. */

export function timed<R> (recorder: ((seconds: number) => void) | undefined, run: () => R): R {
  if (recorder === undefined) return run()
  const started = process.hrtime.bigint()
  try {
    return run()
  } finally {
    recorder(Number(process.hrtime.bigint() - started) / 1e9)
  }
}

export async function timedAsync (recorder: ((seconds: number) => void) | undefined, run: () => Promise<void>): Promise<void> {
  if (recorder === undefined) return await run()
  const started = process.hrtime.bigint()
  try {
    await run()
  } finally {
    recorder(Number(process.hrtime.bigint() - started) / 1e9)
  }
}
