/**
 * Numeric command-line flags. Commander hands every value over as text; these turn it into a number or refuse it
 * with a usage error (CliError, exit 2) that names the flag, repeats what was given and shows a value that works.
 * Range and meaning checks that need more than one flag stay with the command (or its options schema).
 */
import { CliError, EXIT_USAGE } from './output'

/**
 * An integer from `min` to `max` (surrounding blanks allowed, at most ten digits, no sign: "-1" is refused rather
 * than read as a number below the range). `example` is the value the hint suggests (default: `min`).
 */
export function integerFlag (value: string | undefined, flag: string, min: number, max: number, example: number = min): number | undefined {
  if (value === undefined) return undefined
  const text = value.trim()
  if (!/^[0-9]{1,10}$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new CliError(`${flag} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`, `e.g. ${flag} ${example}`, EXIT_USAGE)
  }
  return Number(text)
}

/**
 * A whole (`integer`) or decimal number, digit groups may be separated by underscores (1_000_000); no sign, no
 * exponent. The range is left to the caller's options schema, which knows the limits of each field.
 */
export function numberFlag (value: string | undefined, flag: string, integer: boolean): number | undefined {
  if (value === undefined) return undefined
  const pattern = integer ? /^[0-9]+$/ : /^[0-9]+(\.[0-9]+)?$/
  const text = value.replace(/_/g, '')
  if (!pattern.test(text)) {
    throw new CliError(`${flag} must be a ${integer ? 'whole' : 'positive'} number, got ${JSON.stringify(value)}`, `e.g. ${flag} ${integer ? '200000' : '5000'}`, EXIT_USAGE)
  }
  return Number(text)
}
