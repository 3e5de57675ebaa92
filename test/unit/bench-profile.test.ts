import { areaOf, summarizeCpuProfile, type CpuProfile } from '../../bench/profile-summary'

const ROOT = '/work/main'
const frame = (functionName: string, url: string, lineNumber = 0): { functionName: string, url: string, lineNumber: number } => ({ functionName, url, lineNumber })

/**
 * root ─┬─ (idle)
 *       ├─ (garbage collector)
 *       └─ iteration (streams/runtime/streams-app.js:300)
 *             ├─ process (own recursive helper, streams) ─ process (recursion) ─ parse (V8 builtin)
 *             └─ send (@platformatic/kafka)
 */
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)', ''), children: [2, 3, 4] },
    { id: 2, callFrame: frame('(idle)', '') },
    { id: 3, callFrame: frame('(garbage collector)', '') },
    { id: 4, callFrame: frame('iteration', `file://${ROOT}/dist/streams/runtime/streams-app.js`, 299), children: [5, 8] },
    { id: 5, callFrame: frame('process', `file://${ROOT}/dist/streams/internals/task/stream-task.js`, 9), children: [6] },
    { id: 6, callFrame: frame('process', `file://${ROOT}/dist/streams/internals/task/stream-task.js`, 9), children: [7] },
    { id: 7, callFrame: frame('parse', '') },
    { id: 8, callFrame: frame('send', `file://${ROOT}/node_modules/@platformatic/kafka/dist/clients/producer/producer.js`, 41) }
  ],
  // microseconds: idle 3000 + 2000, GC 1000, iteration self 500, process self 1000 + 500, parse 2000, send 1000 → busy 6000
  samples: [2, 3, 4, 5, 6, 7, 8, 2],
  timeDeltas: [3000, 1000, 500, 1000, 500, 2000, 1000, 2000]
}

describe('CPU profile summary', () => {
  test('areas of the code', () => {
    expect(areaOf('(idle)', '')).toBe('idle')
    expect(areaOf('(garbage collector)', '')).toBe('garbage collection')
    expect(areaOf('(program)', '')).toBe('V8/native (unattributed)')
    expect(areaOf('parse', '')).toBe('V8 builtins (JSON, Buffer, …)')
    expect(areaOf('emit', 'node:events')).toBe('node core')
    expect(areaOf('send', 'file:///x/node_modules/@platformatic/kafka/dist/a.js')).toBe('npm: @platformatic/kafka')
    expect(areaOf('put', 'file:///x/node_modules/abstract-level/index.js')).toBe('npm: abstract-level')
    expect(areaOf('put', `file://${ROOT}/dist/state/rocksdb/rocksdb-engine.js`)).toBe('own: state/')
    expect(areaOf('f', 'file:///somewhere/else.js')).toBe('other')
  })

  test('self time by area and function, idle left out of the busy time', () => {
    const s = summarizeCpuProfile(profile)
    expect(s.sampledMs).toBe(11)
    expect(s.idleMs).toBe(5)
    expect(s.busyMs).toBe(6)
    expect(s.byArea).toEqual([
      { area: 'V8 builtins (JSON, Buffer, …)', selfMs: 2, percent: 33.3 },
      { area: 'own: streams/', selfMs: 2, percent: 33.3 },
      { area: 'garbage collection', selfMs: 1, percent: 16.7 },
      { area: 'npm: @platformatic/kafka', selfMs: 1, percent: 16.7 }
    ])
    expect(s.topSelf[0]).toMatchObject({ function: 'parse', selfMs: 2, selfPercent: 33.3 })
    expect(s.topSelf.find((f) => f.function === 'process')).toMatchObject({
      location: 'streams/internals/task/stream-task.js:10', selfMs: 1.5, totalMs: 3.5, totalPercent: 58.3
    })
  })

  test('inclusive time counts a recursive function once per sample, and only our own functions are listed', () => {
    const s = summarizeCpuProfile(profile)
    expect(s.topOwnTotal.map((f) => [f.function, f.totalMs])).toEqual([['iteration', 5], ['process', 3.5]])
    expect(s.topOwnTotal.every((f) => f.area.startsWith('own: '))).toBe(true)
  })
})
