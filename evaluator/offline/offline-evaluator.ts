/**
 * The evaluator used when no LLM is configured: deterministic scores from a parse and lint-style rules
 * (JavaScript / TypeScript), or from bracket balance and size (every other language). It never pretends to be
 * an AI review: its name, `offline-heuristic/1`, goes into every event it causes, and its feedback starts by
 * saying what it is. docs/evaluator.md lists the rules and how they become scores.
 *
 * Rules that are not about the code's content:
 *   - an empty submission (only whitespace or comments) scores 0 on every criterion;
 *   - code that does not parse at all scores 0 for syntax and logic (it cannot run); performance and best
 *     practices are not judged;
 *   - code with recoverable syntax errors still gets every rule, but logic is capped at 30 (it does not run as
 *     written).
 */
import { CRITERIA, type CodeEvaluator, type Criterion, type EvaluationInput, type EvaluationVerdict } from '../verdict'
import { analyzeGeneric } from './generic-analysis'
import { analyzeJs, type JsDialect } from './js-analysis'
import { GENERIC_RULES, JS_RULES, overallScore, scoreFindings, type Finding } from './findings'

export const OFFLINE_EVALUATOR_NAME = 'offline-heuristic/1'
const MAX_SCORE = 100
/** findings listed in the feedback; the rest are counted */
const FEEDBACK_FINDINGS = 8
const LOGIC_CAP_WITH_SYNTAX_ERRORS = 30

const DIALECTS: Readonly<Record<string, JsDialect>> = {
  javascript: 'javascript',
  js: 'javascript',
  node: 'javascript',
  nodejs: 'javascript',
  'node.js': 'javascript',
  ecmascript: 'javascript',
  mjs: 'javascript',
  cjs: 'javascript',
  jsx: 'jsx',
  typescript: 'typescript',
  ts: 'typescript',
  tsx: 'tsx'
}

/** The JS dialect a MissionCompleted `language` names, or null for the generic fallback. */
export function jsDialectOf (language: string | null): JsDialect | null {
  return language === null ? null : DIALECTS[language.trim().toLowerCase()] ?? null
}

function isEmptyCode (code: string): boolean {
  const withoutComments = code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '').replace(/^\s*#[^\n]*/gm, '')
  return withoutComments.trim() === ''
}

function describe (findings: readonly Finding[]): string {
  const sorted = [...findings].sort((a, b) => (a.line ?? 0) - (b.line ?? 0))
  const shown = sorted.slice(0, FEEDBACK_FINDINGS).map((f) => `${f.line === null ? '' : `line ${f.line}: `}${f.message}`)
  const more = sorted.length - shown.length
  return `${shown.join('; ')}${more > 0 ? `; and ${more} more finding${more === 1 ? '' : 's'}` : ''}.`
}

function completed (details: Partial<Record<Criterion, number>>, feedback: string): EvaluationVerdict {
  return { outcome: 'completed', score: overallScore(details), maxScore: MAX_SCORE, feedback, details }
}

export function evaluateOffline (input: EvaluationInput): EvaluationVerdict {
  const dialect = jsDialectOf(input.language)
  const label = dialect === null
    ? `Offline heuristic review (no AI model configured; generic check for ${input.language ?? 'an unnamed language'}: bracket balance and size only, logic and performance not judged)`
    : `Offline heuristic review (no AI model configured; ${dialect} parsed and linted, the code was not run)`
  if (isEmptyCode(input.code)) {
    return completed(Object.fromEntries(CRITERIA.map((c) => [c, 0])), `${label}: the submission is empty.`)
  }
  if (dialect === null) {
    const analysis = analyzeGeneric(input.code, input.language)
    const details = scoreFindings(analysis.findings, GENERIC_RULES, ['syntax', 'bestPractices'])
    const body = analysis.findings.length === 0 ? 'brackets balance and no style problems were found.' : describe(analysis.findings)
    return completed(details, `${label}: ${body}`)
  }
  const analysis = analyzeJs(input.code, dialect)
  if (analysis.fatal !== null) {
    const where = analysis.fatal.line === null ? '' : ` on line ${analysis.fatal.line}`
    return completed({ syntax: 0, logic: 0 }, `${label}: the code does not parse (${analysis.fatal.message}${where}), so it cannot run; other criteria were not judged.`)
  }
  const details = scoreFindings(analysis.findings, JS_RULES, CRITERIA)
  if (analysis.findings.some((f) => f.rule === 'syntax-error')) details.logic = Math.min(details.logic ?? 0, LOGIC_CAP_WITH_SYNTAX_ERRORS)
  const body = analysis.findings.length === 0
    ? 'no problems found by the syntax, structure and lint checks.'
    : describe(analysis.findings)
  return completed(details, `${label}: ${body}`)
}

export class OfflineEvaluator implements CodeEvaluator {
  readonly name = OFFLINE_EVALUATOR_NAME

  async evaluate (input: EvaluationInput, signal: AbortSignal): Promise<EvaluationVerdict> {
    // the analysis is synchronous and fast; a job that was already out of time is still reported as such
    if (signal.aborted) return { outcome: 'failed', failureReason: 'timeout', message: 'the evaluation took longer than the job timeout' }
    return evaluateOffline(input)
  }
}
