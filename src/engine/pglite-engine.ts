/**
 * The embedded engine on PGlite (@electric-sql/pglite 0.5, Postgres compiled to WASM, in-process,
 * one connection, data dir on disk).
 *
 * Why this engine cannot build-then-swap: one data dir admits exactly one PGlite instance at a
 * time. PGlite 0.5.16 takes NO lock of its own (no postmaster.pid, no flock): a second instance,
 * in this process or another, opens the same dir without any error, each sees only its own
 * writes, and whichever closes last wins — the other's committed rows are silently lost
 * (measured). So a fresh instance must not be opened while the old one is alive, and:
 *
 * - reconnect = close the old instance (bounded), then open a new one; single flight. On failure
 *   there is no old client left to keep: the state is `broken` and the next call retries the open
 *   (self-healing access). A close that does not settle blocks the reopen rather than risk a
 *   second instance on the dir.
 * - `<dataDir>.lock` (O_EXCL, holder's pid, via acquireLock) plus an in-process registry guard the
 *   dir against a second opener, which is refused with PGliteLockedError. The lock is held from
 *   the first open to disconnect(), including across reconnects, and a dead holder's lock is
 *   taken over.
 * - connect: open under our own timer (`openTimeoutMs`: creating a data dir runs initdb, ~3–5 s;
 *   opening an existing one ~0.35 s), prove it with `select 1`, only then publish. A failed or
 *   timed-out open is closed (a timed-out one once it finishes opening) and never published.
 * - the engine never creates a brain in place of one that vanished after it was opened (that
 *   would silently fork the data), nor initdb into a non-empty directory that is not a data dir.
 *
 * PGlite serializes queries itself (one backend, a mutex), so concurrent callers simply queue.
 */
import {existsSync, promises as fs} from 'node:fs'
import path from 'node:path'
import {PGlite} from '@electric-sql/pglite'
import {BaseEngine, type BaseEngineOptions, type RebuildContext} from './base-engine.js'
import {withTimer} from './clock.js'
import {AttemptTimeoutError, NoConnectionError} from './errors.js'
import {ensurePrivateDir} from './fs-atomic.js'
import {summarizeError} from './redact.js'
import {acquireLock, LockedError} from './spool/lock.js'
import type {Executor, QueryResult, ReconnectOptions} from './types.js'

export interface PGliteEngineOptions extends BaseEngineOptions {
  /** The on-disk data dir, e.g. `<home>/brain.pglite`. Parent dirs are created 0700. */
  dataDir: string
  /** Our timer on open + validate (default 30000 ms; a first open creating the dir takes ~3–5 s). */
  openTimeoutMs?: number
  /** Bound on closing an instance (default 5000 ms). */
  closeTimeoutMs?: number
  /** Create (initdb) the data dir when it does not exist yet (default true; the doctor passes false). */
  createIfMissing?: boolean
  /** Guard the dir with `<dataDir>.lock` against other processes (default true). */
  lockFile?: boolean
}

const DEFAULT_OPEN_TIMEOUT_MS = 30_000
const DEFAULT_CLOSE_TIMEOUT_MS = 5_000

/** Another PGlite engine (this process or another) has the data dir open. */
export class PGliteLockedError extends Error {
  readonly code = 'PGLITE_LOCKED'
  constructor(readonly dataDir: string, readonly pid: number, cause?: unknown) {
    const who = pid === process.pid ? 'another engine in this process' : pid > 0 ? `another process (pid ${pid})` : 'another process'
    super(
      `the PGlite brain ${dataDir} is already open by ${who}; PGlite allows one opener per data dir ` +
        `(a second one silently loses writes) — stop the other process, or use Postgres for concurrent access`,
      {cause},
    )
    this.name = 'PGliteLockedError'
  }
}

/** The data dir is missing (and may not be created) or is not a PGlite data dir. */
export class PGliteDataDirError extends Error {
  readonly code = 'PGLITE_DATA_DIR'
  constructor(readonly dataDir: string, readonly reason: 'missing' | 'vanished' | 'not-a-data-dir') {
    super(
      reason === 'missing'
        ? `no PGlite brain at ${dataDir} (run: gbrain init)`
        : reason === 'vanished'
          ? `the PGlite data dir ${dataDir} disappeared after this engine opened it; refusing to create an empty brain in its place (restore the directory or remount its volume)`
          : `${dataDir} exists but is not a PGlite data dir (no PG_VERSION); refusing to initialise a database inside it`,
    )
    this.name = 'PGliteDataDirError'
  }
}

/** A previous instance on the dir did not finish closing, so a new one may not open yet. */
export class PGliteCloseTimeoutError extends Error {
  readonly code = 'PGLITE_CLOSE_TIMEOUT'
  constructor(readonly dataDir: string, ms: number) {
    super(`the previous PGlite instance on ${dataDir} did not close within ${ms} ms; not opening a second one on the same data dir`)
    this.name = 'PGliteCloseTimeoutError'
  }
}

/** Data dirs open in this process (the lock file cannot tell two engines of one pid apart). */
const openDirs = new Map<string, PGliteEngine>()

export class PGliteEngine extends BaseEngine {
  readonly kind = 'pglite' as const
  readonly dataDir: string
  readonly lockPath: string
  private readonly openTimeoutMs: number
  private readonly closeTimeoutMs: number
  private readonly createIfMissing: boolean
  private readonly useLockFile: boolean
  private db: PGlite | null = null
  private disconnecting: Promise<void> | null = null
  /** Instances being closed; a new one opens only once these have settled. */
  private closes = new Set<Promise<void>>()
  /** Lock acquire/release run one after another (a release must not delete a newer lock file). */
  private lockQueue: Promise<void> = Promise.resolve()
  private lockRelease: (() => Promise<void>) | null = null
  private everOpened = false
  private opens = 0

  constructor(options: PGliteEngineOptions) {
    super(options)
    this.dataDir = path.resolve(options.dataDir)
    this.lockPath = `${this.dataDir}.lock`
    this.openTimeoutMs = options.openTimeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS
    this.closeTimeoutMs = options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS
    this.createIfMissing = options.createIfMissing ?? true
    this.useLockFile = options.lockFile ?? true
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

  // ---------------------------------------------------------------- the data dir lock

  private async ensureLock(): Promise<void> {
    await this.lockQueue
    if (this.lockRelease) return
    const holder = openDirs.get(this.dataDir)
    if (holder && holder !== this) throw new PGliteLockedError(this.dataDir, process.pid)
    openDirs.set(this.dataDir, this)
    try {
      // acquireLock creates the parent dir (0700) and takes over a dead holder's lock.
      this.lockRelease = this.useLockFile ? await acquireLock(this.lockPath) : async () => {}
    } catch (e) {
      if (openDirs.get(this.dataDir) === this) openDirs.delete(this.dataDir)
      if (e instanceof LockedError) throw new PGliteLockedError(this.dataDir, e.pid, e)
      throw e
    }
  }

  /** Release the dir (synchronously for this process, then the lock file, in order). */
  private releaseLock(): Promise<void> {
    const release = this.lockRelease
    this.lockRelease = null
    if (openDirs.get(this.dataDir) === this) openDirs.delete(this.dataDir)
    if (release) this.lockQueue = this.lockQueue.then(() => release().catch(() => {}))
    return this.lockQueue
  }

  /**
   * Release the lock once every instance has closed, unless the engine is opening again
   * meanwhile (a rebuild sets `reconnecting` synchronously, and takes the lock after this
   * release through the queue).
   */
  private async releaseWhenClosed(boundMs: number): Promise<void> {
    const release = async (): Promise<void> => {
      if (this.state === 'closed' && !this.db) await this.releaseLock()
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

  /** Close one instance in the background; tracked so a reopen waits for it. */
  private closeInstance(pg: PGlite): Promise<void> {
    const closing: Promise<void> = (async () => {
      try {
        // close() first waits for the open to finish (and for queued queries): an abandoned
        // open is closed as soon as it completes.
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
    await withTimer(this.clock, Promise.all([...this.closes]).then(() => {}), Math.max(0, ms), () => new PGliteCloseTimeoutError(this.dataDir, ms))
  }

  private async ensureDataDir(): Promise<void> {
    if (existsSync(path.join(this.dataDir, 'PG_VERSION'))) return
    if (this.everOpened) throw new PGliteDataDirError(this.dataDir, 'vanished')
    let entries: string[] | null = null
    try {
      entries = await fs.readdir(this.dataDir)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
    }
    if (entries === null) {
      if (!this.createIfMissing) throw new PGliteDataDirError(this.dataDir, 'missing')
      // PGlite's NodeFS would create it 0755 and its files 0666: keep the brain private.
      await ensurePrivateDir(this.dataDir)
      return
    }
    // An empty dir, or a data dir whose first initdb was cut short, may be (re)initialised.
    const looksLikeDataDir = entries.length === 0 || entries.some((n) => n === 'base' || n === 'global' || n === 'pg_wal')
    if (!looksLikeDataDir) throw new PGliteDataDirError(this.dataDir, 'not-a-data-dir')
    if (!this.createIfMissing) throw new PGliteDataDirError(this.dataDir, 'missing')
  }

  /** Open an instance and prove it; never returns an unvalidated one. */
  private async openValidated(): Promise<PGlite> {
    const started = this.clock.now()
    const left = (): number => this.openTimeoutMs - (this.clock.now() - started)
    await this.settleCloses(left())
    // Without permission to create, create nothing at all (not even the lock's parent dir).
    if (!this.createIfMissing && !existsSync(path.join(this.dataDir, 'PG_VERSION'))) {
      throw new PGliteDataDirError(this.dataDir, this.everOpened ? 'vanished' : 'missing')
    }
    // Not under the timer: the lock never waits (a held lock is refused at once), and a lock
    // taken after we gave up would be held by nobody.
    await this.ensureLock()
    await this.ensureDataDir()
    this.opens += 1
    const pg = new PGlite(this.dataDir)
    try {
      await withTimer(
        this.clock,
        pg.waitReady.then(() => pg.query('select 1')),
        Math.max(0, left()),
        () => new AttemptTimeoutError(this.openTimeoutMs, 'PGlite open'),
      )
      return pg
    } catch (e) {
      void this.closeInstance(pg)
      throw e
    }
  }

  // ---------------------------------------------------------------- lifecycle

  protected hasClient(): boolean {
    return this.db !== null
  }

  /** Close-then-open (see the top of the file for why not build-then-swap). */
  protected async replaceClient(): Promise<void> {
    const old = this.db
    this.db = null
    if (old) void this.closeInstance(old)
    this.db = await this.openValidated()
    this.everOpened = true
  }

  protected async afterFailedRebuild(_error: unknown, ctx: RebuildContext): Promise<void> {
    const next = ctx.hadClient || ctx.previousState !== 'closed' ? 'broken' : 'closed'
    this.setState(next)
    // Nothing published and nothing to heal: give the dir back once the failed open has closed
    // (at once when no instance was started; an abandoned open releases it in the background).
    if (next === 'closed') {
      const releasing = this.releaseWhenClosed(this.closeTimeoutMs + this.openTimeoutMs)
      if (this.closes.size === 0) await releasing
    }
  }

  protected async acquire(): Promise<{db: Executor; generation: number}> {
    if (!this.db || this.state === 'broken') {
      // Self-healing access: after a disconnect or a failed reopen, open again from the saved
      // config instead of failing forever.
      try {
        await this.reconnect({error: this.generation === 0 && !this.db ? undefined : new NoConnectionError(), force: this.db !== null})
      } catch (e) {
        throw new NoConnectionError(`No database connection: ${summarizeError(e)}`, {cause: e})
      }
    }
    const pg = this.db
    if (!pg) throw new NoConnectionError()
    return {db: executorFor(pg), generation: this.generation}
  }

  async disconnect(options: {reason?: string} = {}): Promise<void> {
    // Single flight: concurrent callers share one close (and one db-disconnect row).
    if (this.disconnecting) return this.disconnecting
    this.disconnecting = this.close(options).finally(() => {
      this.disconnecting = null
    })
    return this.disconnecting
  }

  private async close(options: {reason?: string}): Promise<void> {
    const pg = this.db
    this.db = null
    if (this.rebuilding) await this.rebuilding.catch(() => {})
    const late = this.db as PGlite | null
    this.db = null
    if (pg || late || this.state !== 'closed') {
      await this.recordDisconnect(options.reason)
    }
    this.setState('closed')
    if (pg) void this.closeInstance(pg)
    if (late) void this.closeInstance(late)
    await this.releaseWhenClosed(this.closeTimeoutMs)
    await this.audit?.flush()
  }
}

const CLOSED_RE = /^PGlite is clos(?:ed|ing)$/

/** The shared Executor over PGlite. `count` is the command tag's row count, like postgres.js. */
function executorFor(pg: PGlite): Executor {
  return {
    async query<T>(text: string, params?: readonly unknown[]): Promise<QueryResult<T>> {
      try {
        const r = await pg.query<T>(text, params ? [...params] : undefined)
        // rowCount comes from the command tag (SELECT n / INSERT 0 n); affectedRows is 0 for a
        // SELECT, so it is only the fallback.
        return {rows: r.rows, count: r.rowCount ?? r.affectedRows ?? r.rows.length}
      } catch (e) {
        // The instance was closed under this call (disconnect or reconnect): a connection-level,
        // retryable condition, not a query failure. PGlite ran nothing, so it is not in doubt.
        if (e instanceof Error && CLOSED_RE.test(e.message)) throw new NoConnectionError(`No database connection: ${e.message}`, {cause: e})
        throw e
      }
    },
  }
}
