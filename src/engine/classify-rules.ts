/**
 * What each error code means, as data (engine.md "Error classification", postgres-driver.md §8):
 * one row per Node / postgres.js / engine code, per SQLSTATE and per SQLSTATE class, and the
 * message patterns used when no code applies. classify.ts walks an error graph and looks the
 * codes up here; it holds no codes of its own. A new error code is one row in {@link CODE_RULES}
 * (with `inMessage` when the code also turns up bare inside message text: the message scan is
 * built from those rows).
 */
import type {ErrorKind} from './error-kinds.js'

/** What a code says about the failed call; every flag defaults to false. */
export interface RuleFlags {
  /** Safe to try the call again (after a reconnect/swap when `connectionLevel`). */
  retryable?: boolean
  /** A write sent on this connection may or may not have committed. */
  inDoubt?: boolean
  /** The pool/connection is suspect: swap it before retrying (or after fixing the cause). */
  connectionLevel?: boolean
  /** Overrides the kind's default hint (error-kinds.ts) for this code. */
  hint?: string
  /**
   * The code also appears bare inside message text (`connect ECONNREFUSED 127.0.0.1:5432`):
   * the message scan ({@link MESSAGE_CODE_RE}) looks for it.
   */
  inMessage?: boolean
}

export interface Rule {
  kind: ErrorKind
  retryable: boolean
  inDoubt: boolean
  connectionLevel: boolean
  hint?: string
  inMessage?: boolean
}

export function rule(kind: ErrorKind, flags: RuleFlags = {}): Rule {
  const r: Rule = {
    kind,
    retryable: flags.retryable ?? false,
    inDoubt: flags.inDoubt ?? false,
    connectionLevel: flags.connectionLevel ?? false,
  }
  if (flags.hint !== undefined) r.hint = flags.hint
  if (flags.inMessage) r.inMessage = true
  return r
}

/** Connection trouble worth a swap and a retry; a write was not sent (or surely not committed). */
const RETRY = {retryable: true, connectionLevel: true} as const
/** The same, but the connection died while a write may have been in flight. */
const RETRY_IN_DOUBT = {retryable: true, inDoubt: true, connectionLevel: true} as const
/** Permanent, but about the connection (credentials, names, TLS): retrying will not help. */
const CONNECTION_FATAL = {connectionLevel: true} as const

export const ABORTED_RULE = rule('aborted')
export const UNKNOWN_RULE = rule('unknown')
const USAGE_RULE = rule('usage')
export const TLS_RULE = rule('tls', CONNECTION_FATAL)
const AUTH_RULE = rule('auth', CONNECTION_FATAL)
export const POOLER_RULE = rule('pooler', RETRY)
export const TOO_MANY_RULE = rule('too_many_connections', RETRY)
export const UNKNOWN_ROLE_RULE = rule('unknown_role', CONNECTION_FATAL)
export const SHUTDOWN_RULE = rule('shutdown', RETRY_IN_DOUBT)

/** Node / postgres.js / engine codes (exact match, upper case). */
export const CODE_RULES: Readonly<Record<string, Rule>> = {
  // Node socket errors
  ECONNREFUSED: rule('refused', {...RETRY, inMessage: true}),
  ECONNRESET: rule('reset', {...RETRY_IN_DOUBT, inMessage: true}),
  EPIPE: rule('reset', {...RETRY_IN_DOUBT, inMessage: true}),
  ECONNABORTED: rule('reset', {...RETRY_IN_DOUBT, inMessage: true}),
  ETIMEDOUT: rule('timeout', {...RETRY_IN_DOUBT, inMessage: true}),
  EHOSTUNREACH: rule('network', {...RETRY, inMessage: true}),
  ENETUNREACH: rule('network', {...RETRY, inMessage: true}),
  EHOSTDOWN: rule('network', {...RETRY, inMessage: true}),
  ENETDOWN: rule('network', {...RETRY, inMessage: true}),
  EAI_AGAIN: rule('dns', {
    ...RETRY,
    inMessage: true,
    hint: 'The database host name could not be resolved right now (temporary DNS failure) — check the resolver; the engine retries',
  }),
  ENOTFOUND: rule('dns', {...CONNECTION_FATAL, inMessage: true}),
  EPROTO: TLS_RULE,
  ERR_SOCKET_CONNECTION_TIMEOUT: rule('timeout', RETRY),
  ERR_SOCKET_CLOSED: rule('connection_closed', RETRY_IN_DOUBT),
  ERR_STREAM_DESTROYED: rule('connection_closed', RETRY_IN_DOUBT),
  // postgres.js connection codes
  CONNECTION_CLOSED: rule('connection_closed', {...RETRY_IN_DOUBT, inMessage: true}),
  CONNECTION_DESTROYED: rule('connection_closed', {
    ...RETRY_IN_DOUBT,
    inMessage: true,
    hint: 'The pool was torn down while the call was in flight (a swap or shutdown) — the call is retried; a write may already have landed, which idempotent writes absorb',
  }),
  CONNECTION_ENDED: rule('connection_ended', {...RETRY, inMessage: true}),
  CONNECT_TIMEOUT: rule('timeout', {
    ...RETRY,
    inMessage: true,
    hint: 'The server did not complete the connection handshake in time — check that it is up and not overloaded, or raise the connect timeout',
  }),
  // postgres.js usage / protocol errors
  UNDEFINED_VALUE: USAGE_RULE,
  MAX_PARAMETERS_EXCEEDED: rule('usage', {hint: 'The statement has more than 65534 parameters — split the batch into smaller ones'}),
  NOT_TAGGED_CALL: USAGE_RULE,
  UNSAFE_TRANSACTION: USAGE_RULE,
  COPY_IN_PROGRESS: USAGE_RULE,
  MESSAGE_NOT_SUPPORTED: rule('protocol', CONNECTION_FATAL),
  SASL_SIGNATURE_MISMATCH: rule('auth', {
    ...CONNECTION_FATAL,
    hint: 'The server failed SCRAM verification (wrong password or a man-in-the-middle) — fix the password in the URL or config file and check the network path',
  }),
  AUTH_TYPE_NOT_IMPLEMENTED: rule('auth', {
    ...CONNECTION_FATAL,
    hint: 'The server asks for an authentication method the driver does not support — use scram-sha-256 (or md5) for this user in pg_hba.conf',
  }),
  // our own engine errors (errors.ts)
  NO_CONNECTION: rule('no_connection', RETRY),
  ATTEMPT_TIMEOUT: rule('timeout', {
    ...RETRY_IN_DOUBT,
    hint: 'The call did not settle within the engine attempt timeout — the pool is swapped and the call retried; check for a silent network path or a paused pooler',
  }),
  ABORTED: ABORTED_RULE,
  ABORT_ERR: ABORTED_RULE,
  CONFIG_INVALID: rule('usage', {hint: 'A configuration value is invalid — apply the fix printed with the error'}),
  // the embedded engine (pglite-engine.ts)
  PGLITE_LOCKED: rule('locked'),
  PGLITE_DATA_DIR: rule('storage'),
  PGLITE_MAJOR: rule('storage', {
    hint: 'The embedded brain is from a PostgreSQL major this build does not open — open it with the PGlite version that made it',
  }),
  PGLITE_DAMAGED: rule('storage', {
    hint: 'The embedded brain’s data directory could not be opened by the PGlite of its major — keep a copy and restore it from a backup',
  }),
  PGLITE_CLOSE_TIMEOUT: rule('timeout', {
    ...RETRY,
    hint: 'The embedded brain did not close in time — the engine reopens it on the next call',
  }),
}

/** The pattern that finds, inside message text, the codes of the `rules` marked `inMessage`. */
export function messageCodePattern(rules: Readonly<Record<string, Rule>>): RegExp {
  const codes = Object.keys(rules).filter((code) => rules[code]!.inMessage)
  return new RegExp(String.raw`\b(${codes.join('|')})\b`)
}

/**
 * Node / driver codes that often appear only inside a message (`connect ECONNREFUSED
 * 127.0.0.1:5432`): the {@link CODE_RULES} rows marked `inMessage`, listed nowhere else.
 */
export const MESSAGE_CODE_RE = messageCodePattern(CODE_RULES)

/** TLS certificate codes (Node / OpenSSL); `ERR_TLS_*`, `ERR_SSL_*` and `ERR_OSSL_*` by prefix. */
export const TLS_CODES: ReadonlySet<string> = new Set([
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
export const SQLSTATE_RULES: Readonly<Record<string, Rule>> = {
  '08000': rule('network', RETRY_IN_DOUBT),
  '08001': rule('network', RETRY),
  '08003': rule('connection_closed', RETRY),
  '08004': rule('network', RETRY),
  '08006': rule('connection_closed', RETRY_IN_DOUBT),
  '08007': rule('network', RETRY_IN_DOUBT),
  '08P01': rule('protocol', RETRY_IN_DOUBT),
  '57P01': SHUTDOWN_RULE,
  '57P02': SHUTDOWN_RULE,
  '57P03': rule('starting_up', RETRY),
  '57P04': rule('unknown_database', CONNECTION_FATAL),
  '57P05': rule('connection_closed', {
    ...RETRY,
    hint: 'The server closed an idle session (idle_session_timeout) — the engine reconnects; raise the timeout if this is noisy',
  }),
  '53300': TOO_MANY_RULE,
  '25P03': rule('connection_closed', {
    ...RETRY,
    hint: 'The server ended a transaction left idle too long (idle_in_transaction_session_timeout) — the whole transaction is retried; keep transactions short',
  }),
  '40001': rule('serialization', {retryable: true}),
  '40P01': rule('serialization', {retryable: true}),
  '3D000': rule('unknown_database', CONNECTION_FATAL),
  '57014': rule('statement_timeout'),
  '55P03': rule('lock_timeout'),
}

export const SQLSTATE_CLASS_RULES: Readonly<Record<string, Rule>> = {
  '08': rule('network', RETRY_IN_DOUBT),
  '28': AUTH_RULE,
  '23': rule('constraint'),
  '42': rule('syntax'),
  '22': rule('data'),
}

export const PG_HBA_HINT =
  'The server has no pg_hba.conf entry for this client (host, user, database or SSL mode) — add one on the server or connect with the allowed settings'

export const ROLE_MISSING_RE = /\brole "[^"]*" does not exist/i
const DATABASE_MISSING_RE = /\bdatabase "[^"]*" does not exist/i
export const PG_HBA_RE = /no pg_hba\.conf entry/i
export const POOLER_RE =
  /\bEMAXCONNSESSION\b|\bEMAXCLIENTS?\b|\bECIRCUITBREAKER\b|circuit breaker|no more connections allowed|max client connections reached|max clients reached|server login has been failing|database removed|pgbouncer cannot connect to server|query_wait_timeout|client_login_timeout|server conn crashed/i
export const TOO_MANY_RE = /too many clients|remaining connection slots are reserved|too many connections/i
const TLS_MESSAGE_RE =
  /does not support SSL|SSL is not enabled on the server|self[- ]signed certificate|certificate has expired|unable to verify the first certificate|unable to get local issuer certificate|does not match certificate's altnames|wrong version number|certificate verify failed|(?:ssl|tls) handshake/i

/** Message-only patterns, in priority order (used when no code rule applies). */
export const MESSAGE_RULES: ReadonlyArray<readonly [RegExp, Rule]> = [
  [/\bNo database connection\b/i, CODE_RULES.NO_CONNECTION!],
  [POOLER_RE, POOLER_RULE],
  [TOO_MANY_RE, TOO_MANY_RULE],
  [
    /the database system is (?:starting up|not yet accepting connections|in recovery mode)|consistent recovery state/i,
    SQLSTATE_RULES['57P03']!,
  ],
  [
    /the database system is shutting down|terminating connection due to administrator command|terminating connection because of crash/i,
    SHUTDOWN_RULE,
  ],
  [ROLE_MISSING_RE, UNKNOWN_ROLE_RULE],
  [DATABASE_MISSING_RE, SQLSTATE_RULES['3D000']!],
  [/password authentication failed|authentication failed for user/i, AUTH_RULE],
  [PG_HBA_RE, rule('auth', {...CONNECTION_FATAL, hint: PG_HBA_HINT})],
  [TLS_MESSAGE_RE, TLS_RULE],
  [/canceling statement due to statement timeout/i, SQLSTATE_RULES['57014']!],
  [/canceling statement due to lock timeout|could not obtain lock/i, SQLSTATE_RULES['55P03']!],
  [/Connection terminated unexpectedly|server closed the connection unexpectedly|socket hang up/i, CODE_RULES.CONNECTION_CLOSED!],
  [/PGlite failed to initialize properly/i, CODE_RULES.PGLITE_DATA_DIR!],
]
