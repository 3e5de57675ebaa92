/**
 * The command-line entry point: `bin/devtrip-streams` (also `npm run cli -- ...`).
 * Each command group registers itself from its own file in cli/commands/.
 */
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { Command, CommanderError } from 'commander'
import { EXIT_USAGE, reportError } from './output'

/** A command module: cli/commands/<group>.ts exporting `register(program)`. */
interface CommandModule {
  register (program: Command): void
}

/** Every file in cli/commands/ registers one command group, so adding a group touches no shared file. */
function registerCommandGroups (program: Command): void {
  const dir = join(__dirname, 'commands')
  const files = readdirSync(dir).filter((f) => /\.(js|ts)$/.test(f) && !f.endsWith('.d.ts') && !f.endsWith('.map')).sort()
  for (const file of files) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(join(dir, file)) as Partial<CommandModule>
    if (typeof mod.register === 'function') mod.register(program)
  }
}

export function buildProgram (): Command {
  const program = new Command('devtrip-streams')
    .description('Kafka Streams-style engine and the DevTrip event pipeline')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
  registerCommandGroups(program)
  return program
}

export async function main (argv: string[]): Promise<void> {
  const program = buildProgram()
  try {
    await program.parseAsync(argv)
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander already printed the message (or the help / version text)
      process.exitCode = error.exitCode === 0 ? 0 : EXIT_USAGE
      return
    }
    process.exitCode = reportError(error)
  }
}
