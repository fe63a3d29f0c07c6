/**
 * `connection` (connectivity): connect with the engine under the check budget, `SELECT 1`,
 * read the server version; on failure the classified cause and a fix for that cause.
 */
import type {CheckDef} from './check.js'
import type {DbCheckFacts} from './db-facts-type.js'
import type {ConnectionFacts} from './facts-db.js'
import type {CheckOutcome, Fix} from './types.js'
import {describeLock, formatAge} from '../engine/pglite/open-errors.js'

const FIXES: Record<string, Fix> = {
  refused: {text: 'start the database, or point gbrain at the right host and port', commands: ['pg_isready -h HOST -p PORT', 'gbrain repair --reconnect']},
  timeout: {text: 'the server did not answer: check it is up and reachable (firewall, blackholed route, paused pooler)', commands: ['pg_isready -h HOST -p PORT -t 5']},
  auth: {text: 'put the right password in the database URL (GBRAIN_DATABASE_URL or the config file; percent-encode @ : / %), or fix pg_hba.conf for this user', commands: ['gbrain doctor --only connection']},
  unknown_database: {text: 'create the database or fix its name in the URL', commands: ['createdb -h HOST -p PORT DB', 'gbrain init']},
  unknown_role: {text: 'create the role or fix the user in the URL', commands: ['createuser -h HOST -p PORT USER']},
  dns: {text: 'the host name does not resolve: fix it in the URL or in DNS', commands: ['getent hosts HOST']},
  too_many_connections: {text: 'the server is full: close idle clients, raise max_connections or lower GBRAIN_POOL_SIZE', commands: ['export GBRAIN_POOL_SIZE=5']},
  starting_up: {text: 'the server is starting up or recovering: wait and run the doctor again', commands: ['gbrain doctor --only connection']},
  shutdown: {text: 'the server is shutting down or restarting: wait for it, then reconnect', commands: ['gbrain repair --reconnect']},
  tls: {text: 'fix sslmode in the URL or the server certificate', commands: []},
}

export function judgeConnection(c: ConnectionFacts): CheckOutcome {
  const details: Record<string, unknown> = {
    engine: c.engine,
    database: c.database,
    database_source: c.database_source,
    connect_ms: c.connect_ms ?? null,
    rtt_ms: c.rtt_ms ?? null,
    server_version: c.server_version ?? null,
    pooler: c.pooler,
    pooler_reason: c.pooler_reason,
    prepare: c.prepare.value ? 'on' : 'off',
    prepare_reason: c.prepare.reason,
    pool_size: c.pool_size,
    ...(c.engine === 'pglite' ? {major: c.major ?? null} : {}),
  }
  if (c.status === 'not_configured') {
    return {status: 'skipped', message: `no brain yet at ${c.database}`, details, fix: {text: 'create the embedded brain (or configure a Postgres URL)', commands: ['gbrain init']}}
  }
  if (c.status === 'locked' && c.lock) {
    // Not checked: another process has the brain (or left its lock); the doctor never opens it then.
    const d = describeLock(c.lock)
    const holder = c.lock.state === 'held' ? c.lock.holder : undefined
    return {
      status: 'unknown',
      message: `could not check the embedded brain: ${d.text}${(c.lock_waited_ms ?? 0) >= 1000 ? ` (waited ${formatAge(c.lock_waited_ms ?? 0)})` : ''}; not opened`,
      details: {
        ...details,
        cause: 'locked',
        lock_state: c.lock.state,
        ...(holder ? {holder_pid: holder.pid, holder_alive: holder.process.alive, holder_command: holder.command, holder_subcommand: holder.subcommand} : {}),
        lock_waited_ms: c.lock_waited_ms ?? 0,
      },
      fix: d.fix,
    }
  }
  if (c.status === 'failed' && c.open_cause && c.open_fix) {
    return {
      status: 'fail',
      message: `cannot open the embedded brain: ${(c.open_message ?? '').replace(/^the embedded brain \S+ /, '')}`,
      details: {...details, cause: c.open_cause, code: c.error?.code ?? null},
      fix: c.open_fix,
    }
  }
  if (c.status === 'failed' && c.error) {
    const e = c.error
    const fix = FIXES[e.kind] ?? {text: e.hint, commands: ['gbrain doctor --only connection --debug']}
    return {
      status: 'fail',
      message: `cannot reach ${c.engine === 'postgres' ? 'Postgres' : 'the embedded brain'} at ${c.database}: ${e.kind.replace(/_/g, ' ')} — ${e.message}`,
      details: {...details, cause: e.kind, code: e.code ?? null, hint: e.hint},
      fix: {text: fix.text, commands: fix.commands},
    }
  }
  const name = c.engine === 'postgres' ? 'Postgres' : 'embedded PostgreSQL'
  const version = c.server_version ? ` ${c.server_version.split(' ')[0]}` : ''
  const build = c.engine === 'pglite' && c.major ? ` (PGlite ${c.major === 17 ? '0.4.3' : '0.5'})` : ''
  const base: CheckOutcome = {
    status: 'ok',
    message: `Connected to ${name}${version}${build} in ${Math.round(c.connect_ms ?? 0)} ms (round trip ${c.rtt_ms} ms)`,
    details,
    observed_value: c.connect_ms ?? 0,
    observed_unit: 'ms',
  }
  if (c.pooler !== 'none' && c.engine === 'postgres' && c.prepare.value) {
    return {
      ...base,
      status: c.pooler === 'pgbouncer-transaction' ? 'fail' : 'warn',
      message: `${base.message}; a pooler is in between (${c.pooler_reason}) and prepared statements are on — transaction pooling hangs them`,
      fix: {text: 'turn prepared statements off for this URL', commands: ['export GBRAIN_PREPARE=false']},
    }
  }
  return base
}

export const connectionCheck: CheckDef<DbCheckFacts> = {
  name: 'connection',
  category: 'connectivity',
  database: false,
  async judge(facts, options) {
    if (options.fast) return {status: 'skipped', message: 'skipped under --fast'}
    return judgeConnection(await facts.db.connection())
  },
}
