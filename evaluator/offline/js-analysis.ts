/**
 * JavaScript / TypeScript analysis for the offline evaluator: a real parse (@babel/parser, with error recovery
 * so several syntax errors are reported at once) and one walk of the syntax tree applying the rules of
 * findings.ts. Deterministic: the same code always yields the same findings in the same order.
 *
 * "Unused variable" is judged by name over the whole file (no scope analysis): a name declared once and never
 * referenced anywhere is unused; a name that is shadowed and used elsewhere is not reported. That errs toward
 * silence, which is the right side for an automatic grader.
 */
import { parse, type ParserPlugin } from '@babel/parser'
import type { Finding, JsRule } from './findings'

/** A syntax-tree node as @babel/parser produces it, read loosely (the walker only needs a few fields). */
interface AstNode {
  type: string
  start?: number | null
  end?: number | null
  loc?: { start: { line: number }, end: { line: number } } | null
  extra?: { parenthesized?: boolean } | null
  innerComments?: unknown[] | null
  [field: string]: unknown
}

export type JsDialect = 'javascript' | 'typescript' | 'jsx' | 'tsx'

export interface JsAnalysis {
  /** the parse failed outright: nothing else could be judged */
  readonly fatal: { line: number | null, message: string } | null
  readonly findings: ReadonlyArray<Finding<JsRule>>
  /** lines of code (non-blank) */
  readonly lines: number
}

const SKIP_KEYS = new Set(['loc', 'start', 'end', 'extra', 'leadingComments', 'trailingComments', 'innerComments', 'range', 'errors', 'comments', 'tokens'])
const FUNCTION_TYPES = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression', 'ObjectMethod', 'ClassMethod', 'ClassPrivateMethod', 'TSDeclareFunction'])
const LOOP_TYPES = new Set(['ForStatement', 'ForInStatement', 'ForOfStatement', 'WhileStatement', 'DoWhileStatement'])
const NESTING_TYPES = new Set([...LOOP_TYPES, 'IfStatement', 'SwitchStatement', 'TryStatement'])
const DEFINITION_TYPES = new Set(['FunctionExpression', 'ArrowFunctionExpression', 'ClassExpression'])
const LITERAL_TYPES = new Set(['BooleanLiteral', 'NumericLiteral', 'StringLiteral', 'NullLiteral', 'BigIntLiteral', 'RegExpLiteral'])
const COMPARISONS = new Set(['===', '!==', '==', '!=', '<', '>', '<=', '>='])
const LEFTOVER_CONSOLE = new Set(['log', 'debug', 'info', 'dir', 'trace', 'table'])
const TERMINATORS = new Set(['ReturnStatement', 'ThrowStatement', 'BreakStatement', 'ContinueStatement'])
const LONG_FUNCTION_LINES = 50
const MAX_NESTING = 4
const LOOP_NESTING_LIMIT = 3
const LARGE_SUBMISSION_LINES = 400

function isNode (value: unknown): value is AstNode {
  return value !== null && typeof value === 'object' && typeof (value as { type?: unknown }).type === 'string'
}

function lineOf (node: AstNode): number | null {
  return node.loc?.start.line ?? null
}

function pluginsFor (dialect: JsDialect): ParserPlugin[] {
  switch (dialect) {
    case 'typescript': return ['typescript']
    case 'tsx': return ['typescript', 'jsx']
    default: return ['jsx']
  }
}

/** Binding identifiers of a declaration pattern (`{a, b: [c, ...d]} = …` declares a, c, d). */
function patternBindings (pattern: unknown, out: AstNode[]): void {
  if (!isNode(pattern)) return
  switch (pattern.type) {
    case 'Identifier': out.push(pattern); break
    case 'ObjectPattern':
      for (const p of pattern.properties as AstNode[]) patternBindings(p.type === 'RestElement' ? p.argument : p.value, out)
      break
    case 'ArrayPattern': for (const e of pattern.elements as unknown[]) patternBindings(e, out); break
    case 'RestElement': patternBindings(pattern.argument, out); break
    case 'AssignmentPattern': patternBindings(pattern.left, out); break
  }
}

interface WalkState {
  loopDepth: number
  nesting: number
  /** the current loop body is inside this function (await in a nested callback is not "in the loop") */
  inLoop: boolean
}

class Analyzer {
  readonly findings: Array<Finding<JsRule>> = []
  private readonly bindings: AstNode[] = []
  private readonly bindingNodes = new Set<AstNode>()
  private readonly exportedBindings = new Set<AstNode>()
  private readonly references = new Map<string, number>()
  private hasTry = false
  private hasCatchCall = false
  private riskyCall: AstNode | null = null

  constructor (private readonly code: string) {}

  private add (rule: JsRule, node: AstNode | null, message: string): void {
    this.findings.push({ rule, line: node === null ? null : lineOf(node), message })
  }

  private source (node: AstNode): string {
    return this.code.slice(node.start ?? 0, node.end ?? 0)
  }

  run (program: AstNode): void {
    this.walk(program, null, null, { loopDepth: 0, nesting: 0, inLoop: false })
    for (const binding of this.bindings) {
      const name = binding.name as string
      if (this.exportedBindings.has(binding) || name.startsWith('_')) continue
      if ((this.references.get(name) ?? 0) === 0) this.add('unused-variable', binding, `\`${name}\` is declared but never used`)
    }
    if (this.riskyCall !== null && !this.hasTry && !this.hasCatchCall) {
      this.add('no-error-handling', this.riskyCall, `\`${this.source(this.riskyCall).split('\n')[0]!.slice(0, 40)}\` can fail, but nothing handles errors (no try/catch, no .catch())`)
    }
  }

  private declare (pattern: unknown, exported: boolean): void {
    const found: AstNode[] = []
    patternBindings(pattern, found)
    for (const b of found) {
      this.bindings.push(b)
      this.bindingNodes.add(b)
      if (exported) this.exportedBindings.add(b)
    }
  }

  private walk (node: AstNode, parent: AstNode | null, key: string | null, state: WalkState): void {
    let next = state
    if (FUNCTION_TYPES.has(node.type)) {
      this.checkFunction(node)
      next = { loopDepth: 0, nesting: 0, inLoop: false }
    } else if (LOOP_TYPES.has(node.type)) {
      next = { ...state, loopDepth: state.loopDepth + 1, inLoop: true }
      if (next.loopDepth === LOOP_NESTING_LIMIT) this.add('nested-loops', node, `loops nested ${next.loopDepth} deep: consider a lookup table or a better algorithm`)
    }
    if (NESTING_TYPES.has(node.type) && !(node.type === 'IfStatement' && parent?.type === 'IfStatement' && key === 'alternate')) {
      // an `else if` continues its chain rather than nesting deeper
      next = { ...next, nesting: next.nesting + 1 }
      if (next.nesting === MAX_NESTING + 1) this.add('deep-nesting', node, `control structures nested ${next.nesting} deep: extract a function or return early`)
    }
    this.check(node, parent, key, state)
    for (const [field, value] of Object.entries(node)) {
      if (SKIP_KEYS.has(field)) continue
      if (Array.isArray(value)) {
        this.checkBlock(node, field, value)
        for (const child of value) if (isNode(child)) this.walk(child, node, field, next)
      } else if (isNode(value)) {
        this.walk(value, node, field, next)
      }
    }
  }

  private checkFunction (node: AstNode): void {
    const lines = node.loc === null || node.loc === undefined ? 0 : node.loc.end.line - node.loc.start.line + 1
    if (lines > LONG_FUNCTION_LINES) {
      const id = node.id as AstNode | null | undefined
      const key = node.key as AstNode | null | undefined
      const name = (isNode(id) ? id.name : isNode(key) ? key.name : undefined) as string | undefined
      this.add('long-function', node, `${name === undefined ? 'a function' : `\`${name}\``} is ${lines} lines long: split it`)
    }
  }

  /** Statements after a terminator in one statement list are unreachable (hoisted function declarations aside). */
  private checkBlock (node: AstNode, field: string, list: unknown[]): void {
    const isStatementList = (field === 'body' && (node.type === 'BlockStatement' || node.type === 'Program')) || (field === 'consequent' && node.type === 'SwitchCase')
    if (!isStatementList) return
    const end = list.findIndex((s) => isNode(s) && TERMINATORS.has(s.type))
    if (end < 0) return
    const dead = list.slice(end + 1).find((s) => isNode(s) && s.type !== 'FunctionDeclaration' && s.type !== 'EmptyStatement')
    if (isNode(dead)) this.add('unreachable-code', dead, 'this code can never run (it follows a return, throw, break or continue)')
  }

  private check (node: AstNode, parent: AstNode | null, key: string | null, state: WalkState): void {
    switch (node.type) {
      case 'VariableDeclaration': {
        if (node.kind === 'var') this.add('var', node, '`var` is function-scoped and hoisted: use `let` or `const`')
        const exported = parent?.type === 'ExportNamedDeclaration'
        for (const d of node.declarations as AstNode[]) {
          // a top-level `const solve = (…) => …` is the submission's answer, like a function declaration: not "unused"
          const isApi = parent?.type === 'Program' && isNode(d.init) && DEFINITION_TYPES.has(d.init.type)
          this.declare(d.id, exported || isApi)
        }
        break
      }
      case 'ImportSpecifier':
      case 'ImportDefaultSpecifier':
      case 'ImportNamespaceSpecifier':
        this.declare(node.local, false)
        break
      case 'Identifier':
        if (!this.bindingNodes.has(node) && !isPropertyName(parent, key)) {
          const name = node.name as string
          this.references.set(name, (this.references.get(name) ?? 0) + 1)
        }
        break
      case 'BinaryExpression': {
        const op = node.operator as string
        const left = node.left as AstNode
        const right = node.right as AstNode
        if ((op === '==' || op === '!=') && left.type !== 'NullLiteral' && right.type !== 'NullLiteral' && !isUndefined(left) && !isUndefined(right)) {
          this.add('loose-equality', node, `\`${op}\` converts types before comparing: use \`${op}=\``)
        }
        if (COMPARISONS.has(op) && (left.type === 'Identifier' || left.type === 'MemberExpression') && this.source(left) === this.source(right)) {
          this.add('self-comparison', node, `\`${this.source(node)}\` compares a value with itself`)
        }
        break
      }
      case 'IfStatement':
      case 'ConditionalExpression':
      case 'WhileStatement':
      case 'DoWhileStatement': {
        const test = node.test as AstNode
        const isLoop = node.type === 'WhileStatement' || node.type === 'DoWhileStatement'
        if (LITERAL_TYPES.has(test.type) && !(isLoop && test.type === 'BooleanLiteral' && test.value === true)) {
          this.add('constant-condition', node, `the condition \`${this.source(test)}\` is always the same`)
        }
        if (test.type === 'AssignmentExpression' && test.extra?.parenthesized !== true && node.type !== 'ConditionalExpression') {
          this.add('assignment-in-condition', test, `\`${this.source(test)}\` assigns inside a condition: did you mean a comparison?`)
        }
        break
      }
      case 'CallExpression': {
        const callee = node.callee as AstNode
        if (callee.type === 'Identifier' && callee.name === 'eval') this.add('eval', node, '`eval` runs arbitrary code: avoid it')
        if (callee.type === 'Identifier' && callee.name === 'fetch') this.riskyCall ??= node
        if (callee.type === 'MemberExpression' && !(callee.computed as boolean)) {
          const object = callee.object as AstNode
          const property = callee.property as AstNode
          if (object.type === 'Identifier' && object.name === 'console' && LEFTOVER_CONSOLE.has(property.name as string)) {
            this.add('console-log', node, `\`console.${String(property.name)}\` left in the submission`)
          }
          if (object.type === 'Identifier' && object.name === 'JSON' && property.name === 'parse') this.riskyCall ??= node
          if (property.name === 'catch') this.hasCatchCall = true
        }
        break
      }
      case 'NewExpression': {
        const callee = node.callee as AstNode
        if (callee.type === 'Identifier' && callee.name === 'Function') this.add('eval', node, '`new Function(…)` runs arbitrary code: avoid it')
        break
      }
      case 'AwaitExpression':
        this.riskyCall ??= node
        if (state.inLoop) this.add('await-in-loop', node, '`await` inside a loop runs the iterations one after another: collect the promises and await them together')
        break
      case 'ForOfStatement':
        if (node.await === true) this.riskyCall ??= node
        break
      case 'DebuggerStatement':
        this.add('debugger', node, '`debugger` statement left in the submission')
        break
      case 'TryStatement':
        this.hasTry = true
        break
      case 'CatchClause': {
        const body = node.body as AstNode
        if ((body.body as unknown[]).length === 0 && (body.innerComments ?? []).length === 0) {
          this.add('empty-catch', node, 'an empty catch block hides errors: handle, log or rethrow them (or say why in a comment)')
        }
        break
      }
    }
  }
}

/** `obj.name`, `{ name: … }` and class member names are property names, not references to a variable. */
function isPropertyName (parent: AstNode | null, key: string | null): boolean {
  if (parent === null) return false
  if ((parent.type === 'MemberExpression' || parent.type === 'OptionalMemberExpression') && key === 'property') return parent.computed !== true
  if ((parent.type === 'ObjectProperty' || parent.type === 'ObjectMethod' || parent.type === 'ClassProperty' || parent.type === 'ClassMethod' || parent.type === 'TSPropertySignature') && key === 'key') {
    return parent.computed !== true
  }
  return false
}

function isUndefined (node: AstNode): boolean {
  return node.type === 'Identifier' && node.name === 'undefined'
}

function countLines (code: string): number {
  return code.split('\n').filter((l) => l.trim() !== '').length
}

export function analyzeJs (code: string, dialect: JsDialect): JsAnalysis {
  const lines = countLines(code)
  let file: { program: AstNode, errors?: Array<{ message: string, loc?: { line: number } }> }
  try {
    file = parse(code, {
      sourceType: 'unambiguous',
      errorRecovery: true,
      allowReturnOutsideFunction: true,
      allowAwaitOutsideFunction: true,
      plugins: pluginsFor(dialect)
    }) as unknown as typeof file
  } catch (error) {
    const e = error as { message?: string, loc?: { line: number } }
    return { fatal: { line: e.loc?.line ?? null, message: (e.message ?? String(error)).replace(/ \(\d+:\d+\)$/, '') }, findings: [], lines }
  }
  const analyzer = new Analyzer(code)
  for (const e of file.errors ?? []) {
    analyzer.findings.push({ rule: 'syntax-error', line: e.loc?.line ?? null, message: `syntax error: ${e.message.replace(/ \(\d+:\d+\)$/, '')}` })
  }
  analyzer.run(file.program)
  if (lines > LARGE_SUBMISSION_LINES) analyzer.findings.push({ rule: 'large-submission', line: null, message: `${lines} lines of code: a mission answer this long is hard to review` })
  return { fatal: null, findings: analyzer.findings, lines }
}
