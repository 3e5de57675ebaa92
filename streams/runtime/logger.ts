/**
 * The runtime's logging surface: four levels, a message and optional machine-readable fields. Small on purpose,
 * so pino, console or a test spy can sit behind it. The default writes warnings and errors to stderr as one JSON
 * line each and drops info/debug (a library should not chatter on stdout).
 */
export interface StreamsLogger {
  debug (message: string, fields?: Record<string, unknown>): void
  info (message: string, fields?: Record<string, unknown>): void
  warn (message: string, fields?: Record<string, unknown>): void
  error (message: string, fields?: Record<string, unknown>): void
}

function line (level: string, message: string, fields: Record<string, unknown> | undefined): string {
  return JSON.stringify({ level, time: new Date().toISOString(), msg: message, ...fields }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) + '\n'
}

export const stderrLogger: StreamsLogger = Object.freeze({
  debug: () => {},
  info: () => {},
  warn: (message: string, fields?: Record<string, unknown>) => { process.stderr.write(line('warn', message, fields)) },
  error: (message: string, fields?: Record<string, unknown>) => { process.stderr.write(line('error', message, fields)) }
})

/** The fields of an error worth logging (code, message, details), never the whole object graph. */
export function errorFields (error: unknown): Record<string, unknown> {
  if (error instanceof Error) {
    const coded = error as Error & { code?: unknown, details?: unknown, canRetry?: unknown }
    return { error: error.message, code: coded.code, canRetry: coded.canRetry, details: coded.details }
  }
  return { error: String(error) }
}
