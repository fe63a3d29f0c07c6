/**
 * What each kind of error means to a person, in ONE table: the one-sentence hint every
 * classified error carries, and for the kinds where a connection failed, the fix with
 * paste-ready commands (the doctor's `connection` check and every command's error line,
 * checks/connection-advice.ts). Typed `Record<ErrorKind, …>` so a new kind that is not given its
 * next steps fails to compile instead of silently falling back.
 */

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

/**
 * A fix for a failed connection. `HOST`, `PORT` and `DB` in a command are placeholders
 * that connection-advice.ts fills from the target, shell-quoted.
 */
export interface ConnectionFix {
  /** One sentence: what to do. */
  text: string
  /** Paste-ready commands, in order. */
  commands: readonly string[]
}

export interface NextSteps {
  /** The default hint of the kind. Constant text: hints never interpolate error content. */
  hint: string
  /** The fix when a connection failed with this kind; null when there is no specific one. */
  connectionFix: ConnectionFix | null
}

export const NEXT_STEPS: Readonly<Record<ErrorKind, NextSteps>> = {
  refused: {
    hint: 'Nothing is listening at the configured host:port — start the database or fix the URL (GBRAIN_DATABASE_URL)',
    connectionFix: {
      text: 'start the database, or point gbrain at the right host and port',
      commands: ['pg_isready -h HOST -p PORT', 'gbrain repair --reconnect'],
    },
  },
  reset: {
    hint: 'The connection was reset mid-operation (server restart, pooler reap or network drop) — the engine reconnects and retries; if frequent, check the server and pooler logs',
    connectionFix: null,
  },
  timeout: {
    hint: 'The database did not answer in time — check that the server is up and reachable from here, or raise the timeout',
    connectionFix: {
      text: 'the server did not answer: check it is up and reachable (firewall, blackholed route, paused pooler)',
      commands: ['pg_isready -h HOST -p PORT -t 5'],
    },
  },
  connection_closed: {
    hint: 'The server closed the connection (restart, terminated backend or idle timeout) — the engine reconnects and retries; if frequent, check the server logs and idle timeouts',
    connectionFix: null,
  },
  connection_ended: {
    hint: 'The call reached a pool that was being shut down — it is retried on the current pool; if it persists, report a bug',
    connectionFix: null,
  },
  shutdown: {
    hint: 'The database server is shutting down or restarting — wait for it to come back; the engine reconnects',
    connectionFix: {
      text: 'the server is shutting down or restarting: wait for it, then reconnect',
      commands: ['gbrain repair --reconnect'],
    },
  },
  starting_up: {
    hint: 'The database server is starting up or in recovery — wait a few seconds; the engine retries',
    connectionFix: {
      text: 'the server is starting up or recovering: wait and run the doctor again',
      commands: ['gbrain doctor --only connection'],
    },
  },
  too_many_connections: {
    hint: 'The server is out of connection slots — close idle clients or raise max_connections; lower GBRAIN_POOL_SIZE',
    connectionFix: {
      text: 'the server is full: close idle clients, raise max_connections or lower GBRAIN_POOL_SIZE',
      commands: ['export GBRAIN_POOL_SIZE=5'],
    },
  },
  pooler: {
    hint: 'The connection pooler refused or dropped the session (client limit, circuit breaker or failing server login) — check the pooler limits and logs; lower GBRAIN_POOL_SIZE',
    connectionFix: null,
  },
  no_connection: {
    hint: 'The engine has no live database connection — it reconnects from the saved config; run `gbrain doctor` if this persists',
    connectionFix: null,
  },
  network: {
    hint: 'The network path to the database failed — check the host, routes and firewall',
    connectionFix: null,
  },
  protocol: {
    hint: 'The server or pooler broke the wire protocol exchange — check the pooler logs; behind PgBouncer transaction pooling use ?prepare=false',
    connectionFix: null,
  },
  serialization: {
    hint: 'The transaction conflicted with a concurrent one (serialization failure or deadlock) — retry the whole transaction',
    connectionFix: null,
  },
  auth: {
    hint: 'The server rejected the credentials — fix the password in the URL or config file',
    connectionFix: {
      text: 'put the right password in the database URL (percent-encode @ : / %), or fix pg_hba.conf for this user',
      commands: ['gbrain doctor --only connection'],
    },
  },
  unknown_database: {
    hint: 'The database named in the URL does not exist — create it (createdb) or fix the database name in the URL',
    connectionFix: {text: 'create the database or fix its name in the URL', commands: ['createdb -h HOST -p PORT DB', 'gbrain init']},
  },
  unknown_role: {
    hint: 'The user named in the URL does not exist on the server — create the role or fix the user name in the URL',
    connectionFix: {text: 'create the role or fix the user in the URL', commands: ['createuser -h HOST -p PORT USER']},
  },
  dns: {
    hint: 'The database host name does not resolve — check the host in the URL and your DNS settings',
    connectionFix: {text: 'the host name does not resolve: fix it in the URL or in DNS', commands: ['getent hosts HOST']},
  },
  tls: {
    hint: 'The TLS/SSL handshake failed — check sslmode in the URL and the server certificate (a local server may not support SSL)',
    connectionFix: {text: 'fix sslmode in the URL or the server certificate', commands: []},
  },
  statement_timeout: {
    hint: 'The statement ran past statement_timeout or was cancelled — make the query cheaper or raise statement_timeout',
    connectionFix: null,
  },
  lock_timeout: {
    hint: 'The statement could not get a lock in time — find the blocking session in pg_stat_activity or raise lock_timeout',
    connectionFix: null,
  },
  constraint: {
    hint: 'The write violated a database constraint — fix the data; retrying will not help',
    connectionFix: null,
  },
  syntax: {
    hint: 'The SQL is invalid or refers to a missing table or column — check the schema version (run migrations) or report a bug',
    connectionFix: null,
  },
  data: {
    hint: 'The database rejected a value (bad format or out of range) — fix the data; retrying will not help',
    connectionFix: null,
  },
  usage: {
    hint: 'The database client was called incorrectly — this is a bug in the caller; report it with the message',
    connectionFix: null,
  },
  aborted: {
    hint: 'The operation was aborted by a signal or the caller — nothing to fix; run it again when ready',
    connectionFix: null,
  },
  locked: {
    hint: 'Another gbrain process has the embedded brain open — stop it (or wait for it to finish), then run this again',
    connectionFix: null,
  },
  storage: {
    hint: 'The embedded brain’s data directory is missing, foreign or from another PGlite/Postgres version — check the path (database_path) or restore it from a backup',
    connectionFix: null,
  },
  unknown: {
    hint: 'An unexpected error — read the message; run `gbrain doctor` for a diagnosis',
    connectionFix: null,
  },
}

/** The default fix for each kind (the `hint` column of {@link NEXT_STEPS}). */
export const KIND_HINTS: Readonly<Record<ErrorKind, string>> = Object.freeze(
  Object.fromEntries(Object.entries(NEXT_STEPS).map(([kind, steps]) => [kind, steps.hint])) as Record<ErrorKind, string>,
)
