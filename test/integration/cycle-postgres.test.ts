/**
 * `cycle` on a generated vault against a real PostgreSQL 15: exact rows, idempotent reruns,
 * and the same exact rows through a server restart, backend kills, and a long outage that
 * spools (then replay).
 */
import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import postgres from 'postgres'
import {afterAll, beforeAll, beforeEach, afterEach, describe, expect, it} from 'vitest'
import {DEFAULT_BATCH_SIZE, runCycle, type CycleProgress, type SourceCycleReport} from '../../src/brain/cycle.js'
import {ensureSchema} from '../../src/brain/schema.js'
import {addSource, listSources} from '../../src/brain/sources.js'
import {BRAIN_WRITERS} from '../../src/brain/writers.js'
import {AuditWriter, readWindow} from '../../src/engine/audit/index.js'
import {PostgresEngine} from '../../src/engine/postgres-engine.js'
import {DeadLetterSpool} from '../../src/engine/spool/dead-letter.js'
import {replayDeadLetters} from '../../src/engine/spool/replay.js'
import type {RetryPolicy} from '../../src/engine/retry-policy.js'
import type {Engine} from '../../src/engine/types.js'
import {destroyAll, waitFor} from '../helpers/cleanup.js'
import {startCluster, type PgCluster} from '../helpers/pg-cluster.js'
import {trackUncaught, type UncaughtTracker} from '../helpers/uncaught.js'
import {generateVault, type VaultExpectation} from '../helpers/vault-gen.js'

let cluster: PgCluster
let vault: string
let expected: VaultExpectation
let home: string
let tracker: UncaughtTracker
let dbn = 0
let engine: PostgresEngine | undefined

beforeAll(async () => {
  cluster = await startCluster()
  vault = mkdtempSync(path.join(os.tmpdir(), 'gbrain-vault-'))
  expected = generateVault(vault, {files: 2000, entries: 20, links: 5})
  expect(expected.total).toBeGreaterThanOrEqual(50_000)
}, 120_000)

afterAll(async () => {
  rmSync(vault, {recursive: true, force: true})
  await destroyAll()
})

beforeEach(() => {
  home = mkdtempSync(path.join(os.tmpdir(), 'gbrain-home-'))
  tracker = trackUncaught()
})

afterEach(async () => {
  await engine?.disconnect({reason: 'exit'})
  engine = undefined
  tracker.stop()
  tracker.assertNone()
  rmSync(home, {recursive: true, force: true})
})

/** A fresh database per test, so counts start at zero. */
async function freshDb(): Promise<string> {
  const name = `brain_${process.pid}_${++dbn}`
  await cluster.psql(`create database ${name}`)
  return cluster.urlFor(name)
}

async function setup(retry: RetryPolicy, app: string): Promise<{url: string; e: PostgresEngine}> {
  const url = await freshDb()
  const e = new PostgresEngine({
    url,
    applicationName: app,
    poolSize: 4,
    connectTimeoutMs: 1000,
    attemptTimeoutMs: 5000,
    endTimeoutMs: 500,
    retry,
    audit: new AuditWriter({dir: path.join(home, 'audit')}),
    spool: new DeadLetterSpool(path.join(home, 'dead-letter')),
  })
  engine = e
  await ensureSchema(e)
  await addSource(e, {id: 'vault', localPath: vault})
  return {url, e}
}

interface Counts {
  pages: number
  timeline: number
  links: number
}

async function counts(url: string): Promise<Counts> {
  const sql = postgres(url, {max: 1, fetch_types: false, onnotice: () => {}, connection: {application_name: 'admin'}})
  try {
    const [r] = await sql.unsafe<{pages: string; timeline: string; links: string}[]>(
      `select (select count(*) from pages where source_id = 'vault') as pages,
              (select count(*) from timeline_entries) as timeline,
              (select count(*) from links) as links`,
    )
    return {pages: Number(r!.pages), timeline: Number(r!.timeline), links: Number(r!.links)}
  } finally {
    await sql.end({timeout: 1})
  }
}

const expectedCounts = (): Counts => ({pages: expected.pages, timeline: expected.timeline, links: expected.links})

/**
 * The unique keys of pages, timeline_entries (idx_timeline_dedup) and links make a duplicate row
 * impossible, so the table counts alone cannot show a double write. What can: the rows the cycle
 * says its batches inserted against the rows in each table. Every row is reported inserted by
 * exactly one batch, except the rows of a batch whose earlier attempt committed unseen (in doubt):
 * its retry finds them present and reports 0. Such rows need a retry each batch of them, and a
 * batch holds at most DEFAULT_BATCH_SIZE rows. `replayed` adds rows a replay reported inserting.
 */
function expectInsertedMatchesTables(s: SourceCycleReport, table: Counts, retries: number, replayed = 0): void {
  const unseen =
    table.pages + table.timeline + table.links - (s.rows.pages.inserted + s.rows.timeline.inserted + s.rows.links.inserted + replayed)
  expect(unseen, `rows in the tables that no batch or replay reported inserting (retries ${retries})`).toBeGreaterThanOrEqual(0)
  expect(unseen, `rows in the tables that no batch or replay reported inserting (retries ${retries})`).toBeLessThanOrEqual(
    retries * DEFAULT_BATCH_SIZE,
  )
  for (const kind of ['pages', 'timeline', 'links'] as const) expect(s.rows[kind].inserted, kind).toBeLessThanOrEqual(table[kind])
}

async function recoveredRows(): Promise<number> {
  const r = await readWindow<{outcome: string}>({
    dir: path.join(home, 'audit'),
    feature: 'batch-retry',
    windowMs: 3600_000,
    now: Date.now() + 60_000,
  })
  return r.rows.filter((x) => x.outcome === 'recovered').length
}

const patient: RetryPolicy = {maxRetries: 6, baseMs: 200, maxMs: 1000, jitter: 'decorrelated'}

describe('cycle against Postgres', () => {
  it('lands exactly the vault’s rows, counts bad input, stamps, and a rerun adds nothing', async () => {
    const {url, e} = await setup(patient, 'cycle-plain')
    const t0 = performance.now()
    const report = await runCycle(
      e,
      (await listSources(e)).filter((s) => s.id === 'vault'),
    )
    const seconds = (performance.now() - t0) / 1000
    console.log(
      `[measure] cycle postgres: ${expected.total} rows in ${seconds.toFixed(2)} s = ${Math.round(expected.total / seconds)} rows/s`,
    )
    const s = report.sources[0]!
    expect(s.status).toBe('complete')
    expect(s.stamped).toBe(true)
    expect(s.skipped_files.binary).toBe(expected.binaryFiles)
    expect(s.invalid_dates).toBe(expected.invalidDates)
    expect(s.unterminated_links).toBe(expected.unterminatedLinks)
    expect(await counts(url)).toEqual(expectedCounts())
    // No fault: every row in the tables was reported inserted by its batch, exactly.
    expect(report.totals.retries).toBe(0)
    expect(s.rows.pages.inserted).toBe(expected.pages)
    expect(s.rows.timeline.inserted).toBe(expected.timeline)
    expect(s.rows.links.inserted).toBe(expected.links)
    const stamped = (await listSources(e)).find((x) => x.id === 'vault')!
    expect(typeof (stamped.config as Record<string, unknown>).last_full_cycle_at).toBe('string')
    expect(stamped.last_sync_at).not.toBeNull()

    const again = await runCycle(
      e,
      (await listSources(e)).filter((x) => x.id === 'vault'),
    )
    expect(again.totals.rows_inserted).toBe(0)
    expect(again.totals.rows_sent).toBe(report.totals.rows_sent)
    expect(await counts(url)).toEqual(expectedCounts())
  }, 120_000)

  it('survives a fast restart mid-run: the batches that meet the outage are retried on a rebuilt pool; exact rows', async () => {
    // A retry budget that outlasts a start on a loaded machine: ≥ 9 × 200 ms of sleeps.
    const {url, e} = await setup({...patient, maxRetries: 10}, 'cycle-restart')
    let down: Promise<void> | undefined
    let up: Promise<void> | undefined
    // pg_ctl stop -m fast once 600 files of the second pass are read; the next batch waits until
    // the stop has completed (a marker, not a race with the load), so it meets the outage; the
    // server starts again once the engine has retried (a marker: its retry counter).
    const gated: Engine = {
      ...e.borrow(),
      batch: async (site, rows, writer, options) => {
        if (down) await down
        return e.batch(site, rows, writer, options)
      },
    }
    const report = await runCycle(
      gated,
      (await listSources(e)).filter((s) => s.id === 'vault'),
      {
        onProgress: (p: CycleProgress) => {
          if (!down && p.phase === 'entries' && p.done === 600) {
            down = cluster.stop('fast')
            up = down
              .then(() =>
                waitFor(() => e.stats().retries > 0, {
                  timeoutMs: 20_000,
                  intervalMs: 5,
                  what: 'the engine retried a batch against the stopped server',
                }),
              )
              .then(() => cluster.start())
            up.catch(() => {}) // awaited below
          }
        },
      },
    )
    await up
    expect(down).toBeDefined()
    const s = report.sources[0]!
    expect(report.status).toBe('complete')
    expect(s.spooled_rows).toBe(0)
    // The outage was met and healed by the engine: retries, a rebuilt pool, recovered batches.
    const retries = e.stats().retries
    expect(retries).toBeGreaterThan(0)
    expect(e.health().reconnects.ok).toBeGreaterThanOrEqual(1)
    await e.audit!.flush()
    expect(await recoveredRows()).toBeGreaterThanOrEqual(1)
    console.log(
      `[measure] cycle through a restart: ${retries} retries, ${e.health().reconnects.ok} swaps, ${e.health().reconnects.failed} failed rebuilds`,
    )
    const table = await counts(url)
    expect(table).toEqual(expectedCounts())
    expectInsertedMatchesTables(s, table, retries)
  }, 120_000)

  it('survives backends killed every 150 ms: exact rows, and the rows reported inserted match the tables', async () => {
    const {url, e} = await setup(patient, 'cycle-kills')
    let killing = true
    let kills = 0
    const killer = (async () => {
      const until = Date.now() + 60_000
      while (killing && Date.now() < until) {
        kills += await cluster.terminateBackends('cycle-kills').catch(() => 0)
        await new Promise((r) => setTimeout(r, 150))
      }
    })()
    let report: Awaited<ReturnType<typeof runCycle>>
    try {
      report = await runCycle(
        e,
        (await listSources(e)).filter((s) => s.id === 'vault'),
      )
      expect(report.status).toBe('complete')
    } finally {
      killing = false
      await killer
    }
    expect(kills).toBeGreaterThan(0)
    expect(e.stats().retries).toBeGreaterThan(0)
    console.log(`[measure] cycle under kills: ${kills} backends killed, ${e.stats().retries} retries, ${e.health().reconnects.ok} swaps`)
    const table = await counts(url)
    expect(table).toEqual(expectedCounts())
    expectInsertedMatchesTables(report.sources[0]!, table, e.stats().retries)
  }, 120_000)

  it('a long outage spools the rest; the cycle is partial and unstamped; replay lands every row once', async () => {
    const {url, e} = await setup({maxRetries: 3, baseMs: 50, maxMs: 100, jitter: 'none'}, 'cycle-outage')
    let stopped: Promise<void> | undefined
    const report = await runCycle(
      e,
      (await listSources(e)).filter((s) => s.id === 'vault'),
      {
        onProgress: (p) => {
          if (!stopped && p.phase === 'entries' && p.done === 1000) stopped = cluster.stop('fast')
        },
      },
    )
    await stopped
    const s = report.sources[0]!
    expect(['partial', 'failed']).toContain(s.status)
    expect(s.stamped).toBe(false)
    expect(s.spooled_rows).toBeGreaterThan(0)
    // Once a batch went to the spool on a connection error, the rest get one attempt each
    // instead of the whole retry budget: the cycle ends promptly against a dead database.
    expect(s.spooled_batches).toBeGreaterThan(10)
    expect(e.stats().retries).toBeLessThanOrEqual(2 * 3)
    await cluster.start()
    const replay = await replayDeadLetters({spool: e.spool!, engine: e, writers: BRAIN_WRITERS})
    expect(replay.failed).toEqual([])
    expect(replay.rows_sent).toBe(s.spooled_rows)
    const table = await counts(url)
    expect(table).toEqual(expectedCounts())
    expectInsertedMatchesTables(s, table, e.stats().retries, replay.rows_inserted)
    const notStamped = (await listSources(e)).find((x) => x.id === 'vault')!
    expect((notStamped.config as Record<string, unknown>).last_full_cycle_at).toBeUndefined()
  }, 120_000)
})
