/**
 * deploy/grafana/dashboards/devtrip-streams.json queries only metrics the code exports: every metric name in
 * every PromQL expression is one the stream apps register (METRIC_NAMES in streams/runtime/metrics.ts, read
 * from a real StreamsMetrics registry) or the API registers (api/metrics.ts), and every label a query selects or
 * groups by is one of that metric's labels. A renamed metric or label breaks this test, not the dashboard.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Registry } from 'prom-client'
import { ApiMetrics } from '../../api/metrics'
import { METRIC_NAMES, StreamsMetrics } from '../../streams/runtime/metrics'

interface Panel { type: string, title: string, targets?: Array<{ expr: string }>, panels?: Panel[], datasource?: { uid: string } }
interface Dashboard { uid: string, title: string, panels: Panel[], templating: { list: Array<{ query: { query: string } | string, definition?: string }> } }

const file = join(__dirname, '..', '..', 'deploy', 'grafana', 'dashboards', 'devtrip-streams.json')
const dashboard = JSON.parse(readFileSync(file, 'utf8')) as Dashboard

/** metric name → its label names, from the registries the code really builds */
function exportedMetrics (): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>()
  const streams = new StreamsMetrics(new Registry())
  const api = new ApiMetrics({ defaultMetrics: false })
  for (const registry of [streams.registry, api.registry]) {
    for (const metric of registry.getMetricsAsArray()) {
      const labels = new Set((metric as unknown as { labelNames: string[] }).labelNames)
      const name = (metric as unknown as { name: string }).name
      out.set(name, labels)
      // a histogram is queried through its series
      if ((metric as unknown as { type?: string }).type === 'histogram' || name.endsWith('_seconds')) {
        out.set(`${name}_bucket`, new Set([...labels, 'le']))
        out.set(`${name}_sum`, labels)
        out.set(`${name}_count`, labels)
      }
    }
  }
  return out
}

function allPanels (panels: Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])])
}

const expressions = allPanels(dashboard.panels).flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })))
const variableQueries = dashboard.templating.list.map((v) => (typeof v.query === 'string' ? v.query : v.query.query))

/** metric selectors in a PromQL expression: name plus the label names inside its braces */
function selectors (expr: string): Array<{ metric: string, labels: string[] }> {
  const out: Array<{ metric: string, labels: string[] }> = []
  for (const m of expr.matchAll(/\b(devtrip_[a-z0-9_]+)(\{([^}]*)\})?/g)) {
    const labels = (m[3] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '').map((s) => s.split(/[=!~]/)[0]!.trim())
    out.push({ metric: m[1]!, labels })
  }
  return out
}

/** labels of `by (...)` clauses */
function groupingLabels (expr: string): string[] {
  return [...expr.matchAll(/\bby \(([^)]*)\)/g)].flatMap((m) => m[1]!.split(',').map((s) => s.trim()).filter((s) => s !== ''))
}

test('the dashboard is valid provisioning JSON on the compose stack\'s Prometheus datasource', () => {
  expect(dashboard.uid).toBe('devtrip-streams')
  expect(expressions.length).toBeGreaterThan(15)
  for (const p of allPanels(dashboard.panels).filter((x) => x.type !== 'row')) expect({ panel: p.title, uid: p.datasource?.uid }).toEqual({ panel: p.title, uid: 'prometheus' })
})

test('every metric a query uses is exported by the stream apps or the API', () => {
  const exported = exportedMetrics()
  for (const name of METRIC_NAMES) expect(exported.has(name)).toBe(true)
  const unknown: string[] = []
  for (const { panel, expr } of [...expressions, ...variableQueries.map((expr) => ({ panel: 'variable', expr }))]) {
    const found = selectors(expr)
    expect({ panel, expr, metrics: found.length > 0 }).toEqual({ panel, expr, metrics: true })
    for (const s of found) if (!exported.has(s.metric)) unknown.push(`${panel}: ${s.metric}`)
  }
  expect(unknown).toEqual([])
})

test('every label a query filters or groups by belongs to the metrics it reads', () => {
  const exported = exportedMetrics()
  const problems: string[] = []
  for (const { panel, expr } of expressions) {
    const found = selectors(expr)
    const available = new Set(found.flatMap((s) => [...exported.get(s.metric)!]))
    for (const s of found) for (const label of s.labels) if (!exported.get(s.metric)!.has(label)) problems.push(`${panel}: ${s.metric} has no label ${label}`)
    for (const label of groupingLabels(expr)) if (!available.has(label)) problems.push(`${panel}: groups by ${label}, which ${found.map((s) => s.metric).join(', ')} lack`)
  }
  expect(problems).toEqual([])
})

test('the streams part covers every metric the apps export', () => {
  const used = new Set(expressions.flatMap(({ expr }) => selectors(expr).map((s) => s.metric.replace(/_(bucket|sum|count)$/, ''))))
  expect(METRIC_NAMES.filter((name) => !used.has(name))).toEqual([])
})
