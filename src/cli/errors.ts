/**
 * How any error a command meets is shown: one line (what is wrong, then the fix), a code, and
 * the exit status. Usage errors exit 64, failures the operator can act on exit 1, bugs exit 70.
 * Every message is redacted.
 */
import {Errors} from '@oclif/core'
import {BatchFailedError, classify, RetryExhaustedError, findOpenFailure, LockedError} from '../engine/index.js'
import {ConfigError} from '../shared/errors.js'
import {redactForDisplay as redact} from '../shared/redact.js'
import {connectionFix, connectionPhrase, notReached, settingName, type Where} from '../checks/connection-advice.js'

/** 75 (sysexits EX_TEMPFAIL): the embedded brain is held by another process; nothing was done, try later. */
export const EXIT = {ok: 0, failure: 1, unknown: 3, usage: 64, internal: 70, locked: 75} as const

/** An error the operator caused, with the fix. Exit 64. */
export class UsageError extends Error {
  readonly code = 'USAGE'
  constructor(
    message: string,
    readonly fix?: string,
  ) {
    super(message)
    this.name = 'UsageError'
  }
}

/** A failure that is not a bug (the database is down, a lock is held…). Exit 1. */
export class OperationalError extends Error {
  constructor(
    message: string,
    readonly fix?: string,
    readonly code = 'FAILED',
  ) {
    super(message)
    this.name = 'OperationalError'
  }
}

export interface DescribedError {
  code: string
  message: string
  hint?: string
  exit: number
}

/** The brain (or its tables) does not exist yet: commands other than `init` stop here and create nothing. */
export function needsInit(what: string): UsageError {
  return new UsageError(what, 'gbrain init')
}

/** What every command says when the database has no gbrain tables. */
export const NO_TABLES = 'this brain has no gbrain tables yet (no sources table)'

/** The database answered that a table is missing (SQLSTATE 42P01): gbrain's tables were never made. */
export function isNoTables(e: unknown): boolean {
  return classify(e instanceof RetryExhaustedError ? e.lastError : e).code === '42P01'
}

/**
 * `where`: the Postgres target the command was using, when known — connection errors then name
 * the host and port tried, say where the URL came from, and fill them into the fix.
 */
export function describeError(err: unknown, where?: Where): DescribedError {
  if (err instanceof ConfigError) return {code: err.code, message: redact(err.message), hint: redact(err.fix), exit: EXIT.usage}
  if (err instanceof UsageError) return {code: err.code, message: redact(err.message), hint: err.fix && redact(err.fix), exit: EXIT.usage}
  if (err instanceof Errors.CLIError && err.constructor.name.endsWith('Error') && 'parse' in err) {
    return {code: 'USAGE', message: redact(firstLine(err.message)), hint: 'see --help', exit: EXIT.usage}
  }
  if ((err as {code?: unknown})?.code === 'SOURCE_INVALID') {
    const e = err as Error & {fix?: string}
    return {code: 'SOURCE_INVALID', message: redact(e.message), hint: e.fix && redact(e.fix), exit: EXIT.usage}
  }
  if (err instanceof OperationalError)
    return {code: err.code, message: redact(err.message), hint: err.fix && redact(err.fix), exit: EXIT.failure}
  if (err instanceof LockedError) return {code: err.code, message: redact(err.message), exit: EXIT.failure}
  if (err instanceof BatchFailedError) return {code: err.code, message: redact(err.message), hint: err.classified.hint, exit: EXIT.failure}
  const open = findOpenFailure(err)
  if (open) {
    const hint = `${open.fix.text}${open.fix.commands.length ? `: ${open.fix.commands.join('; ')}` : ''}`
    // No brain yet is the same situation as no tables yet: run `gbrain init` first (exit 64).
    const exit =
      open.openCause === 'locked'
        ? EXIT.locked
        : open.openCause === 'missing' && open.fix.commands.includes('gbrain init')
          ? EXIT.usage
          : EXIT.failure
    return {code: open.code, message: redact(open.message), hint: redact(hint), exit}
  }
  const c = classify(err instanceof RetryExhaustedError ? err.lastError : err)
  // Missing tables, whichever command met them: run `gbrain init` first (exit 64), as with no brain.
  if (c.code === '42P01') return {code: 'USAGE', message: NO_TABLES, hint: 'gbrain init', exit: EXIT.usage}
  const fix = where ? connectionFix(c.kind, where) : undefined
  if (where && fix) {
    const hint = `${fix.text}${fix.commands.length ? `: ${fix.commands.join('; ')}` : ''}`
    const words = notReached(c.kind) ? '' : ` — ${c.message}`
    return {
      code: c.code ?? c.kind.toUpperCase(),
      message: redact(`database ${connectionPhrase(c.kind, where)}${words} (URL from ${settingName(where.source)})`),
      hint: redact(hint),
      exit: EXIT.failure,
    }
  }
  if (c.kind !== 'unknown' && c.kind !== 'usage') {
    return {
      code: c.code ?? c.kind.toUpperCase(),
      message: `database ${c.kind.replace(/_/g, ' ')}: ${c.message}`,
      hint: c.hint,
      exit: EXIT.failure,
    }
  }
  return {
    code: 'INTERNAL',
    message: `internal error: ${redact(firstLine(err instanceof Error ? err.message : String(err)))}`,
    hint: 'this is a bug in gbrain-doctor; rerun with --debug and report the stack trace',
    exit: EXIT.internal,
  }
}

function firstLine(s: string): string {
  return (
    s
      .split('\n')
      .find((l) => l.trim() !== '')
      ?.trim() ?? s
  )
}

/** The stack, redacted, for --debug. */
export function debugStack(err: unknown): string {
  const stack = err instanceof Error ? (err.stack ?? err.message) : String(err)
  return stack
    .split('\n')
    .map((l) => redact(l))
    .join('\n')
}
