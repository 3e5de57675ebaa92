/**
 * The offline evaluator: real parses, deterministic rule findings and scores, the generic fallback, and the
 * scoring arithmetic of findings.ts.
 */
import {
  CRITERION_WEIGHTS, JS_RULES, GENERIC_RULES, OFFLINE_EVALUATOR_NAME, OfflineEvaluator, evaluateOffline, jsDialectOf, type EvaluationVerdict
} from '../../evaluator'
import { analyzeJs } from '../../evaluator/offline/js-analysis'
import { analyzeGeneric } from '../../evaluator/offline/generic-analysis'
import { overallScore, scoreFindings } from '../../evaluator/offline/findings'

const GOOD_JS = `
/** Indices of the two numbers that add up to target, or null. */
function twoSum (nums, target) {
  const seen = new Map()
  for (let i = 0; i < nums.length; i++) {
    const need = target - nums[i]
    if (seen.has(need)) return [seen.get(need), i]
    seen.set(nums[i], i)
  }
  return null
}
module.exports = { twoSum }
`

const BAD_JS = `
var result = []
function twoSum(nums, target) {
  var unused = 5
  for (var i = 0; i < nums.length; i++) {
    for (var j = 0; j < nums.length; j++) {
      for (var k = 0; k < 1; k++) {
        if (nums[i] + nums[j] == target) {
          console.log('found', i, j)
          return [i, j]
          console.log('unreachable')
        }
      }
    }
  }
  try { JSON.parse('x') } catch (e) {}
  if (true) { debugger }
}
`

function completed (verdict: EvaluationVerdict): Extract<EvaluationVerdict, { outcome: 'completed' }> {
  if (verdict.outcome !== 'completed') throw new Error(`expected a score, got ${JSON.stringify(verdict)}`)
  return verdict
}

function rulesOf (code: string, dialect: 'javascript' | 'typescript' = 'javascript'): string[] {
  return analyzeJs(code, dialect).findings.map((f) => f.rule)
}

describe('offline evaluator on JavaScript', () => {
  test('clean code scores 100 on every criterion', () => {
    const v = completed(evaluateOffline({ missionTitle: 'Two Sum', language: 'javascript', code: GOOD_JS }))
    expect(v).toMatchObject({ score: 100, maxScore: 100, details: { syntax: 100, logic: 100, performance: 100, bestPractices: 100 } })
    expect(v.feedback).toMatch(/^Offline heuristic review \(no AI model configured; javascript parsed and linted, the code was not run\): no problems found/)
  })

  test('bad code: the exact penalties of each rule, capped per rule', () => {
    const analysis = analyzeJs(BAD_JS, 'javascript')
    const counts: Record<string, number> = {}
    for (const f of analysis.findings) counts[f.rule] = (counts[f.rule] ?? 0) + 1
    expect(counts).toEqual({
      var: 5, // result, unused, i, j, k
      'unused-variable': 2, // result, unused (e is a catch param, not tracked)
      'nested-loops': 1,
      'loose-equality': 1,
      'console-log': 2,
      'unreachable-code': 1,
      'empty-catch': 1,
      'constant-condition': 1,
      debugger: 1
    })
    const v = completed(evaluateOffline({ missionTitle: 'Two Sum', language: 'javascript', code: BAD_JS }))
    // logic: 100 − unreachable 15 − constant-condition 10; performance: 100 − nested-loops 15;
    // bestPractices: 100 − var min(25,20) − unused 10 − loose 5 − console 6 − empty-catch 10 − debugger 10
    expect(v.details).toEqual({ syntax: 100, logic: 75, performance: 85, bestPractices: 39 })
    expect(v.score).toBe(Math.round(100 * 0.25 + 75 * 0.3 + 85 * 0.2 + 39 * 0.25))
    expect(v.feedback).toContain('line 2: `var` is function-scoped')
    expect(v.feedback).toMatch(/and \d+ more findings\.$/)
  })

  test('good code scores higher than bad code, and the same code always scores the same', () => {
    const good = completed(evaluateOffline({ missionTitle: null, language: 'javascript', code: GOOD_JS }))
    const bad = completed(evaluateOffline({ missionTitle: null, language: 'javascript', code: BAD_JS }))
    expect(good.score).toBeGreaterThan(bad.score)
    expect(evaluateOffline({ missionTitle: null, language: 'javascript', code: BAD_JS })).toEqual(bad)
  })

  test('code that does not parse scores 0 for syntax and logic; the rest is not judged', () => {
    const v = completed(evaluateOffline({ missionTitle: null, language: 'javascript', code: 'function f( {\n  return 1\n' }))
    expect(v.details).toEqual({ syntax: 0, logic: 0 })
    expect(v.score).toBe(0)
    expect(v.feedback).toMatch(/does not parse \(.+ on line 2\)/)
  })

  test('a recoverable syntax error costs 40 syntax points and caps logic at 30', () => {
    const code = 'const total = 1\nconst total = 2\nmodule.exports = total\n'
    expect(rulesOf(code)).toEqual(['syntax-error'])
    const v = completed(evaluateOffline({ missionTitle: null, language: 'javascript', code }))
    expect(v.details).toEqual({ syntax: 60, logic: 30, performance: 100, bestPractices: 100 })
    expect(v.feedback).toContain("line 2: syntax error: Identifier 'total' has already been declared")
  })

  test('an empty submission scores 0', () => {
    const v = completed(evaluateOffline({ missionTitle: null, language: 'js', code: '  // nothing yet\n\n' }))
    expect(v).toMatchObject({ score: 0, details: { syntax: 0, logic: 0, performance: 0, bestPractices: 0 } })
    expect(v.feedback).toMatch(/the submission is empty\.$/)
  })

  test.each([
    ['loose equality against null is the idiom, not a finding', 'module.exports = (x) => x == null', []],
    ['while (true) is the idiom, not a constant condition', 'module.exports = () => { while (true) { if (Math.random() > 0.5) break } }', []],
    ['a constant if', 'module.exports = () => { if (0) return 1; return 2 }', ['constant-condition']],
    ['self comparison', 'module.exports = (a) => a.b === a.b', ['self-comparison']],
    ['assignment in a condition', 'module.exports = (a, b) => { if (a = b) return 1 }', ['assignment-in-condition']],
    ['a parenthesised assignment is deliberate', 'module.exports = (re, s) => { let m; while ((m = re.exec(s))) s = m[0]; return s }', []],
    ['await in a loop, no error handling', 'module.exports = async (urls) => { for (const u of urls) await fetch(u) }', ['await-in-loop', 'no-error-handling']],
    ['await with try/catch', 'module.exports = async (u) => { try { return await fetch(u) } catch (e) { return null } }', []],
    ['eval and new Function', 'module.exports = (s) => eval(s) + new Function(s)()', ['eval', 'eval']],
    ['an unused import', "import fs from 'node:fs'\nexport const x = 1", ['unused-variable']],
    ['exported and top-level function constants are not unused', 'export const a = 1\nconst solve = (n) => n * 2', []],
    ['an underscore name is deliberately unused', 'const _ignored = 1\nmodule.exports = 2', []],
    ['property names are not references', 'const size = 1\nmodule.exports = { size: 2 }.size', ['unused-variable']],
    ['statements after a throw', 'module.exports = () => { throw new Error("x"); foo() }', ['unreachable-code']],
    ['a hoisted function after return is reachable', 'module.exports = () => { return g(); function g () { return 1 } }', []],
    ['a catch with only a comment is deliberate', 'module.exports = () => { try { return 1 } catch { /* best effort */ } }', []]
  ])('%s', (_name, code, rules) => {
    expect(rulesOf(code)).toEqual(rules)
  })

  test('nesting: five control structures deep is one finding, else-if chains do not nest', () => {
    const deep = 'module.exports = (a) => { if (a) { for (;;) { while (a) { switch (a) { case 1: if (a) { return 1 } } } } } }'
    expect(rulesOf(deep)).toEqual(['deep-nesting'])
    const chain = 'module.exports = (a) => { if (a === 1) return 1; else if (a === 2) return 2; else if (a === 3) return 3; else if (a === 4) return 4; else if (a === 5) return 5 }'
    expect(rulesOf(chain)).toEqual([])
  })

  test('a function over 50 lines is long', () => {
    const body = Array.from({ length: 55 }, (_, i) => `  total += ${i}`).join('\n')
    const code = `module.exports = function sum () {\n  let total = 0\n${body}\n  return total\n}\n`
    const findings = analyzeJs(code, 'javascript').findings
    expect(findings.map((f) => f.rule)).toEqual(['long-function'])
    expect(findings[0]!.message).toBe('`sum` is 59 lines long: split it')
  })

  test('TypeScript is parsed with types; JSX in JavaScript too', () => {
    const ts = 'interface P { x: number }\nexport function len (p: P, s: string): number { return p.x + s.length }\n'
    expect(completed(evaluateOffline({ missionTitle: null, language: 'TypeScript', code: ts })).details).toEqual({ syntax: 100, logic: 100, performance: 100, bestPractices: 100 })
    // the same code read as JavaScript is a syntax error
    expect(completed(evaluateOffline({ missionTitle: null, language: 'javascript', code: ts })).details.syntax).toBeLessThan(100)
    expect(rulesOf('export const C = () => <div className="x">hi</div>')).toEqual([])
  })

  test('dialects the language field names', () => {
    expect(['javascript', 'JS', 'node.js', 'typescript', 'ts', 'tsx', 'jsx'].map(jsDialectOf)).toEqual(['javascript', 'javascript', 'javascript', 'typescript', 'typescript', 'tsx', 'jsx'])
    expect([null, 'python', 'go'].map(jsDialectOf)).toEqual([null, null, null])
  })
})

describe('offline evaluator on other languages (generic check)', () => {
  test('balanced Python judges syntax and best practices only, and says so', () => {
    const v = completed(evaluateOffline({ missionTitle: null, language: 'python', code: 'def add(a, b):\n    # adds (two numbers\n    return a + b\n' }))
    expect(v.details).toEqual({ syntax: 100, bestPractices: 100 })
    expect(v.score).toBe(100)
    expect(v.feedback).toMatch(/generic check for python: bracket balance and size only, logic and performance not judged/)
  })

  test('brackets: unclosed, wrong partner, and brackets inside strings and comments ignored', () => {
    const java = 'class A {\n  String s = "}";\n  // }\n  /* { */\n  void f() { g(1]; }\n'
    const findings = analyzeGeneric(java, 'java').findings
    expect(findings.map((f) => [f.line, f.message])).toEqual([
      // `]` takes the `(` off the stack, so the `}` closes f's body and the class's `{` stays open
      [5, '`]` closes the `(` opened on line 5'],
      [1, '`{` is never closed']
    ])
    const v = completed(evaluateOffline({ missionTitle: null, language: 'java', code: java }))
    expect(v.details.syntax).toBe(100 - 2 * 40)
  })

  test('style findings: long lines, TODOs, mixed indentation', () => {
    const go = `package main\n\nfunc main() {\n\tx := 1 // TODO remove\n  y := "${'a'.repeat(130)}"\n}\n`
    expect(analyzeGeneric(go, 'go').findings.map((f) => f.rule)).toEqual(['todo-left', 'long-line', 'mixed-indentation'])
    const v = completed(evaluateOffline({ missionTitle: null, language: 'go', code: go }))
    expect(v.details).toEqual({ syntax: 100, bestPractices: 100 - 3 - 3 - 5 })
  })

  test('an unnamed language uses the generic check and names that', () => {
    const v = completed(evaluateOffline({ missionTitle: null, language: null, code: 'x = (1 + 2' }))
    expect(v.feedback).toMatch(/generic check for an unnamed language/)
    expect(v.details.syntax).toBe(60)
  })
})

describe('scoring', () => {
  test('weights sum to 1 and are renormalised over judged criteria', () => {
    expect(Object.values(CRITERION_WEIGHTS).reduce((a, b) => a + b, 0)).toBeCloseTo(1)
    expect(overallScore({ syntax: 100, logic: 0 })).toBe(Math.round(100 * 0.25 / 0.55))
    expect(overallScore({})).toBe(0)
  })

  test('penalties are capped per rule and criteria never go below 0', () => {
    const many = Array.from({ length: 30 }, () => ({ rule: 'console-log', line: 1, message: '' }))
    expect(scoreFindings(many, JS_RULES, ['bestPractices'])).toEqual({ bestPractices: 100 - JS_RULES['console-log'].cap })
    const broken = Array.from({ length: 5 }, () => ({ rule: 'unbalanced-bracket', line: 1, message: '' }))
    expect(scoreFindings(broken, GENERIC_RULES, ['syntax'])).toEqual({ syntax: 0 })
  })

  test('the evaluator object names itself and honours an already-aborted signal', async () => {
    const evaluator = new OfflineEvaluator()
    expect(evaluator.name).toBe(OFFLINE_EVALUATOR_NAME)
    expect(await evaluator.evaluate({ missionTitle: null, language: 'js', code: GOOD_JS }, new AbortController().signal)).toMatchObject({ outcome: 'completed', score: 100 })
    expect(await evaluator.evaluate({ missionTitle: null, language: 'js', code: GOOD_JS }, AbortSignal.abort())).toMatchObject({ outcome: 'failed', failureReason: 'timeout' })
  })
})
