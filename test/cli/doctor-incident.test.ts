/**
 * The issue's "done when" story, end to end with the built binary and a real Postgres 15:
 *
 * 1. A brain with a generated vault; `gbrain cycle` runs with a small retry budget. The server
 *    is stopped mid-cycle — deterministically: a separate session holds `LOCK TABLE links`, so the
 *    cycle lands its pages and then blocks on its first links batch; we wait for that (a
 *    `gbrain-cycle-*` session waiting on a Lock) and only then stop the server. Every batch from
 *    there on exhausts its retries and goes to the dead-letter spool.
 * 2. `gbrain doctor` (server down) → exit 1: `connection` fails (refused), `batch_retry_health`
 *    fails on the exhausted batches (a sustained incident), `dead_letter` warns (its young, intact
 *    entries are safe on disk until replayed: issue 14).
 * 3. Server back: still exit 1 (batch_retry_health: ≥ 20 exhausted batches, none replayed yet;
 *    sync_freshness: the source was never fully cycled; dead_letter still warns); replay it
 *    (`gbrain repair --replay`), rerun `gbrain cycle` so the source is stamped: connection, dead_letter and cycle_freshness
 *    are ok, and batch_retry_health is ok again (every exhausted batch was spooled and has been
 *    replayed: the outage is over, still reported in its message) → exit 0. Nothing lost, nothing duplicated.
 *
 * Also measured: `psql -c 'select 1'`, and the doctor's wall time healthy / refused / blackholed.
 */
import {readdirSync} from 'node:fs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {CycleReport} from '../../src/brain/cycle.js'
import {gbrain, type CliResult} from '../helpers/cli.js'
import {destroyAll} from '../helpers/cleanup.js'
import {brainPaths, check, parseReport, removeHomes, statuses, tableRows} from '../helpers/doctor-kit.js'
import {startProxy} from '../helpers/fault-proxy.js'
import {incidentBrain, stopServerMidCycle} from '../helpers/incident.js'
import {startCluster, type PgCluster} from '../helpers/pg-cluster.js'
import {run} from '../helpers/proc.js'
import type {VaultExpectation} from '../helpers/vault-gen.js'

let cluster: PgCluster
let env: Record<string, string>
let paths: ReturnType<typeof brainPaths>
let expected: VaultExpectation
let spooledBatches = 0
let spooledRows = 0
const measures: Record<string, number> = {}

beforeAll(async () => {
  cluster = await startCluster()
  ;({paths, env, expected} = await incidentBrain(cluster, {files: 200, entries: 3, links: 2}, 'gbrain-incident-'))
}, 60_000)

afterAll(async () => {
  removeHomes()
  await destroyAll()
})

function excerpt(r: CliResult): string {
  const rep = parseReport(r)
  const pick = (name: string, keys: string[]): Record<string, unknown> => {
    const d = check(rep, name).details ?? {}
    return Object.fromEntries(keys.filter((k) => k in d).map((k) => [k, d[k]]))
  }
  return JSON.stringify(
    {
      schema_version: rep.schema_version,
      status: rep.status,
      health_score: rep.health_score,
      summary: rep.summary,
      checks: rep.checks.map((c) => ({name: c.name, status: c.status, message: c.message})),
      'connection.details': pick('connection', ['cause', 'code', 'hint']),
      'batch_retry_health.details': pick('batch_retry_health', [
        'exhausted_total',
        'by_site',
        'rows_lost',
        'rows_spooled',
        'replayed',
        'pending_replay',
        'healed_by_replay',
      ]),
      'dead_letter.details': pick('dead_letter', ['entries', 'rows', 'by_site']),
      top_issues: rep.top_issues.map((i) => ({rank: i.rank, check: i.check, status: i.status, fix: i.fix?.commands})),
    },
    null,
    2,
  )
}

async function rowCounts(): Promise<{pages: number; timeline: number; links: number}> {
  const [pages, timeline, links] = (
    await cluster.psql(
      `select (select count(*) from pages where source_id = 'notes') || ',' || (select count(*) from timeline_entries) || ',' || (select count(*) from links)`,
    )
  )
    .split(',')
    .map(Number)
  return {pages: pages!, timeline: timeline!, links: links!}
}

describe('incident: the database goes away mid-cycle, the doctor tells the story, the brain recovers', () => {
  it('outage: batches exhaust into the spool; doctor → exit 1, connection refused, batch_retry_health fails, dead_letter warns (safe on disk)', async () => {
    const {result: c, report, pagesBeforeStop} = await stopServerMidCycle(cluster, env, ['--batch-size', '10'])
    expect(pagesBeforeStop).toBe(expected.pages)
    expect(c.code, c.stderr).toBe(1)
    expect(report.status).toBe('partial')
    const src = report.sources[0]!
    expect(src.stamped).toBe(false)
    spooledBatches = src.spooled_batches
    spooledRows = src.spooled_rows
    expect(spooledBatches).toBeGreaterThanOrEqual(20)
    console.log(
      `[measure] cycle during the outage: ${report.totals.rows_sent} rows sent, ${spooledRows} rows spooled in ${spooledBatches} batches, ${Math.round(c.ms)} ms`,
    )

    const t = await gbrain(['doctor'], env)
    measures.refused = t.ms
    console.log(`--- gbrain doctor, server down (exit ${t.code}) ---\n${t.stdout}${t.stderr}`)
    expect(t.code).toBe(1)
    expect(tableRows(t.stdout)[0]).toEqual(['fail', 'connection'])
    expect(t.stdout).toMatch(/1\. ✗ connection — fix: /) // the root cause ranks first

    const j = await gbrain(['doctor', '--json'], env)
    console.log(`--- gbrain doctor --json, server down (excerpt) ---\n${excerpt(j)}`)
    expect(j.code).toBe(1)
    const rep = parseReport(j)
    expect(check(rep, 'connection')).toMatchObject({status: 'fail', details: {cause: 'refused'}})
    const brh = check(rep, 'batch_retry_health')
    expect(brh.status).toBe('fail')
    expect(brh.details).toMatchObject({
      exhausted_total: spooledBatches,
      rows_lost: 0,
      rows_spooled: spooledRows,
      pending_replay: spooledBatches,
    })
    expect(brh.fix?.commands).toContain('gbrain repair --replay')
    expect(check(rep, 'dead_letter')).toMatchObject({status: 'warn', details: {entries: spooledBatches, rows: spooledRows}})
    expect(check(rep, 'dead_letter').message).toContain('safe on disk until replayed')
    expect(check(rep, 'dead_letter').fix?.commands).toContain('gbrain repair --replay')
    for (const name of ['cycle_freshness', 'sync_freshness', 'connection_slots', 'idle_transactions']) {
      expect(check(rep, name)).toMatchObject({status: 'skipped', downstream_of: ['connection']})
    }
    expect(rep.top_issues[0]).toMatchObject({check: 'connection', status: 'fail'})
  }, 90_000)

  it('recovery: server back → batch_retry_health still fails and dead_letter warns until replayed; replay + cycle → ok, batch_retry_health healed (ok), exit 0', async () => {
    expect(spooledBatches).toBeGreaterThan(0) // the outage test ran
    await cluster.start()

    const back = await gbrain(['doctor', '--json'], env)
    expect(back.code).toBe(1)
    const rep = parseReport(back)
    expect(check(rep, 'connection').status).toBe('ok')
    expect(check(rep, 'dead_letter')).toMatchObject({status: 'warn', details: {entries: spooledBatches}})
    // What still fails: the sustained incident, whose batches wait for the replay, and the
    // source's sync (never fully cycled); the spool itself only warns.
    expect(check(rep, 'batch_retry_health')).toMatchObject({status: 'fail', details: {pending_replay: spooledBatches}})
    expect(rep.checks.filter((c) => c.status === 'fail').map((c) => c.name)).toEqual(['batch_retry_health', 'sync_freshness'])
    const backTable = await gbrain(['doctor'], env)
    console.log(`--- gbrain doctor, server back, spool not replayed (exit ${backTable.code}) ---\n${backTable.stdout}`)
    expect(backTable.code).toBe(1)

    // Replay the spool through the engine's batch writers, idempotently.
    const rep2 = await gbrain(['repair', '--replay', '--json'], env)
    console.log(`--- gbrain repair --replay --json (exit ${rep2.code}) ---\n${rep2.stdout.slice(0, 1500)}`)
    expect(rep2.code, rep2.stderr).toBe(0)
    const repair = JSON.parse(rep2.stdout) as {
      actions: {name: string; status: string; data?: {replayed?: number; rows_sent?: number}}[]
      fixed: string[]
      remaining: string[]
    }
    expect(repair.actions).toHaveLength(1)
    expect(repair.actions[0]).toMatchObject({name: 'replay', status: 'applied', data: {replayed: spooledBatches, rows_sent: spooledRows}})
    expect(repair.fixed).toEqual(expect.arrayContaining(['dead_letter', 'batch_retry_health']))
    expect(repair.remaining).toEqual([])
    expect(readdirSync(paths.spool).filter((n) => n.endsWith('.json'))).toEqual([])

    const afterReplay = parseReport(await gbrain(['doctor', '--json'], env))
    expect(check(afterReplay, 'dead_letter').status).toBe('ok')
    expect(check(afterReplay, 'batch_retry_health')).toMatchObject({
      status: 'ok',
      details: {replayed: spooledBatches, pending_replay: 0, healed_by_replay: true},
    })

    const c = await gbrain(['cycle', '--json'], env)
    expect(c.code, c.stderr).toBe(0)
    const cr = JSON.parse(c.stdout) as CycleReport
    expect(cr.status).toBe('complete')
    expect(cr.sources[0]!.stamped).toBe(true)
    expect(cr.totals.rows_inserted).toBe(0) // the replay already landed every row
    expect(await rowCounts()).toEqual({pages: expected.pages, timeline: expected.timeline, links: expected.links})

    const fin = await gbrain(['doctor', '--json'], env)
    console.log(`--- gbrain doctor --json, recovered (excerpt) ---\n${excerpt(fin)}`)
    const f = parseReport(fin)
    const st = statuses(f)
    expect(st.connection).toBe('ok')
    expect(st.dead_letter).toBe('ok')
    expect(st.cycle_freshness).toBe('ok')
    expect(st.sync_freshness).toBe('ok')
    expect(check(f, 'batch_retry_health')).toMatchObject({
      status: 'ok',
      details: {exhausted_total: spooledBatches, rows_lost: 0, replayed: spooledBatches, pending_replay: 0, healed_by_replay: true},
    })
    // The cycle that hit the outage exited without a successful reconnect; nothing is retrying and
    // the database answers: the healed outage is reported (history) and no longer warns.
    expect(check(f, 'pool_reap_health'), check(f, 'pool_reap_health').message).toMatchObject({status: 'ok'})
    expect(check(f, 'pool_reap_health').message).toContain('exited without recovering')
    expect(Object.values(st)).not.toContain('fail')
    expect(Object.values(st)).not.toContain('unknown')
    expect(fin.code).toBe(0)

    const table = await gbrain(['doctor', '-v'], env)
    measures.healthy = table.ms
    console.log(`--- gbrain doctor -v, recovered (exit ${table.code}) ---\n${table.stdout}`)
    expect(table.code).toBe(0)
    // The one warning left is this test's own tiny retry budget (retry_config), not the outage.
    expect(table.stdout).toMatch(/\nwarnings: 1 warn, /)
    expect(table.stdout.split('\n').filter((l) => l.includes('! warn'))).toEqual([expect.stringContaining('retry_config')])
  }, 90_000)

  it('measures: psql select 1, doctor healthy / refused / blackholed', async () => {
    const psql = async (): Promise<number> => {
      const t0 = performance.now()
      await run('/usr/bin/psql', ['-X', '-h', '127.0.0.1', '-p', String(cluster.port), '-U', 'postgres', '-Atc', 'select 1'])
      return performance.now() - t0
    }
    const psqlMs = [await psql(), await psql(), await psql()].sort((a, b) => a - b)[1]!
    const healthy = await gbrain(['doctor', '--json'], env)
    expect(check(parseReport(healthy), 'connection').status).toBe('ok')

    const proxy = await startProxy(cluster.port)
    try {
      await proxy.setMode('blackhole')
      // --timeout 4s: the connect timer is 3.2 s (80 % of the budget: connectTimerFor), leaving
      // the check 0.8 s to classify and report it (250 ms was not enough once, under a benchmark
      // and other builds beside the suite: the check's own budget ran out first, exit 3).
      const bh = await gbrain(['doctor', '--json', '--timeout', '4s', '--database-url', proxy.urlFor('postgres')], env)
      expect(bh.code, bh.stdout).toBe(1)
      expect(check(parseReport(bh), 'connection')).toMatchObject({status: 'fail', details: {cause: 'timeout'}})
      expect(parseReport(bh).duration_ms).toBeLessThan(4000 + 1000) // --timeout + 1 s
      expect(bh.ms).toBeLessThan(5000 + 6000) // + 6 s of stated slack for Node's start-up and exit on a loaded 2-core CI machine
      measures.blackholed = bh.ms
    } finally {
      await proxy.close()
    }
    console.log(`[measure] psql -Atc 'select 1': ${Math.round(psqlMs)} ms (median of 3)`)
    console.log(
      `[measure] gbrain doctor wall time: healthy ${Math.round(healthy.ms)} ms (-v earlier: ${Math.round(measures.healthy ?? NaN)} ms), ` +
        `refused ${Math.round(measures.refused ?? NaN)} ms, blackholed (--timeout 4s) ${Math.round(measures.blackholed)} ms`,
    )
  }, 60_000)
})
