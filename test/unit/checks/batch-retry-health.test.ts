import * as fs from 'node:fs'
import * as path from 'node:path'
import {describe, expect, it} from 'vitest'
import {batchRetryHealthCheck, judgeBatchRetryHealth} from '../../../src/checks/batch-retry-health.js'
import type {BatchRetryFacts} from '../../../src/checks/facts/audit-windows.js'
import {gatherBatchRetry} from '../../../src/checks/facts/audit-windows.js'
import {evaluate} from '../../../src/checks/runner.js'
import {fileGatherers} from '../../../src/checks/facts/index.js'
import {validateThresholds} from '../../../src/checks/thresholds.js'
import type {CheckOutcome} from '../../../src/checks/types.js'
import {AuditWriter} from '../../../src/engine/audit/writer.js'
import type {BrainPaths} from '../../../src/engine/paths.js'
import {DeadLetterSpool, SPOOL_FORMAT_VERSION} from '../../../src/engine/spool/dead-letter.js'
import {tempBrains} from '../../helpers/temp-brain.js'

const HOUR = 3_600_000
const NOW = Date.parse('2026-01-07T12:00:00.000Z') // Wednesday of 2026-W02
const iso = (ms: number): string => new Date(ms).toISOString()
const W02 = 'batch-retry-2026-W02.jsonl'
const W01 = 'batch-retry-2026-W01.jsonl'

const brains = tempBrains('gbrain-check-batch-')
const brain = brains.brain

type Row = Record<string, unknown>
/** gbrain's writer: `{...event, ts}` (ts last); exhausted rows have attempt = maxRetries + 1, delay 0, no `spooled`. */
const gbrainExhausted = (site: string, tsMs = NOW - HOUR, batch_size = 100): Row => ({
  site,
  batch_size,
  attempt: 4,
  outcome: 'exhausted',
  delay_ms: 0,
  error_message_summary: 'circuit breaker open',
  error_code: 'ECIRCUITBREAKER',
  ts: iso(tsMs),
})
const scheduled = (site: string, tsMs = NOW - HOUR): Row => ({
  site,
  batch_size: 100,
  attempt: 1,
  outcome: 'success',
  delay_ms: 1000,
  error_message_summary: 'blip',
  ts: iso(tsMs),
})

function writeLines(paths: BrainPaths, name: string, lines: Array<Row | string | Buffer>): string {
  fs.mkdirSync(paths.auditDir, {recursive: true, mode: 0o700})
  const file = path.join(paths.auditDir, name)
  const chunks = lines.map((l) =>
    Buffer.isBuffer(l) ? Buffer.concat([l, Buffer.from('\n')]) : Buffer.from(`${typeof l === 'string' ? l : JSON.stringify(l)}\n`),
  )
  fs.appendFileSync(file, Buffer.concat(chunks), {mode: 0o600})
  return file
}

const times = <T>(n: number, f: (i: number) => T): T[] => Array.from({length: n}, (_, i) => f(i))

async function run(paths: BrainPaths, env: NodeJS.ProcessEnv = {}, now = NOW): Promise<CheckOutcome> {
  return evaluate(batchRetryHealthCheck, fileGatherers({paths, now, env}), {now, thresholds: validateThresholds(env)})
}

describe('batch_retry_health: the ladder (gbrain cases)', () => {
  it('empty audit → ok', async () => {
    const r = await run(brain())
    expect(r.status).toBe('ok')
    expect(r.message).toBe('No exhausted batch retries in last 24h.')
    expect(r.observed_value).toBe(0)
    expect(r.observed_unit).toBe('count')
    expect(r.threshold).toEqual({warn: 5, fail: 20})
    expect(r.fix).toBeUndefined()
    expect(r.details).toMatchObject({exhausted_total: 0, by_site: {}, files_scanned: 0, corrupt_lines: 0, rows_lost: 0, rows_spooled: 0})
  })

  it('only scheduled retries → ok, counted honestly (a scheduled retry is not a recovery)', async () => {
    const p = brain()
    writeLines(p, W02, [scheduled('extract.links_inc'), scheduled('extract.links_inc')])
    const r = await run(p)
    expect(r.status).toBe('ok')
    expect(r.message).toContain('No exhausted batch retries')
    expect(r.message).toContain('2 transient retries scheduled, 0 batches recovered')
    expect(r.details).toMatchObject({retries_scheduled: 2, recovered: 0})
  })

  it('1–2 exhausted at one site → ok (below per-site threshold)', async () => {
    const p = brain()
    writeLines(
      p,
      W02,
      times(2, () => gbrainExhausted('extract.links_inc')),
    )
    const r = await run(p)
    expect(r.status).toBe('ok')
    expect(r.message).toBe(
      '2 exhausted batch retries in last 24h (below per-site threshold of 3; worst: extract.links_inc = 2). Rows: 200 lost, 0 spooled.',
    )
    expect(r.observed_value).toBe(2)
  })

  it('3 exhausted at one site → warn naming the site', async () => {
    const p = brain()
    writeLines(
      p,
      W02,
      times(3, () => gbrainExhausted('extract.links_inc')),
    )
    const r = await run(p)
    expect(r.status).toBe('warn')
    expect(r.message).toContain('(worst: extract.links_inc = 3)')
    expect(r.message).toContain('GBRAIN_BULK_MAX_RETRIES')
    expect(r.details).toMatchObject({worst_site: {site: 'extract.links_inc', exhausted: 3}})
    expect(r.fix?.commands).toEqual(['gbrain doctor --only connection', 'export GBRAIN_BULK_MAX_RETRIES=5'])
  })

  it('5 across sites (none ≥ 3) → warn naming the worst site', async () => {
    const p = brain()
    writeLines(p, W02, [
      gbrainExhausted('extract.timeline_fs'),
      gbrainExhausted('extract.links_inc'),
      gbrainExhausted('extract.links_inc'),
      gbrainExhausted('extract.timeline_fs'),
      gbrainExhausted('mcp.put_page.autolink'),
    ])
    const r = await run(p)
    expect(r.status).toBe('warn')
    // A tie is broken by name: the report is stable.
    expect(r.message).toContain('5 exhausted batch retries in last 24h (worst: extract.links_inc = 2)')
    expect(Object.keys(r.details!.by_site as object)).toEqual(['extract.links_inc', 'extract.timeline_fs', 'mcp.put_page.autolink'])
  })

  it('4 across sites → ok; 19 → warn; 20 → fail ("sustained")', async () => {
    const four = brain()
    writeLines(four, W02, [gbrainExhausted('a'), gbrainExhausted('b'), gbrainExhausted('c'), gbrainExhausted('d')])
    expect((await run(four)).status).toBe('ok')

    const nineteen = brain()
    writeLines(
      nineteen,
      W02,
      times(19, () => gbrainExhausted('extract.links_inc')),
    )
    expect((await run(nineteen)).status).toBe('warn')

    const twenty = brain()
    writeLines(
      twenty,
      W02,
      times(20, () => gbrainExhausted('extract.links_inc')),
    )
    const r = await run(twenty)
    expect(r.status).toBe('fail')
    expect(r.message).toContain('Sustained circuit-breaker incident')
    expect(r.message).toContain('20 exhausted batch retries in last 24h (worst: extract.links_inc = 20)')
    expect(r.observed_value).toBe(20)
    expect(r.fix?.commands).toEqual(['gbrain doctor --only connection', 'export GBRAIN_BULK_MAX_RETRIES=5'])
  })
})

describe('batch_retry_health: invalid GBRAIN_BULK_* settings (worse verdict wins)', () => {
  it('GBRAIN_BULK_MAX_RETRIES=-1 with an empty audit → warn naming the variable and the fix', async () => {
    const r = await run(brain(), {GBRAIN_BULK_MAX_RETRIES: '-1'})
    expect(r.status).toBe('warn')
    expect(r.message).toContain('GBRAIN_BULK_*')
    expect(r.message).toContain('GBRAIN_BULK_MAX_RETRIES must be an integer ≥ 0, got "-1"')
    expect(r.message).toContain('export GBRAIN_BULK_MAX_RETRIES=3')
    expect(r.fix?.commands).toEqual(['export GBRAIN_BULK_MAX_RETRIES=3'])
    expect(r.details!.invalid_settings).toEqual([
      {
        variable: 'GBRAIN_BULK_MAX_RETRIES',
        value: '-1',
        message: 'GBRAIN_BULK_MAX_RETRIES must be an integer ≥ 0, got "-1"',
        fix: 'export GBRAIN_BULK_MAX_RETRIES=3',
      },
    ])
  })

  it('…and with 20 exhausted it is still fail (gbrain would hide the incident behind a warning)', async () => {
    const p = brain()
    writeLines(
      p,
      W02,
      times(20, () => gbrainExhausted('extract.links_inc')),
    )
    const r = await run(p, {GBRAIN_BULK_MAX_RETRIES: '-1'})
    expect(r.status).toBe('fail')
    // The worse verdict leads; the configuration problem is still named.
    expect(r.message.indexOf('Sustained')).toBeLessThan(r.message.indexOf('GBRAIN_BULK_* env override invalid'))
    expect(r.fix?.commands).toEqual([
      'gbrain doctor --only connection',
      'export GBRAIN_BULK_MAX_RETRIES=5',
      'export GBRAIN_BULK_MAX_RETRIES=3',
    ])
  })

  it('a warn from the env and a warn from the ladder: configuration first', async () => {
    const p = brain()
    writeLines(
      p,
      W02,
      times(3, () => gbrainExhausted('s')),
    )
    const r = await run(p, {GBRAIN_BULK_RETRY_BASE_MS: 'abc'})
    expect(r.status).toBe('warn')
    expect(r.message.startsWith('GBRAIN_BULK_* env override invalid: GBRAIN_BULK_RETRY_BASE_MS')).toBe(true)
    expect(r.message).toContain('(worst: s = 3)')
  })

  it('GBRAIN_BULK_MAX_RETRIES=0 (retries disabled) is valid → ok', async () => {
    const r = await run(brain(), {GBRAIN_BULK_MAX_RETRIES: '0'})
    expect(r.status).toBe('ok')
  })
})

describe('batch_retry_health: what is counted', () => {
  it('corrupt lines are counted and reported in every branch', async () => {
    const ok = brain()
    writeLines(ok, W02, [scheduled('a'), '{not json}', 'still not'])
    const r1 = await run(ok)
    expect(r1.status).toBe('ok')
    expect(r1.message).toContain('(note: 2 corrupt JSONL lines skipped)')
    expect(r1.details!.corrupt_lines).toBe(2)

    const warn = brain()
    writeLines(warn, W02, [...times(3, () => gbrainExhausted('a')), '{"ts":'])
    const r2 = await run(warn)
    expect(r2.status).toBe('warn')
    expect(r2.message).toContain('1 corrupt JSONL line skipped')

    const fail = brain()
    writeLines(fail, W02, [...times(20, () => gbrainExhausted('a')), '[1,2]', 'null'])
    const r3 = await run(fail)
    expect(r3.status).toBe('fail')
    expect(r3.message).toContain('2 corrupt JSONL lines')
  })

  it('gbrain-written exhausted rows (no `spooled`) lost their rows', async () => {
    const p = brain()
    writeLines(p, W02, [gbrainExhausted('a', NOW - HOUR, 100), gbrainExhausted('b', NOW - HOUR, 40)])
    const r = await run(p)
    expect(r.details).toMatchObject({
      rows_lost: 140,
      rows_spooled: 0,
      by_site: {
        a: {exhausted: 1, spooled: 0, lost: 1, rows_lost: 100, retries_scheduled: 0, recovered: 0},
        b: {exhausted: 1, spooled: 0, lost: 1, rows_lost: 40, retries_scheduled: 0, recovered: 0},
      },
    })
    expect(r.message).toContain('Rows: 140 lost, 0 spooled.')
  })

  it('our rows, written by AuditWriter: recovered, spooled exhausted with dead_letter_id', async () => {
    const p = brain()
    const w = new AuditWriter({dir: p.auditDir, onError: () => {}})
    const base = {site: 'cycle.links', batch_size: 10, delay_ms: 0, error_message_summary: 'x'}
    await w.append('batch-retry', {...base, ts: iso(NOW - 3 * HOUR), attempt: 1, outcome: 'success'})
    await w.append('batch-retry', {...base, ts: iso(NOW - 3 * HOUR), attempt: 2, outcome: 'recovered'})
    await w.append('batch-retry', {
      ...base,
      ts: iso(NOW - 2 * HOUR),
      attempt: 4,
      outcome: 'exhausted',
      spooled: true,
      dead_letter_id: 'dl-1',
    })
    await w.flush()
    const f = await gatherBatchRetry(p.auditDir, NOW)
    expect(f).toMatchObject({exhausted_total: 1, retries_scheduled: 1, recovered: 1, rows_lost: 0, rows_spooled: 10, malformed_rows: 0})
    expect(f.spooled_exhausted).toEqual([{site: 'cycle.links', batch_size: 10, dead_letter_id: 'dl-1'}])
  })

  it('rows older than 24 h are ignored, even in the current week file', async () => {
    const p = brain()
    writeLines(p, W02, [
      ...times(20, () => gbrainExhausted('old', NOW - 25 * HOUR)),
      gbrainExhausted('edge', NOW - 24 * HOUR), // exactly at the window's start: inside
      gbrainExhausted('future', NOW + HOUR),
    ])
    const r = await run(p)
    expect(r.status).toBe('ok')
    expect(r.details).toMatchObject({exhausted_total: 1, by_site: {edge: {exhausted: 1}}})
  })

  it('files of earlier weeks are not opened', async () => {
    const p = brain()
    // Misplaced rows with an in-window ts in older weeks' files: never read.
    writeLines(
      p,
      W01,
      times(20, () => gbrainExhausted('misplaced')),
    )
    writeLines(
      p,
      'batch-retry-2025-W52.jsonl',
      times(20, () => gbrainExhausted('misplaced')),
    )
    const w02 = writeLines(p, W02, [gbrainExhausted('current')])
    const r = await run(p)
    expect(r.details).toMatchObject({files_scanned: 1, files: [w02], exhausted_total: 1})
  })

  it('a window that crosses Monday 00:00Z reads the previous and the current week', async () => {
    const p = brain()
    const monday = Date.parse('2026-01-05T06:00:00.000Z') // W02; the window starts in W01
    const w01 = writeLines(
      p,
      W01,
      times(2, () => gbrainExhausted('s', monday - 12 * HOUR)),
    )
    const w02 = writeLines(p, W02, [gbrainExhausted('s', monday - HOUR)])
    writeLines(
      p,
      'batch-retry-2025-W52.jsonl',
      times(20, () => gbrainExhausted('s', monday - 2 * HOUR)),
    )
    const r = await run(p, {}, monday)
    expect(r.status).toBe('warn')
    expect(r.details).toMatchObject({files_scanned: 2, files: [w01, w02], exhausted_total: 3})
  })

  it('a directory in place of a week file → warn naming it; the readable files still count', async () => {
    const p = brain()
    const monday = Date.parse('2026-01-05T06:00:00.000Z')
    fs.mkdirSync(path.join(p.auditDir, W01), {recursive: true})
    writeLines(p, W02, [gbrainExhausted('s', monday - HOUR)])
    const r = await run(p, {}, monday)
    expect(r.status).toBe('warn')
    const bad = path.join(p.auditDir, W01)
    expect(r.message).toContain(`1 audit file unreadable: ${bad}`)
    expect(r.details).toMatchObject({exhausted_total: 1, files_scanned: 1})
    expect(r.fix?.commands).toEqual([`mv ${bad} ${bad}.not-audit`])
  })

  it('a 10 MB garbage line and invalid UTF-8 are counted corrupt, never a crash', async () => {
    const p = brain()
    writeLines(p, W02, [
      Buffer.alloc(10 * 1024 * 1024, 0x61),
      Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
      ...times(3, () => gbrainExhausted('s')),
    ])
    const r = await run(p)
    expect(r.status).toBe('warn')
    expect(r.details).toMatchObject({corrupt_lines: 2, exhausted_total: 3})
  })

  it('rows with a bad ts and malformed rows are reported; a malformed exhausted row still counts', async () => {
    const p = brain()
    writeLines(p, W02, [
      {...gbrainExhausted('s'), ts: 'yesterday'},
      {outcome: 'exhausted', ts: iso(NOW - HOUR), batch_size: 'many'},
    ])
    const r = await run(p)
    expect(r.details).toMatchObject({
      bad_ts_rows: 1,
      malformed_rows: 1,
      exhausted_total: 1,
      by_site: {'(unknown)': {exhausted: 1, rows_lost: 0}},
    })
    expect(r.message).toContain('1 row with an unparseable ts skipped; 1 malformed row')
  })

  it('an audit "directory" that is a file → warn, with a fix that moves it aside', async () => {
    const p = brain()
    fs.writeFileSync(p.auditDir, 'oops')
    const r = await run(p)
    expect(r.status).toBe('warn')
    expect(r.message).toContain(`1 audit file unreadable: ${path.join(p.auditDir, W02)} (ENOTDIR`)
    expect(r.fix?.commands).toEqual([`mv ${p.auditDir} ${p.auditDir}.not-audit`])
  })
})

describe('batch_retry_health: spooled and replayed batches', () => {
  const spooledRow = (id: string, site = 'cycle.links'): Row => ({
    ts: iso(NOW - HOUR),
    site,
    batch_size: 10,
    attempt: 4,
    outcome: 'exhausted',
    delay_ms: 0,
    error_message_summary: 'x',
    spooled: true,
    dead_letter_id: id,
  })
  const entry = (id: string) => ({
    version: SPOOL_FORMAT_VERSION,
    id,
    site: 'cycle.links',
    target: 'links',
    created_at: iso(NOW - HOUR),
    attempts: 4,
    error: {kind: 'connection', message: 'refused'},
    row_count: 10,
    rows: times(10, (i) => ({k: i})),
  })

  it('20 exhausted, all spooled and all replayed → ok: the outage is over and healed (still reported)', async () => {
    const p = brain()
    writeLines(
      p,
      W02,
      times(20, (i) => spooledRow(`dl-${i}`)),
    )
    const r = await run(p)
    expect(r.status).toBe('ok')
    expect(r.message).toContain('20 exhausted batch retries in last 24h')
    expect(r.message).toContain('all spooled and since replayed: nothing lost, the outage is over')
    expect(r.fix).toBeUndefined()
    expect(r.details).toMatchObject({replayed: 20, pending_replay: 0, healed_by_replay: true, rows_lost: 0, rows_spooled: 200})
  })

  it('20 exhausted, one entry still in the spool → fail, with the replay command', async () => {
    const p = brain()
    writeLines(
      p,
      W02,
      times(20, (i) => spooledRow(`dl-${i}`)),
    )
    await new DeadLetterSpool(p.spoolDir).write(entry('dl-7'))
    const r = await run(p)
    expect(r.status).toBe('fail')
    expect(r.details).toMatchObject({replayed: 19, pending_replay: 1, healed_by_replay: false})
    expect(r.fix?.commands).toContain('gbrain repair --replay')
    expect(r.message).toContain('(19 batches replayed, 1 pending replay)')
  })

  it('20 exhausted, 19 replayed and 1 lost → fail (not every batch was caught)', async () => {
    const p = brain()
    writeLines(p, W02, [...times(19, (i) => spooledRow(`dl-${i}`)), gbrainExhausted('cycle.links', NOW - HOUR, 10)])
    const r = await run(p)
    expect(r.status).toBe('fail')
    expect(r.details).toMatchObject({rows_lost: 10, rows_spooled: 190, replayed: 19})
  })

  it('a spooled row without an id cannot be shown replayed', async () => {
    const p = brain()
    const {dead_letter_id: _drop, ...noId} = spooledRow('x')
    writeLines(
      p,
      W02,
      times(20, () => noId),
    )
    const r = await run(p)
    expect(r.status).toBe('fail')
    expect(r.details).toMatchObject({replayed: 0, pending_replay: 20})
  })
})

describe('batch_retry_health: thresholds from the environment', () => {
  it('GBRAIN_BATCH_RETRY_FAIL_TOTAL=10 turns 10 exhausted into fail', async () => {
    const p = brain()
    writeLines(
      p,
      W02,
      times(10, (i) => gbrainExhausted(`s${i % 5}`)),
    )
    expect((await run(p)).status).toBe('warn')
    const r = await run(p, {GBRAIN_BATCH_RETRY_FAIL_TOTAL: '10'})
    expect(r.status).toBe('fail')
    expect(r.threshold).toEqual({warn: 5, fail: 10})
  })

  it('GBRAIN_BATCH_RETRY_WARN_SITE=2 turns 2 at one site into warn', async () => {
    const p = brain()
    writeLines(
      p,
      W02,
      times(2, () => gbrainExhausted('s')),
    )
    expect((await run(p)).status).toBe('ok')
    const r = await run(p, {GBRAIN_BATCH_RETRY_WARN_SITE: '2'})
    expect(r.status).toBe('warn')
    expect(r.details!.thresholds).toEqual({warn_site: 2, warn_total: 5, fail_total: 20})
  })

  it('GBRAIN_BATCH_RETRY_WARN_TOTAL=10 keeps 5 across sites ok', async () => {
    const p = brain()
    writeLines(
      p,
      W02,
      times(5, (i) => gbrainExhausted(`s${i}`)),
    )
    expect((await run(p)).status).toBe('warn')
    expect((await run(p, {GBRAIN_BATCH_RETRY_WARN_TOTAL: '10'})).status).toBe('ok')
  })
})

describe('judgeBatchRetryHealth (pure)', () => {
  const empty = (over: Partial<BatchRetryFacts> = {}): BatchRetryFacts => ({
    corrupt_lines: 0,
    bad_ts_rows: 0,
    malformed_rows: 0,
    unreadable_files: [],
    files_scanned: [],
    window: {from: iso(NOW - 24 * HOUR), to: iso(NOW), hours: 24},
    exhausted_total: 0,
    by_site: {},
    retries_scheduled: 0,
    recovered: 0,
    rows_lost: 0,
    rows_spooled: 0,
    spooled_exhausted: [],
    spooled_exhausted_truncated: false,
    last_exhausted_at: null,
    ...over,
  })
  const t = validateThresholds({}).batchRetry

  it('an unreadable file and a fail: fail leads, the file is still named with its fix', () => {
    const r = judgeBatchRetryHealth({
      facts: empty({
        exhausted_total: 25,
        by_site: {s: {exhausted: 25, spooled: 0, lost: 25, rows_lost: 250, retries_scheduled: 0, recovered: 0}},
        unreadable_files: [{file: '/a/batch-retry-2026-W01.jsonl', error: 'EACCES: permission denied'}],
      }),
      spoolIds: [],
      retryIssues: [],
      maxRetries: 3,
      thresholds: t,
    })
    expect(r.status).toBe('fail')
    expect(r.message).toMatch(/^25 exhausted batch retries/)
    expect(r.message).toContain('1 audit file unreadable: /a/batch-retry-2026-W01.jsonl (EACCES: permission denied)')
    expect(r.fix?.commands).toEqual([
      'gbrain doctor --only connection',
      'export GBRAIN_BULK_MAX_RETRIES=5',
      'chmod 600 /a/batch-retry-2026-W01.jsonl',
    ])
  })

  it('an unlistable spool means replays cannot be proven: no cap', () => {
    const r = judgeBatchRetryHealth({
      facts: empty({
        exhausted_total: 20,
        by_site: {s: {exhausted: 20, spooled: 20, lost: 0, rows_lost: 0, retries_scheduled: 0, recovered: 0}},
        spooled_exhausted: times(20, (i) => ({site: 's', batch_size: 1, dead_letter_id: `d${i}`})),
      }),
      spoolIds: null,
      retryIssues: [],
      maxRetries: 7,
      thresholds: t,
    })
    expect(r.status).toBe('fail')
    expect(r.fix?.commands).toEqual(['gbrain doctor --only connection', 'export GBRAIN_BULK_MAX_RETRIES=9', 'gbrain repair --replay'])
  })
})
