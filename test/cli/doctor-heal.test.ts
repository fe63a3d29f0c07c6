/**
 * `gbrain doctor --auto-heal` end to end, with the built binary and a real PostgreSQL 15 (issue
 * 14: "fixes a replayable dead-letter spool and refuses a failure"):
 *
 * 1. A brain cycled once (its source stamped), then a real outage: the timeline and link rows
 *    are deleted, a session holds `LOCK TABLE timeline_entries, links`, a second cycle lands its
 *    pages and blocks on its first timeline batch (the marker: its session waiting on a Lock),
 *    the server stops, the cycle's remaining batches exhaust into the spool. The server returns.
 * 2. The doctor sees a young intact spool: dead_letter warns, exit 0. `--auto-heal --dry-run`
 *    says it would replay and changes nothing (spool, rows, no heal recorded).
 * 3. `--auto-heal` replays it: every row lands exactly once, dead_letter ok, exit 0, the heal
 *    recorded in the history. A new young entry within the interval is skipped (with when);
 *    `--min-interval 0s` heals it.
 * 4. Failures are refused: with the server down the replay waits and the connection needs
 *    attention with `gbrain repair --reconnect` (exit 1); with the server up, a spool nobody
 *    replayed for 25 h fails and is listed with `gbrain repair --replay`, never replayed (exit 1).
 * 5. Ctrl-C mid-replay: exit 130, one line, nothing recorded; a rerun lands the rest.
 */
import {existsSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {CycleReport} from '../../src/brain/cycle.js'
import type {HealSection} from '../../src/repair/heal.js'
import {gbrain, spawnGbrain} from '../helpers/cli.js'
import {destroyAll, waitFor} from '../helpers/cleanup.js'
import {
  brainPaths,
  check,
  holdLock,
  parseReport,
  plantSpoolEntry,
  removeHomes,
  STALE_SPOOL_AGE_MS,
  statuses,
} from '../helpers/doctor-kit.js'
import {startCluster, type PgCluster} from '../helpers/pg-cluster.js'
import {incidentBrain} from '../helpers/incident.js'
import type {VaultExpectation} from '../helpers/vault-gen.js'

let cluster: PgCluster
let env: Record<string, string>
let paths: ReturnType<typeof brainPaths>
let expected: VaultExpectation
let historyFile: string

beforeAll(async () => {
  cluster = await startCluster()
  ;({paths, env, expected} = await incidentBrain(cluster, {files: 30, entries: 3, links: 2}, 'gbrain-heal-'))
  historyFile = path.join(paths.gbrain, 'doctor-history.jsonl')
  const first = await gbrain(['cycle', '--json'], env)
  expect(first.code, first.stderr).toBe(0)
}, 90_000)

afterAll(async () => {
  removeHomes()
  await destroyAll()
})

const spoolFiles = (): string[] =>
  existsSync(paths.spool)
    ? readdirSync(paths.spool)
        .filter((n) => n.endsWith('.json'))
        .sort()
    : []
const heal = (r: {heal?: unknown}): HealSection => r.heal as HealSection
const historyLines = (): {ts: string; heals?: Record<string, string>}[] =>
  readFileSync(historyFile, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as {ts: string; heals?: Record<string, string>})

async function rowCounts(): Promise<{pages: number; timeline: number; links: number; duplicates: number}> {
  const [pages, timeline, links, duplicates] = (
    await cluster.psql(
      `select (select count(*) from pages where source_id = 'notes') || ',' || (select count(*) from timeline_entries) || ',' ||
              (select count(*) from links) || ',' ||
              ((select count(*) - count(distinct (page_id, date, summary)) from timeline_entries) +
               (select count(*) - count(distinct (from_page_id, to_page_id, link_type, link_source)) from links))`,
    )
  )
    .split(',')
    .map(Number)
  return {pages: pages!, timeline: timeline!, links: links!, duplicates: duplicates!}
}

describe('doctor --auto-heal', () => {
  let spooledRows = 0

  it('a real outage leaves a young intact spool: dead_letter warns (exit 0); --dry-run changes nothing', async () => {
    await cluster.psql('delete from links; delete from timeline_entries')
    const lock = await holdLock(cluster.url, ['timeline_entries', 'links'])
    const cycle = spawnGbrain(['cycle', '--json', '--batch-size', '1000'], env)
    await waitFor(
      async () =>
        (await cluster.psql(
          `select count(*) from pg_stat_activity where application_name = 'gbrain-cycle-${cycle.pid}' and wait_event_type = 'Lock'`,
        )) === '1',
      {timeoutMs: 30_000, intervalMs: 25, what: 'the cycle blocked on the timeline lock'},
    )
    await cluster.stop('fast')
    await lock.release()
    const c = await cycle.done
    expect(c.code, c.stderr).toBe(1)
    const cr = JSON.parse(c.stdout) as CycleReport
    expect(cr.status).toBe('partial')
    spooledRows = cr.totals.spooled_rows
    expect(spooledRows).toBe(expected.timeline + expected.links)
    const spooled = spoolFiles()
    expect(spooled.length).toBe(cr.sources[0]!.spooled_batches)
    await cluster.start()

    const plain = await gbrain(['doctor', '--json'], env)
    const rep = parseReport(plain)
    expect(check(rep, 'connection').status).toBe('ok')
    expect(check(rep, 'dead_letter')).toMatchObject({status: 'warn', details: {entries: spooled.length, rows: spooledRows}})
    expect(Object.values(statuses(rep))).not.toContain('fail')
    expect(plain.code).toBe(0)

    const before = historyLines().length
    const dry = await gbrain(['doctor', '--auto-heal', '--dry-run', '--json'], env)
    expect(dry.code, dry.stderr).toBe(0)
    const dh = heal(parseReport(dry))
    expect(dh.dry_run).toBe(true)
    expect(dh.actions).toEqual([expect.objectContaining({name: 'replay', status: 'would_apply'})])
    expect(dh.needs_attention).toEqual([])
    expect(check(parseReport(dry), 'dead_letter').status).toBe('warn')
    expect(spoolFiles()).toEqual(spooled)
    expect(await rowCounts()).toMatchObject({timeline: 0, links: 0})
    // The dry run is a doctor run in the history, with no heal on it.
    expect(historyLines()).toHaveLength(before + 1)
    expect(historyLines().at(-1)!.heals).toBeUndefined()
  }, 120_000)

  it('replays it: every row lands exactly once, dead_letter ok, exit 0, the heal recorded; a second heal within the interval is skipped', async () => {
    expect(spooledRows).toBeGreaterThan(0) // the outage test ran
    const r = await gbrain(['doctor', '--auto-heal', '--json'], env)
    console.log(`--- gbrain doctor --auto-heal --json (exit ${r.code}): heal ---\n${JSON.stringify(heal(parseReport(r)), null, 2)}`)
    expect(r.code, r.stderr).toBe(0)
    const rep = parseReport(r)
    const h = heal(rep)
    expect(h.actions).toEqual([
      expect.objectContaining({name: 'replay', status: 'applied', concerns: ['dead_letter', 'batch_retry_health']}),
    ])
    expect(h.actions[0]!.data).toMatchObject({rows_sent: spooledRows})
    expect(h.checks).toContainEqual({name: 'dead_letter', before: 'warn', after: 'ok'})
    expect(check(rep, 'dead_letter').status).toBe('ok')
    expect(spoolFiles()).toEqual([])
    expect(await rowCounts()).toEqual({pages: expected.pages, timeline: expected.timeline, links: expected.links, duplicates: 0})
    const healedAt = historyLines().at(-1)!
    expect(healedAt.heals).toEqual({replay: 'applied'})

    // A new young entry: within the 6 h interval it is left alone, and the table says when it was healed.
    const id = await plantSpoolEntry(paths.spool)
    const again = await gbrain(['doctor', '--auto-heal'], env)
    console.log(`--- gbrain doctor --auto-heal, within the interval (exit ${again.code}) ---\n${again.stdout}`)
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toMatch(
      new RegExp(`- skipped +replay +healed at ${healedAt.ts.replace(/\./g, '\\.')}, within the minimum interval`),
    )
    expect(spoolFiles()).toEqual([`${id}.json`])
    expect(historyLines().at(-1)!.heals).toBeUndefined()

    const now = await gbrain(['doctor', '--auto-heal', '--min-interval', '0s'], env)
    console.log(`--- gbrain doctor --auto-heal --min-interval 0s (exit ${now.code}) ---\n${now.stdout}`)
    expect(now.code, now.stderr).toBe(0)
    expect(now.stdout).toMatch(/✓ fixed +replay +replayed 1 of 1 entries \(2 rows, 2 new\) \(dead_letter warn → ok/)
    expect(spoolFiles()).toEqual([])
  }, 120_000)

  it('refuses failures: the replay waits while the server is down (connection needs attention), and a 25 h old spool is listed, never replayed; exit 1', async () => {
    const id = await plantSpoolEntry(paths.spool)
    await cluster.stop('fast')
    try {
      const down = await gbrain(['doctor', '--auto-heal', '--min-interval', '0s', '--json'], env)
      expect(down.code, down.stderr).toBe(1)
      const h = heal(parseReport(down))
      expect(h.actions).toEqual([])
      expect(h.skipped).toEqual([expect.objectContaining({action: 'replay', reason: 'database_unreachable'})])
      expect(h.needs_attention).toContainEqual(expect.objectContaining({check: 'connection', command: 'gbrain repair --reconnect'}))
      expect(spoolFiles()).toEqual([`${id}.json`])
    } finally {
      await cluster.start()
    }

    const old = await plantSpoolEntry(paths.spool, undefined, 2, STALE_SPOOL_AGE_MS)
    const t = await gbrain(['doctor', '--auto-heal', '--min-interval', '0s'], env)
    console.log(`--- gbrain doctor --auto-heal, a 25 h old spool (exit ${t.code}) ---\n${t.stdout}`)
    expect(t.code).toBe(1)
    expect(t.stdout).toMatch(/Needs attention \(failures are never healed automatically\):\n {2}✗ dead_letter: gbrain repair --replay\n/)
    expect(t.stdout).not.toMatch(/applied|fixed +replay/)
    expect(spoolFiles()).toEqual([`${id}.json`, `${old}.json`].sort())
  }, 120_000)

  it('Ctrl-C mid-heal: exit 130, one "interrupted" line, nothing recorded; the entries not landed stay and a rerun heals them', async () => {
    for (const f of spoolFiles()) rmSync(path.join(paths.spool, f))
    const ENTRIES = 400
    for (let i = 0; i < ENTRIES; i++)
      await plantSpoolEntry(paths.spool, `20260101T000000000Z-cycle_pages-${i.toString(16).padStart(8, '0')}`, 2)
    const before = historyLines().length
    const run = spawnGbrain(['doctor', '--auto-heal', '--min-interval', '0s'], env)
    // Marker: the replay has started (its first progress line).
    await waitFor(() => run.stderr().includes('gbrain: replay, '), {
      timeoutMs: 60_000,
      intervalMs: 10,
      what: `the replay to start (stderr: ${run.stderr()})`,
    })
    run.kill('SIGINT')
    const r = await run.done
    console.log(`--- gbrain doctor --auto-heal, SIGINT mid-replay (exit ${r.code}) ---\n${r.stderr}${r.stdout}`)
    expect(r.code, r.stderr).toBe(130)
    // (Node's own warning about the test runner's FORCE_COLOR is not ours.)
    expect(r.stderr.split('\n').filter((l) => l !== '' && !/^\(node:\d+\) Warning: |^\(Use `node /.test(l))).toEqual([
      `gbrain: replay, ${ENTRIES} entries`,
      'gbrain: interrupted; rerun `gbrain doctor --auto-heal` to finish — nothing lost',
    ])
    expect(r.stdout).toBe('')
    expect(historyLines()).toHaveLength(before)
    const left = spoolFiles().length
    expect(left).toBeGreaterThan(0)
    expect(left).toBeLessThanOrEqual(ENTRIES)

    const again = await gbrain(['doctor', '--auto-heal', '--min-interval', '0s', '--json'], env, 120_000)
    expect(again.code, again.stderr).toBe(0)
    expect(heal(parseReport(again)).actions).toEqual([
      expect.objectContaining({name: 'replay', status: 'applied', detail: expect.stringContaining(`replayed ${left} of ${left} entries`)}),
    ])
    expect(spoolFiles()).toEqual([])
  }, 180_000)

  it.each([
    [['--dry-run'], /^gbrain: --dry-run needs --auto-heal/m],
    [['--min-interval', '1h'], /^gbrain: --min-interval needs --auto-heal/m],
    // The value is echoed in the fix quoted for the shell: pasting it runs nothing else.
    [['--min-interval', '1h; rm -rf /'], /--min-interval needs --auto-heal.*gbrain doctor --auto-heal --min-interval '1h; rm -rf \/'/],
    [['--auto-heal', '--list'], /--auto-heal cannot be used with --list/],
    [['--auto-heal', '--trend'], /--auto-heal cannot be used with --trend/],
    [['--auto-heal', '--no-history'], /--auto-heal needs the history/],
    [['--auto-heal', '--min-interval', '6 hours; rm -rf /'], /--min-interval "6 hours; rm -rf \/" is not a duration/],
    [['--auto-heal', '--min-interval', '31d'], /--min-interval 31d is out of range/],
  ])('usage error: doctor %j → exit 64, one line', async (args, message) => {
    const r = await gbrain(['doctor', ...args], env)
    expect(r.code).toBe(64)
    expect(r.stderr).toMatch(message)
    expect(r.stderr.trim().split('\n').length).toBeLessThanOrEqual(2)
    expect(r.stderr).not.toMatch(/\n\s+at /)
  })
})
