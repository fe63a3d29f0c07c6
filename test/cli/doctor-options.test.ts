/**
 * `gbrain doctor` paths without a test before (issue 11, item 5), as the built binary:
 *
 * - a connected embedded brain made by `gbrain init` (PostgreSQL 17 through gbrain's PGlite);
 * - the doctor through PgBouncer (the pooler detected from the port; prepared statements);
 * - the flags `--source ID`, `--skip a,b`, a valid `--only a,b`, `--deadline`, `--audit-dir DIR`,
 *   and what `--fast` leaves out (the database is never dialled — counted at a TCP proxy — while
 *   the file checks run on real planted files).
 *
 * One PostgreSQL 15 cluster and one PgBouncer for the file; every brain gets its own database and
 * GBRAIN_HOME.
 */
import {existsSync, readdirSync, rmSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Report} from '../../src/checks/types.js'
import {gbrain} from '../helpers/cli.js'
import {destroyAll, waitFor} from '../helpers/cleanup.js'
import {
  brainPaths,
  type ClusterBrain,
  CATALOGUE_ORDER,
  check,
  DATABASE_CHECKS,
  FILE_CHECKS,
  holdLock,
  LOCALE_ENV,
  parseReport,
  plantExhausted,
  plantSpoolEntry,
  STALE_SPOOL_AGE_MS,
  removeHomes,
  statuses,
  tempDir,
} from '../helpers/doctor-kit.js'
import {startProxy} from '../helpers/fault-proxy.js'
import {startCluster, type PgCluster} from '../helpers/pg-cluster.js'
import {startPgBouncer, type PgBouncer} from '../helpers/pgbouncer.js'

const VAULT = path.resolve('examples/vault')

let cluster: PgCluster
let bouncer: PgBouncer
let dbSeq = 0

type Brain = ClusterBrain

beforeAll(async () => {
  cluster = await startCluster()
  bouncer = await startPgBouncer(cluster, {poolMode: 'transaction'})
}, 60_000)

afterAll(async () => {
  removeHomes()
  await destroyAll()
})

/** A Postgres brain: its own database and home, init, the given sources (all on the sample vault), one cycle. */
async function makeBrain(sources: string[] = ['notes']): Promise<Brain> {
  const db = `doctor_opts_${process.pid}_${++dbSeq}`
  await cluster.psql(`create database ${db}`)
  const url = cluster.urlFor(db)
  const home = tempDir()
  const env = {...LOCALE_ENV, GBRAIN_HOME: home, GBRAIN_DATABASE_URL: url}
  const init = await gbrain(['init'], env)
  expect(init.code, init.stderr).toBe(0)
  for (const id of sources) {
    const add = await gbrain(['sources', 'add', id, '--path', VAULT], env)
    expect(add.code, add.stderr).toBe(0)
  }
  const cycle = await gbrain(['cycle'], env)
  expect(cycle.code, cycle.stderr + cycle.stdout).toBe(0)
  return {home, db, url, env, paths: brainPaths(home)}
}

async function stampCycledAgo(db: string, id: string, hours: number): Promise<void> {
  await cluster.psql(
    `update sources set config = config || jsonb_build_object('last_full_cycle_at', ` +
      `to_char((now() - interval '${hours} hours') at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')), ` +
      `last_sync_at = now() - interval '${hours} hours' where id = '${id}'`,
    db,
  )
}

const sourceIds = (r: Report, name: string): string[] =>
  ((check(r, name).details as {sources: {id: string}[]}).sources ?? []).map((s) => s.id).sort()

// ---------------------------------------------------------------------------------------------
describe('doctor on a connected embedded brain made by gbrain init', () => {
  it('connection ok through gbrain’s PGlite (details.major 17), the lock free before and after, session checks skipped, exit 0', async () => {
    const home = tempDir()
    const env = {...LOCALE_ENV, GBRAIN_HOME: home}
    const init = await gbrain(['init', '--json'], env)
    expect(init.code, init.stderr).toBe(0)
    const dataDir = path.join(home, '.gbrain', 'brain.pglite')
    expect(existsSync(path.join(dataDir, 'PG_VERSION'))).toBe(true)

    const r = await gbrain(['doctor', '--json'], env)
    console.log(`[measure] doctor on a fresh embedded brain: ${Math.round(r.ms)} ms wall, report ${parseReport(r).duration_ms} ms`)
    expect(r.code, r.stdout + r.stderr).toBe(0)
    const report = parseReport(r)
    expect(report.status).toBe('healthy')
    expect(report.target).toMatchObject({engine: 'pglite', database: dataDir})
    const conn = check(report, 'connection')
    expect(conn.status).toBe('ok')
    expect(conn.details).toMatchObject({
      engine: 'pglite',
      major: 17,
      pooler: 'none',
      prepare: 'off',
      pool_size: 1,
      server_version: expect.stringMatching(/^17\.\d+/),
    })
    expect(conn.message).toMatch(/^Connected to embedded PostgreSQL 17\.\d+ \(PGlite 0\.4\.3\) in \d+ ms \(round trip [\d.]+ ms\)$/)
    expect(check(report, 'pglite_lock')).toMatchObject({status: 'ok', details: {state: 'free'}})
    for (const name of ['connection_slots', 'idle_transactions']) {
      expect(check(report, name)).toMatchObject({status: 'skipped', message: 'skipped: embedded PGlite has a single session'})
    }
    // The database checks really ran against the brain: init's default source has no path, so nothing to cycle.
    expect(check(report, 'cycle_freshness')).toMatchObject({status: 'ok', message: 'no sources to cycle'})
    expect(report.summary).toEqual({ok: 11, warn: 0, fail: 0, unknown: 0, skipped: 2})
    // The doctor took gbrain's lock to read and gave it back.
    expect(existsSync(path.join(dataDir, '.gbrain-lock'))).toBe(false)
  }, 90_000)
})

// ---------------------------------------------------------------------------------------------
describe('doctor through PgBouncer (transaction pooling)', () => {
  it('prepare off: connection ok and the pooler reported (dialled port ≠ server port); connection_slots skipped behind it; exit 0', async () => {
    const b = await makeBrain()
    const r = await gbrain(['doctor', '--json', '--database-url', `${bouncer.urlFor(b.db)}?prepare=false`], b.env)
    expect(r.code, r.stdout + r.stderr).toBe(0)
    const report = parseReport(r)
    const conn = check(report, 'connection')
    expect(conn.status).toBe('ok')
    expect(conn.details).toMatchObject({
      pooler: 'unknown',
      pooler_reason: `dialled port ${bouncer.port} but the server listens on ${cluster.port}: a pooler or proxy is in between`,
      prepare: 'off',
      server_version: expect.stringMatching(/^15\./),
    })
    expect(report.target.database).toBe(`postgres://***@127.0.0.1:${bouncer.port}/${b.db}`) // the pooler's address, redacted, ?prepare stripped
    expect(check(report, 'connection_slots')).toMatchObject({status: 'skipped', message: expect.stringContaining('behind a pooler')})
    // The database checks run through the pooler.
    expect(check(report, 'cycle_freshness')).toMatchObject({status: 'ok'})
    expect(sourceIds(report, 'cycle_freshness')).toEqual(['notes'])
    expect(check(report, 'idle_transactions').status).toBe('ok')

    // The same brain dialled directly: no pooler, and connection_slots runs.
    const direct = parseReport(await gbrain(['doctor', '--json'], b.env))
    expect(check(direct, 'connection').details).toMatchObject({
      pooler: 'none',
      pooler_reason: `the server listens on the port dialled (${cluster.port})`,
    })
    expect(check(direct, 'connection_slots').status).toBe('ok')
  }, 90_000)

  it('prepared statements on behind the pooler: connection warns with the fix (exit 0, 1 under --fail-on warn); GBRAIN_PREPARE=false clears it', async () => {
    const b = await makeBrain()
    const url = bouncer.urlFor(b.db)
    const r = await gbrain(['doctor', '--json', '--database-url', url], b.env)
    expect(r.code, r.stdout + r.stderr).toBe(0)
    const conn = check(parseReport(r), 'connection')
    expect(conn.status).toBe('warn')
    expect(conn.message).toMatch(
      /a pooler is in between \(dialled port \d+ but the server listens on \d+: a pooler or proxy is in between\) and prepared statements are on — transaction pooling hangs them$/,
    )
    expect(conn.details).toMatchObject({pooler: 'unknown', prepare: 'on'})
    expect(conn.fix?.commands).toEqual(['export GBRAIN_PREPARE=false'])
    expect((await gbrain(['doctor', '-q', '--fail-on', 'warn', '--database-url', url], b.env)).code).toBe(1)

    const off = parseReport(await gbrain(['doctor', '--json', '--database-url', url], {...b.env, GBRAIN_PREPARE: 'false'}))
    expect(check(off, 'connection')).toMatchObject({status: 'ok', details: {prepare: 'off', pooler: 'unknown'}})
  }, 90_000)
})

// ---------------------------------------------------------------------------------------------
describe('doctor flags', () => {
  let b: Brain
  beforeAll(async () => {
    // Two sources: notes cycled just now, stale stamped 48 h ago (cycle fails > 24 h, sync warns > 24 h).
    b = await makeBrain(['notes', 'stale'])
    await stampCycledAgo(b.db, 'stale', 48)
  }, 90_000)

  it('--source ID limits the source-scoped checks to that source', async () => {
    const all = parseReport(await gbrain(['doctor', '--json'], b.env))
    expect(check(all, 'cycle_freshness').status).toBe('fail')
    expect(sourceIds(all, 'cycle_freshness')).toEqual(['notes', 'stale'])
    expect(sourceIds(all, 'sync_freshness')).toEqual(['notes', 'stale'])

    const notes = await gbrain(['doctor', '--json', '--source', 'notes'], b.env)
    expect(notes.code, notes.stdout).toBe(0)
    const rn = parseReport(notes)
    expect(check(rn, 'cycle_freshness')).toMatchObject({status: 'ok', message: expect.stringMatching(/^1 source cycled within 6 h/)})
    expect(sourceIds(rn, 'cycle_freshness')).toEqual(['notes'])
    expect(check(rn, 'sync_freshness').status).toBe('ok')
    expect(sourceIds(rn, 'sync_freshness')).toEqual(['notes'])

    const stale = await gbrain(['doctor', '--json', '--source', 'stale'], b.env)
    expect(stale.code).toBe(1)
    const rs = parseReport(stale)
    expect(check(rs, 'cycle_freshness')).toMatchObject({
      status: 'fail',
      message: expect.stringMatching(/^1 of 1 source needs attention: stale 48\.0 h ago/),
    })
    expect(check(rs, 'cycle_freshness').fix?.commands).toEqual(['gbrain cycle --source stale'])
    expect(sourceIds(rs, 'cycle_freshness')).toEqual(['stale'])
    expect(check(rs, 'sync_freshness').status).toBe('warn')
  }, 60_000)

  it('--skip a,b leaves exactly those checks out of the report (the rest in catalogue order); skipping connection does not skip the database checks', async () => {
    const r = await gbrain(['doctor', '--json', '--skip', 'cycle_freshness, disk_space'], b.env)
    expect(r.code, r.stdout).toBe(0) // the failing check was left out
    const report = parseReport(r)
    expect(report.checks.map((c) => c.name)).toEqual(CATALOGUE_ORDER.filter((n) => n !== 'cycle_freshness' && n !== 'disk_space'))
    const s = report.summary
    expect(s.ok + s.warn + s.fail + s.unknown + s.skipped).toBe(CATALOGUE_ORDER.length - 2)

    const noConn = parseReport(await gbrain(['doctor', '--json', '--skip', 'connection'], b.env))
    expect(noConn.checks.map((c) => c.name)).not.toContain('connection')
    expect(check(noConn, 'cycle_freshness').status).toBe('fail') // still evaluated against the database
    expect(check(noConn, 'connection_slots').status).toBe('ok')

    const bad = await gbrain(['doctor', '--skip', 'cycle_freshness,nope'], b.env)
    expect(bad.code).toBe(64)
    expect(bad.stdout).toBe('')
    expect(bad.stderr.trim().split('\n')).toHaveLength(1)
    expect(bad.stderr).toMatch(/^gbrain: unknown check "nope" in --skip \(fix: see: gbrain doctor --list/)
  }, 60_000)

  it('a valid --only a,b reports exactly those checks, in catalogue order whatever the flag order; --only with --skip subtracts', async () => {
    const r = await gbrain(['doctor', '--json', '--only', 'dead_letter,cycle_freshness,connection'], b.env)
    const report = parseReport(r)
    expect(report.checks.map((c) => c.name)).toEqual(['connection', 'cycle_freshness', 'dead_letter'])
    expect(statuses(report)).toEqual({connection: 'ok', cycle_freshness: 'fail', dead_letter: 'ok'})
    expect(report.summary).toEqual({ok: 2, warn: 0, fail: 1, unknown: 0, skipped: 0})
    expect(report.health_score).toBe(80)
    expect(r.code).toBe(1)

    const both = parseReport(await gbrain(['doctor', '--json', '--only', 'connection,cycle_freshness', '--skip', 'cycle_freshness'], b.env))
    expect(both.checks.map((c) => c.name)).toEqual(['connection'])
    expect(both.status).toBe('healthy')
  }, 60_000)

  it('--deadline bounds the whole run: checks hung on a lock become unknown naming the deadline (not --timeout), exit 3, checks not hung are unaffected', async () => {
    const lock = await holdLock(b.url, ['sources'])
    try {
      const r = await gbrain(['doctor', '--json', '--timeout', '10m', '--deadline', '1s'], b.env)
      const report = parseReport(r)
      console.log(`[measure] doctor --deadline 1s with a hung check: report ${report.duration_ms} ms, wall ${Math.round(r.ms)} ms`)
      for (const name of ['cycle_freshness', 'sync_freshness']) {
        expect(check(report, name)).toMatchObject({status: 'unknown', message: 'did not finish: the run deadline (1000 ms) passed'})
      }
      const others = Object.entries(statuses(report)).filter(([n]) => n !== 'cycle_freshness' && n !== 'sync_freshness')
      expect(Object.fromEntries(others)).toEqual(Object.fromEntries(others.map(([n]) => [n, n === 'pglite_lock' ? 'skipped' : 'ok'])))
      expect(r.code).toBe(3)
      expect(report.duration_ms).toBeLessThan(1000 + 1000) // the deadline + 1 s; --timeout (10 min) never comes into it
      expect(r.ms).toBeLessThan(2000 + 6000) // + 6 s of stated slack for Node's start-up and exit on a loaded 2-core machine
      // The statements the deadline gave up on are cancelled on the server (the bug before: a
      // session stayed blocked on the lock after the doctor exited, one more per run). The
      // doctor has exited; a cancelled statement ends at once: 5 s of stated slack to observe it.
      await waitFor(
        async () =>
          (
            await cluster.psql(
              `select count(*) from pg_stat_activity where application_name like 'gbrain-doctor%' and wait_event_type = 'Lock'`,
            )
          ).trim() === '0',
        {timeoutMs: 5000, intervalMs: 100, what: 'no doctor session left waiting on the lock'},
      )
    } finally {
      await lock.release()
    }
    const range = await gbrain(['doctor', '--deadline', '500ms'], b.env)
    expect(range.code).toBe(64)
    expect(range.stderr.trim().split('\n')).toHaveLength(1)
    expect(range.stderr).toMatch(/--deadline/)
  }, 60_000)

  it('--audit-dir DIR: the audit checks read DIR (over GBRAIN_AUDIT_DIR and the home’s audit dir), and the report says it came from the flag', async () => {
    const dir = path.join(tempDir('gbrain-doctor-audit-'), 'audit')
    const envDir = path.join(tempDir('gbrain-doctor-audit-env-'), 'audit')
    await plantExhausted(dir, 20) // fail
    await plantExhausted(envDir, 6) // warn
    await plantExhausted(b.paths.audit, 2) // ok (below warn)
    try {
      const viaFlag = await gbrain(['doctor', '--json', '--skip', 'cycle_freshness,sync_freshness', '--audit-dir', dir], {
        ...b.env,
        GBRAIN_AUDIT_DIR: envDir,
      })
      expect(viaFlag.code).toBe(1)
      const rf = parseReport(viaFlag)
      expect(rf.target.audit_dir).toBe(dir)
      expect(rf.target.sources.audit_dir).toBe('flag')
      expect(check(rf, 'batch_retry_health')).toMatchObject({status: 'fail', details: {exhausted_total: 20}})
      expect((check(rf, 'audit_log').details as {dir: string}).dir).toBe(dir)

      const viaEnv = parseReport(await gbrain(['doctor', '--json', '--only', 'batch_retry_health'], {...b.env, GBRAIN_AUDIT_DIR: envDir}))
      expect(viaEnv.target).toMatchObject({audit_dir: envDir, sources: {audit_dir: 'env:GBRAIN_AUDIT_DIR'}})
      expect(check(viaEnv, 'batch_retry_health')).toMatchObject({status: 'warn', details: {exhausted_total: 6}})

      const byDefault = parseReport(await gbrain(['doctor', '--json', '--only', 'batch_retry_health'], b.env))
      expect(byDefault.target).toMatchObject({audit_dir: b.paths.audit, sources: {audit_dir: 'default'}})
      expect(check(byDefault, 'batch_retry_health')).toMatchObject({status: 'ok', details: {exhausted_total: 2}})
      // Read-only: the doctor added nothing to the directory it was pointed at.
      expect(readdirSync(dir).every((n) => n.startsWith('batch-retry-'))).toBe(true)
    } finally {
      // Later tests in this block share the home: leave its audit dir as it was.
      for (const n of readdirSync(b.paths.audit)) if (n.startsWith('batch-retry-')) rmSync(path.join(b.paths.audit, n))
    }
  }, 60_000)

  it('--fast never dials the database (0 connections at a TCP proxy in front of it); the database checks are skipped, the file checks run on real files', async () => {
    const proxy = await startProxy(cluster.port)
    try {
      const home = tempDir()
      await plantExhausted(brainPaths(home).audit, 6)
      await plantSpoolEntry(brainPaths(home).spool, undefined, 2, STALE_SPOOL_AGE_MS)
      const env = {...LOCALE_ENV, GBRAIN_HOME: home}
      const r = await gbrain(['doctor', '--json', '--fast', '--database-url', proxy.urlFor(b.db)], env)
      expect(proxy.stats.accepted).toBe(0)
      const report = parseReport(r)
      expect(check(report, 'connection')).toMatchObject({status: 'skipped', message: 'skipped under --fast'})
      for (const name of DATABASE_CHECKS) {
        expect(check(report, name), name).toMatchObject({status: 'skipped', message: 'skipped under --fast (needs the database)'})
      }
      for (const name of FILE_CHECKS) expect(['ok', 'warn', 'fail'], name).toContain(check(report, name).status)
      expect(check(report, 'batch_retry_health')).toMatchObject({status: 'warn', details: {exhausted_total: 6}})
      expect(check(report, 'dead_letter')).toMatchObject({status: 'fail', details: {entries: 1, rows: 2}})
      expect(report.checks.map((c) => c.name)).toEqual([...CATALOGUE_ORDER])
      expect(r.code).toBe(1)

      // The same run without --fast goes through the proxy to the database.
      const full = parseReport(await gbrain(['doctor', '--json', '--database-url', proxy.urlFor(b.db)], env))
      expect(proxy.stats.accepted).toBeGreaterThan(0)
      // (the proxy is seen as something in between, and prepared statements are on: a warning)
      expect(check(full, 'connection')).toMatchObject({
        status: 'warn',
        details: {pooler: 'unknown', server_version: expect.stringMatching(/^15\./)},
      })
      expect(check(full, 'cycle_freshness').status).toBe('fail')
    } finally {
      await proxy.close()
    }
  }, 60_000)
})
