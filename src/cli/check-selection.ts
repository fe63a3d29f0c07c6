/**
 * `gbrain doctor --only/--skip/--fast` read against the catalogue before anything runs: an
 * unknown check name, a selection that leaves nothing to check (it would read "healthy" having
 * looked at nothing), or `--fast` skipping every selected check is a usage error.
 */
import {CATALOGUE, CHECK_NAMES} from '../checks/catalogue.js'
import {UsageError} from './errors.js'

/** The checks asked for: `undefined` when the flag was not given. */
export interface CheckSelection {
  only: string[] | undefined
  skip: string[] | undefined
}

/** A comma-separated list of check names, each one the catalogue knows. */
function checkNames(flag: string | undefined, name: string): string[] | undefined {
  if (flag === undefined) return undefined
  const names = flag
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  const unknown = names.filter((n) => !CHECK_NAMES.includes(n))
  if (unknown.length > 0)
    throw new UsageError(
      `unknown check ${unknown.map((u) => JSON.stringify(u)).join(', ')} in ${name}`,
      `see: gbrain doctor --list (${CHECK_NAMES.join(', ')})`,
    )
  return names
}

/** One check name a flag gives (`--acknowledge CHECK`), known to the catalogue. */
export function checkName(value: string, flag: string): string {
  const names = checkNames(value, flag) ?? []
  if (names.length !== 1)
    throw new UsageError(`${flag} takes one check name, got ${JSON.stringify(value.slice(0, 200))}`, 'gbrain doctor --list')
  return names[0]!
}

/** The selection of `--only` and `--skip`, or the usage error that says why there is none. */
export function checkSelection(flags: {only?: string; skip?: string; fast: boolean}): CheckSelection {
  const only = checkNames(flags.only, '--only')
  const skip = checkNames(flags.skip, '--skip')
  const selected = CATALOGUE.filter((c) => (only === undefined || only.includes(c.name)) && !(skip ?? []).includes(c.name))
  if (selected.length === 0) throw new UsageError('--only and --skip leave no check to run', 'gbrain doctor --list')
  if (flags.fast && selected.every((c) => c.gatedOnConnection || c.opensConnection)) {
    throw new UsageError(
      `--fast skips every selected check (${selected.map((c) => c.name).join(', ')}: they need the database)`,
      'drop --fast, or pick checks that read files: gbrain doctor --list',
    )
  }
  return {only, skip}
}
