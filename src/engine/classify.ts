/**
 * The one error classifier (engine.md "Error classification", postgres-driver.md §8).
 *
 * Accepts anything that can be thrown, unwraps `cause` chains and `AggregateError.errors`, and
 * judges the most specific error found. SQLSTATE and `code` are the stable keys; message text is
 * only a fallback (and refines a few codes, e.g. PgBouncer's `08P01` texts).
 */
import {summarizeError} from './redact.js'

export type ErrorKind =
  | 'refused'
  | 'reset'
  | 'timeout'
  | 'connection_closed'
  | 'connection_ended'
  | 'shutdown'
  | 'starting_up'
  | 'too_many_connections'
  | 'pooler'
  | 'no_connection'
  | 'network'
  | 'protocol'
  | 'serialization'
  | 'auth'
  | 'unknown_database'
  | 'unknown_role'
  | 'dns'
  | 'tls'
  | 'statement_timeout'
  | 'lock_timeout'
  | 'constraint'
  | 'syntax'
  | 'data'
  | 'usage'
  | 'aborted'
  | 'locked'
  | 'storage'
  | 'unknown'

export interface Classified {
  /** Safe to try again (after a reconnect/swap when `connectionLevel`). */
  retryable: boolean
  kind: ErrorKind
  /** SQLSTATE or driver / Node code, when known. */
  code?: string
  /** A human fix, one sentence, never containing credentials or the URL. */
  hint: string
  /** A write sent on this connection may or may not have committed. */
  inDoubt: boolean
  /** The pool/connection is suspect: reconnect/swap before retrying (or after fixing the cause). */
  connectionLevel: boolean
  /** Redacted one-line summary of the most specific error found. */
  message: string
}

/** The default fix for each kind. Constant text: hints never interpolate error content. */
export const KIND_HINTS: Readonly<Record<ErrorKind, string>> = Object.freeze({
  refused:
    'Nothing is listening at the configured host:port — start the database or fix the URL (GBRAIN_DATABASE_URL)',
  reset:
    'The connection was reset mid-operation (server restart, pooler reap or network drop) — the engine reconnects and retries; if frequent, check the server and pooler logs',
  timeout:
    'The database did not answer in time — check that the server is up and reachable from here, or raise the timeout',
  connection_closed:
    'The server closed the connection (restart, terminated backend or idle timeout) — the engine reconnects and retries; if frequent, check the server logs and idle timeouts',
  connection_ended:
    'The call reached a pool that was being shut down — it is retried on the current pool; if it persists, report a bug',
  shutdown:
    'The database server is shutting down or restarting — wait for it to come back; the engine reconnects',
  starting_up: 'The database server is starting up or in recovery — wait a few seconds; the engine retries',
  too_many_connections:
    'The server is out of connection slots — close idle clients or raise max_connections; lower GBRAIN_POOL_SIZE',
  pooler:
    'The connection pooler refused or dropped the session (client limit, circuit breaker or failing server login) — check the pooler limits and logs; lower GBRAIN_POOL_SIZE',
  no_connection:
    'The engine has no live database connection — it reconnects from the saved config; run `gbrain doctor` if this persists',
  network: 'The network path to the database failed — check the host, routes and firewall',
  protocol:
    'The server or pooler broke the wire protocol exchange — check the pooler logs; behind PgBouncer transaction pooling use ?prepare=false',
  serialization:
    'The transaction conflicted with a concurrent one (serialization failure or deadlock) — retry the whole transaction',
  auth: 'The server rejected the credentials — fix the password in the URL or config file',
  unknown_database:
    'The database named in the URL does not exist — create it (createdb) or fix the database name in the URL',
  unknown_role:
    'The user named in the URL does not exist on the server — create the role or fix the user name in the URL',
  dns: 'The database host name does not resolve — check the host in the URL and your DNS settings',
  tls: 'The TLS/SSL handshake failed — check sslmode in the URL and the server certificate (a local server may not support SSL)',
  statement_timeout:
    'The statement ran past statement_timeout or was cancelled — make the query cheaper or raise statement_timeout',
  lock_timeout:
    'The statement could not get a lock in time — find the blocking session in pg_stat_activity or raise lock_timeout',
  constraint: 'The write violated a database constraint — fix the data; retrying will not help',
  syntax:
    'The SQL is invalid or refers to a missing table or column — check the schema version (run migrations) or report a bug',
  data: 'The database rejected a value (bad format or out of range) — fix the data; retrying will not help',
  usage: 'The database client was called incorrectly — this is a bug in the caller; report it with the message',
  aborted: 'The operation was aborted by a signal or the caller — nothing to fix; run it again when ready',
  locked:
    'Another gbrain process has the embedded brain open — stop it (or wait for it to finish), then run this again',
  storage:
    'The embedded brain’s data directory is missing, foreign or from another PGlite/Postgres version — check the path (database_path) or restore it from a backup',
  unknown: 'An unexpected error — read the message; run `gbrain doctor` for a diagnosis',
})

interface Rule {
  kind: ErrorKind
  retryable: boolean
  inDoubt: boolean
  connectionLevel: boolean
  /** Overrides the kind's default hint for a specific code. */
  hint?: string
}

const rule = (
  kind: ErrorKind,
  retryable: boolean,
  inDoubt: boolean,
  connectionLevel: boolean,
  hint?: string,
): Rule => (hint === undefined ? {kind, retryable, inDoubt, connectionLevel} : {kind, retryable, inDoubt, connectionLevel, hint})

const ABORTED_RULE = rule('aborted', false, false, false)
const UNKNOWN_RULE = rule('unknown', false, false, false)
const USAGE_RULE = rule('usage', false, false, false)
const TLS_RULE = rule('tls', false, false, true)
const AUTH_RULE = rule('auth', false, false, true)
const POOLER_RULE = rule('pooler', true, false, true)
const TOO_MANY_RULE = rule('too_many_connections', true, false, true)
const UNKNOWN_ROLE_RULE = rule('unknown_role', false, false, true)
const SHUTDOWN_RULE = rule('shutdown', true, true, true)

/** Node / postgres.js / engine codes (exact match). */
const CODE_RULES: Readonly<Record<string, Rule>> = {
  // Node socket errors
  ECONNREFUSED: rule('refused', true, false, true),
  ECONNRESET: rule('reset', true, true, true),
  EPIPE: rule('reset', true, true, true),
  ECONNABORTED: rule('reset', true, true, true),
  ETIMEDOUT: rule('timeout', true, true, true),
  EHOSTUNREACH: rule('network', true, false, true),
  ENETUNREACH: rule('network', true, false, true),
  EHOSTDOWN: rule('network', true, false, true),
  ENETDOWN: rule('network', true, false, true),
  EAI_AGAIN: rule(
    'dns',
    true,
    false,
    true,
    'The database host name could not be resolved right now (temporary DNS failure) — check the resolver; the engine retries',
  ),
  ENOTFOUND: rule('dns', false, false, true),
  EPROTO: TLS_RULE,
  ERR_SOCKET_CONNECTION_TIMEOUT: rule('timeout', true, false, true),
  ERR_SOCKET_CLOSED: rule('connection_closed', true, true, true),
  ERR_STREAM_DESTROYED: rule('connection_closed', true, true, true),
  // postgres.js connection codes
  CONNECTION_CLOSED: rule('connection_closed', true, true, true),
  CONNECTION_DESTROYED: rule(
    'connection_closed',
    true,
    true,
    true,
    'The pool was torn down while the call was in flight (a swap or shutdown) — the call is retried; a write may already have landed, which idempotent writes absorb',
  ),
  CONNECTION_ENDED: rule('connection_ended', true, false, true),
  CONNECT_TIMEOUT: rule(
    'timeout',
    true,
    false,
    true,
    'The server did not complete the connection handshake in time — check that it is up and not overloaded, or raise the connect timeout',
  ),
  // postgres.js usage / protocol errors
  UNDEFINED_VALUE: USAGE_RULE,
  MAX_PARAMETERS_EXCEEDED: rule(
    'usage',
    false,
    false,
    false,
    'The statement has more than 65534 parameters — split the batch into smaller ones',
  ),
  NOT_TAGGED_CALL: USAGE_RULE,
  UNSAFE_TRANSACTION: USAGE_RULE,
  COPY_IN_PROGRESS: USAGE_RULE,
  MESSAGE_NOT_SUPPORTED: rule('protocol', false, false, true),
  SASL_SIGNATURE_MISMATCH: rule(
    'auth',
    false,
    false,
    true,
    'The server failed SCRAM verification (wrong password or a man-in-the-middle) — fix the password in the URL or config file and check the network path',
  ),
  AUTH_TYPE_NOT_IMPLEMENTED: rule(
    'auth',
    false,
    false,
    true,
    'The server asks for an authentication method the driver does not support — use scram-sha-256 (or md5) for this user in pg_hba.conf',
  ),
  // our own engine errors (errors.ts)
  NO_CONNECTION: rule('no_connection', true, false, true),
  ATTEMPT_TIMEOUT: rule(
    'timeout',
    true,
    true,
    true,
    'The call did not settle within the engine attempt timeout — the pool is swapped and the call retried; check for a silent network path or a paused pooler',
  ),
  ABORTED: ABORTED_RULE,
  ABORT_ERR: ABORTED_RULE,
  CONFIG_INVALID: rule('usage', false, false, false, 'A configuration value is invalid — apply the fix printed with the error'),
  // the embedded engine (pglite-engine.ts)
  PGLITE_LOCKED: rule('locked', false, false, false),
  PGLITE_DATA_DIR: rule('storage', false, false, false),
  PGLITE_MAJOR: rule('storage', false, false, false, 'The embedded brain is from a PostgreSQL major this build does not open — open it with the PGlite version that made it'),
  PGLITE_DAMAGED: rule('storage', false, false, false, 'The embedded brain’s data directory could not be opened by the PGlite of its major — keep a copy and restore it from a backup'),
  PGLITE_CLOSE_TIMEOUT: rule('timeout', true, false, true, 'The embedded brain did not close in time — the engine reopens it on the next call'),
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_REVOKED',
  'CERT_CHAIN_TOO_LONG',
  'INVALID_CA',
  'HOSTNAME_MISMATCH',
])

/** SQLSTATE rules: exact codes first, then by two-character class. */
const SQLSTATE_RULES: Readonly<Record<string, Rule>> = {
  '08000': rule('network', true, true, true),
  '08001': rule('network', true, false, true),
  '08003': rule('connection_closed', true, false, true),
  '08004': rule('network', true, false, true),
  '08006': rule('connection_closed', true, true, true),
  '08007': rule('network', true, true, true),
  '08P01': rule('protocol', true, true, true),
  '57P01': SHUTDOWN_RULE,
  '57P02': SHUTDOWN_RULE,
  '57P03': rule('starting_up', true, false, true),
  '57P04': rule('unknown_database', false, false, true),
  '57P05': rule(
    'connection_closed',
    true,
    false,
    true,
    'The server closed an idle session (idle_session_timeout) — the engine reconnects; raise the timeout if this is noisy',
  ),
  '53300': TOO_MANY_RULE,
  '25P03': rule(
    'connection_closed',
    true,
    false,
    true,
    'The server ended a transaction left idle too long (idle_in_transaction_session_timeout) — the whole transaction is retried; keep transactions short',
  ),
  '40001': rule('serialization', true, false, false),
  '40P01': rule('serialization', true, false, false),
  '3D000': rule('unknown_database', false, false, true),
  '57014': rule('statement_timeout', false, false, false),
  '55P03': rule('lock_timeout', false, false, false),
}

const SQLSTATE_CLASS_RULES: Readonly<Record<string, Rule>> = {
  '08': rule('network', true, true, true),
  '28': AUTH_RULE,
  '23': rule('constraint', false, false, false),
  '42': rule('syntax', false, false, false),
  '22': rule('data', false, false, false),
}

const SQLSTATE_RE = /^[0-9A-Z]{5}$/
const CODE_SHAPE_RE = /^[A-Za-z0-9_.-]{1,64}$/
const PG_HBA_HINT =
  'The server has no pg_hba.conf entry for this client (host, user, database or SSL mode) — add one on the server or connect with the allowed settings'

const ROLE_MISSING_RE = /\brole "[^"]*" does not exist/i
const DATABASE_MISSING_RE = /\bdatabase "[^"]*" does not exist/i
const POOLER_RE =
  /\bEMAXCONNSESSION\b|\bEMAXCLIENTS?\b|\bECIRCUITBREAKER\b|circuit breaker|no more connections allowed|max client connections reached|max clients reached|server login has been failing|database removed|pgbouncer cannot connect to server|query_wait_timeout|client_login_timeout|server conn crashed/i
const TOO_MANY_RE = /too many clients|remaining connection slots are reserved|too many connections/i
const TLS_MESSAGE_RE =
  /does not support SSL|SSL is not enabled on the server|self[- ]signed certificate|certificate has expired|unable to verify the first certificate|unable to get local issuer certificate|does not match certificate's altnames|wrong version number|certificate verify failed|(?:ssl|tls) handshake/i

/** Message-only patterns, in priority order (used when no code rule applies). */
const MESSAGE_RULES: ReadonlyArray<readonly [RegExp, Rule]> = [
  [/\bNo database connection\b/i, CODE_RULES.NO_CONNECTION!],
  [POOLER_RE, POOLER_RULE],
  [TOO_MANY_RE, TOO_MANY_RULE],
  [/the database system is (?:starting up|not yet accepting connections|in recovery mode)|consistent recovery state/i, SQLSTATE_RULES['57P03']!],
  [/the database system is shutting down|terminating connection due to administrator command|terminating connection because of crash/i, SHUTDOWN_RULE],
  [ROLE_MISSING_RE, UNKNOWN_ROLE_RULE],
  [DATABASE_MISSING_RE, SQLSTATE_RULES['3D000']!],
  [/password authentication failed|authentication failed for user/i, AUTH_RULE],
  [/no pg_hba\.conf entry/i, rule('auth', false, false, true, PG_HBA_HINT)],
  [TLS_MESSAGE_RE, TLS_RULE],
  [/canceling statement due to statement timeout/i, SQLSTATE_RULES['57014']!],
  [/canceling statement due to lock timeout|could not obtain lock/i, SQLSTATE_RULES['55P03']!],
  [/Connection terminated unexpectedly|server closed the connection unexpectedly|socket hang up/i, CODE_RULES.CONNECTION_CLOSED!],
  [/PGlite failed to initialize properly/i, CODE_RULES.PGLITE_DATA_DIR!],
]

/** Node / driver codes that often appear only inside a message (`connect ECONNREFUSED 127.0.0.1:5432`). */
const MESSAGE_CODE_RE =
  /\b(ECONNREFUSED|ECONNRESET|EPIPE|ECONNABORTED|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EHOSTDOWN|ENETDOWN|EAI_AGAIN|ENOTFOUND|CONNECTION_CLOSED|CONNECTION_ENDED|CONNECTION_DESTROYED|CONNECT_TIMEOUT)\b/

// Specificity scores: the best candidate in the error graph wins.
const SCORE_ABORTED = 100
const SCORE_CODE = 30
const SCORE_MESSAGE = 20
const SCORE_SYMPTOM_CODE = 15 // NO_CONNECTION: a symptom, its cause says more
const SCORE_SYMPTOM_MESSAGE = 10
const SCORE_UNKNOWN_CODE = 5
const SCORE_NOTHING = 0

/** Kinds that say less than their siblings (an AggregateError of per-address errors). */
const VAGUE_KINDS = new Set<ErrorKind>(['network', 'timeout', 'unknown'])

interface Judged {
  rule: Rule
  score: number
  code?: string
  hint?: string
}

interface Candidate extends Judged {
  node: unknown
  depth: number
  order: number
}

function prop(obj: unknown, key: string): unknown {
  if (obj === null || (typeof obj !== 'object' && typeof obj !== 'function')) return undefined
  try {
    return (obj as Record<string, unknown>)[key]
  } catch {
    return undefined
  }
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : typeof value === 'number' && Number.isFinite(value) ? String(value) : undefined
}

function messageOf(node: unknown): string {
  if (typeof node === 'string') return node
  if (typeof node === 'number' || typeof node === 'boolean' || typeof node === 'bigint') return String(node)
  return str(prop(node, 'message')) ?? ''
}

function codeOf(node: unknown): string | undefined {
  const code = prop(node, 'code')
  if (typeof code === 'string' && code.trim() !== '') return code.trim()
  const errno = prop(node, 'errno')
  if (typeof errno === 'string' && errno.trim() !== '') return errno.trim()
  return undefined
}

function sqlstateRule(code: string): Rule | undefined {
  if (!SQLSTATE_RE.test(code)) return undefined
  return SQLSTATE_RULES[code] ?? SQLSTATE_CLASS_RULES[code.slice(0, 2)]
}

function codeRule(code: string): Rule | undefined {
  const upper = code.toUpperCase()
  const exact = CODE_RULES[upper]
  if (exact) return exact
  if (TLS_CODES.has(upper) || /^ERR_(?:TLS|SSL|OSSL)_/.test(upper)) return TLS_RULE
  return sqlstateRule(upper)
}

/** Message text refines a code for a few connection-class SQLSTATEs (PgBouncer sends `08P01`). */
function refine(code: string, base: Rule, message: string): Judged {
  const upper = code.toUpperCase()
  const cls = upper.slice(0, 2)
  if (cls === '28' && ROLE_MISSING_RE.test(message)) return {rule: UNKNOWN_ROLE_RULE, score: SCORE_CODE, code: upper}
  if (cls === '28' && /no pg_hba\.conf entry/i.test(message)) return {rule: base, score: SCORE_CODE, code: upper, hint: PG_HBA_HINT}
  if (SQLSTATE_RE.test(upper) && ['08', '53', '57', '58', 'XX', '28'].includes(cls)) {
    if (POOLER_RE.test(message)) return {rule: POOLER_RULE, score: SCORE_CODE, code: upper}
    if (TOO_MANY_RE.test(message) && cls !== '28') return {rule: TOO_MANY_RULE, score: SCORE_CODE, code: upper}
  }
  if (upper === '57P03' && /shutting down/i.test(message)) return {rule: SHUTDOWN_RULE, score: SCORE_CODE, code: upper}
  if (upper === 'ETIMEDOUT' && /\bconnect ETIMEDOUT\b/.test(message)) {
    return {rule: {...base, inDoubt: false}, score: SCORE_CODE, code: upper}
  }
  const score = upper === 'NO_CONNECTION' ? SCORE_SYMPTOM_CODE : base.kind === 'aborted' ? SCORE_ABORTED : SCORE_CODE
  return {rule: base, score, code: upper}
}

/** Judge one node on its own code and message, without looking at its causes. */
function judge(node: unknown): Judged {
  const name = str(prop(node, 'name'))
  // DOMException AbortError (AbortSignal.abort) / TimeoutError (AbortSignal.timeout, code 23).
  if (name === 'AbortError' || (name === 'TimeoutError' && prop(node, 'code') === 23)) {
    return {rule: ABORTED_RULE, score: SCORE_ABORTED, code: 'ABORTED'}
  }
  const code = codeOf(node)
  const message = messageOf(node)
  if (code !== undefined) {
    const base = codeRule(code)
    if (base) return refine(code, base, message)
  }
  for (const [re, r] of MESSAGE_RULES) {
    if (re.test(message)) {
      const hint = r.hint
      const judged: Judged = {rule: r, score: r.kind === 'no_connection' ? SCORE_SYMPTOM_MESSAGE : SCORE_MESSAGE}
      if (code !== undefined) judged.code = code
      if (hint !== undefined) judged.hint = hint
      return judged
    }
  }
  const inMessage = MESSAGE_CODE_RE.exec(message)?.[1]
  if (inMessage !== undefined) {
    const base = CODE_RULES[inMessage] ?? UNKNOWN_RULE
    const judged = refine(inMessage, base, message)
    return {...judged, score: SCORE_MESSAGE, code: code ?? inMessage}
  }
  if (code !== undefined) return {rule: UNKNOWN_RULE, score: SCORE_UNKNOWN_CODE, code}
  return {rule: UNKNOWN_RULE, score: SCORE_NOTHING}
}

const MAX_NODES = 64
const MAX_DEPTH = 16
const MAX_AGGREGATE_CHILDREN = 32

/** Breadth-first walk over `cause` and `errors`, cycle-safe and bounded. */
function candidates(err: unknown): Candidate[] {
  const out: Candidate[] = []
  const seen = new Set<unknown>()
  const queue: Array<{node: unknown; depth: number}> = [{node: err, depth: 0}]
  while (queue.length > 0 && out.length < MAX_NODES) {
    const {node, depth} = queue.shift()!
    if (node !== null && typeof node === 'object') {
      if (seen.has(node)) continue
      seen.add(node)
    }
    out.push({...judge(node), node, depth, order: out.length})
    if (depth >= MAX_DEPTH || node === null || (typeof node !== 'object' && typeof node !== 'function')) continue
    const cause = prop(node, 'cause')
    if (cause !== undefined && cause !== node) queue.push({node: cause, depth: depth + 1})
    const errors = prop(node, 'errors')
    if (Array.isArray(errors)) {
      for (const child of errors.slice(0, MAX_AGGREGATE_CHILDREN)) queue.push({node: child, depth: depth + 1})
    }
  }
  return out
}

function better(a: Candidate, b: Candidate): boolean {
  if (a.score !== b.score) return a.score > b.score
  if (a.depth !== b.depth) return a.depth > b.depth // the cause is the root cause
  const av = VAGUE_KINDS.has(a.rule.kind) ? 0 : 1
  const bv = VAGUE_KINDS.has(b.rule.kind) ? 0 : 1
  if (av !== bv) return av > bv
  return a.order < b.order
}

/**
 * Classify anything thrown. Never throws. The verdict comes from the most specific error in the
 * `cause` / `AggregateError.errors` graph: an abort beats everything, a known code beats a
 * message pattern, a concrete cause beats the `No database connection` symptom, and among
 * equals the deepest (root) cause wins.
 */
export function classify(err: unknown): Classified {
  try {
    const all = candidates(err)
    let best = all[0]!
    for (const c of all) if (better(c, best)) best = c
    const source = best.score === SCORE_NOTHING ? err : best.node
    const result: Classified = {
      retryable: best.rule.retryable,
      kind: best.rule.kind,
      hint: best.hint ?? best.rule.hint ?? KIND_HINTS[best.rule.kind],
      inDoubt: best.rule.inDoubt,
      connectionLevel: best.rule.connectionLevel,
      message: summarizeError(source),
    }
    const code = best.code ?? all.find((c) => c.code !== undefined)?.code
    // Only code-shaped values are echoed: a hostile `code` must not smuggle text past redaction.
    if (code !== undefined && CODE_SHAPE_RE.test(code)) result.code = code
    return result
  } catch {
    return {
      retryable: false,
      kind: 'unknown',
      hint: KIND_HINTS.unknown,
      inDoubt: false,
      connectionLevel: false,
      message: 'error',
    }
  }
}
