/**
 * The embedded engine on PGlite (Postgres compiled to WASM, in-process, one connection, data dir
 * on disk). The build is chosen by the data dir's PostgreSQL major (pglite/builds.ts: 17 is
 * gbrain's PGlite 0.4.3, 18 is PGlite 0.5.x); new brains are made as 17 so gbrain can open them.
 *
 * Why this engine cannot build-then-swap: one data dir admits exactly one PGlite instance at a
 * time. PGlite takes NO lock of its own: a second instance, in this process or another, opens
 * the same dir without any error, and the two corrupt it or lose each other's commits (gbrain's
 * incident: catalog gutted). So a fresh instance must not be opened while the old one is alive:
 *
 * - reconnect = close the old instance (bounded), then open a new one; single flight. On failure
 *   there is no old client left to keep: the state is `broken` and the next call retries the open
 *   (self-healing access). A close that does not settle blocks the reopen rather than risk a
 *   second instance on the dir.
 * - gbrain's data-dir lock (`<dataDir>/.gbrain-lock`, pglite/data-dir-lock.ts) plus an in-process
 *   registry guard the dir against every other opener, gbrain's processes included. The lock is
 *   held from the first open to disconnect(), across reconnects, with gbrain's 30 s heartbeat. A
 *   live holder is waited for (bounded, `lock.waitMs`; a `serve` holder is refused at once) and
 *   never reaped; a dead holder's lock is reaped only when `lock.reap` (the doctor does not). If
 *   our lock is ever replaced under us, the instance is closed at once (no second writer).
 * - connect: open under our own timer (`openTimeoutMs`: creating a data dir runs initdb, ~3–6 s;
 *   opening an existing one ~0.5 s), prove it with `select 1`, only then publish. A failed or
 *   timed-out open is closed (a timed-out one once it finishes opening) and never published.
 * - open failures are classified by cause (pglite/open-errors.ts): missing, locked (by whom),
 *   wrong major, damaged (what PGlite said).
 * - the engine never creates a brain in place of one that vanished after it was opened (that
 *   would silently fork the data), nor initdb into a non-empty directory that is not a data dir.
 *
 * PGlite serializes queries itself (one backend, a mutex), so concurrent callers simply queue.
 *
 * Over 300 lines on purpose: the data-dir lock, the in-process registry and the open/close of
 * instances are one concept here — the rule "never two instances on one data dir" — and each
 * step of an open or a close depends on where the others are (a release must wait for a close,
 * an open for the lock, a lost lock closes the instance). The lock protocol itself is
 * pglite/data-dir-lock.ts; the shared lifecycle is client-engine.ts.
 */
import {existsSync, promises as fs} from 'node:fs'
import path from 'node:path'
import type {BaseEngineOptions, RebuildContext} from './base-engine.js'
import {ClientEngine, type ClosedBy} from './client-engine.js'
import {withTimer} from '../shared/clock.js'
import {AttemptTimeoutError, EngineClosedError, NoConnectionError} from './errors.js'
import {AbortedError} from '../shared/errors.js'
import {ensurePrivateDir} from '../shared/fs-atomic.js'
import {DEFAULT_MAJOR, loadBuild, readMajor, type PGliteInstance} from './pglite/builds.js'
import {
  acquireDataDirLock,
  dataDirEntries,
  DataDirLockedError,
  inspectLock,
  readLegacyLock,
  type DataDirLock,
  type LockEvent,
} from './pglite/data-dir-lock.js'
import {findOpenFailure, PGliteDamagedError, PGliteDataDirError, PGliteLockedError, PGliteMajorError} from './pglite/open-errors.js'
import {summarizeError} from '../shared/redact.js'
import type {Executor, QueryResult} from './types.js'

export {PGliteDataDirError, PGliteLockedError} from './pglite/open-errors.js'

export interface PGliteLockOptions {
  /** How long to wait for a live holder that is not `serve` (default 30000 ms, as gbrain's CLI). */
  waitMs?: number
  /** Reap a dead holder's or an abandoned lock (default true; the doctor passes false). */
  reap?: boolean
  /** Lock events (waiting, reaped, lost), for the command to tell the user. */
  onEvent?: (event: LockEvent) => void
  /** Ends any wait for the lock (the doctor's cleanup; a command's SIGTERM). */
  signal?: AbortSignal
  /** The lock's heartbeat (default 30000 ms, gbrain's). */
  heartbeatMs?: number
}

export interface PGliteEngineOptions extends BaseEngineOptions {
  /** The on-disk data dir, e.g. `<home>/brain.pglite`. Parent dirs are created 0700. */
  dataDir: string
  /** Our timer on open + validate (default 30000 ms; a first open creating the dir takes ~3–6 s). */
  openTimeoutMs?: number
  /** Bound on closing an instance (default 5000 ms). */
  closeTimeoutMs?: number
  /** Create (initdb) the data dir when it does not exist yet (default true; the doctor passes false). */
  createIfMissing?: boolean
  /** The PostgreSQL major of a brain this engine creates (default 17, gbrain's). */
  createMajor?: number
  lock?: PGliteLockOptions
}

const DEFAULT_OPEN_TIMEOUT_MS = 30_000
const DEFAULT_CLOSE_TIMEOUT_MS = 5_000
const DEFAULT_LOCK_WAIT_MS = 30_000

/** A previous instance on the dir did not finish closing, so a new one may not open yet. */
export class PGliteCloseTimeoutError extends Error {
  readonly code = 'PGLITE_CLOSE_TIMEOUT'
  constructor(
    readonly dataDir: string,
    ms: number,
  ) {
    super(`the previous PGlite instance on ${dataDir} did not close within ${ms} ms; not opening a second one on the same data dir`)
    this.name = 'PGliteCloseTimeoutError'
  }
}

/** Data dirs open in this process (the lock file cannot tell two engines of one pid apart). */
const openDirs = new Map<string, PGliteEngine>()

export class PGliteEngine extends ClientEngine<PGliteInstance> {
  readonly kind = 'pglite' as const
  readonly dataDir: string
  private readonly openTimeoutMs: number
  private readonly closeTimeoutMs: number
  private readonly createIfMissing: boolean
  private readonly createMajor: number
  private readonly lockOptions: PGliteLockOptions & {waitMs: number; reap: boolean}
  /** Instances being closed; a new one opens only once these have settled. */
  private closes = new Set<Promise<void>>()
  /** Lock acquire/release run one after another (a release must not delete a newer lock). */
  private lockQueue: Promise<void> = Promise.resolve()
  private lock: DataDirLock | null = null
  private everOpened = false
  private opens = 0
  private openedMajor: number | null = null

  constructor(options: PGliteEngineOptions) {
    super(options)
    this.dataDir = path.resolve(options.dataDir)
    this.openTimeoutMs = options.openTimeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS
    this.closeTimeoutMs = options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS
    this.createIfMissing = options.createIfMissing ?? true
    this.createMajor = options.createMajor ?? DEFAULT_MAJOR
    this.lockOptions = {...options.lock, waitMs: options.lock?.waitMs ?? DEFAULT_LOCK_WAIT_MS, reap: options.lock?.reap ?? true}
  }

  protected poolSize(): number {
    return 1
  }

  protected prepareEnabled(): boolean {
    return false
  }

  /** How many PGlite instances this engine has started opening (tests assert single flight). */
  get instancesOpened(): number {
    return this.opens
  }

  /** The PostgreSQL major of the open brain (null before the first open). */
  get major(): number | null {
    return this.openedMajor
  }

  // ---------------------------------------------------------------- the data dir lock

  private async ensureLock(signal?: AbortSignal): Promise<void> {
    await this.lockQueue
    if (this.lock) return
    const holder = openDirs.get(this.dataDir)
    if (holder && holder !== this) throw new PGliteLockedError(this.dataDir, null)
    openDirs.set(this.dataDir, this)
    // The command's abort (SIGTERM) and the engine's own (the doctor's cleanup) both end a wait.
    const signals = [signal, this.lockOptions.signal].filter((x): x is AbortSignal => x !== undefined)
    try {
      this.lock = await acquireDataDirLock(this.dataDir, {
        waitMs: this.lockOptions.waitMs,
        reap: this.lockOptions.reap,
        ...(this.lockOptions.heartbeatMs !== undefined ? {heartbeatMs: this.lockOptions.heartbeatMs} : {}),
        ...(signals.length > 0 ? {signal: signals.length === 1 ? signals[0] : AbortSignal.any(signals)} : {}),
        onEvent: (e) => {
          if (e.type === 'lost') this.onLockLost()
          try {
            this.lockOptions.onEvent?.(e)
          } catch {
            // an observer never breaks the engine
          }
        },
      })
      await this.checkLegacyLock()
    } catch (e) {
      const lock = this.lock
      this.lock = null
      if (openDirs.get(this.dataDir) === this) openDirs.delete(this.dataDir)
      await lock?.release().catch(() => {})
      if (e instanceof DataDirLockedError) throw new PGliteLockedError(this.dataDir, e.observed, e.waitedMs, e)
      throw e
    }
  }

  /**
   * Earlier versions of this tool locked `<dataDir>.lock` instead: a live holder of that one still
   * keeps us out; a dead one's file is removed (by openers that may reap).
   */
  private async checkLegacyLock(): Promise<void> {
    const legacy = readLegacyLock(this.dataDir)
    // Absent, or not a small regular file: nothing an earlier version of ours left to judge.
    if (legacy === undefined || legacy.state === 'unreadable') return
    if (legacy.alive) {
      const pid = legacy.pid as number
      throw new PGliteLockedError(
        this.dataDir,
        {
          state: 'held',
          holder: {
            pid,
            acquired_at: null,
            refreshed_at: null,
            subcommand: null,
            token: `${pid}:legacy`,
            heartbeat_age_ms: null,
            command: `an earlier gbrain-doctor (its lock ${path.basename(legacy.file)})`,
            process: {alive: true, liveness: 'running', cmdline: null, looks_like: 'unknown', started_at: null},
          },
        },
        0,
      )
    }
    if (!this.lockOptions.reap) return
    // A file that does not parse may be one being written right now: judged by its age.
    if (legacy.pid === null && legacy.age_ms < 10_000) return
    await fs.rm(legacy.file, {force: true})
    this.lockOptions.onEvent?.({type: 'removed-legacy', file: legacy.file, pid: typeof legacy.pid === 'number' ? legacy.pid : -1})
  }

  /** Someone replaced our lock: stop writing at once; the next call waits for the lock again. */
  private onLockLost(): void {
    this.lock = null
    if (openDirs.get(this.dataDir) === this) openDirs.delete(this.dataDir)
    this.unpublish()
    if (this.state !== 'closed') void this.transition({state: 'broken', since: this.clock.now()})
  }

  /** Release the dir (synchronously for this process, then the lock, in order). */
  private releaseLock(): Promise<void> {
    const lock = this.lock
    this.lock = null
    if (openDirs.get(this.dataDir) === this) openDirs.delete(this.dataDir)
    if (lock) this.lockQueue = this.lockQueue.then(() => lock.release().catch(() => {}))
    return this.lockQueue
  }

  /**
   * Release the lock once every instance has closed, unless the engine is opening again
   * meanwhile (a rebuild sets `reconnecting` synchronously, and takes the lock after this
   * release through the queue).
   */
  private async releaseWhenClosed(boundMs: number): Promise<void> {
    const release = async (): Promise<void> => {
      if (this.state === 'closed' && !this.client) await this.releaseLock()
    }
    try {
      await this.settleCloses(boundMs)
    } catch {
      // A slow close keeps the dir locked (a second opener would lose writes) until it settles.
      void Promise.all([...this.closes]).then(release)
      return
    }
    await release()
  }

  // ---------------------------------------------------------------- open / close

  /**
   * Close one instance in the background; tracked so a reopen waits for it. `settled` is the
   * abandoned open's own validation: PGlite 0.4.3 hangs, spinning, when close() races a query
   * queued behind its start-up (measured), so an abandoned open is closed only once it settled.
   */
  private closeInstance(pg: PGliteInstance, settled: Promise<unknown> = Promise.resolve()): Promise<void> {
    const closing: Promise<void> = (async () => {
      try {
        await settled.catch(() => {})
        // close() waits for queued queries: an abandoned open is closed as soon as it completes.
        if (!pg.closed) await pg.close()
      } catch {
        // A failed open has nothing to close; a second close() throws "PGlite is closed".
      }
    })().finally(() => this.closes.delete(closing))
    this.closes.add(closing)
    return closing
  }

  private async settleCloses(ms: number): Promise<void> {
    if (this.closes.size === 0) return
    await withTimer(
      this.clock,
      Promise.all([...this.closes]).then(() => {}),
      Math.max(0, ms),
      () => new PGliteCloseTimeoutError(this.dataDir, ms),
    )
  }

  /** Make sure there is a directory to lock; refuse a foreign folder. Creates only when allowed. */
  private async ensureDataDir(): Promise<void> {
    if (existsSync(path.join(this.dataDir, 'PG_VERSION'))) return
    if (this.everOpened) throw new PGliteDataDirError(this.dataDir, 'vanished')
    let entries: string[] | null = null
    try {
      entries = dataDirEntries(this.dataDir)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
    }
    // An empty dir, or a data dir whose first initdb was cut short, may be (re)initialised.
    if (entries !== null && entries.length > 0 && !entries.some((n) => n === 'base' || n === 'global' || n === 'pg_wal')) {
      throw new PGliteDataDirError(this.dataDir, 'not-a-data-dir')
    }
    if (!this.createIfMissing) throw new PGliteDataDirError(this.dataDir, 'missing')
    // PGlite's NodeFS would create it 0755 and its files 0666: keep the brain private.
    if (entries === null) await ensurePrivateDir(this.dataDir)
  }

  /** Open an instance with the build its major needs, and prove it; never returns an unvalidated one. */
  private async openValidated(signal?: AbortSignal): Promise<PGliteInstance> {
    await this.settleCloses(this.openTimeoutMs)
    await this.ensureDataDir()
    // Not under the open timer: the lock's wait is bounded by its own option, and a lock taken
    // after we gave up would be held by nobody. The open's own timer starts once we hold it.
    await this.ensureLock(signal)
    const lock = this.lock
    const started = this.clock.now()
    const left = (): number => this.openTimeoutMs - (this.clock.now() - started)
    // Read the major only now: an `init` in another process may have been creating the brain.
    const reading = readMajor(this.dataDir)
    let major: number
    if (reading.kind === 'none') {
      if (this.everOpened) throw new PGliteDataDirError(this.dataDir, 'vanished')
      if (!this.createIfMissing) throw new PGliteDataDirError(this.dataDir, 'missing')
      major = this.createMajor
    } else if (reading.kind === 'unreadable') {
      throw new PGliteDamagedError(this.dataDir, 0, reading.detail)
    } else {
      major = reading.major
    }
    const loading = loadBuild(major)
    if (!loading) throw new PGliteMajorError(this.dataDir, String(major))
    const build = await loading
    this.opens += 1
    const pg = build.open(this.dataDir)
    const validating = pg.waitReady.then(() => pg.query('select 1'))
    try {
      await withTimer(this.clock, validating, Math.max(0, left()), () => new AttemptTimeoutError(this.openTimeoutMs, 'PGlite open'))
    } catch (e) {
      void this.closeInstance(pg, validating)
      if (e instanceof AttemptTimeoutError) throw e
      throw new PGliteDamagedError(this.dataDir, major, summarizeError(e), e)
    }
    // The lock may have been taken from us while PGlite was opening: never publish an instance
    // opened without it (it is closed at once; the caller waits for the lock again).
    if (this.lock !== lock || lock === null || lock.lost) {
      void this.closeInstance(pg, validating)
      throw new PGliteLockedError(this.dataDir, inspectLock(this.dataDir))
    }
    this.openedMajor = major
    return pg
  }

  // ---------------------------------------------------------------- lifecycle

  /** Close-then-open (see the top of the file for why not build-then-swap). */
  protected async replaceClient(ctx: RebuildContext): Promise<void> {
    this.unpublish()
    this.publish(await this.openValidated(ctx.options.signal))
    this.everOpened = true
  }

  /**
   * Why the brain could not be opened (held, wrong major, damaged), an abort and a closed engine
   * are final answers, not a lost connection to retry: they pass through as they are.
   */
  protected override isFinalOpenError(e: unknown): boolean {
    return findOpenFailure(e) !== undefined || e instanceof AbortedError || e instanceof EngineClosedError
  }

  protected executorFor(pg: PGliteInstance): Executor {
    return executorFor(pg)
  }

  /** One instance per data dir: an old instance is always closed before a new one opens. */
  protected endClient(pg: PGliteInstance): void {
    void this.closeInstance(pg)
  }

  /**
   * Give the dir back once every instance has closed. After a failed first open, at once when no
   * instance was started; an abandoned open releases it in the background.
   */
  protected async afterClosed(by: ClosedBy): Promise<void> {
    if (by === 'disconnect') {
      await this.releaseWhenClosed(this.closeTimeoutMs)
      return
    }
    const releasing = this.releaseWhenClosed(this.closeTimeoutMs + this.openTimeoutMs)
    if (this.closes.size === 0) await releasing
  }
}

const CLOSED_RE = /^PGlite is clos(?:ed|ing)$/

/** The shared Executor over PGlite. `count` is the command tag's row count, like postgres.js. */
function executorFor(pg: PGliteInstance): Executor {
  return {
    async query<T>(text: string, params?: readonly unknown[]): Promise<QueryResult<T>> {
      try {
        const r = await pg.query<T>(text, params ? [...params] : undefined)
        // The command tag's row count, like postgres.js: 0.5.x reports it as rowCount; 0.4.3 has
        // only affectedRows, which is 0 for a SELECT — there the rows returned are the count.
        const count = r.rowCount ?? (r.fields && r.fields.length > 0 ? r.rows.length : (r.affectedRows ?? 0))
        return {rows: r.rows, count}
      } catch (e) {
        // The instance was closed under this call (disconnect or reconnect): a connection-level,
        // retryable condition, not a query failure. PGlite ran nothing, so it is not in doubt.
        if (e instanceof Error && CLOSED_RE.test(e.message)) throw new NoConnectionError(`No database connection: ${e.message}`, {cause: e})
        throw e
      }
    },
  }
}
