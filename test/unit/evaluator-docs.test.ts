/**
 * docs/evaluator.md against the code: every setting with its variable and default, every offline rule with its
 * criterion, points and cap, every failure reason, the score weights. The page cannot drift from the code.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { CRITERION_WEIGHTS, EVALUATOR_CONFIG_SCHEMA, EVALUATOR_DEFAULTS, EVALUATOR_ENV, FAILURE_REASONS, GENERIC_RULES, JS_RULES, type RuleSpec } from '../../evaluator'

const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'evaluator.md'), 'utf8')
const lines = doc.split('\n')

/** The table row whose first cell is `name` (the first such row after `after`, a heading). */
function row (name: string, after = ''): string[] {
  const start = after === '' ? 0 : lines.findIndex((l) => l.startsWith(after))
  const line = lines.slice(start).find((l) => l.startsWith(`| \`${name}\` |`))
  if (line === undefined) throw new Error(`docs/evaluator.md has no table row for ${name}${after === '' ? '' : ` after "${after}"`}`)
  return line.split('|').slice(1, -1).map((c) => c.trim())
}

test('every setting has a row with its variable and default', () => {
  for (const key of Object.keys(EVALUATOR_CONFIG_SCHEMA.properties)) {
    const cells = row(key, '## Configuration')
    const variables = Object.entries(EVALUATOR_ENV).filter(([, field]) => field === key || (key === 'rateLimit' && field === 'ratePerMinute')).map(([name]) => name)
    for (const variable of variables) expect({ key, variable: cells[1] }).toEqual({ key, variable: `\`${variable}\`` })
    const value = (EVALUATOR_DEFAULTS as Record<string, unknown>)[key]
    if (typeof value === 'string' || typeof value === 'number') expect({ key, cell: cells[3] }).toEqual({ key, cell: expect.stringContaining(`\`${String(value)}\``) })
  }
  expect(row('rateLimit', '## Configuration')[3]).toBe(`\`{max: ${EVALUATOR_DEFAULTS.rateLimit.max}, durationMs: ${EVALUATOR_DEFAULTS.rateLimit.durationMs}}\``)
  // and no row for a setting that does not exist
  const section = doc.slice(doc.indexOf('## Configuration'), doc.indexOf('## The offline evaluator'))
  const documented = [...section.matchAll(/^\| `([a-zA-Z]+)` \|/gm)].map((m) => m[1])
  expect(documented.sort()).toEqual(Object.keys(EVALUATOR_CONFIG_SCHEMA.properties).sort())
})

test('every offline rule is documented with its criterion, points and cap', () => {
  const check = (rules: Readonly<Record<string, RuleSpec>>, heading: string): void => {
    for (const [name, spec] of Object.entries(rules)) {
      const cells = row(name, heading)
      expect({ name, cells: cells.slice(1, 4) }).toEqual({ name, cells: [spec.criterion, String(spec.penalty), String(spec.cap)] })
    }
  }
  check(JS_RULES, '**JavaScript and TypeScript**')
  check(GENERIC_RULES, '**Every other language**')
})

test('every failure reason and the score weights are documented', () => {
  for (const reason of FAILURE_REASONS) expect(row(reason, '### Failure reasons')).toHaveLength(2)
  for (const [criterion, weight] of Object.entries(CRITERION_WEIGHTS)) expect(doc).toContain(`${criterion} ${weight.toFixed(2)}`)
})
