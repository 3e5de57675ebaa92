/**
 * Entry point of the child processes that `run --instances N` and `chaos` start: the compiled CLI, without
 * bin/devtrip-streams' "rebuild if a source changed" step. A supervisor starts (and a chaos run restarts) children
 * many times; a rebuild in the middle would stall a restart for many seconds, and children rebuilding dist/
 * concurrently could read each other's half-written files. The parent made sure dist/ was current when it started.
 */
import { main } from '../main'

main(process.argv).catch((error: unknown) => {
  process.stderr.write(`devtrip-streams: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
