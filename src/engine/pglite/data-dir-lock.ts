/**
 * gbrain's data-dir lock, spoken exactly as gbrain speaks it (gbrain-embedded.md), so gbrain's
 * processes and ours exclude each other both ways:
 *
 * - the lock is the directory `<dataDir>/.gbrain-lock`, taken by an atomic `mkdir`;
 * - inside it `lock` holds `{pid, acquired_at, refreshed_at, command, subcommand}`, written to
 *   `lock.tmp-<pid>` and renamed into place, and rewritten the same way every 30 s (heartbeat)
 *   while the on-disk token `pid:acquired_at` is still ours;
 * - a holder is dead only when `kill(pid, 0)` fails with ESRCH (EPERM and a malformed pid count
 *   as alive); a live holder is never reaped, however old its heartbeat;
 * - a lock directory without a `lock` file is an acquisition in flight for 10 s, then abandoned;
 *   an unparseable `lock` file is abandoned; reaping either leaves `<dataDir>.lock-reap.json`
 *   (gbrain's WAL repair refuses to run after such a reap); a dead-pid reap leaves no marker;
 * - release removes the directory only while the on-disk token is still ours (or unreadable).
 *
 * Reaping re-reads the lock immediately before acting and then moves the directory aside with a
 * rename before deleting it; if what was moved is not what was judged stale (a new holder got in
 * between), it is moved back. Nothing here ever removes a live holder's lock.
 */
import {randomBytes} from 'node:crypto'
import {mkdirSync, promises as fs} from 'node:fs'
import path from 'node:path'
import {sleep, systemClock} from '../../shared/clock.js'
import {AbortedError} from '../../shared/errors.js'
import {writeFileAtomic} from '../../shared/fs-atomic.js'
import {readSmallFileSync} from '../../shared/fs-read.js'
import {safeInterval} from '../../shared/timer.js'
import {liveness} from '../../shared/pid.js'
import {lockText} from './lock-text.js'
import {
  inspectLock,
  LOCK_DIR_NAME,
  LOCK_FILE_MAX_BYTES,
  LOCK_FILE_NAME,
  lockDirOf,
  parseLockBody,
  reapable,
  tokenOf,
  type LockObservation,
} from './lock-inspect.js'

export * from './lock-inspect.js'

export const HEARTBEAT_MS = 30_000
export const reapMarkerOf = (dataDir: string): string => `${dataDir}.lock-reap.json`

// ------------------------------------------------------------------------------ acquiring

export interface LockBody {
  pid: number
  acquired_at: number
  refreshed_at: number
  command: string
  subcommand: string | null
}

export type LockEvent =
  | {type: 'acquired'; token: string}
  | {type: 'releasing'; token: string}
  | {type: 'waiting'; observed: LockObservation}
  | {type: 'reaped'; observed: LockObservation; marker: boolean}
  | {type: 'removed-legacy'; file: string; pid: number}
  | {type: 'lost'; observed: LockObservation}

export interface AcquireOptions {
  /** How long to wait for a live holder (not `serve`) or an acquisition in flight; 0: do not wait. */
  waitMs: number
  /** Remove a dead holder's or an abandoned lock (cycle, init, repair); the doctor passes false. */
  reap: boolean
  /** argv for the lock's `command`/`subcommand` (default process.argv). */
  argv?: readonly string[]
  pollMs?: number
  heartbeatMs?: number
  signal?: AbortSignal
  onEvent?: (event: LockEvent) => void
  now?: () => number
}

/** Why a lock could not be taken, with what was seen last. */
export class DataDirLockedError extends Error {
  readonly code = 'DATA_DIR_LOCKED'
  constructor(
    readonly dataDir: string,
    readonly observed: LockObservation,
    /** What kept us out: a live holder, a `serve` session, a lock we may not reap, one in flight. */
    readonly reason: 'live' | 'serve' | 'stale' | 'acquiring' | 'unreadable',
    readonly waitedMs: number,
  ) {
    super(`the data-dir lock of ${dataDir} is ${reason === 'stale' ? 'stale' : 'held'}`)
    this.name = 'DataDirLockedError'
  }
}

/** A lock we hold. `release()` is idempotent; `lost` turns true if someone else's token replaced ours. */
export interface DataDirLock {
  readonly dataDir: string
  readonly token: string
  readonly lost: boolean
  release(): Promise<void>
}

/** gbrain's `command` (argv joined by spaces) and `subcommand` (first non-flag argument). */
export function lockIdentity(argv: readonly string[]): {command: string; subcommand: string | null} {
  const args = argv.slice(2)
  const sub = args.find((a) => !a.startsWith('-'))
  return {command: lockText(argv.join(' ')), subcommand: sub === undefined ? null : lockText(sub)}
}

/** Write the lock file gbrain's way: `lock.tmp-<pid>`, then rename into place. */
async function writeLockFile(dir: string, body: LockBody): Promise<void> {
  const tmp = path.join(dir, `${LOCK_FILE_NAME}.tmp-${process.pid}`)
  await fs.writeFile(tmp, JSON.stringify(body), {mode: 0o600})
  await fs.rename(tmp, path.join(dir, LOCK_FILE_NAME))
}

function readToken(dir: string): string | null | undefined {
  try {
    const body = parseLockBody(readSmallFileSync(path.join(dir, LOCK_FILE_NAME), LOCK_FILE_MAX_BYTES))
    return body ? tokenOf(body) : null
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : null
  }
}

/**
 * Remove a stale lock the protocol allows us to remove, re-checking first and moving it aside
 * atomically; returns whether it was removed (false: it changed under us, nothing removed).
 */
export async function reapLock(dataDir: string, judged: LockObservation, now = Date.now()): Promise<boolean> {
  if (!reapable(judged)) return false
  const dir = lockDirOf(dataDir)
  const again = inspectLock(dataDir, now)
  if (!sameStale(judged, again)) return false
  const aside = path.join(dataDir, `${LOCK_DIR_NAME}.reap-${process.pid}-${randomBytes(4).toString('hex')}`)
  try {
    await fs.rename(dir, aside)
  } catch {
    return false
  }
  // What we moved must still be what we judged: otherwise put it back untouched.
  if (!movedIsStale(judged, readToken(aside))) {
    await fs.rename(aside, dir).catch(() => {})
    return false
  }
  if (judged.state === 'abandoned') {
    // gbrain's marker: a lock whose holder could not be proven dead was reaped. Written by rename,
    // so a symlink planted at its name is replaced, never followed.
    await writeFileAtomic(reapMarkerOf(dataDir), JSON.stringify({ts: now, by: process.pid}), {fsync: false}).catch(() => {})
  }
  await fs.rm(aside, {recursive: true, force: true})
  return true
}

/** The token found in the moved-aside directory still is the stale one we judged. */
function movedIsStale(judged: LockObservation, moved: string | null | undefined): boolean {
  if (judged.state === 'held') return moved === judged.holder.token && liveness(judged.holder.pid) === 'dead'
  if (judged.state === 'abandoned') return judged.reason === 'unparseable' ? moved === null : moved === undefined
  return false
}

function sameStale(a: LockObservation, b: LockObservation): boolean {
  if (a.state === 'held' && b.state === 'held') return a.holder.token === b.holder.token && !b.holder.process.alive
  if (a.state === 'abandoned' && b.state === 'abandoned') return a.reason === b.reason
  return false
}

/**
 * Take gbrain's lock on `dataDir` (which must exist). Waits (bounded) for a live holder that is
 * not `serve` and for an acquisition in flight; a `serve` holder is refused at once (it holds
 * the brain for a whole agent session). Stale locks are reaped only with `reap`.
 */
export async function acquireDataDirLock(dataDir: string, options: AcquireOptions): Promise<DataDirLock> {
  const now = options.now ?? Date.now
  const dir = lockDirOf(dataDir)
  const started = now()
  const pollMs = options.pollMs ?? 100
  let announced = false
  let freeSeen = 0
  for (;;) {
    if (options.signal?.aborted) throw new AbortedError(options.signal.reason)
    let made = false
    try {
      mkdirSync(dir, {mode: 0o700})
      made = true
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
    }
    if (made) {
      const acquiredAt = now()
      const body: LockBody = {
        pid: process.pid,
        acquired_at: acquiredAt,
        refreshed_at: acquiredAt,
        ...lockIdentity(options.argv ?? process.argv),
      }
      try {
        await writeLockFile(dir, body)
      } catch (e) {
        // A reaper took our fresh directory away (ENOENT): start over. Anything else is real.
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue
        await fs.rm(dir, {recursive: true, force: true}).catch(() => {})
        throw e
      }
      const token = tokenOf(body)
      if (readToken(dir) !== token) continue // replaced between rename and read: not ours
      options.onEvent?.({type: 'acquired', token})
      return holdLock(dataDir, body, token, options)
    }
    const observed = inspectLock(dataDir, now())
    const waited = now() - started
    const giveUp = (reason: DataDirLockedError['reason']): never => {
      throw new DataDirLockedError(dataDir, observed, reason, waited)
    }
    // Every path that does not take the lock either gives up or goes through the bounded pause
    // below: a state that keeps recurring (a lock that cannot be reaped, one that vanishes and
    // comes back) never spins.
    switch (observed.state) {
      case 'free':
        // Released between our mkdir and our look: try again at once, the first time.
        if (freeSeen++ === 0) continue
        if (waited >= options.waitMs) giveUp('acquiring')
        break
      case 'unreadable':
        giveUp('unreadable')
        break
      case 'held':
        if (!observed.holder.process.alive) {
          if (!options.reap) giveUp('stale')
          if (await reapLock(dataDir, observed, now())) {
            options.onEvent?.({type: 'reaped', observed, marker: false})
            continue
          }
          if (waited >= options.waitMs) giveUp('stale') // it could not be removed (permissions?)
          break
        }
        if (observed.holder.subcommand === 'serve') giveUp('serve')
        if (waited >= options.waitMs) giveUp('live')
        break
      case 'abandoned':
        if (!options.reap) giveUp('stale')
        if (await reapLock(dataDir, observed, now())) {
          options.onEvent?.({type: 'reaped', observed, marker: true})
          continue
        }
        if (waited >= options.waitMs) giveUp('stale')
        break
      case 'acquiring':
        if (waited >= options.waitMs) giveUp('acquiring')
        break
    }
    if (!announced) {
      announced = true
      options.onEvent?.({type: 'waiting', observed})
    }
    await sleep(systemClock, Math.min(pollMs, Math.max(1, options.waitMs - waited)), options.signal)
  }
}

/** Heartbeat and release for a lock we just took. */
function holdLock(dataDir: string, body: LockBody, token: string, options: AcquireOptions): DataDirLock {
  const dir = lockDirOf(dataDir)
  const now = options.now ?? Date.now
  let lost = false
  let released = false
  let beating: Promise<void> = Promise.resolve()
  const beat = async (): Promise<void> => {
    if (released || lost) return
    const onDisk = readToken(dir)
    if (onDisk !== token) {
      lost = true
      timer.clear()
      options.onEvent?.({type: 'lost', observed: inspectLock(dataDir, now())})
      return
    }
    await writeLockFile(dir, {...body, refreshed_at: now()}).catch(() => {})
  }
  const timer = safeInterval(() => {
    beating = beating.then(beat)
  }, options.heartbeatMs ?? HEARTBEAT_MS).unref()
  return {
    dataDir,
    token,
    get lost() {
      return lost
    },
    async release() {
      if (released) return
      released = true
      timer.clear()
      await beating.catch(() => {})
      options.onEvent?.({type: 'releasing', token})
      const onDisk = readToken(dir)
      // Ours, or unreadable (gbrain's release deletes it then too); never someone else's.
      if (onDisk === token || onDisk === null) await fs.rm(dir, {recursive: true, force: true})
      else await fs.rm(path.join(dir, `${LOCK_FILE_NAME}.tmp-${process.pid}`), {force: true}).catch(() => {})
    },
  }
}
