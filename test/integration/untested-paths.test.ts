/**
 * Engine paths that had no test (issue 11, item 5), against a real PostgreSQL 15 and real PGlite:
 *
 * - the engine writing its own `reap_detected` pool-recovery rows (a call whose pool was ended
 *   under it: the driver's CONNECTION_ENDED), and `pool_reap_health` reading them back;
 * - a SIGUSR2 reconnect that fails (a live engine process whose database is down): the state file
 *   records outcome `failed` with the error, and the next signal after recovery records `ok`;
 * - a PGlite close that does not settle: the engine refuses to open a second instance on the data
 *   dir (PGliteCloseTimeoutError), keeps the dir locked until the close settles, and a disconnect
 *   returns after `closeTimeoutMs`;
 * - the spool's replay lock (`<spool>/.replay.lock`): stale (dead pid), live, and half-written.
 *
 * Faults are injected at markers (an attempt of our own writer, a worker's MARK line, the state
 * file, the engine's own open counter), never by sleeping. Virtual time (FakeClock, advanced by
 * hand) drives the PGlite timers, so the close timeout fires exactly when the test says.
 */
import {existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync} from 'node:fs'
import {spawn} from 'node:child_process'
import path from 'node:path'
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {gatherPoolRecovery} from '../../src/checks/facts/audit-windows.js'
import {judgePoolReapHealth, POOL_REAP_WARN} from '../../src/checks/pool-reap-health.js'
import {AuditWriter, readWindow} from '../../src/engine/audit/index.js'
import {AttemptTimeoutError} from '../../src/engine/errors.js'
import {PGliteCloseTimeoutError, PGliteEngine} from '../../src/engine/pglite-engine.js'
import {PostgresEngine} from '../../src/engine/postgres-engine.js'
import type {EngineProcessState} from '../../src/engine/process-state.js'
import {DeadLetterSpool, SPOOL_FORMAT_VERSION} from '../../src/engine/spool/dead-letter.js'
import {acquireLock, LockedError} from '../../src/engine/spool/lock.js'
import {replayDeadLetters} from '../../src/engine/spool/replay.js'
import type {BatchWriter, Executor} from '../../src/engine/types.js'
import {destroyAll, waitFor} from '../helpers/cleanup.js'
import {FakeClock} from '../helpers/fake-clock.js'
import {startCluster, type PgCluster} from '../helpers/pg-cluster.js'
import {trackUncaught, type UncaughtTracker} from '../helpers/uncaught.js'
import {createTable, rowsWriter, TABLE, type WorkRow} from '../helpers/workload.js'
import {startWorker} from '../helpers/worker.js'
import {removeHomes, tempDir} from '../helpers/doctor-kit.js'

let cluster: PgCluster
let home: string
let tracker: UncaughtTracker
const engines: {disconnect: (o?: {reason?: string}) => Promise<void>}[] = []

beforeAll(async () => {
  cluster = await startCluster()
}, 60_000)

afterAll(async () => {
  await destroyAll()
})

beforeEach(async () => {
  home = tempDir('gbrain-untested-')
  tracker = trackUncaught()
  await createTable(cluster.url)
})

afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.disconnect({reason: 'exit'}).catch(() => {})))
  tracker.stop()
  tracker.assertNone()
  removeHomes()
})

const auditDir = (): string => path.join(home, 'audit')

function pgEngine(app: string): PostgresEngine {
  const e = new PostgresEngine({
    url: cluster.url,
    applicationName: app,
    poolSize: 2,
    connectTimeoutMs: 2000,
    attemptTimeoutMs: 3000,
    endTimeoutMs: 500,
    retry: {maxRetries: 3, baseMs: 20, maxMs: 50, jitter: 'none'},
    audit: new AuditWriter({dir: auditDir()}),
    spool: new DeadLetterSpool(path.join(home, 'dead-letter')),
  })
  engines.push(e)
  return e
}

async function rowsOf(feature: 'pool-recovery' | 'batch-retry' | 'db-disconnect'): Promise<Record<string, unknown>[]> {
  const r = await readWindow({dir: auditDir(), feature, windowMs: 3600_000, now: Date.now()})
  return r.rows
}

const rowsFor = (tag: string, n = 10): WorkRow[] => Array.from({length: n}, (_, i) => ({key: `${tag}-${i}`, batch: 0, payload: `row ${i}`}))

/**
 * The row writer, with a hook that runs on the first attempt after the attempt holds its pool's
 * executor and before its statement is sent: the point where a stray disconnect or a reap bites.
 */
function writerWithFirstAttemptHook(onFirst: (db: Executor) => Promise<void>): {
  writer: BatchWriter<WorkRow>
  errors: {code?: string; message: string}[]
  attempts: () => number
} {
  const base = rowsWriter()
  let attempts = 0
  const errors: {code?: string; message: string}[] = []
  return {
    errors,
    attempts: () => attempts,
    writer: {
      target: base.target,
      async write(db, rows) {
        attempts += 1
        try {
          if (attempts === 1) await onFirst(db)
          return await base.write(db, rows)
        } catch (e) {
          errors.push({code: (e as {code?: string}).code, message: (e as Error).message})
          throw e
        }
      },
    },
  }
}

/** Rows in the table for these keys (the key is the primary key: a double write shows in `inserted`, not here). */
async function countRows(prefix: string): Promise<number> {
  return Number(await cluster.psql(`select count(*) from ${TABLE} where key like '${prefix}-%'`))
}

// ---------------------------------------------------------------------------------------------
describe('the engine writes its own reap_detected rows', () => {
  it('a call whose pool is ended under it (CONNECTION_ENDED) → reap_detected, then reconnect_succeeded; the batch lands exactly once on a new pool', async () => {
    const e = pgEngine(`reap-${process.pid}`)
    await e.connect()
    const genBefore = e.health().generation
    // The stray disconnect() ends the very pool this attempt holds; its statement then meets the
    // ended pool, as a call does whose module-level pool was ended (gbrain's "reap").
    const w = writerWithFirstAttemptHook(async () => {
      await e.disconnect({reason: 'stray-disconnect'})
    })
    const out = await e.batch('reap.pages', rowsFor('reap'), w.writer)
    expect(out).toEqual({inserted: 10, attempts: 2})
    expect(w.errors.map((x) => x.code)).toEqual(['CONNECTION_ENDED']) // the driver's own code, not ours
    expect(e.health().generation).toBe(genBefore + 1)
    expect(e.health().state).toBe('connected')
    expect(await countRows('reap')).toBe(10)

    await e.audit!.flush()
    const recovery = await rowsOf('pool-recovery')
    expect(recovery.map((r) => r.kind)).toEqual(['reap_detected', 'reconnect_succeeded'])
    expect(recovery[0]).toMatchObject({pid: process.pid})
    expect(recovery[0]?.error_summary).toMatch(/CONNECTION_ENDED/)
    expect(recovery[1]).toMatchObject({pid: process.pid})
    expect(typeof recovery[1]?.duration_ms).toBe('number')
    expect(Date.parse(String(recovery[1]!.ts))).toBeGreaterThanOrEqual(Date.parse(String(recovery[0]!.ts)))
    // The retry that the reap caused is on record too: scheduled (gbrain's "success"), then recovered.
    const retries = await rowsOf('batch-retry')
    expect(retries.map((r) => [r.outcome, r.attempt, r.error_code ?? null])).toEqual([
      ['success', 1, 'CONNECTION_ENDED'],
      ['recovered', 2, null],
    ])
    expect((await rowsOf('db-disconnect')).map((r) => r.reason)).toContain('stray-disconnect')
  })

  it('the same path triggered by anything else (the server terminating the session) writes reconnect_other, not reap_detected', async () => {
    const e = pgEngine(`other-${process.pid}`)
    await e.connect()
    // The attempt's own session is terminated by the server (57P01) just before its insert.
    const w = writerWithFirstAttemptHook(async (db) => {
      await db.query('select pg_terminate_backend(pg_backend_pid())')
    })
    const out = await e.batch('other.pages', rowsFor('other'), w.writer)
    expect(out).toEqual({inserted: 10, attempts: 2})
    expect(w.errors).toHaveLength(1)
    expect(w.errors[0]!.code).not.toBe('CONNECTION_ENDED')
    expect(await countRows('other')).toBe(10)
    await e.audit!.flush()
    const kinds = (await rowsOf('pool-recovery')).map((r) => r.kind)
    expect(kinds).toEqual(['reconnect_other', 'reconnect_succeeded'])
  })

  it(`${POOL_REAP_WARN} reaps in the hour, each healed: the engine's own rows make pool_reap_health warn "pooler thrash" (one fewer: ok)`, async () => {
    const e = pgEngine(`thrash-${process.pid}`)
    await e.connect()
    const judge = async (): Promise<ReturnType<typeof judgePoolReapHealth>> => {
      await e.audit!.flush()
      return judgePoolReapHealth({facts: await gatherPoolRecovery(auditDir(), Date.now())})
    }
    for (let i = 0; i < POOL_REAP_WARN; i++) {
      const w = writerWithFirstAttemptHook(async () => {
        await e.disconnect({reason: 'stray-disconnect'})
      })
      expect((await e.batch(`thrash.${i}`, rowsFor(`thrash${i}`, 3), w.writer)).attempts).toBe(2)
      if (i === POOL_REAP_WARN - 2) {
        const below = await judge()
        expect(below.status).toBe('ok')
        expect(below.details).toMatchObject({reaps: POOL_REAP_WARN - 1, recoveries: POOL_REAP_WARN - 1, failures: 0})
      }
    }
    const verdict = await judge()
    expect(verdict.status).toBe('warn')
    expect(verdict.message).toMatch(
      new RegExp(`^DB pool reaped ${POOL_REAP_WARN}× in last 1h \\(self-heal recovered each\\) — pooler thrash\\.`),
    )
    expect(verdict.details).toMatchObject({
      reaps: POOL_REAP_WARN,
      recoveries: POOL_REAP_WARN,
      failures: 0,
      other_triggers: 0,
      unrecovered_pids: [],
    })
    expect(verdict.observed_value).toBe(POOL_REAP_WARN)
  })
})

// ---------------------------------------------------------------------------------------------
describe('SIGUSR2 while the database is down', () => {
  it('the live process records outcome failed with the error (no generation), keeps its old pool, and records ok on the next signal after recovery', async () => {
    const app = `sigusr2-${process.pid}`
    const w = startWorker({WORKER_MODE: 'watch', WORKER_HOME: home, WORKER_URL: cluster.url, WORKER_APP: app, WORKER_CONNECT_MS: '1000'})
    const ready = await w.waitMark((m) => m.word === 'ready', 20_000, 'watcher ready')
    const file = String(ready.data.file)
    const read = (): EngineProcessState => JSON.parse(readFileSync(file, 'utf8')) as EngineProcessState
    await waitFor(() => read().health.state === 'connected', {timeoutMs: 5000, intervalMs: 20, what: 'connected state'})
    const genBefore = read().health.generation

    await cluster.stop('fast')
    try {
      // Marker: the process's own calls fail and its state file says so.
      await waitFor(() => read().health.consecutive_failures > 0, {timeoutMs: 10_000, intervalMs: 20, what: 'failures in the state file'})
      const sentAt = Date.now()
      w.child.kill('SIGUSR2')
      await waitFor(() => read().last_signal?.outcome === 'failed', {timeoutMs: 10_000, intervalMs: 20, what: 'SIGUSR2 outcome failed'})
      const s = read()
      const sig = s.last_signal!
      expect(sig.signal).toBe('SIGUSR2')
      expect(Date.parse(sig.received_at)).toBeGreaterThanOrEqual(sentAt - 1000)
      expect(Date.parse(sig.finished_at!)).toBeGreaterThanOrEqual(Date.parse(sig.received_at))
      expect(sig.error).toMatch(/ECONNREFUSED/)
      expect(sig).not.toHaveProperty('generation') // no pool was swapped in
      expect(s.health.generation).toBe(genBefore) // the old pool is still the published one
      expect(['broken', 'reconnecting']).toContain(s.health.state) // its own next call may be retrying already
      expect(s.health.reconnects.failed).toBeGreaterThanOrEqual(1)
      // Its pool-recovery rows: the forced reconnect that SIGUSR2 started, and its failure.
      const audit = w.marks.filter((m) => m.word === 'audit' && m.data.feature === 'pool-recovery').map((m) => m.data)
      const forced = audit.findIndex((r) => r.kind === 'reconnect_other' && r.error_summary === 'forced reconnect')
      expect(forced).toBeGreaterThanOrEqual(0)
      const after = audit.slice(forced + 1).find((r) => r.kind === 'reconnect_failed' || r.kind === 'reconnect_succeeded')
      expect(after).toMatchObject({kind: 'reconnect_failed'})
      expect(after?.error_summary).toMatch(/ECONNREFUSED/)
      expect(w.child.exitCode).toBeNull() // a failed reconnect never takes the process down
    } finally {
      await cluster.start()
    }

    const failedAt = Date.parse(read().last_signal!.received_at)
    // Marker: the process healed by itself (its own calls reconnect once the server is back).
    await waitFor(() => read().health.state === 'connected' && read().health.consecutive_failures === 0, {
      timeoutMs: 15_000,
      intervalMs: 20,
      what: 'the process healed',
    })
    const genHealed = read().health.generation
    // One more signal: it records ok with a newer generation; the failure record is gone.
    w.child.kill('SIGUSR2')
    await waitFor(
      () => {
        const sig = read().last_signal
        return sig !== undefined && Date.parse(sig.received_at) > failedAt && sig.outcome !== 'in_progress'
      },
      {timeoutMs: 10_000, intervalMs: 20, what: 'the second SIGUSR2 recorded'},
    )
    const after = read().last_signal!
    expect(after.outcome).toBe('ok')
    expect(after).not.toHaveProperty('error')
    expect(after.generation).toBeGreaterThan(genHealed)

    w.child.kill('SIGTERM')
    const exit = await w.exited
    expect(exit.code).toBe(0)
    expect(existsSync(file)).toBe(false)
  }, 60_000)
})

// ---------------------------------------------------------------------------------------------
describe('PGlite: an instance that has not finished closing', () => {
  // Virtual time for the engine's timers only: the open timer and the close bound fire exactly
  // when advanced. PGlite itself (and the data-dir lock's heartbeat) run on real time.
  const OPEN_MS = 1000
  const CLOSE_MS = 500

  /** Start an open and abandon it on its own timer while PGlite is still opening the dir. */
  async function abandonedOpen(dataDir: string): Promise<{e: PGliteEngine; clock: FakeClock}> {
    const clock = new FakeClock(Date.now(), false)
    const e = new PGliteEngine({dataDir, clock, openTimeoutMs: OPEN_MS, closeTimeoutMs: CLOSE_MS, audit: null, spool: null})
    engines.push(e)
    const first = e.connect()
    first.catch(() => {})
    // Marker: the engine started its PGlite instance (and armed its open timer on our clock).
    await waitFor(() => e.instancesOpened === 1, {timeoutMs: 30_000, intervalMs: 1, what: 'the first PGlite instance to start'})
    // The open timer is still armed: PGlite has not finished opening (a settled open clears it).
    expect(clock.requested).toEqual([OPEN_MS])
    expect(clock.pending).toBe(1)
    clock.advance(OPEN_MS)
    const err = await first.catch((x: unknown) => x)
    expect(err).toBeInstanceOf(AttemptTimeoutError)
    return {e, clock}
  }

  const lockDir = (dataDir: string): string => path.join(dataDir, '.gbrain-lock')
  const lockPid = (dataDir: string): number => (JSON.parse(readFileSync(path.join(lockDir(dataDir), 'lock'), 'utf8')) as {pid: number}).pid

  it('a reopen while the abandoned instance is still open fails with PGliteCloseTimeoutError: no second instance, the dir stays locked until the close settles', async () => {
    const dataDir = path.join(home, 'brain.pglite')
    const {e, clock} = await abandonedOpen(dataDir)

    // Everything from the timer firing to here ran in microtasks: PGlite (real I/O, real WASM)
    // cannot have finished opening in between, so the abandoned instance is still pending.
    const second = e.connect()
    second.catch(() => {})
    expect(clock.requested.at(-1)).toBe(OPEN_MS) // the reopen waits, on its own bound, for the old close
    clock.advance(OPEN_MS)
    const err = await second.catch((x: unknown) => x)
    expect(err).toBeInstanceOf(PGliteCloseTimeoutError)
    expect(err).toMatchObject({code: 'PGLITE_CLOSE_TIMEOUT', dataDir})
    expect((err as Error).message).toBe(
      `the previous PGlite instance on ${dataDir} did not close within ${OPEN_MS} ms; not opening a second one on the same data dir`,
    )
    expect(e.instancesOpened).toBe(1) // never a second instance on the dir
    expect(e.health().state).toBe('closed')
    // The dir stays ours while the old instance may still write: a second opener would corrupt it.
    expect(existsSync(lockDir(dataDir))).toBe(true)
    expect(lockPid(dataDir)).toBe(process.pid)

    // Marker: once the abandoned instance finished opening and closed, the lock is given back.
    const t0 = performance.now()
    await waitFor(() => !existsSync(lockDir(dataDir)), {
      timeoutMs: 60_000,
      intervalMs: 20,
      what: 'the lock released after the close settled',
    })
    console.log(`[measure] abandoned PGlite open settled and closed ${Math.round(performance.now() - t0)} ms after the reopen was refused`)
    expect(e.instancesOpened).toBe(1)

    // Now the engine opens normally (a second instance, the only one alive) on the brain the
    // abandoned open created: PostgreSQL 17, as gbrain makes it.
    await e.connect()
    expect(e.instancesOpened).toBe(2)
    expect((await e.query<{n: number}>('select 41 + 1 as n')).rows[0]?.n).toBe(42)
    expect(e.major).toBe(17)
    expect(readFileSync(path.join(dataDir, 'PG_VERSION'), 'utf8').trim()).toBe('17')
    expect(lockPid(dataDir)).toBe(process.pid)
    await e.disconnect({reason: 'exit'})
    expect(existsSync(lockDir(dataDir))).toBe(false)
  }, 90_000)

  it(`disconnect() while the instance is still closing returns after closeTimeoutMs (${CLOSE_MS} ms); the lock is released only when the close settles`, async () => {
    const dataDir = path.join(home, 'brain.pglite')
    const {e, clock} = await abandonedOpen(dataDir)
    let returned = false
    const d = e.disconnect({reason: 'exit'}).then(() => (returned = true))
    expect(clock.requested.at(-1)).toBe(CLOSE_MS) // disconnect waits for the close on its own bound
    await Promise.resolve()
    expect(returned).toBe(false)
    clock.advance(CLOSE_MS)
    await d
    expect(returned).toBe(true)
    // Returned, but the dir is still locked: the instance has not closed yet.
    expect(existsSync(lockDir(dataDir))).toBe(true)
    expect(lockPid(dataDir)).toBe(process.pid)
    expect(e.instancesOpened).toBe(1)
    await waitFor(() => !existsSync(lockDir(dataDir)), {
      timeoutMs: 60_000,
      intervalMs: 20,
      what: 'the lock released after the close settled',
    })
  }, 90_000)
})

// ---------------------------------------------------------------------------------------------
describe('the spool replay lock (<spool>/.replay.lock)', () => {
  const spoolDir = (): string => path.join(home, 'dead-letter')
  const lockFile = (): string => path.join(spoolDir(), '.replay.lock')
  /** Age a file's mtime by `ms` (the lock judges a half-written file by its age). */
  const age = (file: string, ms: number): void => {
    const t = (Date.now() - ms) / 1000
    utimesSync(file, t, t)
  }
  const plant = (body: string, agedMs = 0): void => {
    mkdirSync(spoolDir(), {recursive: true, mode: 0o700})
    writeFileSync(lockFile(), body, {mode: 0o600})
    if (agedMs > 0) age(lockFile(), agedMs)
  }
  const holder = (): {pid: number; started_at: string} => JSON.parse(readFileSync(lockFile(), 'utf8')) as {pid: number; started_at: string}

  async function deadPid(): Promise<number> {
    const c = spawn(process.execPath, ['-e', '0'], {stdio: 'ignore'})
    await new Promise((r) => c.once('exit', r))
    return c.pid!
  }

  it('a lock left by a dead pid is taken over (now naming us); release removes it', async () => {
    const dead = await deadPid()
    plant(JSON.stringify({pid: dead, started_at: new Date(Date.now() - 3_600_000).toISOString()}))
    const release = await acquireLock(lockFile())
    expect(holder().pid).toBe(process.pid)
    expect(Math.abs(Date.parse(holder().started_at) - Date.now())).toBeLessThan(60_000)
    await release()
    expect(existsSync(lockFile())).toBe(false)
  })

  it('a live holder refuses with its pid and its lock is left exactly as it was', async () => {
    const sleeper = spawn('sleep', ['30'], {stdio: 'ignore'})
    try {
      await new Promise((r) => sleeper.once('spawn', r))
      const body = JSON.stringify({pid: sleeper.pid, started_at: new Date().toISOString()})
      plant(body, 3_600_000) // however old: a live holder is never judged by age
      const err = await acquireLock(lockFile()).catch((x: unknown) => x)
      expect(err).toBeInstanceOf(LockedError)
      expect(err).toMatchObject({code: 'LOCKED', pid: sleeper.pid})
      expect((err as Error).message).toBe(`another process (pid ${sleeper.pid}) holds .replay.lock; wait for it to finish`)
      expect(readFileSync(lockFile(), 'utf8')).toBe(body)
    } finally {
      sleeper.kill('SIGKILL')
    }
  })

  it.each([
    ['truncated JSON', '{"pid": 12'],
    ['empty (crashed between create and write)', ''],
  ])(
    'a half-written lock (%s) younger than 5 s may be mid-write: refused and kept; older than 5 s it is taken over',
    async (_label, body) => {
      // lock.ts judges an unparseable lock by its mtime: < 5000 ms old → someone is writing it.
      plant(body)
      const err = await acquireLock(lockFile()).catch((x: unknown) => x)
      expect(err).toBeInstanceOf(LockedError)
      expect(err).toMatchObject({pid: -1})
      expect(readFileSync(lockFile(), 'utf8')).toBe(body)

      age(lockFile(), 5000 + 1000) // 1 s past the 5 s threshold: no clock race with the check
      const release = await acquireLock(lockFile())
      expect(holder().pid).toBe(process.pid)
      await release()
      expect(existsSync(lockFile())).toBe(false)
    },
  )

  it('a parseable lock without a usable pid is stale whatever its age (nothing alive can own it)', async () => {
    for (const body of ['{}', '{"pid": "abc"}', '{"pid": 0}', '{"pid": -5}']) {
      plant(body)
      const release = await acquireLock(lockFile())
      expect(holder().pid, body).toBe(process.pid)
      await release()
    }
  })

  it('replayDeadLetters over a dead holder’s lock lands every entry on the real database, exactly once, and leaves no lock', async () => {
    const spool = new DeadLetterSpool(spoolDir())
    for (let b = 0; b < 3; b++) {
      const rows = rowsFor(`spooled${b}`, 5)
      await spool.write({
        version: SPOOL_FORMAT_VERSION,
        id: `20260101T00000${b}000Z-test-${b}`,
        site: 'test.batch',
        target: `test.${TABLE}`,
        created_at: new Date().toISOString(),
        attempts: 4,
        error: {kind: 'refused', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED'},
        row_count: rows.length,
        rows,
      })
    }
    plant(JSON.stringify({pid: await deadPid(), started_at: new Date().toISOString()}))
    const e = pgEngine(`replay-${process.pid}`)
    const writer = rowsWriter()
    const report = await replayDeadLetters({spool, engine: e, writers: new Map([[writer.target, writer]])})
    expect(report).toMatchObject({entries: 3, corrupt: [], failed: [], pending: 0, rows_sent: 15, rows_inserted: 15})
    expect(await spool.list()).toEqual([])
    expect(existsSync(lockFile())).toBe(false)
    for (let b = 0; b < 3; b++) expect(await countRows(`spooled${b}`)).toBe(5)
  })
})
