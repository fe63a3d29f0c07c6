/**
 * The issue's incident, end to end with the built binary against a real PostgreSQL 15:
 *
 *   a cycle is writing a vault → the server goes away mid-run → the remaining batches exhaust
 *   their (small) retries and land in the dead-letter spool → the cycle exits 1 "partial" →
 *   `gbrain doctor` says why (connection refused, batch_retry_health, dead_letter) → the server
 *   comes back → `gbrain repair --reconnect --replay` lands every spooled row exactly once →
 *   the doctor is green again after the next cycle stamps the source.
 *
 * The fault is injected at a deterministic point, not by sleeping: a psql session holds
 * ACCESS EXCLUSIVE locks on timeline_entries and links, so the cycle lands every page (pass 1)
 * and then blocks on its first timeline batch (pass 2). The server is stopped only once that
 * blocked statement is visible in pg_stat_activity, so every timeline and link row must go
 * through the spool and the replay (none can slip in before the stop).
 */
import {spawn, type ChildProcessWithoutNullStreams} from 'node:child_process'
import {readdirSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {CycleReport} from '../../src/brain/cycle.js'
import type {Report} from '../../src/checks/types.js'
import {BIN, gbrain} from '../helpers/cli.js'
import {destroyAll, register, waitFor} from '../helpers/cleanup.js'
import {removeHomes, tempDir} from '../helpers/doctor-kit.js'
import {startCluster, type PgCluster} from '../helpers/pg-cluster.js'
import {generateVault, type VaultExpectation} from '../helpers/vault-gen.js'

const DB = 'incident'
let cluster: PgCluster
let home: string
let vault: string
let expected: VaultExpectation
let env: Record<string, string>

beforeAll(async () => {
  cluster = await startCluster()
  await cluster.psql(`create database ${DB}`)
  home = tempDir('gbrain-incident-home-')
  vault = tempDir('gbrain-incident-vault-')
  expected = generateVault(vault, {files: 300, entries: 5, links: 3})
  env = {
    GBRAIN_HOME: home,
    GBRAIN_DATABASE_URL: cluster.urlFor(DB),
    GBRAIN_BULK_MAX_RETRIES: '1',
    GBRAIN_BULK_RETRY_BASE_MS: '50',
    GBRAIN_BULK_RETRY_MAX_MS: '100',
  }
  const init = await gbrain(['init'], env)
  expect(init.code, init.stderr).toBe(0)
  const add = await gbrain(['sources', 'add', 'vault', '--path', vault], env)
  expect(add.code, add.stderr).toBe(0)
}, 60_000)

afterAll(async () => {
  removeHomes()
  await destroyAll()
})

interface Counts {
  pages: number
  timeline: number
  links: number
  dupPages: number
  dupTimeline: number
  dupLinks: number
}

async function counts(): Promise<Counts> {
  const out = await cluster.psql(
    `select (select count(*) from pages),
            (select count(*) from timeline_entries),
            (select count(*) from links),
            (select count(*) - count(distinct (source_id, slug)) from pages),
            (select count(*) - count(distinct (page_id, date, summary)) from timeline_entries),
            (select count(*) - count(distinct (from_page_id, to_page_id, link_type, link_source)) from links)`,
    DB,
  )
  const [pages, timeline, links, dupPages, dupTimeline, dupLinks] = out.split('|').map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ]
  return {pages, timeline, links, dupPages, dupTimeline, dupLinks}
}

/** A psql session holding ACCESS EXCLUSIVE locks until the server goes away (or it is killed). */
async function holdLocks(tables: string[]): Promise<ChildProcessWithoutNullStreams> {
  const child = spawn('/usr/bin/psql', ['-X', '-q', '-At', '-h', '127.0.0.1', '-p', String(cluster.port), '-U', 'postgres', '-d', DB], {
    env: {...process.env, PGAPPNAME: 'incident-locker', PGCONNECT_TIMEOUT: '5'},
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  register({name: 'psql locker', destroy: async () => void child.kill('SIGKILL'), killSync: () => void child.kill('SIGKILL')})
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c))
  child.stderr.setEncoding('utf8').on('data', () => {})
  child.stdin.on('error', () => {})
  child.stdin.write(`begin;\nlock table ${tables.join(', ')} in access exclusive mode;\nselect 'locked';\n`)
  await waitFor(() => out.includes('locked'), {timeoutMs: 10_000, intervalMs: 20, what: 'psql to take the locks'})
  return child
}

const find = (r: Report, name: string) => r.checks.find((c) => c.name === name)!

describe('incident: outage mid-cycle → spool → doctor → repair → green', () => {
  it('lands every spooled row exactly once and the doctor turns green', async () => {
    const t0 = performance.now()
    const locker = await holdLocks(['timeline_entries', 'links'])

    // 1. The cycle, spawned; it lands the pages, then blocks on its first timeline batch.
    const cycle = spawn(process.execPath, [BIN, 'cycle', '--json', '--batch-size', '100'], {
      env: {...process.env, NO_COLOR: '1', DATABASE_URL: '', ...env},
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    register({name: 'incident cycle', destroy: async () => void cycle.kill('SIGKILL'), killSync: () => void cycle.kill('SIGKILL')})
    let cycleOut = ''
    let cycleErr = ''
    cycle.stdout.setEncoding('utf8').on('data', (c: string) => (cycleOut += c))
    cycle.stderr.setEncoding('utf8').on('data', (c: string) => (cycleErr += c))
    const cycleExit = new Promise<number | null>((r) => cycle.on('exit', (code) => r(code)))

    // 2. The marker: every page landed and the cycle's timeline INSERT waits on our lock.
    await waitFor(
      async () => {
        const [pages, waiting] = (
          await cluster.psql(
            `select (select count(*) from pages), (select count(*) from pg_stat_activity where application_name like 'gbrain-cycle-%' and wait_event_type = 'Lock')`,
            DB,
          )
        )
          .split('|')
          .map(Number) as [number, number]
        return pages === expected.pages && waiting > 0
      },
      {timeoutMs: 30_000, intervalMs: 25, what: `the cycle to block on the timeline lock (stderr: ${cycleErr})`},
    )
    const tStop = performance.now()
    await cluster.stop('fast')
    locker.kill('SIGKILL')

    // 3. The cycle: partial, exit 1, the rest spooled.
    const code = await cycleExit
    const report = JSON.parse(cycleOut) as CycleReport
    expect(code, cycleErr).toBe(1)
    expect(report.status).toBe('partial')
    const src = report.sources[0]!
    expect(src.stamped).toBe(false)
    expect(report.totals.spooled_rows).toBeGreaterThan(0)
    expect(report.totals.rows_sent).toBe(expected.total)
    expect(src.rows.pages).toEqual({sent: expected.pages, inserted: expected.pages})
    // Nothing after the lock could land: every timeline and link row is in the spool.
    expect(report.totals.spooled_rows).toBe(expected.timeline + expected.links)
    expect(report.totals.rows_inserted).toBe(expected.pages)
    const spoolFiles = readdirSync(path.join(home, '.gbrain', 'dead-letter')).filter((n) => n.endsWith('.json'))
    expect(spoolFiles.length).toBe(src.spooled_batches)
    console.log(
      `[measure] incident: cycle exited ${Math.round(performance.now() - tStop)} ms after the stop began; ${src.spooled_batches} batches / ${report.totals.spooled_rows} rows spooled`,
    )

    // 4. The doctor while the server is down: connection refused, retries and the spool flagged.
    const down = await gbrain(['doctor', '--json'], env)
    expect(down.code).toBe(1)
    const downReport = JSON.parse(down.stdout) as Report
    expect(find(downReport, 'connection').status).toBe('fail')
    expect((find(downReport, 'connection').details as {cause?: string}).cause).toBe('refused')
    expect(find(downReport, 'batch_retry_health').status).not.toBe('ok')
    // Young and intact, the spooled rows are safe on disk: a warning (issue 14); the connection fails.
    expect(find(downReport, 'dead_letter').status).toBe('warn')
    expect(find(downReport, 'dead_letter').details as {entries: number; rows: number}).toMatchObject({
      entries: src.spooled_batches,
      rows: report.totals.spooled_rows,
    })
    const downTable = await gbrain(['doctor', '--format', 'table'], env)
    expect(downTable.code).toBe(1)
    console.log(`--- gbrain doctor (server down) ---\n${downTable.stdout}`)

    // 5. The server returns; repair reconnects and replays.
    await cluster.start()
    const repair = await gbrain(['repair', '--reconnect', '--replay'], env)
    console.log(
      `--- gbrain repair --reconnect --replay (exit ${repair.code}) ---\n${repair.stdout}${repair.stderr ? `--- stderr ---\n${repair.stderr}` : ''}`,
    )
    expect(repair.code, repair.stderr).toBe(0)
    const fixed = /^(\d+) fixed, 0 remaining$/m.exec(repair.stdout)
    expect(fixed, repair.stdout).not.toBeNull()
    expect(Number(fixed![1])).toBeGreaterThanOrEqual(1)
    expect(repair.stdout).toMatch(/applied\s+replay\s+replayed (\d+) of \1 entries/)
    const replayed = /replayed (\d+) of (\d+) entries \((\d+) rows, (\d+) new\)/.exec(repair.stdout)!
    const replayedRows = Number(replayed[3])
    const replayedNew = Number(replayed[4])
    expect(Number(replayed[1])).toBe(src.spooled_batches)
    expect(replayedRows).toBe(report.totals.spooled_rows)
    expect(replayedNew).toBe(report.totals.spooled_rows)
    expect(readdirSync(path.join(home, '.gbrain', 'dead-letter')).filter((n) => n.endsWith('.json'))).toEqual([])

    // 6. Exactly the vault, no duplicates.
    const c = await counts()
    expect(c).toEqual({pages: expected.pages, timeline: expected.timeline, links: expected.links, dupPages: 0, dupTimeline: 0, dupLinks: 0})
    const duplicated = c.pages + c.timeline + c.links - expected.total + c.dupPages + c.dupTimeline + c.dupLinks
    console.log(
      `[measure] incident: rows sent ${report.totals.rows_sent} / spooled ${report.totals.spooled_rows} / replayed ${replayedRows} (${replayedNew} new) / duplicated ${duplicated}; ` +
        `db pages ${c.pages}/${expected.pages}, timeline ${c.timeline}/${expected.timeline}, links ${c.links}/${expected.links}`,
    )
    expect(duplicated).toBe(0)

    const afterRepair = await gbrain(['doctor', '--json'], env)
    const afterReport = JSON.parse(afterRepair.stdout) as Report
    expect(find(afterReport, 'dead_letter').status).toBe('ok')
    expect(find(afterReport, 'connection').status).toBe('ok')
    const afterTable = await gbrain(['doctor', '--format', 'table'], env)
    console.log(`--- gbrain doctor (after repair, exit ${afterTable.code}) ---\n${afterTable.stdout}`)

    // 7. The next cycle completes and stamps; the doctor is green (exit 0).
    const again = await gbrain(['cycle', '--json'], env)
    expect(again.code, again.stderr).toBe(0)
    const againReport = JSON.parse(again.stdout) as CycleReport
    expect(againReport.status).toBe('complete')
    expect(againReport.sources[0]!.stamped).toBe(true)
    expect(againReport.totals.rows_inserted).toBe(0)
    const green = await gbrain(['doctor', '--format', 'table'], env)
    console.log(`--- gbrain doctor (after the next cycle, exit ${green.code}) ---\n${green.stdout}`)
    expect(green.code, green.stdout).toBe(0)
    expect(await counts()).toEqual(c)
    console.log(`[measure] incident: whole story ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  }, 90_000)
})
