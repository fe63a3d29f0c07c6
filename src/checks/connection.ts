/**
 * `connection` (connectivity): connect with the engine under the check budget, `SELECT 1`,
 * read the server version; on failure the classified cause and a fix for that cause.
 */
import {defineCheck} from './check.js'
import type {ConnectionFacts} from './facts/database.js'
import type {CheckOutcome} from './types.js'
import {connectionFix, connectionPhrase, notReached, settingName} from './connection-advice.js'
import {describeLock, formatAge} from '../engine/index.js'

/** `connection` details: what was reached, and on failure its `cause` (what the repair plan reads). */
export interface ConnectionDetails {
  [field: string]: unknown
  cause?: string
  /** The embedded brain's lock, when that is why the connection failed. */
  lock_state?: string
  holder_pid?: number | string
  holder_alive?: boolean
}

export function judgeConnection(c: ConnectionFacts): CheckOutcome {
  const details: ConnectionDetails = {
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
    return {
      status: 'skipped',
      message: `no brain yet at ${c.database}`,
      details,
      fix: {text: 'create the embedded brain (or configure a Postgres URL)', commands: ['gbrain init']},
    }
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
        ...(holder
          ? {
              holder_pid: holder.pid,
              holder_alive: holder.process.alive,
              holder_command: holder.command,
              holder_subcommand: holder.subcommand,
            }
          : {}),
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
    const fix = connectionFix(e.kind, c.where) ?? {text: e.hint, commands: ['gbrain doctor --only connection --debug']}
    // Postgres: the host and port tried, whether the server was reached, and where the URL came from.
    // A server that was reached said why in its own words: they follow the phrase.
    const message = c.where
      ? `Postgres: ${connectionPhrase(e.kind, c.where)}${notReached(e.kind) ? '' : ` — ${e.message}`} (URL from ${settingName(c.where.source)})`
      : `cannot reach the embedded brain at ${c.database}: ${e.kind.replace(/_/g, ' ')} — ${e.message}`
    return {
      status: 'fail',
      message,
      details: {...details, cause: e.kind, code: e.code ?? null, error: e.message, hint: e.hint},
      fix,
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

export const connectionCheck = defineCheck({
  name: 'connection',
  category: 'connectivity',
  gatedOnConnection: false,
  opensConnection: true,
  needs: ['connection'],
  judge: (f) => judgeConnection(f.connection),
  explain: {
    looksAt:
      'Connects to the brain (the Postgres URL, or the embedded brain’s data directory), runs SELECT 1 and reads the server version; a failure is named by its cause (refused, timeout, authentication, unknown database, locked brain). Warns when prepared statements are on behind a pooler; fails behind a transaction pooler.',
    thresholds: (b) => [
      {level: 'fail', comparison: '>', default: b.ms / 1000, unit: 's', measure: 'to connect and answer', setting: b.flag},
    ],
  },
})
