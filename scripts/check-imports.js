#!/usr/bin/env node
'use strict'
// Guards the architecture: (1) no circular imports (madge over the TypeScript sources), (2) imports only point
// down the layer order events ← state ← streams ← processors ← topologies ← api / evaluator / dashboard ← bench ← cli, and
// (3) nobody imports another top-level folder's internals/. Exits 1 with one line per violation.
const { readdirSync, readFileSync, statSync } = require('node:fs')
const { join, relative, resolve, dirname, sep } = require('node:path')

const root = resolve(__dirname, '..')
const LAYER = { events: 0, state: 1, streams: 2, processors: 3, topologies: 4, api: 5, evaluator: 5, dashboard: 5, bench: 6, cli: 7, scripts: 8, test: 8 }
// cli is the entry point: it starts the api, the evaluator and the benchmarks, so it sits above them all;
// scripts and test may use everything.

function tsFiles (dir, out = []) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.') || name === 'peers') continue
    const full = join(dir, name)
    if (statSync(full).isDirectory()) tsFiles(full, out)
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(full)
  }
  return out
}

const importRe = /(?:^|\s)(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|(?:import|require)\(\s*['"]([^'"]+)['"]\s*\)/g
const violations = []
const files = Object.keys(LAYER).filter((d) => { try { return statSync(join(root, d)).isDirectory() } catch { return false } })
  .flatMap((d) => tsFiles(join(root, d)))

for (const file of files) {
  const from = relative(root, file).split(sep)
  const fromTop = from[0]
  const text = readFileSync(file, 'utf8')
  for (const m of text.matchAll(importRe)) {
    const spec = m[1] || m[2]
    if (!spec.startsWith('.')) continue
    const target = relative(root, resolve(dirname(file), spec)).split(sep)
    const toTop = target[0]
    if (toTop === fromTop || !(toTop in LAYER)) continue
    if (LAYER[toTop] > LAYER[fromTop] || (LAYER[toTop] === LAYER[fromTop])) {
      violations.push(`${from.join('/')}: imports ${spec} — ${fromTop}/ may not depend on ${toTop}/ (layer order events ← state ← streams ← processors ← topologies ← api/evaluator/dashboard ← bench ← cli)`)
    }
    if (fromTop !== 'test' && fromTop !== 'bench' && target.includes('internals')) {
      violations.push(`${from.join('/')}: imports ${spec} — another folder's internals/ are private; use its public index`)
    }
  }
}

async function cycles () {
  const madge = require('madge')
  const result = await madge(files.filter((f) => !relative(root, f).startsWith('test')), {
    fileExtensions: ['ts'], tsConfig: join(root, 'tsconfig.json'), detectiveOptions: { ts: { skipTypeImports: true } }
  })
  return result.circular()
}

cycles().then((circular) => {
  for (const cycle of circular) violations.push(`circular import: ${cycle.join(' → ')}`)
  if (violations.length > 0) {
    for (const v of violations) console.error(v)
    console.error(`check-imports: ${violations.length} violation(s)`)
    process.exit(1)
  }
  console.log(`check-imports: ${files.length} files, no circular imports, layers respected`)
}).catch((error) => { console.error('check-imports failed:', error); process.exit(1) })
