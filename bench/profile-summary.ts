/**
 * Where the time goes, from a V8 CPU profile (`node --cpu-prof` writes `*.cpuprofile`): self time per area of the
 * code (our folders, the Kafka client, RocksDB, Node core, GC, idle) and the hottest functions by self and by total
 * (inclusive) time. Pure: takes the parsed JSON, so it can be tested on a hand-made profile.
 *
 * The .cpuprofile format (Chrome DevTools protocol `Profiler.Profile`): `nodes` is the call tree, each node
 * `{ id, callFrame: { functionName, url, lineNumber (0-based) }, children?: [ids] }`; `samples[i]` is the id of the
 * node on top of the stack at sample i and `timeDeltas[i]` the microseconds since the previous sample.
 */

export interface CpuProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string, readonly url: string, readonly lineNumber: number }
  readonly children?: readonly number[]
}

export interface CpuProfile {
  readonly nodes: readonly CpuProfileNode[]
  readonly samples: readonly number[]
  readonly timeDeltas: readonly number[]
  readonly startTime?: number
  readonly endTime?: number
}

export interface AreaTime {
  readonly area: string
  readonly selfMs: number
  /** share of the busy (non-idle) time */
  readonly percent: number
}

export interface FunctionTime {
  readonly function: string
  readonly location: string
  readonly area: string
  readonly selfMs: number
  readonly totalMs: number
  readonly selfPercent: number
  readonly totalPercent: number
}

export interface ProfileSummary {
  readonly sampledMs: number
  readonly idleMs: number
  readonly busyMs: number
  readonly byArea: readonly AreaTime[]
  readonly topSelf: readonly FunctionTime[]
  /** the hottest functions of this project (not the client library, not Node) by inclusive time */
  readonly topOwnTotal: readonly FunctionTime[]
}

const OWN_FOLDERS = ['events', 'state', 'streams', 'processors', 'topologies', 'api', 'evaluator', 'bench', 'cli']

/** Which part of the system a call frame belongs to. */
export function areaOf (functionName: string, url: string): string {
  if (functionName === '(idle)') return 'idle'
  if (functionName === '(garbage collector)') return 'garbage collection'
  if (functionName === '(program)') return 'V8/native (unattributed)'
  if (functionName === '(root)') return 'root'
  if (url === '') return 'V8 builtins (JSON, Buffer, …)'
  if (url.startsWith('node:')) return 'node core'
  const modules = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)
  if (modules !== null) return `npm: ${modules[1] as string}`
  const path = url.replace(/^file:\/\//, '')
  for (const folder of OWN_FOLDERS) {
    if (path.includes(`/dist/${folder}/`) || path.includes(`/${folder}/`)) return `own: ${folder}/`
  }
  return 'other'
}

function shortLocation (url: string, lineNumber: number): string {
  if (url === '') return ''
  const path = url.replace(/^file:\/\//, '')
  const m = /\/(node_modules\/.*)$/.exec(path) ?? /\/dist\/(.*)$/.exec(path)
  return `${m !== null ? m[1] as string : path}:${lineNumber + 1}`
}

/** most time first; equal times in code-point order of the name, so the output does not depend on insertion order */
function byTimeThenName (a: [string, number], b: [string, number]): number {
  return b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)
}

export function summarizeCpuProfile (profile: CpuProfile, top = 15): ProfileSummary {
  const byId = new Map<number, CpuProfileNode>()
  const parent = new Map<number, number>()
  for (const node of profile.nodes) {
    byId.set(node.id, node)
    for (const child of node.children ?? []) parent.set(child, node.id)
  }
  const keyOf = (node: CpuProfileNode): string => `${node.callFrame.functionName}\u0000${node.callFrame.url}\u0000${node.callFrame.lineNumber}`
  const self = new Map<string, number>()
  const total = new Map<string, number>()
  const frames = new Map<string, CpuProfileNode>()
  const areas = new Map<string, number>()
  let sampledUs = 0
  let idleUs = 0
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0
    const leaf = byId.get(profile.samples[i] as number)
    if (leaf === undefined || delta <= 0) continue
    sampledUs += delta
    const area = areaOf(leaf.callFrame.functionName, leaf.callFrame.url)
    if (area === 'idle') { idleUs += delta; continue }
    areas.set(area, (areas.get(area) ?? 0) + delta)
    const leafKey = keyOf(leaf)
    frames.set(leafKey, leaf)
    self.set(leafKey, (self.get(leafKey) ?? 0) + delta)
    // inclusive time: every distinct function on the stack once (recursion must not count twice)
    const onStack = new Set<string>()
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const node = byId.get(id) as CpuProfileNode
      const key = keyOf(node)
      if (onStack.has(key)) continue
      onStack.add(key)
      frames.set(key, node)
      total.set(key, (total.get(key) ?? 0) + delta)
    }
  }
  const busyUs = Math.max(1, sampledUs - idleUs)
  const ms = (us: number): number => Math.round(us / 10) / 100
  const pct = (us: number): number => Math.round((us / busyUs) * 1000) / 10
  const describe = (key: string): FunctionTime => {
    const node = frames.get(key) as CpuProfileNode
    const s = self.get(key) ?? 0
    const t = total.get(key) ?? 0
    return {
      function: node.callFrame.functionName === '' ? '(anonymous)' : node.callFrame.functionName,
      location: shortLocation(node.callFrame.url, node.callFrame.lineNumber),
      area: areaOf(node.callFrame.functionName, node.callFrame.url),
      selfMs: ms(s),
      totalMs: ms(t),
      selfPercent: pct(s),
      totalPercent: pct(t)
    }
  }
  const byArea = [...areas].sort(byTimeThenName).map(([area, us]) => ({ area, selfMs: ms(us), percent: pct(us) }))
  const topSelf = [...self].sort(byTimeThenName).slice(0, top).map(([key]) => describe(key))
  const topOwnTotal = [...total]
    .filter(([key]) => { const f = frames.get(key) as CpuProfileNode; return areaOf(f.callFrame.functionName, f.callFrame.url).startsWith('own: ') })
    .sort(byTimeThenName).slice(0, top).map(([key]) => describe(key))
  return { sampledMs: ms(sampledUs), idleMs: ms(idleUs), busyMs: ms(sampledUs - idleUs), byArea, topSelf, topOwnTotal }
}
