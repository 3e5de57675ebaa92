/**
 * The offline evaluator's fallback for languages it cannot parse (Python, Java, Go, …): bracket balance and
 * size, nothing more. It judges only `syntax` (brackets) and `bestPractices` (line length, leftovers,
 * indentation, size); logic and performance are left out of the details rather than invented, and the feedback
 * says so.
 *
 * The bracket scan skips string literals ('…', "…", `…`, with backslash escapes; Python's triple quotes are
 * three quotes and close correctly) and comments: `//` and `/* … *\/` for C-like languages, `#` for the
 * languages listed in HASH_COMMENT_LANGUAGES. Good enough to catch a missing `}`; not a parser.
 */
import type { Finding, GenericRule } from './findings'

export const HASH_COMMENT_LANGUAGES = new Set(['python', 'py', 'ruby', 'rb', 'shell', 'sh', 'bash', 'r', 'perl', 'pl', 'yaml', 'elixir', 'julia', 'powershell'])

const PAIRS: Readonly<Record<string, string>> = { ')': '(', ']': '[', '}': '{' }
const LONG_LINE = 120
const LARGE_SUBMISSION_LINES = 400

export interface GenericAnalysis {
  readonly findings: ReadonlyArray<Finding<GenericRule>>
  readonly lines: number
}

function bracketFindings (code: string, hashComments: boolean): Array<Finding<GenericRule>> {
  const findings: Array<Finding<GenericRule>> = []
  const stack: Array<{ char: string, line: number }> = []
  let line = 1
  let i = 0
  const n = code.length
  while (i < n) {
    const c = code[i]!
    if (c === '\n') { line += 1; i += 1; continue }
    // comments
    if ((hashComments && c === '#') || (!hashComments && c === '/' && code[i + 1] === '/')) {
      while (i < n && code[i] !== '\n') i += 1
      continue
    }
    if (!hashComments && c === '/' && code[i + 1] === '*') {
      i += 2
      while (i < n && !(code[i] === '*' && code[i + 1] === '/')) { if (code[i] === '\n') line += 1; i += 1 }
      i += 2
      continue
    }
    // strings: up to the same quote, backslash escapes honoured; a single-quoted string also ends at a newline
    if (c === '"' || c === '\'' || c === '`') {
      i += 1
      while (i < n && code[i] !== c) {
        if (code[i] === '\\') i += 1
        else if (code[i] === '\n') { if (c !== '`') break; line += 1 }
        i += 1
      }
      i += 1
      continue
    }
    if (c === '(' || c === '[' || c === '{') stack.push({ char: c, line })
    else if (c === ')' || c === ']' || c === '}') {
      const open = stack.pop()
      if (open === undefined) findings.push({ rule: 'unbalanced-bracket', line, message: `\`${c}\` closes nothing` })
      else if (open.char !== PAIRS[c]) findings.push({ rule: 'unbalanced-bracket', line, message: `\`${c}\` closes the \`${open.char}\` opened on line ${open.line}` })
    }
    i += 1
  }
  for (const open of stack) findings.push({ rule: 'unbalanced-bracket', line: open.line, message: `\`${open.char}\` is never closed` })
  return findings
}

export function analyzeGeneric (code: string, language: string | null): GenericAnalysis {
  const hashComments = language !== null && HASH_COMMENT_LANGUAGES.has(language.toLowerCase())
  const findings = bracketFindings(code, hashComments)
  const allLines = code.split('\n')
  allLines.forEach((text, index) => {
    if (text.length > LONG_LINE) findings.push({ rule: 'long-line', line: index + 1, message: `line is ${text.length} characters long (over ${LONG_LINE})` })
    if (/\b(TODO|FIXME|XXX)\b/.test(text)) findings.push({ rule: 'todo-left', line: index + 1, message: 'unfinished-work marker (TODO/FIXME/XXX) left in' })
  })
  const tabIndented = allLines.some((l) => /^\t/.test(l))
  const spaceIndented = allLines.some((l) => /^ {2,}\S/.test(l))
  if (tabIndented && spaceIndented) findings.push({ rule: 'mixed-indentation', line: null, message: 'some lines are indented with tabs and others with spaces' })
  const lines = allLines.filter((l) => l.trim() !== '').length
  if (lines > LARGE_SUBMISSION_LINES) findings.push({ rule: 'large-submission', line: null, message: `${lines} lines of code: a mission answer this long is hard to review` })
  return { findings, lines }
}
