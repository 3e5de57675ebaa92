/**
 * `devtrip-streams infra up | down | status`: the local Kafka broker and Redis (see cli/infra/ and docs/infra.md).
 * Progress goes to stderr, results to stdout, so `export $(devtrip-streams infra up)` works.
 */
import type { Command } from 'commander'
import { infraStatus, startInfra, stopInfra, type InfraInfo, type ServiceStatus } from '../infra'
import { CliError, EXIT_USAGE, printJson, printLine, printTable } from '../output'

function seconds (value: string, flag: string): number {
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0 || n > 3600) throw new CliError(`${flag} must be a number of seconds between 0 and 3600, got "${value}"`, `e.g. ${flag} 90`, EXIT_USAGE)
  return n
}

function progressWriter (quiet: boolean | undefined): ((line: string) => void) | undefined {
  return quiet === true ? undefined : (line) => process.stderr.write(`${line}\n`)
}

function statusRow (s: ServiceStatus): Record<string, unknown> {
  return {
    service: s.service,
    status: s.status,
    pid: s.pid ?? '-',
    address: s.address ?? '-',
    healthy: s.healthy ? 'yes' : 'no',
    note: s.healthy ? '' : (s.error ?? '')
  }
}

function printInfo (info: InfraInfo): void {
  printTable([statusRow(info.kafka), statusRow(info.redis)], ['service', 'status', 'pid', 'address', 'healthy', 'note'])
}

export function register (program: Command): void {
  const infra = program.command('infra')
    .description('local Kafka broker (Apache Kafka 4.3.1, KRaft) and Redis for development and tests')
    .addHelpText('after', '\nSet KAFKA_BROKERS / REDIS_URL to use running services instead of starting them.\n' +
      'Files live in $DEVTRIP_LOCAL_DIR (default <project>/.local); see docs/infra.md.')

  infra.command('up')
    .description('start (or reuse) the local broker and Redis, write .local/infra.env and print the addresses')
    .option('--json', 'print the services as JSON')
    .option('--timeout <seconds>', 'how long to wait for the broker to answer', '90')
    .option('--quiet', 'no progress lines on stderr')
    .action(async (options: { json?: boolean, timeout: string, quiet?: boolean }) => {
      const readyTimeoutMs = Math.round(seconds(options.timeout, '--timeout') * 1000)
      if (readyTimeoutMs < 1000) throw new CliError('--timeout must be at least 1 second', 'e.g. --timeout 90', EXIT_USAGE)
      const info = await startInfra({ readyTimeoutMs, onProgress: progressWriter(options.quiet) })
      if (options.json === true) {
        printJson(info)
        return
      }
      // KEY=value on stdout (usable by `export $(…)`); where they were saved goes to stderr
      printLine(`KAFKA_BROKERS=${info.kafkaBrokers}`)
      printLine(`REDIS_URL=${info.redisUrl}`)
      if (options.quiet !== true) process.stderr.write(`written to ${info.envFile}\n`)
    })

  infra.command('down')
    .description('stop the local broker and Redis, delete their data and the env/state files')
    .option('--json', 'print what was stopped as JSON')
    .option('--grace <seconds>', 'how long SIGTERM gets before SIGKILL', '20')
    .option('--quiet', 'no progress lines on stderr')
    .action(async (options: { json?: boolean, grace: string, quiet?: boolean }) => {
      const graceMs = Math.round(seconds(options.grace, '--grace') * 1000)
      const result = await stopInfra({ graceMs, onProgress: progressWriter(options.quiet || options.json) })
      if (options.json === true) printJson(result)
      else printLine(`kafka: ${result.kafka}, redis: ${result.redis} (${result.localDir})`)
    })

  infra.command('status')
    .description('report each service: running / stopped / external, pid, address, healthy')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const info = await infraStatus()
      if (options.json === true) printJson(info)
      else printInfo(info)
    })
}
