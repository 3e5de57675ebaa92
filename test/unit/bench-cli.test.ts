/**
 * The `bench` command group: `bench engine` flags and their validation (the one options schema), and the
 * registration of benchmarks that live in bench/ modules exporting registerBench(bench).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Command } from 'commander'
import { resolveEngineBenchOptions } from '../../bench/engine-bench'
import { register, registerBenchModules } from '../../cli/commands/bench'
import { CliError } from '../../cli/output'
import { DevtripError } from '../../events/errors'

let dir: string

beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'devtrip-bench-cli-')) })
afterEach(() => { rmSync(dir, { recursive: true, force: true }) })

describe('bench modules', () => {
  test('a module exporting registerBench adds its subcommand; plain scripts are never loaded', () => {
    const marker = join(dir, 'script-ran')
    writeFileSync(join(dir, 'ingest-bench.js'), `'use strict'
exports.registerBench = registerBench
function registerBench (bench) { bench.command('ingest').description('ingest benchmark').action(() => {}) }
`)
    // a benchmark script that starts measuring when required (like bench/state-bench.ts) must not run
    writeFileSync(join(dir, 'state-bench.js'), `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran')\n`)
    // mentioning the name is not declaring it
    writeFileSync(join(dir, 'notes.js'), `// registerBench is how benchmarks register\nrequire('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran')\n`)
    writeFileSync(join(dir, 'types.d.ts'), 'export declare function registerBench (bench: unknown): void\n')
    const bench = new Command('bench')
    expect(registerBenchModules(bench, dir)).toEqual(['ingest-bench.js'])
    expect(bench.commands.map((c) => c.name())).toEqual(['ingest'])
    expect(existsSync(marker)).toBe(false)
  })

  test('a missing folder registers nothing', () => {
    expect(registerBenchModules(new Command('bench'), join(dir, 'nope'))).toEqual([])
  })

  test('register() adds bench engine with its flags', () => {
    const program = new Command('devtrip-streams')
    register(program)
    const bench = program.commands.find((c) => c.name() === 'bench')
    const engine = bench?.commands.find((c) => c.name() === 'engine')
    expect(engine).toBeDefined()
    const flags = engine?.options.map((o) => o.long)
    expect(flags).toEqual(expect.arrayContaining(['--events', '--rate', '--runs', '--duration', '--no-ceiling', '--profile', '--json', '--brokers']))
  })
})

describe('bench engine flags', () => {
  async function run (...args: string[]): Promise<unknown> {
    const program = new Command('devtrip-streams').exitOverride()
    register(program)
    program.commands.forEach((c) => { c.exitOverride(); c.commands.forEach((s) => s.exitOverride()) })
    try {
      await program.parseAsync(['bench', 'engine', ...args, '--brokers', '127.0.0.1:1'], { from: 'user' })
    } catch (error) {
      return error
    }
    throw new Error('expected the command to fail')
  }

  test('non-numbers and out-of-range values are usage errors (exit 2) before anything connects', async () => {
    const notNumber = await run('--events', 'lots')
    expect(notNumber).toBeInstanceOf(CliError)
    expect(notNumber).toMatchObject({ exitCode: 2, message: '--events must be a whole number, got "lots"' })
    expect(await run('--rate', '-5')).toMatchObject({ exitCode: 2, message: '--rate must be a positive number, got "-5"' })
    const tooFew = await run('--events', '500', '--runs', '0')
    expect(tooFew).toMatchObject({ exitCode: 2 })
    expect((tooFew as Error).message).toContain('/events must be >= 10000')
    expect((tooFew as Error).message).toContain('/runs must be >= 1')
  })
})

describe('engine benchmark options', () => {
  test('defaults are filled in and the result is frozen', () => {
    const options = resolveEngineBenchOptions()
    expect(options).toEqual({
      events: 200_000, rate: null, runs: 3, durationSec: 20, keys: 10_000, recordSize: 200, partitions: 6,
      commitIntervalMs: 100, ceiling: true, profileDir: null
    })
    expect(Object.isFrozen(options)).toBe(true)
    expect(resolveEngineBenchOptions({ rate: 5000, ceiling: false }).rate).toBe(5000)
  })

  test('every bad field is named', () => {
    let error: unknown
    try {
      resolveEngineBenchOptions({ events: 1.5, recordSize: 50, partitions: 0, bogus: 1 } as never)
    } catch (e) { error = e }
    expect(error).toBeInstanceOf(DevtripError)
    expect((error as DevtripError).code).toBe('DEVTRIP_INVALID_OPTIONS')
    const message = (error as Error).message
    expect(message).toContain('/events must be integer')
    expect(message).toContain('/recordSize must be >= 200')
    expect(message).toContain('/partitions must be >= 1')
    expect(message).toContain('must NOT have additional properties (bogus)')
  })
})
