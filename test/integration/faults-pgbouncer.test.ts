/**
 * Fault matrix behind PgBouncer 1.18 in transaction mode (test-harness.md §5.2 and §6, scenarios
 * 13–16): the engine's URL is the pooler's with `?prepare=false` (16 drops it on purpose);
 * accounting goes DIRECT to the cluster. Faults come from the workload's `onLanded(n)` marker;
 * the only timers are the ones that define a fault (how long the pooler stays paused).
 *
 * Every scenario: rows in table + rows in spool = rows sent, no key in both, the rows in the table =
 * the rows the engine reported inserting (see workload.ts), every promise settled, 0 uncaught
 * exceptions / unhandled rejections, bounded time; disconnect() bounded (afterEach).
 */
import {} from 'node:fs'
import path from 'node:path'
import postgres from 'postgres'
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {AuditWriter} from '../../src/engine/audit/index.js'
import {PostgresEngine, type PostgresEngineOptions} from '../../src/engine/postgres-engine.js'
import {DeadLetterSpool} from '../../src/engine/spool/dead-letter.js'
import {replayDeadLetters} from '../../src/engine/spool/replay.js'
import type {BatchWriter} from '../../src/engine/types.js'
import {delay, destroyAll, waitFor, withTimeout} from '../helpers/cleanup.js'
import {allSettledWithin, retryCounts, runBatchesWith, slowRowsWriter, timed} from '../helpers/fault-kit.js'
import {startCluster, type PgCluster} from '../helpers/pg-cluster.js'
import {startPgBouncer, type PgBouncer} from '../helpers/pgbouncer.js'
import {trackUncaught, type UncaughtTracker} from '../helpers/uncaught.js'
import {account, createTable, makeBatches, outcomeProblems, rowsWriter, runWorkload, type RunReport} from '../helpers/workload.js'
import {removeHomes, tempDir} from '../helpers/doctor-kit.js'

const CONNECT_TIMEOUT_MS = 1000
const ATTEMPT_TIMEOUT_MS = 2000
const END_TIMEOUT_MS = 500
/**
 * disconnect()'s own bound: the end timeout plus the 1 s backstop the engine puts on end()
 * (postgres-engine.ts retire), + 2 s of stated slack for a loaded 2-core CI machine.
 */
const DISCONNECT_BOUND_MS = END_TIMEOUT_MS + 1000 + 2000
const RETRY = {maxRetries: 4, baseMs: 100, maxMs: 500, jitter: 'decorrelated' as const}

let cluster: PgCluster
let bouncer: PgBouncer
let home: string
let tracker: UncaughtTracker
const engines: PostgresEngine[] = []
/** Background fault steps (a scheduled RESUME, a pooler restart): awaited before teardown. */
let pending: Promise<unknown>[] = []

function engine(extra: Partial<PostgresEngineOptions> = {}): PostgresEngine {
  const e = new PostgresEngine({
    url: `${bouncer.url}?prepare=false`,
    env: {}, // no GBRAIN_PREPARE from the outside
    applicationName: `faults-pgb-${engines.length}`,
    poolSize: 4,
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
    attemptTimeoutMs: ATTEMPT_TIMEOUT_MS,
    endTimeoutMs: END_TIMEOUT_MS,
    retry: {...RETRY},
    audit: new AuditWriter({dir: path.join(home, 'audit')}),
    spool: new DeadLetterSpool(path.join(home, 'dead-letter')),
    ...extra,
  })
  engines.push(e)
  return e
}

/**
 * Run `step` after `ms` in the background; the test awaits it (and teardown awaits it too).
 * Resolves with when the step was issued and when it returned (performance.now()).
 */
function after(ms: number, step: () => Promise<unknown>): Promise<{issuedAt: number; doneAt: number}> {
  let issuedAt = 0
  const p = delay(ms)
    .then(() => {
      issuedAt = performance.now()
      return step()
    })
    .then(() => ({issuedAt, doneAt: performance.now()}))
  pending.push(p.catch(() => undefined))
  return p
}

/**
 * Table + spool = sent, no key in both, nothing spooled unless said otherwise, and the table holds
 * exactly what the engine reported: each landed batch inserted all its rows (or none after a retry
 * whose earlier attempt committed unseen), count(*) = rows reported inserted + those absorbed rows
 * + `replayed` (rows a replay reported inserting). The table's primary key makes a duplicate row
 * impossible, so a double write can only show in these counts.
 */
async function expectExactlyOnce(
  sent: number,
  report: RunReport,
  opts: {spooled?: number; replayed?: number} = {},
): Promise<Awaited<ReturnType<typeof account>>> {
  const acc = await account(cluster.url, path.join(home, 'dead-letter'))
  expect(acc.inTable + acc.inSpool).toBe(sent)
  expect(acc.distinctTotal).toBe(sent)
  expect(acc.inSpool).toBe(opts.spooled ?? 0)
  expect(outcomeProblems(report)).toEqual([])
  expect(acc.inTable).toBe(report.insertedRows + report.absorbedRows + (opts.replayed ?? 0))
  return acc
}

/** The clients PgBouncer holds for one application_name, and their states (SHOW CLIENTS). */
async function poolerClients(applicationName: string): Promise<string[]> {
  const out = await bouncer.admin('SHOW CLIENTS')
  // -At columns: type|user|database|state|addr|port|…|application_name (last).
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('|'))
    .filter((f) => f.at(-1) === applicationName)
    .map((f) => f[3]!)
}

async function clusterUp(): Promise<boolean> {
  return cluster.psql('select 1').then(
    () => true,
    () => false,
  )
}

/** Wait until a query through the pooler succeeds (a condition, bounded), with a throwaway client. */
async function poolerServes(): Promise<void> {
  const sql = postgres(bouncer.url, {
    max: 1,
    prepare: false,
    fetch_types: false,
    connect_timeout: 2,
    onnotice: () => {},
    connection: {application_name: 'admin'},
  })
  try {
    await waitFor(() => withTimeout(sql.unsafe('select 1'), 2000, 'select 1 via pgbouncer').then(() => true), {
      timeoutMs: 10_000,
      intervalMs: 50,
      what: 'pgbouncer serves queries',
    })
  } finally {
    await withTimeout(sql.end({timeout: 1}), 3000, 'end').catch(() => undefined)
  }
}

beforeAll(async () => {
  cluster = await startCluster()
  bouncer = await startPgBouncer(cluster, {poolMode: 'transaction', defaultPoolSize: 4})
}, 60_000)

afterAll(async () => {
  await destroyAll()
}, 60_000)

beforeEach(async () => {
  home = tempDir('gbrain-home-')
  tracker = trackUncaught()
  pending = []
  await createTable(cluster.url)
})

// 18. disconnect() after each scenario resolves within its own bound (DISCONNECT_BOUND_MS).
afterEach(async () => {
  try {
    await withTimeout(Promise.all(pending), 15_000, 'background fault steps')
    const results = await Promise.all(engines.splice(0).map((e) => timed(e.disconnect({reason: 'exit'}))))
    for (const r of results) {
      expect(r.ok).toBe(true)
      expect(r.ms).toBeLessThan(DISCONNECT_BOUND_MS)
    }
  } finally {
    // Leave the pooler and the server as the next scenario expects them.
    if (!(await clusterUp())) await cluster.start()
    if (bouncer.pid() === undefined) await bouncer.start()
    await bouncer.admin('RESUME postgres').catch(() => undefined) // "not paused" is fine
    await poolerServes() // e.g. server_login_retry after an outage
    await delay(0)
    tracker.stop()
    removeHomes()
  }
  tracker.assertNone()
}, 30_000)

describe('faults behind PgBouncer (transaction mode, prepare=false)', () => {
  it('13: PAUSE → RESUME mid-load: ops wait and succeed, no attempt timeout, no retry', async () => {
    const PAUSE_MS = 500
    expect(ATTEMPT_TIMEOUT_MS).toBeGreaterThan(PAUSE_MS + 500)
    const e = engine()
    await e.connect()
    const gen0 = e.health().generation
    let resumed: Promise<{issuedAt: number; doneAt: number}> | undefined
    let pausedAt = 0
    const report = await withTimeout(
      runWorkload(e, makeBatches(20, 50, 's13'), {
        onLanded: async (n) => {
          if (n !== 5) return
          await bouncer.admin('PAUSE postgres')
          pausedAt = performance.now()
          resumed = after(PAUSE_MS, () => bouncer.admin('RESUME postgres'))
        },
      }),
      30_000,
      'workload',
    )
    const {issuedAt: resumedAt} = await withTimeout(resumed!, 5000, 'RESUME')
    expect(report.failedBatches).toEqual([])
    expect(report.spooledBatches).toBe(0)
    // The batch issued during the pause waited for RESUME, then went through on the first attempt.
    const firstAfterResume = report.landedAt.find((t) => t > pausedAt)!
    expect(firstAfterResume).toBeGreaterThanOrEqual(resumedAt)
    expect(report.maxLatencyMs).toBeGreaterThanOrEqual(PAUSE_MS - 100)
    expect(report.maxLatencyMs).toBeLessThan(ATTEMPT_TIMEOUT_MS)
    await e.audit!.flush()
    const rc = await retryCounts(home)
    expect(rc).toMatchObject({retries: 0, recovered: 0, exhausted: 0})
    expect(e.health().generation).toBe(gen0)
    await expectExactlyOnce(1000, report)
    expect(report.absorbedRows).toBe(0) // nothing failed, so nothing was in doubt
    console.log(
      `[13] sent=1000 landed=1000 spooled=0 dup=0 retries=0 swaps=0 paused=${(resumedAt - pausedAt).toFixed(0)}ms ` +
        `maxLatency=${report.maxLatencyMs.toFixed(0)}ms`,
    )
  }, 40_000)

  it('14a: KILL postgres with a batch in flight, then RESUME: 08P01 / CONNECTION_CLOSED retried, all land exactly once', async () => {
    const e = engine()
    await e.connect()
    const gen0 = e.health().generation
    // Batch #5 takes 1 s on the server (< the 2 s attempt timer); KILL hits it while it runs
    // (marker: the statement is active in pg_stat_activity).
    const writer = slowRowsWriter((rows) => rows[0]?.batch === 5, 1)
    let resumed: Promise<{issuedAt: number; doneAt: number}> | undefined
    let killedAt = 0
    const killer = waitFor(
      async () =>
        (await cluster.psql(`select count(*) from pg_stat_activity where query like '/* slow-batch */%' and state = 'active'`)) !== '0',
      {
        timeoutMs: 15_000,
        intervalMs: 10,
        what: 'slow batch in flight',
      },
    ).then(async () => {
      await bouncer.admin('KILL postgres')
      killedAt = performance.now()
      resumed = after(300, () => bouncer.admin('RESUME postgres'))
    })
    pending.push(killer.catch(() => undefined))
    const report = await withTimeout(runBatchesWith(e, makeBatches(20, 50, 's14a'), writer), 30_000, 'workload')
    await withTimeout(killer, 1000, 'KILL')
    const {issuedAt: resumedAt} = await withTimeout(resumed!, 5000, 'RESUME')
    expect(report.failedBatches).toEqual([])
    expect(report.spooledBatches).toBe(0)
    await e.audit!.flush()
    const rc = await retryCounts(home)
    expect(rc.retries).toBeGreaterThanOrEqual(1)
    expect(rc.recovered).toBeGreaterThanOrEqual(1)
    expect(rc.exhausted).toBe(0)
    // The kill itself surfaces as CONNECTION_CLOSED / 08P01; a rebuild probe that waits on the
    // killed database past its own timer adds ATTEMPT_TIMEOUT. All retried.
    expect(rc.codes.some((c) => c === '08P01' || c === 'CONNECTION_CLOSED')).toBe(true)
    for (const code of rc.codes) expect(['08P01', 'CONNECTION_CLOSED', 'ECONNRESET', 'ATTEMPT_TIMEOUT']).toContain(code)
    await expectExactlyOnce(1000, report)
    const firstAfter = report.landedAt.find((t) => t > killedAt)!
    console.log(
      `[14a] sent=1000 landed=1000 spooled=0 dup=0 retries=${rc.retries} (${rc.codes.join(',')}) swaps=${e.health().generation - gen0} ` +
        `firstWriteAfterResume=+${(firstAfter - resumedAt).toFixed(0)}ms maxLatency=${report.maxLatencyMs.toFixed(0)}ms`,
    )
  }, 40_000)

  it('14b: RECONNECT postgres mid-load is transparent', async () => {
    const e = engine()
    await e.connect()
    const gen0 = e.health().generation
    const report = await withTimeout(
      runWorkload(e, makeBatches(20, 50, 's14b'), {
        concurrency: 4,
        onLanded: async (n) => {
          if (n === 5) await bouncer.admin('RECONNECT postgres')
        },
      }),
      30_000,
      'workload',
    )
    expect(report.failedBatches).toEqual([])
    expect(report.spooledBatches).toBe(0)
    await e.audit!.flush()
    const rc = await retryCounts(home)
    expect(rc).toMatchObject({retries: 0, exhausted: 0})
    expect(e.health().generation).toBe(gen0)
    await expectExactlyOnce(1000, report)
    expect(report.absorbedRows).toBe(0)
    console.log(`[14b] sent=1000 landed=1000 spooled=0 dup=0 retries=0 swaps=0 maxLatency=${report.maxLatencyMs.toFixed(0)}ms`)
  }, 40_000)

  it('14c: PgBouncer shut down and restarted mid-load: the retry budget covers the restart, all land', async () => {
    const policy = {maxRetries: 8, baseMs: 100, maxMs: 500, jitter: 'decorrelated' as const}
    const e = engine({retry: policy})
    await e.connect()
    const gen0 = e.health().generation
    let restarted: Promise<{issuedAt: number; doneAt: number}> | undefined
    let stoppedAt = 0
    const report = await withTimeout(
      runWorkload(e, makeBatches(20, 50, 's14c'), {
        onLanded: async (n) => {
          if (n !== 5) return
          await bouncer.stop()
          stoppedAt = performance.now()
          restarted = after(0, () => bouncer.start())
        },
      }),
      30_000,
      'workload',
    )
    const {doneAt: restartedAt} = await withTimeout(restarted!, 15_000, 'pgbouncer restart')
    expect(report.failedBatches).toEqual([])
    expect(report.spooledBatches).toBe(0)
    await e.audit!.flush()
    const rc = await retryCounts(home)
    expect(rc.retries).toBeGreaterThanOrEqual(1)
    expect(rc.exhausted).toBe(0)
    expect(e.health().generation).toBeGreaterThan(gen0)
    await expectExactlyOnce(1000, report)
    expect(report.absorbedRows).toBe(0) // the pooler went down between batches: nothing was in flight
    const firstAfter = report.landedAt.find((t) => t > stoppedAt)!
    console.log(
      `[14c] sent=1000 landed=1000 spooled=0 dup=0 retries=${rc.retries} (${rc.codes.join(',')}) swaps=${e.health().generation - gen0} ` +
        `down=${(restartedAt - stoppedAt).toFixed(0)}ms firstWriteAfterRestart=+${(firstAfter - restartedAt).toFixed(0)}ms maxLatency=${report.maxLatencyMs.toFixed(0)}ms`,
    )
  }, 40_000)

  it('15: PostgreSQL down behind PgBouncer: the attempt timer fires long before query_wait_timeout, rows spooled, replay lands them once', async () => {
    const policy = {maxRetries: 1, baseMs: 100, maxMs: 200, jitter: 'decorrelated' as const}
    const attemptTimeoutMs = 1000
    const e = engine({retry: policy, attemptTimeoutMs})
    await e.connect()
    const batches = makeBatches(8, 50, 's15')
    let stoppedAt = 0
    let report: RunReport
    try {
      report = await withTimeout(
        runWorkload(e, batches, {
          onLanded: async (n) => {
            if (n !== 3) return
            await cluster.stop('fast')
            stoppedAt = performance.now()
          },
        }),
        40_000,
        'workload',
      )
      // Every call ends within its budget (attempts under the attempt timer, reconnect probes
      // under the connect timer, backoff) + one attempt timeout, + 2 s of stated slack for a
      // loaded 2-core CI machine — still two orders of magnitude below PgBouncer's 120 s
      // query_wait_timeout, which is what a call without our timer would wait.
      const budget = (policy.maxRetries + 1) * attemptTimeoutMs + policy.maxRetries * (CONNECT_TIMEOUT_MS + policy.maxMs)
      const bound = budget + attemptTimeoutMs + 2000
      expect(report.maxLatencyMs).toBeLessThan(bound)
      expect(report.failedBatches).toEqual([])
      expect(report.landedBatches).toBe(3)
      expect(report.spooledBatches).toBe(5)
      await e.audit!.flush()
      const rc = await retryCounts(home)
      expect(rc.exhausted).toBe(5)
      console.log(
        `[15] down: sent=400 landed=150 spooled=250 retries=${rc.retries} (${rc.codes.join(',')}) ` +
          `maxLatency=${report.maxLatencyMs.toFixed(0)}ms (bound ${bound} = budget ${budget} + ${attemptTimeoutMs} + 2000 slack)`,
      )
    } finally {
      if (stoppedAt > 0) await cluster.start()
    }
    // Counted directly on the server once it is back: the three landed batches, nothing of the
    // spooled ones (15b shows why none of them can land by itself), nothing lost.
    const before = await account(cluster.url, path.join(home, 'dead-letter'))
    expect(before.distinctTotal).toBe(400)
    expect(before.inSpool).toBe(250)
    expect(before.inTable).toBe(report.insertedRows)
    // `repair --replay` is another process: its own engine, a budget that covers PgBouncer's
    // server_login_retry window after the server came back.
    const replayer = engine({retry: {maxRetries: 6, baseMs: 200, maxMs: 1000, jitter: 'decorrelated'}})
    const writer = rowsWriter() as BatchWriter<unknown>
    const t0 = performance.now()
    const replay = await withTimeout(
      replayDeadLetters({
        spool: new DeadLetterSpool(path.join(home, 'dead-letter')),
        engine: replayer,
        writers: new Map([[writer.target, writer]]),
      }),
      20_000,
      'replay',
    )
    expect(replay).toMatchObject({entries: 5, corrupt: [], failed: [], pending: 0, rows_sent: 250, rows_inserted: 250})
    await expectExactlyOnce(400, report, {replayed: replay.rows_inserted})
    // The engine that saw the outage heals by itself on its next call.
    const healed = await withTimeout(
      e.run('after outage', (db) => db.query<{n: number}>('select 15 as n'), {maxRetries: 4}),
      10_000,
      'heal',
    )
    expect(healed.rows[0]?.n).toBe(15)
    console.log(
      `[15] before replay: table=${before.inTable} spool=${before.inSpool}; replay: ${replay.rows_sent} sent, ${replay.rows_inserted} inserted ` +
        `in ${(performance.now() - t0).toFixed(0)}ms → landed=400 spooled=0 dup=0`,
    )
  }, 60_000)

  // An attempt that timed out while PgBouncer queued its INSERT (server down) would leave that
  // INSERT queued in the pooler if the engine kept the wedged connection open: when the server
  // returns, PgBouncer would run it — a write the caller was told failed and that sits in the
  // spool. PgBouncer only drops a queued query whose client connection is closed.
  it('15b: the INSERT PgBouncer queued for a batch that was then spooled is dropped, not run, when the server returns (no zombie write)', async () => {
    const policy = {maxRetries: 1, baseMs: 100, maxMs: 200, jitter: 'decorrelated' as const}
    const e = engine({retry: policy, attemptTimeoutMs: 1000})
    await e.connect()
    const app = e.applicationName
    let stoppedAt = 0
    let queued: Promise<void> | undefined
    let queuedSeen = false
    let report: RunReport
    try {
      report = await withTimeout(
        runWorkload(e, makeBatches(3, 50, 's15b'), {
          onLanded: async (n) => {
            if (n !== 2) return
            await cluster.stop('fast')
            stoppedAt = performance.now()
            // Marker: batch 3's INSERT sits in PgBouncer waiting for a server (the zombie
            // window exists). Its first attempt waits 1 s under the attempt timer, the
            // reconnect probe 1 s more: the poll has about 2 s to see it.
            queued = waitFor(async () => (await poolerClients(app)).includes('waiting'), {
              timeoutMs: 10_000,
              intervalMs: 20,
              what: `a waiting client of ${app} in SHOW CLIENTS`,
            }).then(() => {
              queuedSeen = true
            })
            queued.catch(() => {})
          },
        }),
        20_000,
        'workload',
      )
      await queued
      expect(queuedSeen).toBe(true)
      expect(report.landedBatches).toBe(2)
      expect(report.spooledBatches).toBe(1)
    } finally {
      if (stoppedAt > 0) await cluster.start()
    }
    // Marker instead of an observation window: once PgBouncer can serve again it has dealt with
    // every client that was waiting for a server — run its query, or dropped it because the
    // client had gone ("client unexpected eof") — so nothing of this engine is still queued.
    await poolerServes()
    await waitFor(async () => !(await poolerClients(app)).includes('waiting'), {
      timeoutMs: 10_000,
      intervalMs: 20,
      what: `no waiting client of ${app}`,
    })
    const acc = await account(cluster.url, path.join(home, 'dead-letter'))
    const zombie = Number(await cluster.psql(`select count(*) from fault_rows where key like 's15b-2-%'`))
    console.log(
      `[15b] after the server returned: table=${acc.inTable} spool=${acc.inSpool} (sent 150), rows of the spooled batch in the table: ${zombie}`,
    )
    expect(zombie).toBe(0)
    expect(acc.inSpool).toBe(50)
    expect(acc.inTable + acc.inSpool).toBe(150)
    expect(acc.inTable).toBe(report.insertedRows)
  }, 30_000)

  it('16: prepare:true behind the transaction pooler: the engine sends unnamed statements, so every call succeeds and settles within its timers (none refused with 26000, none hangs)', async () => {
    const attemptTimeoutMs = 1500
    // The engine's Executor uses sql.unsafe(), which postgres.js 3.4.9 runs with prepare:false
    // per query whatever the pool's prepare flag, so no named statement reaches the wire: with
    // prepare:true behind a transaction pooler every call must succeed. Were a named statement
    // ever sent, transactions of one client would land on server connections where it does not
    // exist (more client connections, 10, than PgBouncer has server connections, 4): the server
    // logs 26000 and the calls fail or hang (measured with unsafe(..., {prepare: true}): ~60/300
    // ok, the rest 26000 / attempt timeouts). This test fails then.
    const logFrom = cluster.log().length
    const e = engine({url: bouncer.url, attemptTimeoutMs, poolSize: 10}) // no ?prepare=false
    expect(e.health().prepare).toBe(true)
    const t0 = performance.now()
    const calls: Promise<{rows: {n: number}[]}>[] = []
    const expected: number[] = []
    for (let i = 0; i < 300; i++) {
      if (i % 10 === 9) {
        calls.push(e.run('prepared', (db) => db.query<{n: number}>(`select $1::int * 2 as n`, [i]), {maxRetries: 1}))
        expected.push(i * 2)
      } else {
        calls.push(e.query<{n: number}>(`select $1::int + $2::int as n /* q${i % 3} */`, [i, 1]))
        expected.push(i + 1)
      }
    }
    // No hang: query() is 1 attempt; run() 2 attempts + one reconnect (its own timer) + backoff;
    // + 2 s of stated slack for a loaded 2-core CI machine.
    const bound = 2 * attemptTimeoutMs + CONNECT_TIMEOUT_MS + RETRY.baseMs + 2000
    const settled = await allSettledWithin(calls, bound, 'prepare:true calls')
    const ms = performance.now() - t0
    const ok = settled.filter((s) => s.status === 'fulfilled').length
    const codes = new Map<string, number>()
    for (const [i, s] of settled.entries()) {
      if (s.status === 'fulfilled') expect(s.value.rows[0]?.n).toBe(expected[i])
      else {
        const c = String((s.reason as {code?: string}).code ?? (s.reason as Error).name)
        codes.set(c, (codes.get(c) ?? 0) + 1)
      }
    }
    console.log(
      `[16] prepare:true via transaction pooler: ${ok}/${calls.length} ok, ${calls.length - ok} failed ${JSON.stringify(Object.fromEntries(codes))}, ` +
        `all settled in ${ms.toFixed(0)}ms (bound ${bound})`,
    )
    expect(Object.fromEntries(codes)).toEqual({})
    expect(ok).toBe(calls.length)
    expect(cluster.log().slice(logFrom)).not.toMatch(/prepared statement .* does not exist/)
  }, 30_000)
})
