import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {deadLetterCheck} from '../../src/checks/dead-letter.js'
import {createFileFacts, type FileCheckFacts} from '../../src/checks/facts-files.js'
import {validateThresholds} from '../../src/checks/thresholds.js'
import type {CheckOutcome} from '../../src/checks/types.js'
import type {BrainPaths} from '../../src/engine/paths.js'
import {DeadLetterSpool, SPOOL_FORMAT_VERSION, type DeadLetterEntry} from '../../src/engine/spool/dead-letter.js'

const HOUR = 3_600_000
const NOW = Date.parse('2026-01-07T12:00:00.000Z')
const iso = (ms: number): string => new Date(ms).toISOString()
const SECRET = 'row-content-that-must-never-print'

let root: string
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'gbrain-check-dl-'))
})
afterAll(() => {
  fs.rmSync(root, {recursive: true, force: true})
})

function brain(): BrainPaths {
  const home = fs.mkdtempSync(path.join(root, 'home-'))
  return {home, auditDir: path.join(home, 'audit'), spoolDir: path.join(home, 'dead-letter'), runDir: path.join(home, 'run'), homeSource: 'default', auditDirSource: 'default'}
}

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
  const facts: FileCheckFacts = {...createFileFacts({paths: p, now: NOW}), env: {}, now: NOW, thresholds: validateThresholds({})}
  return deadLetterCheck.judge(facts, {fast: false, signal: new AbortController().signal})
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

  it('any entry → fail with repair --replay; details by site; never the rows', async () => {
    const p = brain()
    const spool = new DeadLetterSpool(p.spoolDir)
    await spool.write(entry('e1', 'cycle.links', 3, 2 * HOUR))
    await spool.write(entry('e2', 'cycle.links', 2, HOUR))
    await spool.write(entry('e3', 'cycle.timeline', 5, 30 * 60_000))
    const r = await run(p)
    expect(r.status).toBe('fail')
    expect(r.message).toBe(
      '3 batches (10 rows) waiting in the dead-letter spool, oldest 2 h old (by site: cycle.links = 2, cycle.timeline = 1); ' +
        'the rows are not in the database until replayed.',
    )
    expect(r.details).toEqual({
      dir: p.spoolDir,
      entries: 3,
      rows: 10,
      oldest_age_s: 7200,
      by_site: {'cycle.links': {entries: 2, rows: 5}, 'cycle.timeline': {entries: 1, rows: 5}},
      corrupt: [],
      list_error: null,
    })
    expect(r.fix?.commands).toEqual(['gbrain repair --replay'])
    expect(JSON.stringify(r)).not.toContain(SECRET)
  })

  it('corrupt and unreadable entries → fail naming them, with a move-aside (never a delete)', async () => {
    const p = brain()
    const spool = new DeadLetterSpool(p.spoolDir)
    await spool.write(entry('good', 's', 1, HOUR))
    fs.writeFileSync(path.join(p.spoolDir, 'torn.json'), `{"version":1,"id":"torn","rows":["${SECRET}"`, {mode: 0o600})
    fs.writeFileSync(path.join(p.spoolDir, 'partial.json'), JSON.stringify({...entry('partial', 's', 2, HOUR), row_count: 3}), {mode: 0o600})
    fs.mkdirSync(path.join(p.spoolDir, 'adir.json'))
    fs.writeFileSync(path.join(p.spoolDir, '.tmp-ignored.json'), 'x')
    const r = await run(p)
    expect(r.status).toBe('fail')
    expect(r.details!.corrupt).toEqual([
      {id: 'adir', reason: 'unreadable (EISDIR)'},
      {id: 'partial', reason: 'row_count does not match rows (partial entry)'},
      {id: 'torn', reason: 'not valid JSON'},
    ])
    expect(r.message).toContain('3 corrupt spool entries: adir (unreadable (EISDIR)), partial (row_count does not match rows (partial entry)), torn (not valid JSON).')
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
})
