/**
 * Numeric command-line flags (cli/flags.ts): what each parser accepts, and the usage error (exit 2, the flag, the
 * value given, a working example) for everything else.
 */
import { integerFlag, numberFlag } from '../../cli/flags'
import { CliError, EXIT_USAGE } from '../../cli/output'

function usageError (parse: () => unknown): CliError {
  try {
    parse()
  } catch (error) {
    expect(error).toBeInstanceOf(CliError)
    return error as CliError
  }
  throw new Error('expected a usage error')
}

describe('integerFlag', () => {
  test('an absent flag stays undefined; integers within the range, blanks around them allowed, are read', () => {
    expect(integerFlag(undefined, '--kills', 0, 1000)).toBeUndefined()
    expect(integerFlag('0', '--kills', 0, 1000)).toBe(0)
    expect(integerFlag('1000', '--kills', 0, 1000)).toBe(1000)
    expect(integerFlag(' 42 ', '--kills', 0, 1000)).toBe(42)
  })

  test.each(['-1', '1001', 'abc', '2.5', '1e3', '', '1_000', '12345678901'])('%j is refused with the range and an example', (value) => {
    const error = usageError(() => integerFlag(value, '--kills', 0, 1000))
    expect(error.message).toBe(`--kills must be an integer from 0 to 1000, got ${JSON.stringify(value)}`)
    expect(error.hint).toBe('e.g. --kills 0')
    expect(error.exitCode).toBe(EXIT_USAGE)
  })

  test('the example defaults to the minimum and can be chosen', () => {
    expect(usageError(() => integerFlag('x', '--events', 1000, 10_000_000)).hint).toBe('e.g. --events 1000')
    expect(usageError(() => integerFlag('x', '--max-task-idle-ms', 0, 600_000, 1)).hint).toBe('e.g. --max-task-idle-ms 1')
  })
})

describe('numberFlag', () => {
  test('digit groups may be separated by underscores; decimals only where allowed', () => {
    expect(numberFlag(undefined, '--events', true)).toBeUndefined()
    expect(numberFlag('200_000', '--events', true)).toBe(200000)
    expect(numberFlag('2.5', '--duration', false)).toBe(2.5)
    expect(numberFlag('7', '--duration', false)).toBe(7)
  })

  test.each(['2.5', '1e6', '-3', 'abc', ''])('%j is not a whole number', (value) => {
    const error = usageError(() => numberFlag(value, '--events', true))
    expect(error.message).toBe(`--events must be a whole number, got ${JSON.stringify(value)}`)
    expect(error.hint).toBe('e.g. --events 200000')
    expect(error.exitCode).toBe(EXIT_USAGE)
  })

  test.each(['1e3', '.5', '-1', 'x'])('%j is not a positive number', (value) => {
    const error = usageError(() => numberFlag(value, '--rate', false))
    expect(error.message).toBe(`--rate must be a positive number, got ${JSON.stringify(value)}`)
    expect(error.hint).toBe('e.g. --rate 5000')
    expect(error.exitCode).toBe(EXIT_USAGE)
  })
})
