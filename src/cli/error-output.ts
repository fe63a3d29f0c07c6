/**
 * An error as the operator sees it, in the two shapes every command uses: one line on stderr
 * (`gbrain: <what is wrong> (fix: <the fix>)`) or, with --json, the error envelope on stdout.
 * Both leave through the sanitisers, whatever the message holds.
 */
import {humanText, oneLine, workflowSafe} from '../render/text.js'
import type {DescribedError} from './errors.js'

type Shown = Pick<DescribedError, 'code' | 'message' | 'hint'>

/** The one stderr line, without its newline. */
export function errorLine(d: Shown): string {
  return humanText(oneLine(`gbrain: ${d.message}${d.hint ? ` (fix: ${d.hint})` : ''}`))
}

/** The JSON envelope (`schema_version` 2), pretty-printed, without its newline. */
export function errorJson(d: Shown): string {
  return workflowSafe(
    JSON.stringify({schema_version: 2, status: 'error', error: {code: d.code, message: d.message, hint: d.hint ?? null}}, null, 2),
    'json',
  )
}

/** `--json` among the arguments (before a `--`), for code that runs before any flag is parsed. */
export function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--')
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json')
}
