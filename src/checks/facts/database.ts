/**
 * Database facts for the doctor, gathered once per run through a read-only engine (no audit
 * rows, no spool, no retries: the doctor reports, it does not insist). The embedded brain is
 * never created by the doctor; a brain held open by another process is not opened twice.
 *
 * Over 300 lines on purpose: every fact here shares one probe engine, its memoised connection and
 * the controller that ends its queries; split apart, each file would have to pass those three
 * around, and the order they are opened and closed in is the point of this module.
 */
import type {Where} from '../connection-advice.js'
import {memo} from '../memo.js'
import {existsSync} from 'node:fs'
import type {ResolvedTarget} from '../../config/resolve.js'
import {listSources, type SourceRow} from '../../brain/sources.js'
import {
  classify,
  type Classified,
  inspectLock,
  lockDirOf,
  readLegacyLock,
  type LegacyLock,
  type LockObservation,
  findOpenFailure,
  PGliteLockedError,
  type OpenCause,
  type OpenFix,
  type Engine,
} from '../../engine/index.js'
import {loadPGliteEngine, loadPostgresEngine} from '../../engine/open.js'

export interface ConnectionFacts {
  status: 'ok' | 'failed' | 'not_configured' | 'locked'
  engine: 'postgres' | 'pglite'
  database: string
  database_source: string
  /** Postgres: the host, port and database tried (for messages and filled-in fixes). */
  where?: Where
  connect_ms?: number
  rtt_ms?: number
  server_version?: string
  pooler: 'none' | 'pgbouncer-transaction' | 'pgbouncer-session' | 'unknown'
  pooler_reason: string
  prepare: {value: boolean; reason: string}
  pool_size: number
  error?: Pick<Classified, 'kind' | 'code' | 'hint' | 'message' | 'retryable'>
  /** Embedded: the PostgreSQL major opened. */
  major?: number
  /** Embedded, failed: why it could not be opened, and the fix for that cause. */
  open_cause?: OpenCause
  open_message?: string
  open_fix?: OpenFix
  /** Embedded, `locked`: what the lock showed when the doctor gave up, and how long it waited. */
  lock?: LockObservation
  lock_waited_ms?: number
}

/** gbrain's data-dir lock as the doctor found it, before asking for it. */
export type LockFacts =
  | {engine: 'postgres'}
  | {engine: 'pglite'; exists: boolean; data_dir: string; lock_dir: string; observed: LockObservation; legacy_lock?: LegacyLock}

export interface SlotFacts {
  available: boolean
  reason?: string
  used?: number
  max_connections?: number
  superuser_reserved?: number
}

/** A session idle inside a transaction, with its age in whole seconds (never its query). */
export interface IdleSession {
  pid: number
  application_name: string
  state: string
  age_s: number
}

export interface IdleTxFacts {
  available: boolean
  reason?: string
  sessions?: IdleSession[]
}

/** `sources` as one query read it; `tables: false` when the table is missing (SQLSTATE 42P01). */
export type SourcesFacts = {tables: true; rows: SourceRow[]} | {tables: false}

export interface DbFacts {
  connection(): Promise<ConnectionFacts>
  /** The embedded brain's lock, observed once, before the doctor takes it. */
  lock(): Promise<LockFacts>
  /** Every source in one query; throws when the query fails (a missing table is `tables: false`). */
  sources(signal?: AbortSignal): Promise<SourcesFacts>
  slots(signal?: AbortSignal): Promise<SlotFacts>
  /** Sessions idle in a transaction longer than `idleFloorMinutes` (keeps the answer bounded). */
  idleTransactions(signal?: AbortSignal): Promise<IdleTxFacts>
  close(): Promise<void>
}

export interface DbFactsOptions {
  target: ResolvedTarget
  connectTimeoutMs: number
  env?: NodeJS.ProcessEnv
  /**
   * Only sessions idle in a transaction longer than this are fetched: the configured warn
   * threshold, passed when the gatherers are made (a bound on the answer, rounded to whole
   * minutes by the query as before), so the query never returns every session of a busy server.
   */
  idleFloorMinutes: number
}

/**
 * How long the doctor waits for a live holder of the embedded brain's lock: the connect budget
 * less what opening the brain needs afterwards (1.5 s, or half the budget when it is short).
 */
export function lockWaitMs(connectTimeoutMs: number): number {
  return Math.max(0, connectTimeoutMs - Math.min(1500, connectTimeoutMs / 2))
}

/** The doctor's pool: one connection per database fact gathered concurrently. */
const DOCTOR_POOL_SIZE = 3

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0

export function createDbFacts(options: DbFactsOptions): DbFacts {
  const {target} = options
  let engine: Engine | undefined
  // Ends a wait for the embedded brain's lock when the run is over (cleanup).
  const ending = new AbortController()
  const base = {
    engine: target.engine,
    database: target.display,
    database_source: target.source,
    ...(target.engine === 'postgres'
      ? {where: {host: target.url.host, port: target.url.port, database: target.url.database, source: target.source}}
      : {}),
    pool_size: 1,
    pooler: 'none' as ConnectionFacts['pooler'],
    pooler_reason: 'embedded',
    prepare: {value: false, reason: 'embedded engine'},
  }

  const lock = memo(async (): Promise<LockFacts> => {
    if (target.engine !== 'pglite') return {engine: 'postgres'}
    const exists = existsSync(target.dataDir)
    return {
      engine: 'pglite',
      exists,
      data_dir: target.dataDir,
      lock_dir: lockDirOf(target.dataDir),
      observed: exists ? inspectLock(target.dataDir) : {state: 'free'},
      ...legacyLockFact(readLegacyLock(target.dataDir)),
    }
  })

  const connection = memo(async (): Promise<ConnectionFacts> => {
    if (target.engine === 'pglite') {
      // Observe the lock before asking for it (pglite_lock reports the holder, never ourselves).
      await lock()
      if (!existsSync(target.dataDir)) return {...base, status: 'not_configured'}
      const PGliteEngine = await loadPGliteEngine()
      engine = new PGliteEngine({
        dataDir: target.dataDir,
        createIfMissing: false,
        audit: null,
        spool: null,
        retry: {maxRetries: 0, baseMs: 1, maxMs: 1, jitter: 'none'},
        // Wait for a short holder (gbrain sync) within the check's budget, leaving time to open;
        // never reap: the doctor does not remove another process's lock, not even a dead one's.
        lock: {waitMs: lockWaitMs(options.connectTimeoutMs), reap: false, signal: ending.signal},
      })
    } else {
      const PostgresEngine = await loadPostgresEngine()
      engine = new PostgresEngine({
        url: target.url.clientUrl,
        env: options.env,
        applicationName: 'gbrain-doctor',
        // One connection per concurrent database fact (sources, slots, idle transactions): postgres.js
        // pipelines a query onto a busy connection when the pool is full, so a smaller pool lets one
        // hung query (a lock) stall the others behind it.
        poolSize: DOCTOR_POOL_SIZE,
        connectTimeoutMs: options.connectTimeoutMs,
        attemptTimeoutMs: options.connectTimeoutMs,
        // The run is over when the pool ends: nothing in flight is worth waiting for (a check that
        // gave up on a hung query has its answer). Sockets are ended (Terminate sent) at once, not
        // waited on: ~10 ms of every run, and a hung statement never holds the exit.
        endTimeoutMs: 0,
        audit: null,
        spool: null,
        retry: {maxRetries: 0, baseMs: 1, maxMs: 1, jitter: 'none'},
      })
    }
    const facts: ConnectionFacts =
      target.engine === 'postgres'
        ? {...base, status: 'ok', pool_size: DOCTOR_POOL_SIZE, pooler: 'none', pooler_reason: '', prepare: target.url.prepare}
        : {...base, status: 'ok'}
    const t0 = performance.now()
    try {
      await engine.connect()
      facts.connect_ms = round(performance.now() - t0)
      const rtts: number[] = []
      for (let i = 0; i < 3; i++) {
        const t = performance.now()
        await engine.query('select 1')
        rtts.push(performance.now() - t)
      }
      facts.rtt_ms = round(median(rtts))
      const info = await engine.query<{v: string; port: number | null}>(
        `select current_setting('server_version') as v, inet_server_port() as port`,
      )
      facts.server_version = info.rows[0]?.v
      if (target.engine === 'postgres') Object.assign(facts, detectPooler(target.url.port, info.rows[0]?.port ?? null))
      else facts.major = (engine as {major?: number | null}).major ?? undefined
    } catch (e) {
      const c = classify(e)
      const open = findOpenFailure(e)
      facts.status = 'failed'
      facts.error = {kind: c.kind, code: c.code, hint: c.hint, message: c.message, retryable: c.retryable}
      if (open instanceof PGliteLockedError && open.observed !== null) {
        facts.status = 'locked'
        facts.lock = open.observed
        facts.lock_waited_ms = open.waitedMs
      } else if (open?.openCause === 'missing' && open.code === 'PGLITE_DATA_DIR' && (open as {reason?: string}).reason === 'missing') {
        facts.status = 'not_configured'
      }
      if (open) {
        facts.open_cause = open.openCause
        facts.open_message = open.message
        facts.open_fix = open.fix
      }
    }
    return facts
  })

  const live = async (): Promise<Engine> => {
    const c = await connection()
    if (c.status !== 'ok' || !engine) throw new Error('no database connection for this check')
    return engine
  }

  return {
    connection,
    lock,
    async sources(signal) {
      try {
        return {tables: true, rows: await listSources(await live(), signal)}
      } catch (e) {
        if (classify(e).code === '42P01') return {tables: false}
        throw e
      }
    },
    async slots(signal) {
      const c = await connection()
      if (c.engine === 'pglite') return {available: false, reason: 'embedded PGlite has a single session'}
      if (c.pooler !== 'none')
        return {available: false, reason: 'behind a pooler the server’s session count is the pooler’s, not this client’s'}
      const e = await live()
      try {
        const r = await e.run(
          'doctor.slots',
          (db) =>
            db.query<{used: number; max: number; reserved: number}>(
              `select (select count(*)::int from pg_stat_activity where backend_type = 'client backend') as used,
                  current_setting('max_connections')::int as max,
                  current_setting('superuser_reserved_connections')::int as reserved`,
              [],
              {signal},
            ),
          {signal, maxRetries: 0},
        )
        const row = r.rows[0]!
        return {available: true, used: row.used, max_connections: row.max, superuser_reserved: row.reserved}
      } catch (err) {
        const k = classify(err)
        if (k.code === '42501') return {available: false, reason: 'this role may not read pg_stat_activity'}
        throw err
      }
    },
    async idleTransactions(signal) {
      const c = await connection()
      if (c.engine === 'pglite') return {available: false, reason: 'embedded PGlite has a single session'}
      const e = await live()
      const r = await e.run(
        'doctor.idle_tx',
        (db) =>
          db.query<IdleSession>(
            `select pid, coalesce(application_name, '') as application_name, state,
                floor(extract(epoch from (now() - state_change)))::int as age_s
           from pg_stat_activity
          where state in ('idle in transaction', 'idle in transaction (aborted)')
            and now() - state_change > make_interval(mins => $1::int)
          order by state_change`,
            [options.idleFloorMinutes],
            {signal},
          ),
        {signal, maxRetries: 0},
      )
      return {available: true, sessions: r.rows}
    },
    async close() {
      // For good: the memoized connection fact may still be running its queries after its check
      // gave up; nothing it does may reopen the brain (and take its lock) after this.
      ending.abort('doctor finished')
      await engine?.disconnect({final: true})
    },
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10
}

/**
 * A pooler shows itself by the port: the server reports the port it listens on, which differs
 * from the one we dialled when something (PgBouncer, Supavisor) sits in between. The pooler's
 * mode is not visible from a client session; 6543 is the conventional transaction port.
 */
export function detectPooler(dialled: number, serverPort: number | null): Pick<ConnectionFacts, 'pooler' | 'pooler_reason'> {
  if (serverPort === null) return {pooler: 'unknown', pooler_reason: 'connected over a unix socket: the server port is not visible'}
  if (serverPort === dialled) return {pooler: 'none', pooler_reason: `the server listens on the port dialled (${dialled})`}
  if (dialled === 6543)
    return {
      pooler: 'pgbouncer-transaction',
      pooler_reason: `dialled ${dialled}, the transaction-pooler convention; the server listens on ${serverPort}`,
    }
  return {
    pooler: 'unknown',
    pooler_reason: `dialled port ${dialled} but the server listens on ${serverPort}: a pooler or proxy is in between`,
  }
}

const legacyLockFact = (l: LegacyLock | undefined): {legacy_lock?: LegacyLock} => (l ? {legacy_lock: l} : {})
