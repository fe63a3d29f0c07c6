/**
 * What a person is told when a database connection fails, by cause: one phrase that names the
 * host and port we tried (they are not secrets; only passwords are) and says whether the server
 * was reached at all, where the URL came from, and the fix with the target's own host, port and
 * database filled into its commands. The doctor's `connection` check and every command's error
 * line use it, so both say the same thing.
 */
import {NEXT_STEPS, type ErrorKind} from '../engine/index.js'
import {shellQuote} from '../shared/shell-quote.js'
import type {Fix} from './types.js'

/** The Postgres target as far as advice needs it (never the credentials). */
export interface Where {
  host: string
  port: number
  database: string
  /** Where the URL came from: `flag`, `env:GBRAIN_DATABASE_URL`, `config-file`, … */
  source: string
}

/** Causes where the server was never reached: only these say "cannot reach". */
const NOT_REACHED: ReadonlySet<ErrorKind> = new Set<ErrorKind>(['refused', 'timeout', 'dns', 'network', 'no_connection'])

/** `127.0.0.1:5433`, `[::1]:5433`. */
export function hostPort(w: Pick<Where, 'host' | 'port'>): string {
  return `${w.host.includes(':') ? `[${w.host}]` : w.host}:${w.port}`
}

/** `--database-url`, `GBRAIN_DATABASE_URL`, `the config file`: the setting a person would edit. */
export function settingName(source: string): string {
  if (source === 'flag') return '--database-url'
  if (source.startsWith('env:')) return source.slice(4)
  if (source === 'config-file') return 'the config file'
  return source
}

/** True when the cause means the server was never reached (nothing listening, no answer, no such host). */
export function notReached(kind: ErrorKind): boolean {
  return NOT_REACHED.has(kind)
}

/**
 * One phrase for the cause, naming where: `cannot reach 127.0.0.1:5433: nothing is listening
 * there` — "cannot reach" only when the server was not reached; `the server at 127.0.0.1:5433
 * rejected the password` otherwise.
 */
export function connectionPhrase(kind: ErrorKind, w: Where): string {
  const at = hostPort(w)
  switch (kind) {
    case 'refused':
      return `cannot reach ${at}: nothing is listening there`
    case 'timeout':
      return `cannot reach ${at}: no answer in time`
    case 'dns':
      return `cannot reach ${at}: the host name ${w.host} does not resolve`
    case 'network':
    case 'no_connection':
      return `cannot reach ${at}: the network path failed`
    case 'auth':
      return `the server at ${at} was reached but rejected the password (or pg_hba.conf refused this user)`
    case 'unknown_role':
      return `the server at ${at} was reached but has no such role (the user in the URL)`
    case 'unknown_database':
      return `the server at ${at} was reached but has no database ${JSON.stringify(w.database)}`
    case 'too_many_connections':
      return `the server at ${at} was reached but is full (too many connections)`
    case 'starting_up':
      return `the server at ${at} was reached but is starting up`
    case 'shutdown':
      return `the server at ${at} was reached but is shutting down`
    case 'tls':
      return `the server at ${at} was reached but TLS failed`
    default:
      return `the connection to ${at} failed (${kind.replace(/_/g, ' ')})`
  }
}

/** The fix for a cause with HOST, PORT and DB filled from the target (shell-quoted); undefined when none is known. */
export function connectionFix(kind: ErrorKind, w: Where | undefined): Fix | undefined {
  // The fixes by cause live with each kind's hint in one table (engine/error-kinds.ts).
  const f = NEXT_STEPS[kind].connectionFix
  if (!f) return undefined
  if (!w) return {text: f.text, commands: [...f.commands]}
  const fill = (cmd: string): string =>
    cmd
      .split(' ')
      .map((word) =>
        word === 'HOST' ? shellQuote(w.host) : word === 'PORT' ? String(w.port) : word === 'DB' ? shellQuote(w.database) : word,
      )
      .join(' ')
  const text = kind === 'auth' ? `${f.text}; the URL comes from ${settingName(w.source)}` : f.text
  return {text, commands: f.commands.map(fill)}
}
