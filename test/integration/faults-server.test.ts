/**
 * Server-side fault matrix against a real PostgreSQL 15 (reliability.md, test-harness.md §6
 * scenarios 1–5, 10–12, 18): backend kills, fast/immediate restarts, short and long outages,
 * slot exhaustion, statement_timeout, idle_session_timeout, and bounded disconnect afterwards.
 *
 * Every scenario asserts: rows in the table + rows in the spool = rows sent, no key in both, the
 * rows in the table = the rows the engine reported inserting (a double write shows there: the
 * table's primary key makes count(*) = count(distinct key) true by construction), every batch settled (runWorkload returned, under our own timer), 0 uncaught exceptions and
 * unhandled rejections. Faults are injected from the workload's `onLanded(n)` marker, never by
 * sleeping and hoping; the only timers are a fault's intended duration (the 3 s outage) and the
 * killer loop's period.
 */
import {readFileSync} from 'node:fs'
import path from 'node:path'
import postgres from 'postgres'
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {AuditWriter, readWindow, type BatchRetryRow} from '../../src/engine/audit/index.js'
import {BatchFailedError} from '../../src/engine/base-engine.js'
import {classify} from '../../src/engine/classify.js'
import {PostgresEngine, type PostgresEngineOptions} from '../../src/engine/postgres-engine.js'
import {RetryExhaustedError} from '../../src/engine/retry.js'
import {DeadLetterSpool} from '../../src/engine/spool/dead-letter.js'
import {replayDeadLetters} from '../../src/engine/spool/replay.js'
import type {BatchWriter, Executor} from '../../src/engine/types.js'
import {delay, destroyAll, waitFor, withTimeout} from '../helpers/cleanup.js'
import {probeReadiness, startCluster, type PgCluster, type StopMode} from '../helpers/pg-cluster.js'
import {trackUncaught, type UncaughtTracker} from '../helpers/uncaught.js'
import {
  account,
  createTable,
  makeBatches,
  outcomeProblems,
  rowsWriter,
  runWorkload,
  TABLE,
  type RunReport,
  type WorkRow,
} from '../helpers/workload.js'
import {removeHomes, tempDir} from '../helpers/doctor-kit.js'

/** Per-test bound (ms); every test also bounds its own waits well below it. */
const T = 45_000
/** The workload must settle within this (every batch promise settled). */
const WORKLOAD_BOUND_MS = 30_000
const END_TIMEOUT_MS = 500
/** Base backoff step of the load policy (constant step: jitter none, cap = base). */
const STEP_MS = 100
const LOAD_POLICY = {maxRetries: 40, baseMs: STEP_MS, maxMs: STEP_MS, jitter: 'none'} as const
/** max_connections of the file's cluster: low enough that scenario 10 can fill it quickly. */
const MAX_CONNECTIONS = 20

let cluster: PgCluster
let home: string
let tracker: UncaughtTracker
let serverDown = false
let seq = 0
const engines: PostgresEngine[] = []

function spoolDir(): string {
  return path.join(home, 'dead-letter')
}
function auditDir(): string {
  return path.join(home, 'audit')
}

function engine(extra: Partial<PostgresEngineOptions> = {}): PostgresEngine {
  const e = new PostgresEngine({
    url: cluster.url,
    applicationName: `faults-${process.pid}-${++seq}`,
    poolSize: 4,
    connectTimeoutMs: 2000,
    attemptTimeoutMs: 3000,
    endTimeoutMs: END_TIMEOUT_MS,
    retry: {...LOAD_POLICY},
    audit: new AuditWriter({dir: auditDir()}),
    spool: new DeadLetterSpool(spoolDir()),
    ...extra,
  })
  engines.push(e)
  return e
}

async function batchRetryRows(e: PostgresEngine): Promise<BatchRetryRow[]> {
  await e.audit?.flush()
  const r = await readWindow<BatchRetryRow>({dir: auditDir(), feature: 'batch-retry', windowMs: 3600_000, now: Date.now() + 60_000})
  return r.rows
}

function workload(e: PostgresEngine, batches: WorkRow[][], options: Parameters<typeof runWorkload>[2] = {}): Promise<RunReport> {
  return withTimeout(runWorkload(e, batches, options), WORKLOAD_BOUND_MS, 'workload (every batch settled)')
}

interface Figures {
  sent: number
  landed: number
  spooled: number
  /** Rows whose batch's final attempt found them present (an earlier attempt committed unseen). */
  absorbed: number
  retries: number
  swaps: number
  poolsBuilt: number
  failedReconnects: number
}

/**
 * The invariant of every scenario: table + spool = sent, no key in both, and the table holds
 * exactly what the engine reported: every landed batch's outcome is one a correct run can give
 * (all its rows inserted, or none after a retry whose earlier attempt committed unseen), and
 * count(*) = the rows it reported inserted + those absorbed rows + `replayed` (rows a replay
 * reported inserting). A batch reported failed that lands anyway, or rows written twice by two
 * paths, break the last equation. Returns the figures for the report line.
 */
async function assertExactlyOnce(
  e: PostgresEngine,
  label: string,
  sent: number,
  report: RunReport,
  opts: {url?: string; replayed?: number} = {},
): Promise<Figures> {
  const acc = await account(opts.url ?? cluster.url, spoolDir())
  const retries = (await batchRetryRows(e)).filter((r) => r.outcome === 'success').length
  const h = e.health()
  const figures: Figures = {
    sent,
    landed: acc.inTable,
    spooled: acc.inSpool,
    absorbed: report.absorbedRows,
    retries,
    swaps: h.reconnects.ok,
    poolsBuilt: e.poolsBuilt,
    failedReconnects: h.reconnects.failed,
  }
  console.log(
    `[report] ${label}: sent=${sent} landed=${acc.inTable} spooled=${acc.inSpool} reported-inserted=${report.insertedRows} absorbed=${report.absorbedRows} ` +
      `retries=${retries} swaps=${h.reconnects.ok} poolsBuilt=${e.poolsBuilt} failedReconnects=${h.reconnects.failed}`,
  )
  expect(outcomeProblems(report)).toEqual([])
  expect(acc.inTable).toBe(report.insertedRows + report.absorbedRows + (opts.replayed ?? 0))
  expect(acc.inTable + acc.inSpool).toBe(sent)
  expect(acc.distinctTotal).toBe(sent)
  return figures
}

/** The engine never stays broken once the database is back. */
function expectHealthy(e: PostgresEngine): void {
  const h = e.health()
  expect(h.state).toBe('connected')
  expect(h.consecutive_failures).toBe(0)
  expect(h.failing_since).toBeNull()
}

function total(batches: WorkRow[][]): number {
  return batches.reduce((n, b) => n + b.length, 0)
}

/** The postmaster's status line in postmaster.pid (`ready`, `stopping`, …), undefined when gone. */
function pmStatus(): string | undefined {
  try {
    return readFileSync(path.join(cluster.dir, 'data', 'postmaster.pid'), 'utf8')
      .split('\n')[7]
      ?.trim()
  } catch {
    return undefined
  }
}

async function sessionsOf(applicationName: string): Promise<number> {
  return Number(await cluster.psql(`select count(*) from pg_stat_activity where application_name = '${applicationName}'`))
}

interface Bounce {
  stopInvokedAt: number
  stoppedAt: number
  readyAt: number
  firstAcceptAt: number | undefined
  stopSettled: boolean
}

/** stop(mode), then `pg_ctl start -W` with the readiness prober timestamping ReadyForQuery. */
function bounceServer(mode: StopMode): {times: Bounce; done: Promise<void>} {
  const times: Bounce = {stopInvokedAt: performance.now(), stoppedAt: 0, readyAt: 0, firstAcceptAt: undefined, stopSettled: false}
  serverDown = true
  const done = (async () => {
    try {
      await cluster.stop(mode)
    } finally {
      times.stopSettled = true
    }
    times.stoppedAt = performance.now()
    const [started, probed] = await Promise.allSettled([cluster.startNoWait(), probeReadiness(cluster.port, {timeoutMs: 20_000})])
    if (started.status === 'rejected') throw started.reason
    if (probed.status === 'rejected') throw probed.reason
    times.readyAt = probed.value.readyAt
    times.firstAcceptAt = probed.value.firstAcceptAt
    serverDown = false
  })()
  done.catch(() => {}) // awaited by the test; never unhandled meanwhile
  return {times, done}
}

/**
 * pg_terminate_backend on the engine's sessions every `everyMs` from a dedicated admin
 * connection, bounded in rounds and time. `nextRound()` resolves when the next round begins;
 * the killer then yields one macrotask (so a load resumed by it has put its batch on the wire)
 * before it sends the kill, so each kill meets batches in flight.
 */
function startKiller(applicationName: string, opts: {everyMs: number; maxRounds: number; maxMs: number}) {
  const state = {rounds: 0, killed: 0, errors: 0, finished: false}
  const admin = postgres(cluster.url, {max: 1, fetch_types: false, onnotice: () => {}, connection: {application_name: 'faults-admin'}})
  let waiters: Array<() => void> = []
  const wake = (): void => {
    const w = waiters
    waiters = []
    for (const f of w) f()
  }
  let stopped = false
  const t0 = performance.now()
  const loop = (async () => {
    try {
      await admin.unsafe('select 1')
      while (!stopped && state.rounds < opts.maxRounds && performance.now() - t0 < opts.maxMs) {
        wake()
        await new Promise((resolve) => setImmediate(resolve))
        try {
          const r = await withTimeout(
            admin.unsafe<{n: string}[]>(
              `select count(*) filter (where pg_terminate_backend(pid)) as n from pg_stat_activity where application_name = $1 and backend_type = 'client backend'`,
              [applicationName],
            ),
            5000,
            'kill round',
          )
          state.killed += Number(r[0]!.n)
        } catch {
          state.errors += 1
        }
        state.rounds += 1
        const next = t0 + state.rounds * opts.everyMs
        if (!stopped) await delay(Math.max(1, next - performance.now()))
      }
    } finally {
      state.finished = true
      wake()
      await withTimeout(admin.end({timeout: 1}), 5000, 'killer admin.end').catch(() => {})
    }
  })()
  loop.catch(() => {})
  return {
    state,
    /** Resolves when the next kill round begins (at once when the killer has finished). */
    nextRound(): Promise<void> {
      if (state.finished) return Promise.resolve()
      return new Promise<void>((resolve) => waiters.push(resolve))
    },
    async stop(): Promise<void> {
      stopped = true
      await withTimeout(loop, 10_000, 'killer loop')
    },
  }
}

/** A writer whose single statement sleeps 1 s before inserting (trips statement_timeout). */
function sleepyWriter(table = TABLE): BatchWriter<WorkRow> {
  return {
    target: `test.sleepy.${table}`,
    async write(db: Executor, rows: readonly WorkRow[]): Promise<number> {
      const params: unknown[] = []
      const values = rows.map((r, i) => {
        params.push(r.key, r.batch, r.payload)
        return `($${i * 3 + 1}::text, $${i * 3 + 2}::int, $${i * 3 + 3}::text)`
      })
      const res = await db.query(
        `insert into ${table} (key, batch, payload) select v.key, v.batch, v.payload ` +
          `from (values ${values.join(',')}) as v(key, batch, payload) cross join (select pg_sleep(1)) as s ` +
          `on conflict (key) do nothing`,
        params,
      )
      return res.count
    },
  }
}

beforeAll(async () => {
  cluster = await startCluster({maxConnections: MAX_CONNECTIONS})
}, 60_000)

afterAll(async () => {
  await destroyAll()
}, 60_000)

beforeEach(async () => {
  home = tempDir('gbrain-faults-')
  tracker = trackUncaught()
  await createTable(cluster.url)
})

/**
 * Scenario 18: disconnect() after any fault resolves within its own bound: the end timeout, plus
 * the 1 s backstop the engine puts on end() (postgres-engine.ts retire), + 2 s of stated slack for
 * a loaded 2-core CI machine. A hang shows as the 10 s withTimeout below.
 */
const DISCONNECT_BOUND_MS = END_TIMEOUT_MS + 1000 + 2000

afterEach(async () => {
  const timings = await Promise.all(
    engines.splice(0).map(async (e) => {
      const t0 = performance.now()
      await withTimeout(e.disconnect({reason: 'exit'}), 10_000, 'engine.disconnect')
      return {app: e.applicationName, ms: performance.now() - t0, state: e.health().state}
    }),
  )
  await delay(20) // let Node report any unhandled rejection before we read the tracker
  tracker.stop()
  if (serverDown) {
    await cluster.start()
    serverDown = false
  }
  removeHomes()
  for (const t of timings) {
    console.log(`[measure] disconnect ${t.app}: ${t.ms.toFixed(0)} ms (bound ${DISCONNECT_BOUND_MS} ms)`)
    expect(t.ms).toBeLessThan(DISCONNECT_BOUND_MS)
    expect(t.state).toBe('closed')
  }
  tracker.assertNone()
}, 30_000)

describe('server faults (real PostgreSQL 15)', () => {
  it(
    '1: all idle engine backends terminated, then load: no user-visible error, ≤ 1 retry per op, a swap only if a batch met a dead connection (then exactly one)',
    async () => {
      const e = engine()
      await e.connect()
      await e.run('warm', (db) => Promise.all(Array.from({length: 4}, () => db.query('select pg_sleep(0.02)'))))
      expect(await sessionsOf(e.applicationName)).toBe(4)
      expect(await cluster.terminateBackends(e.applicationName)).toBe(4)
      const swapsBefore = e.health().reconnects.ok
      const builtBefore = e.poolsBuilt

      const batches = makeBatches(20, 100)
      const report = await workload(e, batches, {concurrency: 4})

      expect(report.failedBatches).toEqual([])
      expect(report.spooledBatches).toBe(0)
      expect(report.landedBatches).toBe(20)
      const retries = (await batchRetryRows(e)).filter((r) => r.outcome === 'success')
      // ≤ 1 internal retry per op: a second retry of a batch would be written with attempt 2.
      expect(retries.every((r) => r.attempt === 1)).toBe(true)
      // Zero swaps is legitimate here: postgres.js drops a connection the server closed while idle
      // and opens a new one for the next query, without an error. A swap is needed only when a
      // batch met a dead connection (a retry), and then exactly one is built (single flight).
      const swaps = e.health().reconnects.ok - swapsBefore
      expect(swaps).toBe(retries.length > 0 ? 1 : 0)
      expect(e.poolsBuilt - builtBefore).toBe(swaps)
      expect(report.maxLatencyMs).toBeLessThan(1000)
      console.log(`[measure] idle-kill: max batch latency ${report.maxLatencyMs.toFixed(0)} ms, retries ${retries.length}, swaps ${swaps}`)
      await assertExactlyOnce(e, 'idle-kill', total(batches), report)
      // The kill came before the load: no statement was in flight, so nothing is in doubt and every
      // row was reported inserted by its batch.
      expect(report.absorbedRows).toBe(0)
      expectHealthy(e)
    },
    T,
  )

  it(
    '1b: idle engine backends terminated and the load issued in the same tick: still no user-visible error, ≤ 1 retry per op, a swap only if a batch met a dead connection (then exactly one)',
    async () => {
      const e = engine()
      await e.connect()
      await e.run('warm', (db) => Promise.all(Array.from({length: 4}, () => db.query('select pg_sleep(0.02)'))))
      expect(await sessionsOf(e.applicationName)).toBe(4)
      const admin = postgres(cluster.url, {max: 1, fetch_types: false, onnotice: () => {}, connection: {application_name: 'faults-admin'}})
      try {
        await admin.unsafe('select 1')
        const swapsBefore = e.health().reconnects.ok
        const builtBefore = e.poolsBuilt
        const batches = makeBatches(20, 100)
        // pg_terminate_backend returns once the signal is sent: the load starts in the tick the
        // result arrives, racing the backends' FATAL 57P01 and socket close (postgres-driver.md §1.4).
        const killed = await admin.unsafe<{n: string}[]>(
          `select count(*) filter (where pg_terminate_backend(pid)) as n from pg_stat_activity where application_name = $1 and backend_type = 'client backend'`,
          [e.applicationName],
        )
        const report = await workload(e, batches, {concurrency: 4})
        expect(Number(killed[0]!.n)).toBe(4)
        expect(report.failedBatches).toEqual([])
        expect(report.spooledBatches).toBe(0)
        expect(report.landedBatches).toBe(20)
        const retries = (await batchRetryRows(e)).filter((r) => r.outcome === 'success')
        expect(retries.every((r) => r.attempt === 1)).toBe(true)
        // As in 1: zero swaps when postgres.js saw the closes before the load (it reconnects idle
        // connections by itself); exactly one when a batch met a dead connection (single flight).
        const swaps = e.health().reconnects.ok - swapsBefore
        expect(swaps).toBe(retries.length > 0 ? 1 : 0)
        expect(e.poolsBuilt - builtBefore).toBe(swaps)
        console.log(
          `[measure] idle-kill-same-tick: max batch latency ${report.maxLatencyMs.toFixed(0)} ms, retries ${retries.length} (${retries.map((r) => r.error_code ?? '?').join(',')}), swaps ${swaps}`,
        )
        await assertExactlyOnce(e, 'idle-kill-same-tick', total(batches), report)
        expectHealthy(e)
      } finally {
        await withTimeout(admin.end({timeout: 1}), 5000, 'admin.end')
      }
    },
    T,
  )

  it(
    '2: backends killed every 150 ms during a 10k-row load: 0 lost, 0 duplicated, 0 spooled',
    async () => {
      const e = engine()
      await e.connect()
      const batches = makeBatches(40, 250)
      const killer = startKiller(e.applicationName, {everyMs: 150, maxRounds: 80, maxMs: 15_000})
      const t0 = performance.now()
      let gate: Promise<void> = Promise.resolve()
      let report: RunReport
      try {
        report = await workload(e, batches, {
          concurrency: 2,
          // Pace the load against the killer deterministically: every 4th landed batch, the load
          // waits for the next kill round to begin and resumes just before that kill is sent, so
          // every kill meets batches in flight however fast the load runs between kills.
          onLanded: async (n) => {
            if (n % 4 === 0) gate = withTimeout(killer.nextRound(), 5000, 'next kill round')
            await gate
          },
        })
      } finally {
        await killer.stop()
      }
      const wall = performance.now() - t0
      expect(report.failedBatches).toEqual([])
      expect(report.spooledBatches).toBe(0)
      expect(report.landedBatches).toBe(40)
      expect(killer.state.rounds).toBeGreaterThanOrEqual(9)
      expect(killer.state.errors).toBe(0)
      expect(killer.state.killed).toBeGreaterThan(0)
      const f = await assertExactlyOnce(e, 'kill-loop', total(batches), report)
      expectHealthy(e)
      expect(f.spooled).toBe(0)
      expect(f.retries).toBeGreaterThan(0) // the kills met batches in flight
      console.log(
        `[measure] kill-loop: ${killer.state.rounds} kill rounds, ${killer.state.killed} backends killed, ` +
          `${f.retries} retries, ${f.swaps} swaps, ${f.poolsBuilt} pools built, wall ${wall.toFixed(0)} ms, max batch latency ${report.maxLatencyMs.toFixed(0)} ms`,
      )
    },
    T,
  )

  for (const [num, mode, label] of [
    [3, 'fast', 'restart-fast'],
    [4, 'immediate', 'restart-immediate'],
  ] as const) {
    it(
      `${num}: pg_ctl stop -m ${mode} + start during the load: exactly-once rows, first landed batch within one backoff step of ready`,
      async () => {
        const e = engine()
        await e.connect()
        const batches = makeBatches(40, 250)
        let bounce: ReturnType<typeof bounceServer> | undefined
        let report: RunReport
        try {
          report = await workload(e, batches, {
            concurrency: 2,
            onLanded: async (n) => {
              if (n === 5) bounce = bounceServer(mode) // not awaited: the load keeps running through it
              // From batch 15 on, wait until the shutdown has begun, so the rest of the load
              // (≥ 24 batches) is guaranteed to meet the outage and the restart.
              if (n >= 15 && bounce) {
                const b = bounce
                await waitFor(
                  () => {
                    const status = b.times.stopSettled ? undefined : pmStatus()
                    return status === 'stopping' || status === undefined
                  },
                  {timeoutMs: 10_000, intervalMs: 2, what: 'shutdown begun'},
                )
              }
            },
          })
        } finally {
          await bounce?.done
        }
        expect(bounce).toBeDefined()
        const times = bounce!.times
        expect(report.failedBatches).toEqual([])
        expect(report.spooledBatches).toBe(0)
        expect(report.landedBatches).toBe(40)
        const first = report.landedAt.find((t) => t > times.stoppedAt)
        expect(first, 'a batch landed after the restart').toBeDefined()
        const gap = first! - times.readyAt
        const f = await assertExactlyOnce(e, label, total(batches), report)
        expectHealthy(e)
        expect(f.spooled).toBe(0)
        expect(f.retries).toBeGreaterThan(0)
        expect(f.swaps).toBeGreaterThanOrEqual(1) // the batches after the restart landed on a rebuilt pool
        console.log(
          `[measure] ${label}: first landed batch ${gap.toFixed(0)} ms after ready ` +
            `(stop took ${(times.stoppedAt - times.stopInvokedAt).toFixed(0)} ms, ready ${(times.readyAt - times.stoppedAt).toFixed(0)} ms after stop returned, backoff step ${STEP_MS} ms)`,
        )
        expect(gap).toBeLessThan(1000)
      },
      T,
    )
  }

  it(
    '5a: short outage (3 s down) within the retry budget: every batch lands, spool empty, recovered rows',
    async () => {
      // Budget: retry 1 at once, then 1000 ms steps: 7 s of sleeps > the 3 s outage + start.
      const e = engine({retry: {maxRetries: 8, baseMs: 500, maxMs: 1000, jitter: 'none'}})
      await e.connect()
      const batches = makeBatches(12, 100)
      let restarted: Promise<void> | undefined
      let stoppedAt = 0
      let report: RunReport
      try {
        report = await workload(e, batches, {
          onLanded: async (n) => {
            if (n !== 5) return
            serverDown = true
            await cluster.stop('fast')
            stoppedAt = performance.now()
            // The timer is the fault's duration, not a guess about timing.
            restarted = delay(3000).then(async () => {
              await cluster.start()
              serverDown = false
            })
            restarted.catch(() => {})
          },
        })
      } finally {
        await restarted
      }
      expect(report.failedBatches).toEqual([])
      expect(report.spooledBatches).toBe(0)
      expect(report.landedBatches).toBe(12)
      const rows = await batchRetryRows(e)
      expect(rows.filter((r) => r.outcome === 'exhausted')).toEqual([])
      expect(rows.filter((r) => r.outcome === 'recovered').length).toBeGreaterThanOrEqual(1)
      const first = report.landedAt.find((t) => t > stoppedAt)!
      console.log(
        `[measure] short-outage: batch 6 landed ${(first - stoppedAt).toFixed(0)} ms after the stop (3000 ms down), max batch latency ${report.maxLatencyMs.toFixed(0)} ms`,
      )
      const f = await assertExactlyOnce(e, 'short-outage', total(batches), report)
      expectHealthy(e)
      expect(f.spooled).toBe(0)
      expect(report.absorbedRows).toBe(0) // the stop came between batches: nothing was in doubt
    },
    T,
  )

  it(
    '5b: long outage past the budget: batches end within budget + one attempt, spooled, replay lands them exactly once',
    async () => {
      const policy = {maxRetries: 2, baseMs: 50, maxMs: 100, jitter: 'none'} as const
      const attemptTimeoutMs = 2000
      const e = engine({retry: {...policy}, connectTimeoutMs: 1000, attemptTimeoutMs})
      await e.connect()
      const batches = makeBatches(12, 100)
      const landedBeforeStop = 4
      const report = await workload(e, batches, {
        onLanded: async (n) => {
          if (n !== landedBeforeStop) return
          serverDown = true
          await cluster.stop('fast') // stays down until the workload has finished
        },
      })
      const spooledBatches = batches.length - landedBeforeStop
      expect(report.failedBatches).toEqual([])
      expect(report.landedBatches).toBe(landedBeforeStop)
      expect(report.spooledBatches).toBe(spooledBatches)
      // Budget = sleeps (retry 1 at once, retry 2 sleeps min(100, 50·2) = 100 ms) + one attempt timeout.
      const bound = 100 + attemptTimeoutMs
      expect(report.maxLatencyMs).toBeLessThan(bound)
      console.log(`[measure] long-outage: slowest batch ended in ${report.maxLatencyMs.toFixed(0)} ms (bound ${bound} ms)`)

      const rows = await batchRetryRows(e)
      const exhausted = rows.filter((r) => r.outcome === 'exhausted')
      expect(exhausted).toHaveLength(spooledBatches)
      const spool = new DeadLetterSpool(spoolDir())
      const ids = new Set((await spool.list()).map((l) => l.id))
      expect(ids.size).toBe(spooledBatches)
      for (const r of exhausted) {
        expect(r.spooled).toBe(true)
        expect(r.attempt).toBe(policy.maxRetries + 1)
        expect(typeof r.dead_letter_id).toBe('string')
        expect(ids.has(r.dead_letter_id!)).toBe(true)
      }
      for (const id of ids) {
        const entry = await spool.read(id)
        expect(entry.attempts).toBe(policy.maxRetries + 1)
        expect(entry.target).toBe(rowsWriter().target)
        // The real cause (server unavailable), not the `No database connection` symptom.
        expect(entry.error.kind).toBe('refused')
        expect(entry.error.code).toBe('ECONNREFUSED')
      }
      let spooledRows = 0
      for (const id of ids) spooledRows += (await spool.read(id)).row_count
      expect(spooledRows).toBe(spooledBatches * 100)
      expect(e.health().state).toBe('broken')
      expect(e.health().last_error?.kind).toBe('refused')
      console.log(
        `[report] long-outage (server down): sent=${total(batches)} landed=${landedBeforeStop * 100} spooled=${spooledRows} exhausted-rows=${exhausted.length} attempts-each=${policy.maxRetries + 1}`,
      )

      await cluster.start()
      serverDown = false
      const writer = rowsWriter()
      const writers = new Map<string, BatchWriter<unknown>>([[writer.target, writer]])
      const replay = await withTimeout(replayDeadLetters({spool, engine: e, writers}), 20_000, 'replay')
      expect(replay.failed).toEqual([])
      expect(replay.corrupt).toEqual([])
      expect(replay.pending).toBe(0)
      expect(replay.replayed).toHaveLength(spooledBatches)
      expect(replay.rows_sent).toBe(spooledBatches * 100)
      expect(replay.rows_inserted).toBe(spooledBatches * 100)
      expect(await spool.list()).toEqual([])
      const after = await assertExactlyOnce(e, 'long-outage (after replay)', total(batches), report, {replayed: replay.rows_inserted})
      expect(after.landed).toBe(total(batches))
      expect(after.spooled).toBe(0)
      expectHealthy(e)

      const again = await withTimeout(replayDeadLetters({spool, engine: e, writers}), 10_000, 'second replay')
      expect(again.entries).toBe(0)
      expect(again.replayed).toEqual([])
      expect(again.rows_inserted).toBe(0)
    },
    T,
  )

  it(
    '10: max_connections exhausted: 53300 is retried and the batch lands once slots free',
    async () => {
      // Start from a quiet server: only this psql session may hold a slot.
      await waitFor(
        async () =>
          Number(
            await cluster.psql(`select count(*) from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid()`),
          ) === 0,
        {timeoutMs: 10_000, intervalMs: 50, what: 'no other client backends'},
      )
      const filler = postgres(cluster.url, {
        max: MAX_CONNECTIONS + 10,
        fetch_types: false,
        onnotice: () => {},
        connection: {application_name: 'filler'},
      })
      let fillerEnded = false
      const endFiller = async (): Promise<void> => {
        if (fillerEnded) return
        fillerEnded = true
        await withTimeout(filler.end({timeout: 1}), 5000, 'filler.end')
      }
      let pending: Promise<RunReport> | undefined
      try {
        // Warm every filler connection concurrently until the filler itself is refused with 53300:
        // then every slot (superuser-reserved ones included) is taken.
        let refused = false
        for (let round = 0; round < 10 && !refused; round++) {
          const results = await withTimeout(
            Promise.allSettled(Array.from({length: MAX_CONNECTIONS + 10}, () => filler.unsafe('select pg_sleep(0.05)'))),
            10_000,
            'filler warm-up',
          )
          refused = results.some((r) => r.status === 'rejected' && (r.reason as {code?: string}).code === '53300')
        }
        expect(refused).toBe(true)
        const held = Number(
          (await filler.unsafe<{n: string}[]>(`select count(*) as n from pg_stat_activity where backend_type = 'client backend'`))[0]!.n,
        )
        expect(held).toBe(MAX_CONNECTIONS)

        const e = engine({poolSize: 2})
        const batches = makeBatches(10, 100)
        let releasedAt = 0
        pending = workload(e, batches)
        // Release the slots from the marker of the first retry (its audit row), not after a sleep.
        await waitFor(async () => (await batchRetryRows(e)).some((r) => r.outcome === 'success' && r.error_code === '53300'), {
          timeoutMs: 10_000,
          intervalMs: 10,
          what: 'a batch-retry row with error_code 53300',
        })
        releasedAt = performance.now()
        await endFiller()
        const report = await pending
        pending = undefined
        expect(report.failedBatches).toEqual([])
        expect(report.spooledBatches).toBe(0)
        expect(report.landedBatches).toBe(10)
        const rows = await batchRetryRows(e)
        expect(rows.some((r) => r.outcome === 'success' && r.error_code === '53300')).toBe(true)
        expect(rows.some((r) => r.outcome === 'recovered')).toBe(true)
        expect(rows.filter((r) => r.outcome === 'exhausted')).toEqual([])
        const first = report.landedAt[0]!
        console.log(
          `[measure] slot-exhaustion: first landed batch ${(first - releasedAt).toFixed(0)} ms after slots freed (backoff step ${STEP_MS} ms)`,
        )
        expect(first - releasedAt).toBeLessThan(1000 + 1000) // filler.end itself is inside this window
        const f = await assertExactlyOnce(e, 'slot-exhaustion', total(batches), report)
        expectHealthy(e)
        expect(f.spooled).toBe(0)
        expect(report.absorbedRows).toBe(0) // refused at connect: no statement ever ran twice
      } finally {
        await endFiller()
        await pending?.catch(() => undefined)
      }
    },
    T,
  )

  it(
    '11: statement_timeout (57014) is not retried, is reported as such, and the connection stays usable',
    async () => {
      const db = `faults_st_${++seq}`
      await cluster.psql(`create database ${db}`)
      await cluster.psql(`alter database ${db} set statement_timeout = '200ms'`)
      const url = cluster.urlFor(db)
      await createTable(url)
      const e = engine({url})
      await e.connect()
      const builtBefore = e.poolsBuilt

      // The run path: fails once, with the raw 57014, no retry wrapper.
      const t0 = performance.now()
      const err = await e.run('slow', (x) => x.query('select pg_sleep(1)')).catch((x: unknown) => x)
      const elapsed = performance.now() - t0
      expect(err).not.toBeInstanceOf(RetryExhaustedError)
      const c = classify(err)
      expect(c.kind).toBe('statement_timeout')
      expect(c.code).toBe('57014')
      expect(c.retryable).toBe(false)
      expect(elapsed).toBeLessThan(900) // 200 ms timeout, no second 200 ms attempt, no backoff

      // The batch path: one attempt, no batch-retry 'success' row, spooled with the real cause.
      const sleepy = sleepyWriter()
      const slow = makeBatches(1, 50, 'st')[0]!
      const berr = await e.batch('test.sleepy', slow, sleepy).catch((x: unknown) => x)
      expect(berr).toBeInstanceOf(BatchFailedError)
      const bf = berr as BatchFailedError
      expect(bf.code).toBe('BATCH_SPOOLED')
      expect(bf.attempts).toBe(1)
      expect(bf.classified.kind).toBe('statement_timeout')
      const rows = await batchRetryRows(e)
      expect(rows.filter((r) => r.outcome === 'success')).toEqual([])
      expect(rows.map((r) => [r.outcome, r.attempt, r.error_code, r.spooled])).toEqual([['exhausted', 1, '57014', true]])

      // The connection stays usable: the next query runs on a session that was already open (no
      // new connection, no pool swap). Proven by the backend's pid, not by how fast it answers.
      const open = (await cluster.psql(`select pid from pg_stat_activity where application_name = '${e.applicationName}'`))
        .split('\n')
        .map(Number)
      expect(open.length).toBeGreaterThan(0)
      const next = await e.query<{n: number; pid: number}>('select 1 as n, pg_backend_pid() as pid')
      expect(next.rows[0]?.n).toBe(1)
      expect(open).toContain(next.rows[0]?.pid)
      expect(e.poolsBuilt).toBe(builtBefore)
      expect(e.health().reconnects).toEqual({ok: 0, failed: 0})
      expect(e.health().state).toBe('connected')
      const batches = makeBatches(4, 50)
      const report = await workload(e, batches)
      expect(report.failedBatches).toEqual([])
      expect(report.spooledBatches).toBe(0)
      await assertExactlyOnce(e, 'statement-timeout', total(batches) + slow.length, report, {url})
      expect(report.absorbedRows).toBe(0)

      // The spooled batch replays (with a fast writer under the same target) exactly once.
      const writers = new Map<string, BatchWriter<unknown>>([[sleepy.target, rowsWriter()]])
      const replay = await withTimeout(replayDeadLetters({spool: new DeadLetterSpool(spoolDir()), engine: e, writers}), 10_000, 'replay')
      expect(replay.rows_inserted).toBe(slow.length)
      const f = await assertExactlyOnce(e, 'statement-timeout (after replay)', total(batches) + slow.length, report, {
        url,
        replayed: replay.rows_inserted,
      })
      expect(f.spooled).toBe(0)
    },
    T,
  )

  it(
    '12: idle_session_timeout closes the idle sessions; the next batch succeeds without a user-visible error',
    async () => {
      const db = `faults_idle_${++seq}`
      await cluster.psql(`create database ${db}`)
      await cluster.psql(`alter database ${db} set idle_session_timeout = '300ms'`)
      const url = cluster.urlFor(db)
      await createTable(url)
      const e = engine({url})
      await e.connect()
      const warm = await e.run('warm', (x) =>
        Promise.all(Array.from({length: 4}, () => x.query<{pid: number}>('select pg_backend_pid() as pid, pg_sleep(0.02)'))),
      )
      expect(new Set(warm.map((r) => r.rows[0]!.pid)).size).toBe(4)
      const t0 = performance.now()
      await waitFor(async () => (await sessionsOf(e.applicationName)) === 0, {
        timeoutMs: 5000,
        intervalMs: 50,
        what: 'idle sessions closed by the server',
      })
      const goneAt = performance.now()

      const batches = makeBatches(10, 100)
      const report = await workload(e, batches, {concurrency: 2})
      expect(report.failedBatches).toEqual([])
      expect(report.spooledBatches).toBe(0)
      expect(report.landedBatches).toBe(10)
      const retries = (await batchRetryRows(e)).filter((r) => r.outcome === 'success')
      expect(retries.every((r) => r.attempt === 1)).toBe(true)
      console.log(
        `[measure] idle-session-timeout: sessions gone ${(goneAt - t0).toFixed(0)} ms after warm-up; first batch landed ${(report.landedAt[0]! - goneAt).toFixed(0)} ms later; retries ${retries.length}`,
      )
      await assertExactlyOnce(e, 'idle-session-timeout', total(batches), report, {url})
      expect(report.absorbedRows).toBe(0) // the sessions were closed while idle: nothing in doubt
      expectHealthy(e)
    },
    T,
  )
})
