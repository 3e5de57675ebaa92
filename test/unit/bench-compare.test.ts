/**
 * `bench all`, the pure parts: per-system medians, ratios and goals, the docs table and its marked section, the
 * options schema and the CLI flags, the peers' line protocol, VmHWM parsing, the restart workload's arithmetic and
 * the build cache of the peers. Nothing here talks to a broker or times anything.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Command } from 'commander'
import { resolveCompareBenchOptions } from '../../bench/compare-bench'
import {
  formatNumber, goalsOf, ratiosOf, renderComparisonMarkdown, replaceGeneratedSection, SECTION_BEGIN, SECTION_END, summarizeSystem,
  type SystemRunFigures, type TableInput
} from '../../bench/compare-report'
import { restartInputs } from '../../bench/compare-run'
import { cachedBuild, hashFiles } from '../../bench/peer-build'
import { parsePeerLine, parseVmHwmKb } from '../../bench/system-process'
import { allOptionsFromFlags, parseSystems, registerBenchAll } from '../../cli/bench-all'
import { CliError } from '../../cli/output'
import { DevtripError } from '../../events/errors'

const run = (f: Partial<SystemRunFigures>): SystemRunFigures => ({
  eventsPerSec: null, p50Ms: null, p99Ms: null, restartRestoredRecords: null, restartSeconds: null, peakRssMb: null, ...f
})

describe('medians, ratios, goals', () => {
  test('each figure is the median of the runs that have it; runs without it do not count', () => {
    const s = summarizeSystem([
      run({ eventsPerSec: 100, p50Ms: 10, p99Ms: 50, restartRestoredRecords: 7, restartSeconds: 3.333, peakRssMb: 300 }),
      run({ eventsPerSec: 300, p50Ms: 30, p99Ms: 70, peakRssMb: 100 }),
      run({ eventsPerSec: 200, p50Ms: 20, p99Ms: 60, restartRestoredRecords: 9, restartSeconds: 4, peakRssMb: 200 })
    ])
    expect(s).toEqual({ eventsPerSec: 200, p50Ms: 20, p99Ms: 60, restartRestoredRecords: 8, restartSeconds: 3.67, peakRssMb: 200, runs: 3 })
  })

  test('a figure no run has is null', () => {
    expect(summarizeSystem([run({ eventsPerSec: 5 })]).restartSeconds).toBeNull()
    expect(summarizeSystem([]).eventsPerSec).toBeNull()
  })

  test('ratios are ours ÷ peer, null where either is missing or the peer is 0', () => {
    const ours = summarizeSystem([run({ eventsPerSec: 150, p50Ms: 50, restartRestoredRecords: 10, restartSeconds: 2, peakRssMb: 0 })])
    const peer = summarizeSystem([run({ eventsPerSec: 100, p50Ms: 200, restartRestoredRecords: 0, restartSeconds: 8, peakRssMb: 400 })])
    expect(ratiosOf(ours, peer)).toEqual({ eventsPerSec: 1.5, p50Ms: 0.25, p99Ms: null, restartRestoredRecords: null, restartSeconds: 0.25, peakRssMb: 0 })
  })

  test('goals: ≥ 1.0× Kafka Streams and ≥ 60 % of the ceiling', () => {
    const s = (eventsPerSec: number): ReturnType<typeof summarizeSystem> => summarizeSystem([run({ eventsPerSec })])
    expect(goalsOf(s(60), s(60), 100)).toEqual({ vsKafkaStreams: { ratio: 1, met: true }, vsCeiling: { ratio: 0.6, met: true } })
    expect(goalsOf(s(59), s(60), 100)).toEqual({ vsKafkaStreams: { ratio: 0.983, met: false }, vsCeiling: { ratio: 0.59, met: false } })
    expect(goalsOf(s(59), undefined, null)).toEqual({ vsKafkaStreams: { ratio: null, met: null }, vsCeiling: { ratio: null, met: null } })
  })
})

describe('the docs table', () => {
  const input = (): TableInput => ({
    date: '2026-11-24',
    command: 'bin/devtrip-streams bench all',
    systems: {
      'devtrip-streams': { ...summarizeSystem([run({ eventsPerSec: 61234, p50Ms: 105.26, p99Ms: 240, restartRestoredRecords: 9000, restartSeconds: 8.04, peakRssMb: 280.4 })]), description: 'ours' },
      'kafka-streams': { ...summarizeSystem([run({ eventsPerSec: 50000, p50Ms: 90, p99Ms: 200, restartRestoredRecords: 1_100_000, restartSeconds: 20, peakRssMb: 700 })]), description: 'ks' },
      'quix-streams': { ...summarizeSystem([run({ eventsPerSec: 12000 })]), description: 'quix' }
    },
    ratios: {},
    ceilingEventsPerSec: 200000,
    goals: { vsKafkaStreams: { ratio: 1.225, met: true }, vsCeiling: { ratio: 0.306, met: false } },
    config: { events: 200000, runs: 3, recordSize: 200, keys: 10000, partitions: 6, commitIntervalMs: 100, durationSec: 20, restartKeys: 1000000, restartRuns: 3, sessionTimeoutMs: 10000 },
    machine: { summary: '2 × CPU', loadAverageAtStart: [1, 2, 3], loadAverageAtEnd: [4, 5, 6] }
  })

  test('one row per system with grouped numbers, a ceiling row, the ratio table and the goals', () => {
    const i = input()
    const ours = i.systems['devtrip-streams']
    const ks = i.systems['kafka-streams']
    const quix = i.systems['quix-streams']
    if (ours === undefined || ks === undefined || quix === undefined) throw new Error('fixture')
    const md = renderComparisonMarkdown({ ...i, ratios: { 'kafka-streams': ratiosOf(ours, ks), 'quix-streams': ratiosOf(ours, quix) } })
    expect(md).toContain('| devtrip-streams (ours) | 61 234 | 105.3 | 240.0 | 9 000 | 8.0 | 280 |')
    expect(md).toContain('| Kafka Streams | 50 000 | 90.0 | 200.0 | 1 100 000 | 20.0 | 700 |')
    expect(md).toContain('| Quix Streams | 12 000 | – | – | – | – | – |')
    expect(md).toContain('| ceiling (ProducerPerformance / ConsumerPerformance) | 200 000 |')
    expect(md).toContain('| Kafka Streams | 1.23× | 1.17× | 1.20× | 0.01× | 0.40× | 0.40× |')
    expect(md).toContain('| Quix Streams | 5.10× | – | – | – | – | – |')
    expect(md).toContain('1.23×, met')
    expect(md).toContain('30.6 %, NOT met')
    expect(md).toContain('Medians of 3 alternating run(s)')
    expect(md).toContain('load average 1 / 2 / 3 at the start, 4 / 5 / 6 at the end')
  })

  test('formatNumber groups thousands and keeps the asked decimals', () => {
    expect(formatNumber(1234567)).toBe('1 234 567')
    expect(formatNumber(999.96, 1)).toBe('1 000.0')
    expect(formatNumber(null)).toBe('–')
  })

  test('the generated section is replaced between the markers, everything else kept', () => {
    const doc = `# Benchmarks\n\nintro\n\n${SECTION_BEGIN}\nold table\n${SECTION_END}\n\n## After\n`
    const next = replaceGeneratedSection(doc, 'new table\n')
    expect(next).toBe(`# Benchmarks\n\nintro\n\n${SECTION_BEGIN}\nnew table\n${SECTION_END}\n\n## After\n`)
    expect(replaceGeneratedSection(next, 'new table')).toBe(next)
  })

  test('without markers the section is appended; with only one marker it refuses', () => {
    expect(replaceGeneratedSection('# B\n', 'table')).toBe(`# B\n\n### Results\n\n${SECTION_BEGIN}\ntable\n${SECTION_END}\n`)
    expect(() => replaceGeneratedSection(`# B\n${SECTION_BEGIN}\n`, 'x')).toThrow(/only one of the bench-all markers/)
  })
})

describe('options', () => {
  test('defaults: 200 000 events, 3 runs, 1 000 000 restart keys in every run, all three systems', () => {
    const o = resolveCompareBenchOptions({})
    expect(o).toMatchObject({ events: 200_000, runs: 3, restartKeys: 1_000_000, restartRuns: 3, sessionTimeoutMs: 10_000, commitIntervalMs: 100 })
    expect(o.systems).toEqual(['devtrip-streams', 'kafka-streams', 'quix-streams'])
    expect(Object.isFrozen(o)).toBe(true)
    expect(resolveCompareBenchOptions({ runs: 1 }).restartRuns).toBe(1)
  })

  test('restart keys: 0 skips the test, otherwise at least 10 000', () => {
    expect(resolveCompareBenchOptions({ restartKeys: 0 }).restartKeys).toBe(0)
    expect(() => resolveCompareBenchOptions({ restartKeys: 5000 })).toThrow(/\/restartKeys must be 0 \(skip\) or a whole number from 10000/)
  })

  test('bad values name every field; restart runs may not exceed runs', () => {
    let error: unknown
    try {
      resolveCompareBenchOptions({ events: 5, sessionTimeoutMs: 1000, systems: ['flink' as never], extra: 1 } as never)
    } catch (e) { error = e }
    expect(error).toBeInstanceOf(DevtripError)
    const message = (error as Error).message
    expect(message).toMatch(/\/events must be >= 10000/)
    expect(message).toMatch(/\/sessionTimeoutMs must be >= 6000/)
    expect(message).toMatch(/\/systems\/0 must be equal to one of the allowed values \(devtrip-streams, kafka-streams, quix-streams\)/)
    expect(message).toMatch(/must NOT have additional properties \(extra\)/)
    expect(() => resolveCompareBenchOptions({ runs: 2, restartRuns: 3 })).toThrow(/\/restartRuns \(3\) must not exceed \/runs \(2\)/)
  })

  test('flags: whole numbers with underscores, system aliases; bad ones are usage errors (exit 2)', () => {
    const o = allOptionsFromFlags({ events: '20_000', runs: '1', restartKeys: '50000', systems: 'ours,ks', ceiling: false })
    expect(o).toMatchObject({ events: 20_000, runs: 1, restartKeys: 50_000, restartRuns: 1, ceiling: false, systems: ['devtrip-streams', 'kafka-streams'] })
    for (const flags of [{ events: '2e5' }, { runs: '0' }, { systems: 'ours,flink' }, { systems: ',' }, { restartRuns: '-1' }]) {
      let error: unknown
      try { allOptionsFromFlags(flags) } catch (e) { error = e }
      expect(error).toBeInstanceOf(CliError)
      expect((error as CliError).exitCode).toBe(2)
    }
    expect(parseSystems('quix-streams, ours')).toEqual(['quix-streams', 'devtrip-streams'])
  })

  test('bench all is registered with its flags', () => {
    const bench = new Command('bench')
    registerBenchAll(bench, { cacheDir: '/nowhere', projectRoot: '/nowhere' })
    const all = bench.commands.find((c) => c.name() === 'all')
    expect(all?.options.map((o) => o.long)).toEqual(expect.arrayContaining([
      '--events', '--runs', '--restart-keys', '--restart-runs', '--systems', '--no-ceiling', '--profile', '--no-write', '--client', '--json'
    ]))
  })
})

describe('peer protocol and memory', () => {
  test('protocol lines parse into events', () => {
    expect(parsePeerLine('{"event":"state","state":"RUNNING","atMs":5}')).toEqual({ event: 'state', state: 'RUNNING', atMs: 5 })
    expect(parsePeerLine('{"event":"restored","store":"s","partition":2,"records":1000,"atMs":6}'))
      .toEqual({ event: 'restored', store: 's', partition: 2, records: 1000, atMs: 6 })
    expect(parsePeerLine('{"event":"restored","records":0,"atMs":6}')).toEqual({ event: 'restored', records: 0, atMs: 6 })
    expect(parsePeerLine('{"event":"error","message":"boom"}')).toEqual({ event: 'error', message: 'boom' })
    expect(parsePeerLine('{"event":"closed","atMs":7}')).toEqual({ event: 'closed', atMs: 7 })
  })

  test('anything else on stdout is a protocol error', () => {
    expect(() => parsePeerLine('[main] INFO starting')).toThrow(/not a JSON line/)
    expect(() => parsePeerLine('{"state":"RUNNING"}')).toThrow(/not a protocol object/)
    expect(() => parsePeerLine('{"event":"restored","records":-1}')).toThrow(/without a record count/)
    expect(() => parsePeerLine('{"event":"hello"}')).toThrow(/unknown event "hello"/)
  })

  test('VmHWM is read from /proc/<pid>/status text', () => {
    expect(parseVmHwmKb('Name:\tjava\nVmPeak:\t 9000 kB\nVmHWM:\t  345678 kB\nVmRSS:\t 1 kB\n')).toBe(345678)
    expect(parseVmHwmKb('Name:\tzombie\n')).toBeNull()
  })
})

describe('restart workload', () => {
  test('K distinct keys plus K/5 more (at least 50 000); the kill comes half-way through the extra ones', () => {
    expect(restartInputs(1_000_000)).toEqual({ total: 1_200_000, killAt: 1_100_000 })
    expect(restartInputs(10_000)).toEqual({ total: 60_000, killAt: 35_000 })
  })
})

describe('peer build cache', () => {
  let dir: string
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'devtrip-peer-build-')) })
  afterEach(() => { rmSync(dir, { recursive: true, force: true }) })

  test('builds once per content of the inputs, reuses it after, rebuilds when an input changes', async () => {
    const src = join(dir, 'src')
    mkdirSync(src)
    writeFileSync(join(src, 'a.txt'), 'one')
    const builds: string[] = []
    const build = async (out: string): Promise<void> => { builds.push(out); writeFileSync(join(out, 'artifact'), 'x') }
    const first = await cachedBuild(join(dir, 'cache'), 'peer', src, [join(src, 'a.txt')], build)
    expect(first.built).toBe(true)
    expect(existsSync(join(first.dir, 'artifact'))).toBe(true)
    const again = await cachedBuild(join(dir, 'cache'), 'peer', src, [join(src, 'a.txt')], build)
    expect(again).toEqual({ dir: first.dir, built: false })
    writeFileSync(join(src, 'a.txt'), 'two')
    const changed = await cachedBuild(join(dir, 'cache'), 'peer', src, [join(src, 'a.txt')], build)
    expect(changed.built).toBe(true)
    expect(changed.dir).not.toBe(first.dir)
    expect(builds).toHaveLength(2)
  })

  test('a failed build leaves nothing that a later run would take for finished', async () => {
    writeFileSync(join(dir, 'in'), 'x')
    await expect(cachedBuild(join(dir, 'cache'), 'peer', dir, [join(dir, 'in')], async () => { throw new Error('mvn failed') })).rejects.toThrow('mvn failed')
    expect(readdirSync(join(dir, 'cache'))).toEqual([])
  })

  test('the hash covers file names and contents', () => {
    writeFileSync(join(dir, 'a'), '1')
    writeFileSync(join(dir, 'b'), '1')
    expect(hashFiles(dir, [join(dir, 'a')])).not.toBe(hashFiles(dir, [join(dir, 'b')]))
    expect(hashFiles(dir, [join(dir, 'a'), join(dir, 'b')])).toBe(hashFiles(dir, [join(dir, 'b'), join(dir, 'a')]))
  })
})
