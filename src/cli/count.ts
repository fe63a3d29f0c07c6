/** Whole-number flags (`--batch-size`): a documented range, one line naming it when outside (exit 64). */
import {UsageError} from './errors.js'

export interface CountRange {
  min: number
  max: number
  example: number
}

/** Every count flag's range, in one place (docs/cli.md lists them). */
export const COUNT_RANGES = {
  batchSize: {min: 1, max: 16_000, example: 500},
} as const satisfies Record<string, CountRange>

const group = (n: number): string => n.toLocaleString('en-US')

/** `text` as an integer within `range`; `1e9`, `0x10`, `1.5`, `-1` and `''` are refused by name. */
export function parseCount(text: string, what: string, range: CountRange): number {
  const within = `a whole number from ${group(range.min)} to ${group(range.max)}`
  if (!/^\s*\d{1,15}\s*$/.test(text))
    throw new UsageError(`${what} ${JSON.stringify(text)} is not ${within}`, `for example ${what} ${range.example}`)
  const n = Number(text)
  if (n < range.min || n > range.max)
    throw new UsageError(`${what} ${text.trim()} is out of range: it must be ${within}`, `for example ${what} ${range.example}`)
  return n
}
