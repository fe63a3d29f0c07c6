/**
 * Why an embedded brain could not be opened, by cause — missing, locked (by whom), wrong
 * PostgreSQL major, damaged — each with its own message and fix. Every command shows these the
 * same way (cli/errors.ts); the doctor's `connection` check reads `openCause` and `fix`.
 */
import {shellCommand} from '../../shared/shell-quote.js'
import {DEFAULT_MAJOR, SUPPORTED_MAJORS} from './builds.js'
import type {LockObservation} from './data-dir-lock.js'
import {ellipsize} from '../../shared/safe-text.js'

export type OpenCause = 'missing' | 'locked' | 'wrong_major' | 'damaged'

export interface OpenFix {
  text: string
  commands: string[]
}

/** What every open failure carries. */
export interface BrainOpenFailure {
  readonly code: string
  readonly openCause: OpenCause
  readonly fix: OpenFix
}

export function isBrainOpenFailure(e: unknown): e is Error & BrainOpenFailure {
  return (
    e instanceof Error &&
    typeof (e as Partial<BrainOpenFailure>).openCause === 'string' &&
    typeof (e as Partial<BrainOpenFailure>).fix === 'object'
  )
}

/** The first open failure in an error's cause chain (engines wrap it in NoConnectionError). */
export function findOpenFailure(e: unknown): (Error & BrainOpenFailure) | undefined {
  for (let cur: unknown = e, depth = 0; cur !== undefined && cur !== null && depth < 8; depth++) {
    if (isBrainOpenFailure(cur)) return cur
    cur = (cur as {cause?: unknown; lastError?: unknown}).lastError ?? (cur as {cause?: unknown}).cause
  }
  return undefined
}

const when = (ms: number | null): string => (ms === null ? 'an unknown time' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'))

export function formatAge(ms: number): string {
  const s = Math.round(ms / 1000)
  if (s < 120) return `${s} s`
  if (s < 7200) return `${Math.round(s / 60)} min`
  if (s < 172_800) return `${(s / 3600).toFixed(1)} h`
  return `${(s / 86_400).toFixed(1)} d`
}

/** "pid 4242 (gbrain serve: bun /…/gbrain serve)". Text from the lock file is already one safe line. */
export function holderLabel(o: Extract<LockObservation, {state: 'held'}>): string {
  const h = o.holder
  const what = h.subcommand ? `gbrain ${h.subcommand}` : 'command unknown'
  const cmd = h.command ? `: ${ellipsize(h.command, 80)}` : ''
  return `${typeof h.pid === 'number' ? `pid ${h.pid}` : `malformed pid ${h.pid}`} (${what}${cmd})`
}

/** One clause for what the lock shows, and the fix that fits it. */
export function describeLock(o: LockObservation, _now = Date.now()): {text: string; fix: OpenFix} {
  switch (o.state) {
    case 'free':
      return {text: 'not locked', fix: {text: 'nothing to do', commands: []}}
    case 'held': {
      const h = o.holder
      const since = `locked since ${when(h.acquired_at)}`
      const beat = h.heartbeat_age_ms === null ? 'no heartbeat recorded' : `heartbeat ${formatAge(h.heartbeat_age_ms)} ago`
      if (!h.process.alive) {
        return {
          text: `its lock was left by ${holderLabel(o)}, which is no longer running (a crashed process left it; ${since})`,
          fix: {
            text: 'remove the dead holder’s lock (any gbrain command that opens the brain does it too); the lock of a live process is never touched',
            commands: ['gbrain repair --unlock'],
          },
        }
      }
      const ps = typeof h.pid === 'number' ? [shellCommand('ps', '-o', 'pid,lstart,args', '-p', String(h.pid))] : []
      if (h.subcommand === 'serve') {
        return {
          text: `it is held by ${holderLabel(o)}, ${since}, ${beat}`,
          fix: {
            text: 'gbrain serve is the MCP server of an agent session and holds the brain for the whole session: stop that session (or close its stdin), or use its gbrain tools instead of the CLI',
            commands: ps,
          },
        }
      }
      return {
        text: `it is held by ${holderLabel(o)}, ${since}, ${beat}`,
        fix: {text: 'wait for that command to finish and run this again, or look at that process', commands: ps},
      }
    }
    case 'acquiring':
      return {
        text: `another process is taking its lock right now (lock directory ${formatAge(o.age_ms)} old, no lock file yet)`,
        fix: {text: 'run this again in a few seconds', commands: []},
      }
    case 'abandoned':
      return {
        text:
          o.reason === 'unparseable'
            ? `its lock file does not parse (${formatAge(o.age_ms)} old): a crashed or foreign writer left it`
            : `its lock directory has no lock file and is ${formatAge(o.age_ms)} old: an acquisition that never finished`,
        fix: {
          text: 'remove the abandoned lock (any gbrain command that opens the brain does it too)',
          commands: ['gbrain repair --unlock'],
        },
      }
    case 'unreadable':
      return {
        text: `its lock cannot be read (${o.error})`,
        fix: {text: 'check who owns the lock directory and its permissions', commands: []},
      }
  }
}

/** Another process (or another engine in this one) has the brain; we did not open it. */
export class PGliteLockedError extends Error implements BrainOpenFailure {
  readonly code = 'PGLITE_LOCKED'
  readonly openCause = 'locked' as const
  readonly fix: OpenFix
  constructor(
    readonly dataDir: string,
    /** What the lock showed; null: another engine in this process has it open. */
    readonly observed: LockObservation | null,
    readonly waitedMs = 0,
    cause?: unknown,
  ) {
    const d = observed
      ? describeLock(observed)
      : {text: 'it is already open by another engine in this process', fix: {text: 'close the other engine first', commands: []}}
    const waited = waitedMs >= 1000 ? ` (waited ${formatAge(waitedMs)})` : ''
    super(`the embedded brain ${dataDir} was not opened: ${d.text}${waited}`, {cause})
    this.fix = d.fix
    this.name = 'PGliteLockedError'
  }

  /** The holder's pid when the lock names one. */
  get pid(): number | undefined {
    if (this.observed === null) return process.pid
    return this.observed.state === 'held' && typeof this.observed.holder.pid === 'number' ? this.observed.holder.pid : undefined
  }
}

/** No brain here (or it vanished after we opened it), or a folder that is not a PGlite data dir. */
export class PGliteDataDirError extends Error implements BrainOpenFailure {
  readonly code = 'PGLITE_DATA_DIR'
  readonly openCause: OpenCause
  readonly fix: OpenFix
  constructor(
    readonly dataDir: string,
    readonly reason: 'missing' | 'vanished' | 'not-a-data-dir',
  ) {
    super(
      reason === 'missing'
        ? `no embedded brain at ${dataDir} yet`
        : reason === 'vanished'
          ? `the embedded brain ${dataDir} disappeared after this engine opened it; refusing to create an empty brain in its place`
          : `${dataDir} exists but is not a PGlite data dir (no PG_VERSION); refusing to initialise a database inside it`,
    )
    this.openCause = reason === 'not-a-data-dir' ? 'damaged' : 'missing'
    this.fix =
      reason === 'missing'
        ? {text: 'create the embedded brain (or configure a Postgres URL)', commands: ['gbrain init']}
        : reason === 'vanished'
          ? {text: 'restore the directory or remount its volume', commands: []}
          : {text: 'point database_path in the config file at the brain, or move this folder away', commands: []}
    this.name = 'PGliteDataDirError'
  }
}

/** The data dir is from a PostgreSQL major no build here opens. Never "damaged". */
export class PGliteMajorError extends Error implements BrainOpenFailure {
  readonly code = 'PGLITE_MAJOR'
  readonly openCause = 'wrong_major' as const
  readonly fix: OpenFix
  constructor(
    readonly dataDir: string,
    readonly found: string,
  ) {
    super(
      `the embedded brain ${dataDir} is a PostgreSQL ${found} data directory; this build opens PostgreSQL ${SUPPORTED_MAJORS.join(' and ')} (PGlite 0.4.3 and 0.5.x)`,
    )
    this.fix = {
      text: `open it with the gbrain/PGlite version that made it, or dump it there and restore into a PostgreSQL ${DEFAULT_MAJOR} brain (gbrain init)`,
      commands: [shellCommand('cat', `${dataDir}/PG_VERSION`)],
    }
    this.name = 'PGliteMajorError'
  }
}

/** The right build could not open it: what PGlite said. */
export class PGliteDamagedError extends Error implements BrainOpenFailure {
  readonly code = 'PGLITE_DAMAGED'
  readonly openCause = 'damaged' as const
  readonly fix: OpenFix
  constructor(
    readonly dataDir: string,
    readonly major: number,
    what: string,
    cause?: unknown,
  ) {
    super(`the embedded brain ${dataDir} (PostgreSQL ${major}) could not be opened: ${what}`, {cause})
    this.fix = {
      text: 'the data directory looks damaged: keep a copy of it as it is, then restore it from a backup (or dump and restore it with gbrain)',
      commands: [shellCommand('cp', '-a', dataDir, `${dataDir}.copy`)],
    }
    this.name = 'PGliteDamagedError'
  }
}
