import * as fs from 'node:fs'
import * as path from 'node:path'
import {describe, expect, it} from 'vitest'
import {deadLetterCheck} from '../../../src/checks/dead-letter.js'
import {evaluate} from '../../../src/checks/runner.js'
import {fileGatherers} from '../../../src/checks/facts/index.js'
import {validateThresholds} from '../../../src/checks/thresholds.js'
import type {CheckOutcome} from '../../../src/checks/types.js'
import type {BrainPaths} from '../../../src/engine/paths.js'
import {DeadLetterSpool, SPOOL_FORMAT_VERSION, type DeadLetterEntry} from '../../../src/engine/spool/dead-letter.js'
import {LEDGER_BYTES, noteLoss, prepareLedger} from '../../../src/engine/spool/loss-ledger.js'
import {tempBrains} from '../../helpers/temp-brain.js'

const HOUR = 3_600_000
const NOW = Date.parse('2026-01-07T12:00:00.000Z')
const iso = (ms: number): string => new Date(ms).toISOString()
const SECRET = 'row-content-that-must-never-print'

const brains = tempBrains('gbrain-check-dl-')
const brain = brains.brain

const entry = (id: string, site: string, rows: number, createdAgoMs: number): DeadLetterEntry => ({
  version: SPOOL_FORMAT_VERSION,
  id,
  site,
  target: 'timeline',
  created_at: iso(NOW - createdAgoMs),
  attempts: 4,
  error: {kind: 'connection', code: 'ECONNREFUSED', message: 'refused'},
  row_count: rows,
  rows: Array.from({length: rows}, (_, i) => ({slug: `${SECRET}-${i}`})),
})

async function run(p: BrainPaths): Promise<CheckOutcome> {
  return evaluate(deadLetterCheck, fileGatherers({paths: p, now: NOW, env: {}}), {now: NOW, thresholds: validateThresholds({})})
}

describe('dead_letter', () => {
  it('no spool → ok', async () => {
    const r = await run(brain())
    expect(r.status).toBe('ok')
    expect(r.message).toBe('Dead-letter spool is empty.')
    expect(r.details).toMatchObject({entries: 0, rows: 0, oldest_age_s: null, by_site: {}, corrupt: []})
  })

  it('an empty spool directory → ok', async () => {
    const p = brain()
    fs.mkdirSync(p.spoolDir, {mode: 0o700})
    expect((await run(p)).status).toBe('ok')
  })

  it('an intact spool younger than GBRAIN_DEAD_LETTER_FAIL_HOURS → warn (safe on disk) with repair --replay; details by site; never the rows', async () => {
    const p = brain()
    const spool = new DeadLetterSpool(p.spoolDir)
    await spool.write(entry('e1', 'cycle.links', 3, 2 * HOUR))
    await spool.write(entry('e2', 'cycle.links', 2, HOUR))
    await spool.write(entry('e3', 'cycle.timeline', 5, 30 * 60_000))
    const r = await run(p)
    expect(r.status).toBe('warn')
    expect(r.message).toBe(
      '3 batches (10 rows) waiting in the dead-letter spool, oldest 2 h old (by site: cycle.links = 2, cycle.timeline = 1); ' +
        'safe on disk until replayed.',
    )
    expect(r.details).toEqual({
      dir: p.spoolDir,
      entries: 3,
      rows: 10,
      oldest_age_s: 7200,
      by_site: {'cycle.links': {entries: 2, rows: 5}, 'cycle.timeline': {entries: 1, rows: 5}},
      corrupt: [],
      list_error: null,
      ledger: {file: path.join(p.spoolDir, 'loss.ledger'), exists: false, lost_rows: 0, records: [], corrupt_slots: 0, error: null},
    })
    expect(r.fix?.commands).toEqual(['gbrain repair --replay'])
    expect(JSON.stringify(r)).not.toContain(SECRET)
  })

  it.each([
    {env: {}, ageH: 23, status: 'warn'},
    {env: {}, ageH: 24, status: 'fail'},
    {env: {}, ageH: 72, status: 'fail'},
    {env: {GBRAIN_DEAD_LETTER_FAIL_HOURS: '2'}, ageH: 1, status: 'warn'},
    {env: {GBRAIN_DEAD_LETTER_FAIL_HOURS: '2'}, ageH: 3, status: 'fail'},
    {env: {GBRAIN_DEAD_LETTER_FAIL_HOURS: '100'}, ageH: 72, status: 'warn'},
  ])('an intact spool whose oldest entry is $ageH h old, env $env → $status', async ({env, ageH, status}) => {
    const p = brain()
    await new DeadLetterSpool(p.spoolDir).write(entry('old', 'cycle.links', 2, ageH * HOUR))
    const r = await evaluate(deadLetterCheck, fileGatherers({paths: p, now: NOW, env}), {now: NOW, thresholds: validateThresholds(env)})
    expect(r.status).toBe(status)
    expect(r.fix?.commands).toEqual(['gbrain repair --replay'])
    if (status === 'fail') expect(r.message).toContain(`not replayed within ${env.GBRAIN_DEAD_LETTER_FAIL_HOURS ?? '24'} h`)
  })

  it('a valid entry next to a corrupt one → fail for both (the spool is not intact)', async () => {
    const p = brain()
    await new DeadLetterSpool(p.spoolDir).write(entry('good', 's', 1, 3 * HOUR))
    fs.writeFileSync(path.join(p.spoolDir, 'torn.json'), '{not json', {mode: 0o600})
    const r = await run(p)
    expect(r.status).toBe('fail')
    expect(r.message).toContain(
      '1 batch (1 row) waiting in the dead-letter spool, oldest 3 h old (by site: s = 1); the rows are not in the database until replayed.',
    )
  })

  it('corrupt and unreadable entries → fail naming them, with a move-aside (never a delete)', async () => {
    const p = brain()
    const spool = new DeadLetterSpool(p.spoolDir)
    await spool.write(entry('good', 's', 1, HOUR))
    fs.writeFileSync(path.join(p.spoolDir, 'torn.json'), `{"version":1,"id":"torn","rows":["${SECRET}"`, {mode: 0o600})
    fs.writeFileSync(path.join(p.spoolDir, 'partial.json'), JSON.stringify({...entry('partial', 's', 2, HOUR), row_count: 3}), {
      mode: 0o600,
    })
    fs.mkdirSync(path.join(p.spoolDir, 'adir.json'))
    fs.writeFileSync(path.join(p.spoolDir, '.tmp-ignored.json'), 'x')
    const r = await run(p)
    expect(r.status).toBe('fail')
    expect(r.details!.corrupt).toEqual([
      {id: 'adir', reason: 'unreadable (EISDIR)'},
      {id: 'partial', reason: 'row_count does not match rows (partial entry)'},
      {id: 'torn', reason: 'not valid JSON'},
    ])
    expect(r.message).toContain(
      '3 corrupt spool entries: adir (unreadable (EISDIR)), partial (row_count does not match rows (partial entry)), torn (not valid JSON).',
    )
    const torn = path.join(p.spoolDir, 'torn.json')
    expect(r.fix?.commands).toContain(`mv ${torn} ${torn}.corrupt`)
    expect(r.fix?.commands[0]).toBe('gbrain repair --replay')
    expect(JSON.stringify(r)).not.toContain(SECRET)
  })

  it('a spool path that is not a directory → fail (rows cannot be checked)', async () => {
    const p = brain()
    fs.writeFileSync(p.spoolDir, 'not a dir')
    const r = await run(p)
    expect(r.status).toBe('fail')
    expect(r.message).toContain(`Dead-letter spool ${p.spoolDir} unreadable`)
  })

  // Issue 10, class 5: with the disk full, the spool write and the audit row both fail; the
  // preallocated ledger is overwritten in place and the doctor still sees the loss.
  it('a loss in the ledger → fail with ROWS LOST, the counts, the last error, and the fix (rerun the cycle, remove the ledger)', async () => {
    const p = brain()
    expect(await prepareLedger(p.spoolDir)).toBe(true)
    expect(fs.statSync(path.join(p.spoolDir, 'loss.ledger')).size).toBe(LEDGER_BYTES)
    expect((await run(p)).status).toBe('ok') // an empty ledger is no finding
    expect(
      await noteLoss(p.spoolDir, {
        pid: 4242,
        site: 'cycle.pages',
        rows: 500,
        at: iso(NOW - HOUR),
        error: 'connection refused; spool: ENOSPC',
      }),
    ).toBe(true)
    expect(
      await noteLoss(p.spoolDir, {pid: 4242, site: 'cycle.links', rows: 20, at: iso(NOW - 30 * 60_000), error: 'x'.repeat(5000)}),
    ).toBe(true)
    expect(await noteLoss(p.spoolDir, {pid: 4343, site: 'cycle.timeline', rows: 7, at: iso(NOW - 2 * HOUR), error: 'e'})).toBe(true)
    expect(fs.statSync(path.join(p.spoolDir, 'loss.ledger')).size).toBe(LEDGER_BYTES) // never grows
    const r = await run(p)
    expect(r.status).toBe('fail')
    expect(r.message).toMatch(
      /^ROWS LOST: 527 rows in 3 batches could be neither landed nor spooled \(2 processes; last at 2026-01-07T11:30:00.000Z, site cycle\.links: x+\); recorded in /,
    )
    expect(r.fix?.commands).toEqual(['gbrain cycle', `rm ${path.join(p.spoolDir, 'loss.ledger')}`])
  })

  it('a young intact entry next to a loss in the ledger → fail (ROWS LOST outranks the spool being safe)', async () => {
    const p = brain()
    await new DeadLetterSpool(p.spoolDir).write(entry('young', 'cycle.links', 2, 60_000))
    await prepareLedger(p.spoolDir)
    expect(await noteLoss(p.spoolDir, {pid: 7, site: 'cycle.pages', rows: 3, at: iso(NOW - HOUR), error: 'ENOSPC'})).toBe(true)
    const r = await run(p)
    expect(r.status).toBe('fail')
    expect(r.message).toContain(
      '1 batch (2 rows) waiting in the dead-letter spool, oldest 60 s old (by site: cycle.links = 1); the rows are not in the database until replayed.',
    )
    expect(r.message).toContain('ROWS LOST: 3 rows')
  })

  it('the ledger fills its 16 slots and then overwrites the oldest record, never growing', async () => {
    const p = brain()
    await prepareLedger(p.spoolDir)
    for (let pid = 1; pid <= 17; pid++)
      expect(await noteLoss(p.spoolDir, {pid, site: 's', rows: 1, at: iso(NOW - (100 - pid) * 60_000), error: 'e'})).toBe(true)
    const r = await run(p)
    const pids = (r.details as {ledger: {records: {pid: number}[]}}).ledger.records.map((x) => x.pid).sort((a, b) => a - b)
    expect(pids).toEqual(Array.from({length: 16}, (_, i) => i + 2))
    expect(fs.statSync(path.join(p.spoolDir, 'loss.ledger')).size).toBe(LEDGER_BYTES)
  })

  it('a ledger that is a symlink or the wrong size is reported unusable, and noteLoss refuses it', async () => {
    const p = brain()
    fs.mkdirSync(p.spoolDir, {mode: 0o700})
    fs.writeFileSync(path.join(brains.root(), 'target'), 'x')
    fs.symlinkSync(path.join(brains.root(), 'target'), path.join(p.spoolDir, 'loss.ledger'))
    expect(await noteLoss(p.spoolDir, {pid: 1, site: 's', rows: 1, at: iso(NOW), error: 'e'})).toBe(false)
    expect(fs.readFileSync(path.join(brains.root(), 'target'), 'utf8')).toBe('x')
    const r = await run(p)
    expect(r.status).toBe('fail')
    expect(r.message).toContain('is unusable (a symlink)')
  })
})
