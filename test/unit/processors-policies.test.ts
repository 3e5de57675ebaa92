import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isDevtripError } from '../../events/errors'
import {
  DEFAULT_POLICIES,
  POLICIES_ENV,
  loadPolicies,
  loadPoliciesFile,
  planPolicy,
  resolvePolicies,
  retryBackoffMs
} from '../../processors/policies'

function errorOf (fn: () => unknown): Error & { code?: string, details?: Record<string, unknown> } {
  try {
    fn()
  } catch (error) {
    return error as Error
  }
  throw new Error('expected a throw')
}

describe('policies', () => {
  test('defaults are the documented numbers', () => {
    const p = resolvePolicies()
    expect(p.plans.FREE).toEqual({ grant: 3, evaluationCost: 1 })
    expect(p.plans.BASIC).toEqual({ grant: 30, evaluationCost: 1 })
    expect(p.plans.PRO).toEqual({ grant: 100, evaluationCost: 2 })
    expect(p.defaultPlan).toBe('FREE')
    expect(p.tickets.perMission).toBe(1)
    expect(p.evaluation).toMatchObject({ maxAttempts: 3, startTimeoutMs: 120_000, runTimeoutMs: 300_000, backoffBaseMs: 30_000, backoffMultiplier: 2 })
    expect(p.ledger.entriesPerUser).toBe(20)
    expect(p.dedup.retentionMs).toBe(7 * 24 * 3600 * 1000)
  })

  test('the result is deeply frozen', () => {
    const p = resolvePolicies()
    expect(Object.isFrozen(p)).toBe(true)
    expect(Object.isFrozen(p.plans.PRO)).toBe(true)
    expect(Object.isFrozen(p.evaluation.idleAdvance)).toBe(true)
    expect(Object.isFrozen(DEFAULT_POLICIES.plans)).toBe(true)
  })

  test('overrides deep-merge over the defaults, plan names in any case', () => {
    const p = resolvePolicies({ plans: { pro: { grant: 150 }, TEAM: { grant: 500, evaluationCost: 3 } }, evaluation: { maxAttempts: 5 } })
    expect(p.plans.PRO).toEqual({ grant: 150, evaluationCost: 2 })
    expect(p.plans.TEAM).toEqual({ grant: 500, evaluationCost: 3 })
    expect(p.plans.FREE!.grant).toBe(3)
    expect(p.evaluation.maxAttempts).toBe(5)
    expect(p.evaluation.runTimeoutMs).toBe(300_000)
  })

  test('every problem is reported with its pointer', () => {
    const error = errorOf(() => resolvePolicies({ plans: { PRO: { grant: -1 } }, evaluation: { maxAttempts: 1, bogus: 1 }, ledger: { entriesPerUser: 'x' } }, 'my.json'))
    expect(isDevtripError(error, 'DEVTRIP_INVALID_OPTIONS')).toBe(true)
    expect(error.message).toMatch(/^my\.json: invalid policies/)
    expect(error.message).toContain('/plans/PRO/grant must be >= 0')
    expect(error.message).toContain('/evaluation/maxAttempts must be >= 2')
    expect(error.message).toContain('must NOT have additional properties (bogus)')
    expect(error.message).toContain('/ledger/entriesPerUser must be integer')
  })

  test('the default plan must exist', () => {
    expect(errorOf(() => resolvePolicies({ defaultPlan: 'gold' })).message).toContain('/defaultPlan GOLD is not one of the plans (FREE, BASIC, PRO)')
  })

  test('a non-object document is refused', () => {
    expect(errorOf(() => resolvePolicies([] as never)).message).toContain('must be a JSON object')
  })

  test('planPolicy matches event plan names case-insensitively and knows only configured plans', () => {
    const p = resolvePolicies()
    expect(planPolicy(p, ' pro ')).toBe(p.plans.PRO)
    expect(planPolicy(p, 'Basic')).toBe(p.plans.BASIC)
    expect(planPolicy(p, 'TEAM')).toBeUndefined()
    expect(planPolicy(p, 'constructor')).toBeUndefined()
  })

  test('backoff is base × multiplier^(n−1)', () => {
    const p = resolvePolicies()
    expect([1, 2, 3].map((n) => retryBackoffMs(p, n))).toEqual([30_000, 60_000, 120_000])
    const slow = resolvePolicies({ evaluation: { backoffBaseMs: 1000, backoffMultiplier: 3 } })
    expect(retryBackoffMs(slow, 3)).toBe(9000)
  })

  describe('files and DEVTRIP_POLICIES', () => {
    const dir = mkdtempSync(join(tmpdir(), 'devtrip-policies-'))

    test('loads a file given by the environment variable', () => {
      const file = join(dir, 'ok.json')
      writeFileSync(file, JSON.stringify({ tickets: { perMission: 2 } }))
      expect(loadPolicies({ [POLICIES_ENV]: file }).tickets.perMission).toBe(2)
    })

    test('no variable (or an empty one) means the defaults', () => {
      expect(loadPolicies({})).toEqual(resolvePolicies())
      expect(loadPolicies({ [POLICIES_ENV]: '  ' }).plans.PRO!.grant).toBe(100)
    })

    test('a missing file, bad JSON and a bad value each say what to fix', () => {
      const missing = errorOf(() => loadPoliciesFile(join(dir, 'nope.json')))
      expect(missing.message).toContain('cannot read the policy file')
      expect(missing.details?.hint).toContain(POLICIES_ENV)

      const broken = join(dir, 'broken.json')
      writeFileSync(broken, '{ "plans": ')
      expect(errorOf(() => loadPoliciesFile(broken)).message).toContain(`the policy file ${broken} is not valid JSON`)

      const wrong = join(dir, 'wrong.json')
      writeFileSync(wrong, JSON.stringify({ evaluation: { startTimeoutMs: 0 } }))
      expect(errorOf(() => loadPoliciesFile(wrong)).message).toContain(`${wrong}: invalid policies: /evaluation/startTimeoutMs must be >= 1`)
    })
  })

  test('docs/policies.md documents every default', () => {
    const doc = readFileSync(join(__dirname, '../../docs/policies.md'), 'utf8')
    const leaves: Array<[string, unknown]> = []
    const walk = (prefix: string, value: unknown): void => {
      if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(prefix === '' ? k : `${prefix}.${k}`, v)
      else leaves.push([prefix, value])
    }
    walk('', DEFAULT_POLICIES)
    for (const [path, value] of leaves) {
      // each leaf has a table row: | `path` | `value` | ...
      expect(doc).toContain(`| \`${path}\` | \`${JSON.stringify(value)}\` |`)
    }
  })
})
