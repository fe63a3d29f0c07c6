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
import {runCycle, type CycleProgress} from '../../src/brain/cycle.js'
import {ensureSchema} from '../../src/brain/schema.js'
import {addSource, listSources} from '../../src/brain/sources.js'
import {BRAIN_WRITERS} from '../../src/brain/writers.js'
import {AuditWriter} from '../../src/engine/audit/index.js'
import {PostgresEngine} from '../../src/engine/postgres-engine.js'
import {DeadLetterSpool} from '../../src/engine/spool/dead-letter.js'
import {replayDeadLetters} from '../../src/engine/spool/replay.js'
import type {RetryPolicy} from '../../src/engine/retry-policy.js'
import {destroyAll} from '../helpers/cleanup.js'
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

async function counts(url: string): Promise<{pages: number; timeline: number; links: number; dupTimeline: number}> {
  const sql = postgres(url, {max: 1, fetch_types: false, onnotice: () => {}, connection: {application_name: 'admin'}})
  try {
    const [r] = await sql.unsafe<{pages: string; timeline: string; links: string; dup: string}[]>(
      `select (select count(*) from pages where source_id = 'vault') as pages,
              (select count(*) from timeline_entries) as timeline,
              (select count(*) from links) as links,
              (select count(*) - count(distinct (page_id, date, summary)) from timeline_entries) as dup`,
    )
    return {pages: Number(r!.pages), timeline: Number(r!.timeline), links: Number(r!.links), dupTimeline: Number(r!.dup)}
  } finally {
    await sql.end({timeout: 1})
  }
}

const patient: RetryPolicy = {maxRetries: 6, baseMs: 200, maxMs: 1000, jitter: 'decorrelated'}

describe('cycle against Postgres', () => {
  it('lands exactly the vault’s rows, counts bad input, stamps, and a rerun adds nothing', async () => {
    const {url, e} = await setup(patient, 'cycle-plain')
    const t0 = performance.now()
    const report = await runCycle(e, (await listSources(e)).filter((s) => s.id === 'vault'))
    const seconds = (performance.now() - t0) / 1000
    console.log(`[measure] cycle postgres: ${expected.total} rows in ${seconds.toFixed(2)} s = ${Math.round(expected.total / seconds)} rows/s`)
    const s = report.sources[0]!
    expect(s.status).toBe('complete')
    expect(s.stamped).toBe(true)
    expect(s.skipped_files.binary).toBe(expected.binaryFiles)
    expect(s.invalid_dates).toBe(expected.invalidDates)
    expect(s.unterminated_links).toBe(expected.unterminatedLinks)
    expect(await counts(url)).toEqual({pages: expected.pages, timeline: expected.timeline, links: expected.links, dupTimeline: 0})
    const stamped = (await listSources(e)).find((x) => x.id === 'vault')!
    expect(typeof (stamped.config as Record<string, unknown>).last_full_cycle_at).toBe('string')
    expect(stamped.last_sync_at).not.toBeNull()

    const again = await runCycle(e, (await listSources(e)).filter((x) => x.id === 'vault'))
    expect(again.totals.rows_inserted).toBe(0)
    expect(await counts(url)).toEqual({pages: expected.pages, timeline: expected.timeline, links: expected.links, dupTimeline: 0})
  }, 120_000)

  it('survives a fast restart mid-run: exact rows, no duplicates', async () => {
    const {url, e} = await setup(patient, 'cycle-restart')
    let fired = false
    let restart: Promise<void> | undefined
    const report = await runCycle(e, (await listSources(e)).filter((s) => s.id === 'vault'), {
      onProgress: (p: CycleProgress) => {
        if (!fired && p.phase === 'entries' && p.done === 600) {
          fired = true
          restart = cluster.restart('fast')
        }
      },
    })
    await restart
    expect(fired).toBe(true)
    expect(report.status).toBe('complete')
    expect(await counts(url)).toEqual({pages: expected.pages, timeline: expected.timeline, links: expected.links, dupTimeline: 0})
  }, 120_000)

  it('survives backends killed every 150 ms: exact rows, no duplicates', async () => {
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
    try {
      const report = await runCycle(e, (await listSources(e)).filter((s) => s.id === 'vault'))
      expect(report.status).toBe('complete')
    } finally {
      killing = false
      await killer
    }
    expect(kills).toBeGreaterThan(0)
    expect(e.stats().retries).toBeGreaterThan(0)
    console.log(`[measure] cycle under kills: ${kills} backends killed, ${e.stats().retries} retries, ${e.health().reconnects.ok} swaps`)
    expect(await counts(url)).toEqual({pages: expected.pages, timeline: expected.timeline, links: expected.links, dupTimeline: 0})
  }, 120_000)

  it('a long outage spools the rest; the cycle is partial and unstamped; replay lands every row once', async () => {
    const {url, e} = await setup({maxRetries: 3, baseMs: 50, maxMs: 100, jitter: 'none'}, 'cycle-outage')
    let stopped: Promise<void> | undefined
    const report = await runCycle(e, (await listSources(e)).filter((s) => s.id === 'vault'), {
      onProgress: (p) => {
        if (!stopped && p.phase === 'entries' && p.done === 1000) stopped = cluster.stop('fast')
      },
    })
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
    expect(await counts(url)).toEqual({pages: expected.pages, timeline: expected.timeline, links: expected.links, dupTimeline: 0})
    const notStamped = (await listSources(e)).find((x) => x.id === 'vault')!
    expect((notStamped.config as Record<string, unknown>).last_full_cycle_at).toBeUndefined()
  }, 120_000)
})
