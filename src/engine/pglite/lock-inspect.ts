/**
 * Looking at gbrain's data-dir lock without touching it (gbrain-embedded.md): what the lock
 * directory and its `lock` file say, who holds it and whether that process is alive, what an
 * earlier version of this tool left at `<dataDir>.lock`, and which entries of a data dir are
 * gbrain's own. The doctor only ever reads; taking, holding and reaping the lock is
 * data-dir-lock.ts.
 */
import {lstatSync, readdirSync, statSync} from 'node:fs'
import path from 'node:path'
import {readSmallFileSync} from '../../shared/fs-read.js'
import {ellipsize} from '../../shared/safe-text.js'
import {liveness} from '../../shared/pid.js'
import {inspectProcess, type HolderProcess} from './holder-process.js'
import {lockText} from './lock-text.js'

export const LOCK_DIR_NAME = '.gbrain-lock'
export const LOCK_FILE_NAME = 'lock'
/** A lock directory with no `lock` file younger than this is an acquisition in flight. */
export const IN_FLIGHT_MS = 10_000
/** The largest lock file read: gbrain's `command` is its argv, which the kernel bounds (ARG_MAX, 2 MiB). */
export const LOCK_FILE_MAX_BYTES = 4 * 1024 * 1024

export const lockDirOf = (dataDir: string): string => path.join(dataDir, LOCK_DIR_NAME)

/** The holder as its lock file names it, plus what we can see of that process. */
export interface LockHolder {
  /** The pid, or for a malformed one a short safe label of what was written (never trusted). */
  pid: number | string
  acquired_at: number | null
  refreshed_at: number | null
  /** Redacted, one line, at most 200 characters. */
  command: string
  subcommand: string | null
  /** `pid:acquired_at`, what release and reaping compare. */
  token: string
  /** ms since the last heartbeat (refreshed_at, else acquired_at); null without either. */
  heartbeat_age_ms: number | null
  process: HolderProcess
}

export type LockObservation =
  | {state: 'free'}
  | {state: 'held'; holder: LockHolder}
  | {state: 'acquiring'; age_ms: number}
  | {state: 'abandoned'; reason: 'no-lock-file' | 'unparseable'; age_ms: number}
  | {state: 'unreadable'; error: string}

/** Whether a lock may be removed by the protocol: a dead holder's, or an abandoned one. */
export function reapable(o: LockObservation): boolean {
  return (o.state === 'held' && !o.holder.process.alive) || o.state === 'abandoned'
}

const finiteMs = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)

/**
 * Parse a lock file's text; undefined when it is not a JSON object (gbrain reaps those as
 * abandoned). An object without a usable pid is a holder with a malformed pid — alive by
 * gbrain's rule, never reaped. A malformed pid is kept only as a short, safe label.
 */
export function parseLockBody(
  text: string,
): {pid: number | string; acquired_at: number | null; refreshed_at: number | null; command: string; subcommand: string | null} | undefined {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof v !== 'object' || v === null) return undefined
  const o = (Array.isArray(v) ? {} : v) as Record<string, unknown>
  return {
    pid: pidOrLabel(o.pid),
    acquired_at: finiteMs(o.acquired_at),
    refreshed_at: finiteMs(o.refreshed_at),
    command: lockText(o.command),
    subcommand: typeof o.subcommand === 'string' && o.subcommand !== '' ? ellipsize(lockText(o.subcommand), 40) : null,
  }
}

/** A pid as a lock file gives it: the number, or for anything else a short safe label (never trusted). */
export function pidOrLabel(raw: unknown): number | string {
  return typeof raw === 'number' && Number.isSafeInteger(raw) && raw > 0
    ? raw
    : ellipsize(lockText(raw === undefined ? '(none)' : JSON.stringify(raw)), 40)
}

/** `pid:acquired_at`, what release and reaping compare. */
export function tokenOf(body: {pid: number | string; acquired_at: number | null}): string {
  return `${String(body.pid)}:${String(body.acquired_at)}`
}

/** Look at the lock without touching it. Cheap (two small reads); safe to call often. */
export function inspectLock(dataDir: string, now = Date.now()): LockObservation {
  const dir = lockDirOf(dataDir)
  let dirStat
  try {
    // lstat: a symlink (dangling or not) in the lock's place is not gbrain's lock directory.
    dirStat = lstatSync(dir)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return {state: 'free'}
    return {state: 'unreadable', error: code ?? String(e)}
  }
  if (!dirStat.isDirectory())
    return {
      state: 'unreadable',
      error: `${LOCK_DIR_NAME} is a ${dirStat.isSymbolicLink() ? 'symlink' : 'file'}, not gbrain's lock directory`,
    }
  const age = Math.max(0, now - dirStat.mtimeMs)
  let text: string
  try {
    // Bounded, no symlink, no FIFO: whatever sits there, looking at it cannot hang or exhaust us.
    text = readSmallFileSync(path.join(dir, LOCK_FILE_NAME), LOCK_FILE_MAX_BYTES)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ENOENT') {
      // Released between the two reads, or an acquisition in flight / abandoned.
      try {
        statSync(dir)
      } catch {
        return {state: 'free'}
      }
      return age < IN_FLIGHT_MS ? {state: 'acquiring', age_ms: age} : {state: 'abandoned', reason: 'no-lock-file', age_ms: age}
    }
    return {state: 'unreadable', error: code ?? String(e)}
  }
  const body = parseLockBody(text)
  if (!body) {
    // gbrain treats a lock file that does not parse as abandoned (it is written by rename, so a
    // reader never sees it torn).
    return {state: 'abandoned', reason: 'unparseable', age_ms: age}
  }
  const beat = body.refreshed_at ?? body.acquired_at
  return {
    state: 'held',
    holder: {
      ...body,
      token: tokenOf(body),
      heartbeat_age_ms: beat === null ? null : Math.max(0, now - beat),
      process: inspectProcess(body.pid),
    },
  }
}

/** Entries a live or past gbrain leaves in a data dir that are not part of the database. */
export const GBRAIN_DATA_DIR_EXTRAS: ReadonlySet<string> = new Set([
  LOCK_DIR_NAME,
  'postmaster.pid',
  '.gbrain-resolve.sock',
  '.gbrain-ipc-secret',
])

/** The entries of a directory, ignoring gbrain's own non-database files. */
export function dataDirEntries(dataDir: string): string[] {
  return readdirSync(dataDir).filter((n) => !GBRAIN_DATA_DIR_EXTRAS.has(n) && !n.startsWith(`${LOCK_DIR_NAME}.reap-`))
}

/** The lock file of earlier versions of this tool, `<dataDir>.lock` (`{pid, started_at}`). */
export type LegacyLock =
  | {file: string; state: 'held'; pid: number | string | null; alive: boolean; age_ms: number}
  | {file: string; state: 'unreadable'; error: string}

/**
 * What an earlier version left at `<dataDir>.lock`, read the safe way; undefined when nothing is
 * there. Its holder is alive only for a numeric pid that is running and not us; a file that does
 * not parse (`pid: null`) was cut short by a crash of that version.
 */
export function readLegacyLock(dataDir: string, now = Date.now()): LegacyLock | undefined {
  const file = `${dataDir}.lock`
  let text: string
  let age: number
  try {
    age = Math.max(0, now - lstatSync(file).mtimeMs)
    text = readSmallFileSync(file)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    return code === 'ENOENT' ? undefined : {file, state: 'unreadable', error: code ?? 'error'}
  }
  let pid: number | string | null
  try {
    const v = JSON.parse(text) as unknown
    pid = typeof v === 'object' && v !== null ? pidOrLabel((v as {pid?: unknown}).pid) : null
  } catch {
    pid = null
  }
  const alive = typeof pid === 'number' && pid !== process.pid && liveness(pid) !== 'dead'
  return {file, state: 'held', pid, alive, age_ms: age}
}
