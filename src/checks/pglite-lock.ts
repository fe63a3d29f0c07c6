/**
 * `pglite_lock` (connectivity, files only): gbrain's data-dir lock on the embedded brain, as it
 * was before the doctor asked for it. ok with no lock or a live holder (named); warn for a dead
 * holder's lock, an abandoned lock directory, a live holder that does not look like gbrain (PID
 * reuse), and a live non-`serve` holder whose heartbeat is over 5 minutes old. The lock of a live
 * process is never called stale: its heartbeat runs on a JS event loop that long WASM work blocks.
 */
import {shellCommand} from '../shared/shell-quote.js'
import {defineCheck} from './check.js'
import type {LockFacts} from './facts/database.js'
import {type LegacyLock, type LockObservation, describeLock, formatAge, holderLabel, IN_FLIGHT_MS} from '../engine/index.js'
import type {CheckOutcome} from './types.js'
import {fixed} from './listing.js'

/** A live holder (not `serve`) whose heartbeat is older than this may be wedged. */
export const WEDGED_HEARTBEAT_S = 300
/** A process that started this long after the lock was taken cannot be the one that took it. */
const START_SLACK_MS = 2000

/** `pglite_lock` details: the lock's state, and for a held lock its holder (what the repair plan reads). */
export type PgliteLockDetails = {
  state: LockObservation['state']
  lock_dir: string
  legacy_lock?: LegacyLock
  age_s?: number
  error?: string
  reason?: string
  pid?: number | string
  alive?: boolean
  liveness?: Holder['process']['liveness']
  command?: Holder['command']
  subcommand?: string | null
  acquired_at?: string | null
  refreshed_at?: string | null
  heartbeat_age_s?: number | null
  looks_like?: Holder['process']['looks_like']
  process_started_at?: string | null
  started_after_lock?: boolean
}

type Holder = Extract<LockObservation, {state: 'held'}>['holder']

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString())

export function judgePgliteLock(f: LockFacts): CheckOutcome {
  if (f.engine === 'postgres')
    return {status: 'skipped', message: 'skipped: Postgres has no data-dir lock (the server arbitrates its clients)'}
  if (!f.exists) return {status: 'skipped', message: `skipped: no embedded brain yet at ${f.data_dir}`}
  const o = f.observed
  const legacy = f.legacy_lock ? {legacy_lock: f.legacy_lock} : {}
  const base: PgliteLockDetails = {state: o.state, lock_dir: f.lock_dir, ...legacy}
  switch (o.state) {
    case 'free':
      return {status: 'ok', message: 'No lock on the embedded brain: no gbrain process holds it.', details: base}
    case 'acquiring':
      return {
        status: 'ok',
        message: `Another process is taking the lock right now (${formatAge(o.age_ms)} ago).`,
        details: {...base, age_s: Math.round(o.age_ms / 1000)},
      }
    case 'unreadable':
      return {
        status: 'warn',
        message: `The lock on the embedded brain cannot be read (${o.error}).`,
        details: {...base, error: o.error},
        fix: {text: 'check who owns the lock directory and its permissions', commands: [shellCommand('ls', '-la', f.lock_dir)]},
      }
    case 'abandoned': {
      const d = describeLock(o)
      return {
        status: 'warn',
        message:
          o.reason === 'unparseable'
            ? `The lock file does not parse (${formatAge(o.age_ms)} old): abandoned.`
            : `A lock directory with no lock file, ${formatAge(o.age_ms)} old: an acquisition that never finished.`,
        details: {...base, reason: o.reason, age_s: Math.round(o.age_ms / 1000)},
        fix: d.fix,
      }
    }
    case 'held': {
      const h = o.holder
      const p = h.process
      const startedAfter = p.started_at !== null && h.acquired_at !== null && p.started_at > h.acquired_at + START_SLACK_MS
      const details = {
        ...base,
        pid: h.pid,
        alive: p.alive,
        liveness: p.liveness,
        command: h.command,
        subcommand: h.subcommand,
        acquired_at: iso(h.acquired_at),
        refreshed_at: iso(h.refreshed_at),
        heartbeat_age_s: h.heartbeat_age_ms === null ? null : Math.round(h.heartbeat_age_ms / 1000),
        looks_like: p.looks_like,
        process_started_at: iso(p.started_at),
        started_after_lock: startedAfter,
      } satisfies PgliteLockDetails
      const who = holderLabel(o)
      const since = `since ${iso(h.acquired_at) ?? 'an unknown time'}`
      const beat = h.heartbeat_age_ms === null ? 'no heartbeat recorded' : `heartbeat ${formatAge(h.heartbeat_age_ms)} ago`
      if (!p.alive) {
        return {
          status: 'warn',
          message: `A crashed process left the lock: ${who} is no longer running (locked ${since}).`,
          details,
          fix: describeLock(o).fix,
        }
      }
      if (p.liveness === 'malformed-pid') {
        return {
          status: 'warn',
          message: `The lock names no valid pid (${JSON.stringify(h.pid)}); it counts as held, as gbrain counts it, and is never reaped.`,
          details,
          fix: {
            text: 'if no gbrain process is running, stop every gbrain client and remove the lock directory by hand',
            commands: ['pgrep -af gbrain', shellCommand('rm', '-r', f.lock_dir)],
          },
        }
      }
      if (p.looks_like === 'other' || startedAfter) {
        const runs = p.cmdline ? `runs ${JSON.stringify(p.cmdline.length > 80 ? `${p.cmdline.slice(0, 79)}…` : p.cmdline)}` : 'is running'
        const why = [
          p.looks_like === 'other' ? 'not a gbrain/node/bun process' : '',
          startedAfter ? 'and it started after the lock was taken' : '',
        ]
          .filter(Boolean)
          .join(' ')
        return {
          status: 'warn',
          message: `The lock names pid ${String(h.pid)}, which ${runs} — ${why.replace(/^and /, '')}: the holder probably died and its pid was reused. The lock is never stolen on that evidence.`,
          details,
          fix: {
            text: 'if no gbrain process is running, the lock is stale: stop every gbrain client, then remove the lock directory by hand',
            commands: [
              shellCommand('ps', '-o', 'pid,lstart,args', '-p', String(h.pid)),
              'pgrep -af gbrain',
              shellCommand('rm', '-r', f.lock_dir),
            ],
          },
        }
      }
      if (h.subcommand !== 'serve' && h.heartbeat_age_ms !== null && h.heartbeat_age_ms > WEDGED_HEARTBEAT_S * 1000) {
        return {
          status: 'warn',
          message: `Held by ${who} ${since}, ${beat}: it may be wedged (long WASM work also stops the heartbeat); the lock is never stolen from a live process.`,
          details,
          observed_value: details.heartbeat_age_s ?? 0,
          observed_unit: 's',
          threshold: {warn: WEDGED_HEARTBEAT_S},
          fix: {
            text: 'look at that process; if it is stuck, stop it (its lock is then removed by the next gbrain command)',
            commands: [shellCommand('ps', '-o', 'pid,lstart,args', '-p', String(h.pid))],
          },
        }
      }
      const serve = h.subcommand === 'serve' ? ' — the MCP server of an agent session, which holds the brain for the whole session' : ''
      return {status: 'ok', message: `Held by ${who} ${since}, ${beat}${serve}.`, details}
    }
  }
}

export const pgliteLockCheck = defineCheck({
  name: 'pglite_lock',
  category: 'connectivity',
  gatedOnConnection: false,
  needs: ['lock'],
  judge: (f) => judgePgliteLock(f.lock),
  explain: {
    looksAt:
      'The embedded brain’s data-directory lock as the doctor found it: who holds it, whether that process is alive and is gbrain, and its heartbeat. Warns on a lock left by a crashed process, an abandoned or unreadable lock, and a reused pid. Skipped on Postgres.',
    thresholds: () => [
      fixed(WEDGED_HEARTBEAT_S, {
        level: 'warn',
        comparison: '>',
        unit: 's',
        measure: 'since the heartbeat of a live holder (an agent session’s serve excepted)',
      }),
      fixed(IN_FLIGHT_MS / 1000, {
        level: 'warn',
        comparison: '>',
        unit: 's',
        measure: 'old: a lock directory without its lock file (abandoned)',
      }),
    ],
  },
})
