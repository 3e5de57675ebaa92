/**
 * The offline evaluator's rule table and how findings become scores.
 *
 * Every rule takes a fixed number of points per occurrence from ONE criterion, up to a cap, so a single habit
 * (twenty console.log calls) cannot sink a submission on its own. A criterion starts at 100 and never goes below
 * 0. docs/evaluator.md prints this table (a unit test keeps the two in step).
 */
import type { Criterion } from '../verdict'

export interface RuleSpec {
  readonly criterion: Criterion
  /** points taken per occurrence */
  readonly penalty: number
  /** the most points the rule can take in total */
  readonly cap: number
  readonly description: string
}

export const JS_RULES = Object.freeze({
  'syntax-error': { criterion: 'syntax', penalty: 40, cap: 100, description: 'a syntax error the parser could recover from' },
  'unreachable-code': { criterion: 'logic', penalty: 15, cap: 45, description: 'statements after return / throw / break / continue in the same block' },
  'constant-condition': { criterion: 'logic', penalty: 10, cap: 30, description: 'an if, ternary or loop whose condition is a literal (`while (true)` excepted)' },
  'self-comparison': { criterion: 'logic', penalty: 15, cap: 30, description: 'a value compared with itself (`x === x`)' },
  'assignment-in-condition': { criterion: 'logic', penalty: 10, cap: 30, description: '`if (a = b)` without extra parentheses' },
  'nested-loops': { criterion: 'performance', penalty: 15, cap: 30, description: 'a loop nested three or more deep in one function' },
  'await-in-loop': { criterion: 'performance', penalty: 10, cap: 20, description: '`await` inside a loop body (serialises independent work)' },
  'large-submission': { criterion: 'performance', penalty: 10, cap: 10, description: 'more than 400 lines' },
  'var': { criterion: 'bestPractices', penalty: 5, cap: 20, description: '`var` declarations (use let / const)' },
  'loose-equality': { criterion: 'bestPractices', penalty: 5, cap: 20, description: '`==` / `!=` other than against null' },
  'console-log': { criterion: 'bestPractices', penalty: 3, cap: 15, description: 'console.log / debug / info / dir / trace / table left in' },
  'debugger': { criterion: 'bestPractices', penalty: 10, cap: 20, description: '`debugger` statements' },
  'unused-variable': { criterion: 'bestPractices', penalty: 5, cap: 20, description: 'a variable or import never referenced (by name, file-wide)' },
  'empty-catch': { criterion: 'bestPractices', penalty: 10, cap: 20, description: 'a catch block with neither code nor a comment' },
  'no-error-handling': { criterion: 'bestPractices', penalty: 10, cap: 10, description: 'uses await, JSON.parse or fetch with no try/catch and no .catch()' },
  'eval': { criterion: 'bestPractices', penalty: 20, cap: 20, description: '`eval(…)` or `new Function(…)`' },
  'long-function': { criterion: 'bestPractices', penalty: 10, cap: 20, description: 'a function longer than 50 lines' },
  'deep-nesting': { criterion: 'bestPractices', penalty: 10, cap: 20, description: 'control structures nested more than 4 deep' }
} satisfies Record<string, RuleSpec>)

export const GENERIC_RULES = Object.freeze({
  'unbalanced-bracket': { criterion: 'syntax', penalty: 40, cap: 100, description: 'a (, [ or { without its partner, or closed by the wrong one' },
  'long-line': { criterion: 'bestPractices', penalty: 3, cap: 15, description: 'a line longer than 120 characters' },
  'todo-left': { criterion: 'bestPractices', penalty: 3, cap: 9, description: 'TODO / FIXME / XXX comments' },
  'mixed-indentation': { criterion: 'bestPractices', penalty: 5, cap: 5, description: 'lines indented with tabs and lines indented with spaces' },
  'large-submission': { criterion: 'bestPractices', penalty: 10, cap: 10, description: 'more than 400 lines' }
} satisfies Record<string, RuleSpec>)

export type JsRule = keyof typeof JS_RULES
export type GenericRule = keyof typeof GENERIC_RULES

export interface Finding<R extends string = string> {
  readonly rule: R
  /** 1-based; null when the finding is about the whole submission */
  readonly line: number | null
  readonly message: string
}

/** Weights of the overall score (they sum to 1); logic weighs most, as a reviewer would. */
export const CRITERION_WEIGHTS: Readonly<Record<Criterion, number>> = Object.freeze({
  syntax: 0.25, logic: 0.3, performance: 0.2, bestPractices: 0.25
})

/** 100 minus each rule's capped penalty, per judged criterion (criteria not listed in `judged` are absent). */
export function scoreFindings (findings: readonly Finding[], rules: Readonly<Record<string, RuleSpec>>, judged: readonly Criterion[]): Partial<Record<Criterion, number>> {
  const taken = new Map<string, number>()
  for (const f of findings) {
    const spec = rules[f.rule]
    if (spec === undefined) throw new Error(`no rule ${f.rule}`)
    taken.set(f.rule, Math.min(spec.cap, (taken.get(f.rule) ?? 0) + spec.penalty))
  }
  const scores: Partial<Record<Criterion, number>> = {}
  for (const criterion of judged) {
    let score = 100
    for (const [rule, points] of taken) if (rules[rule]!.criterion === criterion) score -= points
    scores[criterion] = Math.max(0, score)
  }
  return scores
}

/** The weighted mean of the judged criteria, the weights renormalised over what was judged; rounded. */
export function overallScore (details: Partial<Record<Criterion, number>>): number {
  let sum = 0
  let weight = 0
  for (const [criterion, value] of Object.entries(details) as Array<[Criterion, number]>) {
    sum += value * CRITERION_WEIGHTS[criterion]
    weight += CRITERION_WEIGHTS[criterion]
  }
  return weight === 0 ? 0 : Math.round(sum / weight)
}
