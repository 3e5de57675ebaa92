/**
 * `devtrip-streams events …`: the DevTrip event catalog from the command line.
 *   events list      every event type with topic, producer, consumers and schema id
 *   events topics    the topic catalog
 *   events validate  check JSON events (a file or stdin) against the catalog
 *   events schema    print one type's JSON Schema
 *   events sample    print seeded sample events
 */
import type { Command } from 'commander'
import { readFile } from 'node:fs/promises'
import {
  EVENT_TYPES,
  bundledEventSchema,
  canonicalEventType,
  createSampleGenerator,
  eventCatalog,
  normalizeEvent,
  recordKeyFor,
  TOPIC_CATALOG,
  type EventError,
  type EventType,
  type TopicRole
} from '../../events'
import { CliError, EXIT_FAILURE, EXIT_USAGE, printJson, printLine, printTable } from '../output'

function requireType (name: string): EventType {
  const type = canonicalEventType(name)
  if (type === undefined) {
    throw new CliError(`unknown event type ${JSON.stringify(name)}`, `use one of: ${EVENT_TYPES.join(', ')} (or an alias shown by \`events list\`)`, EXIT_USAGE)
  }
  return type
}

async function readStdin (): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

async function readInput (file: string): Promise<string> {
  try {
    return file === '-' ? await readStdin() : await readFile(file, 'utf8')
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new CliError(`cannot read ${file === '-' ? 'stdin' : file}: ${reason}`, 'pass a readable JSON file, or - to read stdin', EXIT_USAGE)
  }
}

/** One input item: the parsed value, or why it could not be parsed (NDJSON lines only). */
interface InputItem {
  value?: unknown
  parseError?: string
  line?: number
}

/** Whole input = one JSON document (an event or an array of events), or with --lines one event per line. */
function parseInput (text: string, source: string, lines: boolean): InputItem[] {
  if (lines) {
    return text.split(/\r?\n/).flatMap((line, i): InputItem[] => {
      if (line.trim() === '') return []
      try {
        return [{ value: JSON.parse(line) as unknown, line: i + 1 }]
      } catch (error) {
        return [{ parseError: `line ${i + 1} is not valid JSON: ${(error as Error).message}`, line: i + 1 }]
      }
    })
  }
  if (text.trim() === '') throw new CliError(`${source} is empty`, 'give one JSON event or a JSON array of events', EXIT_USAGE)
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new CliError(`${source} is not valid JSON: ${(error as Error).message}`, 'fix the JSON, or use --lines for one event per line (NDJSON)', EXIT_USAGE)
  }
  return (Array.isArray(parsed) ? parsed : [parsed]).map((value) => ({ value }))
}

interface ValidationResult {
  index: number
  line?: number
  ok: boolean
  eventType?: EventType
  key?: string
  errors?: EventError[]
}

function validateItems (items: InputItem[], type: EventType | undefined): ValidationResult[] {
  return items.map((item, index): ValidationResult => {
    const where = item.line === undefined ? { index } : { index, line: item.line }
    if (item.parseError !== undefined) return { ...where, ok: false, errors: [{ pointer: '', message: item.parseError }] }
    const result = normalizeEvent(item.value, type === undefined ? {} : { type })
    if (result.ok) return { ...where, ok: true, eventType: result.event.eventType, key: recordKeyFor(result.event) }
    return { ...where, ok: false, ...(result.eventType === undefined ? {} : { eventType: result.eventType }), errors: result.errors }
  })
}

function printReport (results: ValidationResult[]): void {
  for (const r of results) {
    const label = `[${r.index}]${r.line === undefined ? '' : ` (line ${r.line})`}`
    if (r.ok) {
      printLine(`ok    ${label} ${r.eventType} key=${r.key}`)
      continue
    }
    printLine(`FAIL  ${label} ${r.eventType ?? '(unknown type)'}`)
    for (const e of r.errors ?? []) printLine(`      ${label} ${e.pointer === '' ? '(event)' : e.pointer}: ${e.message}`)
  }
  const invalid = results.filter((r) => !r.ok).length
  printLine(results.length === 0
    ? 'no events in the input'
    : `${results.length} event(s): ${results.length - invalid} valid, ${invalid} invalid`)
}

export function register (program: Command): void {
  const events = program.command('events').description('the DevTrip event catalog: list, validate, schemas, samples')

  events.command('list')
    .description('every event type with its topic, producer, consumers and schema id')
    .option('--topic <topic>', 'only the types on this topic')
    .option('--json', 'print JSON')
    .action((options: { topic?: string, json?: boolean }) => {
      const catalog = eventCatalog().filter((e) => options.topic === undefined || e.topic === options.topic)
      if (options.topic !== undefined && catalog.length === 0) {
        throw new CliError(`no event types on topic ${JSON.stringify(options.topic)}`, 'domain topics: auth-events, user-events, payment-events, subscription-events, mission-events, evaluation-events', EXIT_USAGE)
      }
      if (options.json) return printJson(catalog)
      printTable(catalog.map((e) => ({
        type: e.type,
        topic: e.topic,
        producer: e.producer,
        consumers: e.consumers.join(','),
        required: e.requiredFields.join(','),
        schema: e.schemaId
      })), ['type', 'topic', 'producer', 'consumers', 'required', 'schema'])
    })

  events.command('topics')
    .description('the topic catalog: partitions, cleanup policy, role')
    .option('--role <role>', 'only topics with this role (source, table, dlq, output)')
    .option('--json', 'print JSON')
    .action((options: { role?: string, json?: boolean }) => {
      const roles: TopicRole[] = ['source', 'table', 'changelog', 'dlq', 'output']
      if (options.role !== undefined && !(roles as string[]).includes(options.role)) {
        throw new CliError(`unknown topic role ${JSON.stringify(options.role)}`, `use one of: ${roles.join(', ')}`, EXIT_USAGE)
      }
      const topics = TOPIC_CATALOG.filter((t) => options.role === undefined || t.role === options.role)
      if (options.json) return printJson(topics)
      printTable(topics.map((t) => ({ ...t, configs: Object.entries(t.configs ?? {}).map(([k, v]) => `${k}=${v}`).join(',') })),
        ['name', 'role', 'partitions', 'cleanupPolicy', 'configs'])
    })

  events.command('validate')
    .description('validate one JSON event or an array of events (exit 0 all valid, 1 some invalid, 2 unreadable input)')
    .argument('<file>', 'a JSON file, or - to read stdin')
    .option('--type <eventType>', 'the type every event must have (any alias); needed for bodies without eventType')
    .option('--lines', 'the input is NDJSON: one event per line')
    .option('--json', 'print a machine-readable report')
    .action(async (file: string, options: { type?: string, lines?: boolean, json?: boolean }) => {
      const type = options.type === undefined ? undefined : requireType(options.type)
      const source = file === '-' ? 'stdin' : file
      const results = validateItems(parseInput(await readInput(file), source, options.lines === true), type)
      const invalid = results.filter((r) => !r.ok).length
      if (options.json) {
        printJson({ valid: invalid === 0, total: results.length, validCount: results.length - invalid, invalidCount: invalid, results })
      } else {
        printReport(results)
      }
      if (invalid > 0) process.exitCode = EXIT_FAILURE
    })

  events.command('schema')
    .description("print one event type's JSON Schema (draft 2020-12, shared definitions inlined)")
    .argument('<eventType>', 'canonical name or alias')
    .action((name: string) => printJson(bundledEventSchema(requireType(name))))

  events.command('sample')
    .description('print seeded, valid sample events (the same seed gives the same events)')
    .argument('[eventType]', 'canonical name or alias; omit for a mix of all types')
    .option('--seed <n>', 'PRNG seed (integer)', '1')
    .option('--count <n>', 'how many events', '1')
    .option('--lines', 'print NDJSON (one event per line) instead of JSON (an object for one event, an array for more)')
    .action((name: string | undefined, options: { seed: string, count: string, lines?: boolean }) => {
      const seed = Number(options.seed)
      const count = Number(options.count)
      if (!Number.isInteger(seed)) throw new CliError(`--seed must be an integer, got ${JSON.stringify(options.seed)}`, 'e.g. --seed 42', EXIT_USAGE)
      if (!Number.isInteger(count) || count < 1 || count > 1_000_000) throw new CliError(`--count must be an integer from 1 to 1000000, got ${JSON.stringify(options.count)}`, 'e.g. --count 100', EXIT_USAGE)
      const type = name === undefined ? undefined : requireType(name)
      const generator = createSampleGenerator(seed)
      const samples = Array.from({ length: count }, () => (type === undefined ? generator.anyEvent() : generator.event(type)))
      if (options.lines) for (const s of samples) printLine(JSON.stringify(s))
      else printJson(count === 1 ? samples[0] : samples)
    })
}
