/**
 * How every subcommand talks to people and scripts: one JSON document on stdout with --json,
 * readable text otherwise; failures are one line on stderr plus what to do, and a non-zero exit code.
 */
import { DevtripError } from '../events/errors'

/** exit codes: 0 success, 1 the operation failed, 2 bad usage (arguments the command cannot accept) */
export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2

export class CliError extends Error {
  readonly hint: string
  readonly exitCode: number
  constructor (message: string, hint: string, exitCode: number = EXIT_FAILURE) {
    super(message)
    this.name = 'CliError'
    this.hint = hint
    this.exitCode = exitCode
  }
}

export function printJson (value: unknown): void {
  process.stdout.write(JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n')
}

export function printLine (text: string): void {
  process.stdout.write(text + '\n')
}

/** Renders rows as an aligned text table (for the non-JSON form of list commands). */
export function printTable (rows: Array<Record<string, unknown>>, columns: string[]): void {
  const cells = rows.map((row) => columns.map((c) => String(row[c] ?? '')))
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)))
  const fmt = (r: string[]): string => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()
  printLine(fmt(columns))
  for (const r of cells) printLine(fmt(r))
}

/** Turns any thrown value into the one-line message + hint + exit code the CLI promises. */
export function reportError (error: unknown): number {
  if (error instanceof CliError) {
    process.stderr.write(`error: ${error.message}\n  → ${error.hint}\n`)
    return error.exitCode
  }
  if (error instanceof DevtripError) {
    const hint = typeof error.details.hint === 'string' ? error.details.hint : (error.canRetry ? 'this may pass if you try again' : 'see docs/errors.md for this code')
    process.stderr.write(`error: [${error.code}] ${error.message}\n  → ${hint}\n`)
    return EXIT_FAILURE
  }
  const message = error instanceof Error ? error.message : String(error)
  process.stderr.write(`error: ${message}\n  → rerun with DEBUG=devtrip* for details\n`)
  return EXIT_FAILURE
}
