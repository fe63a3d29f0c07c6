/**
 * The doctor's history through the built binary: one line per run in <home>/doctor-history.jsonl,
 * the JSON report's comparison with the previous run as state changes between runs, --no-history
 * touching nothing, and a history file that cannot be used costing only the history (the report
 * and the exit code are what they would have been). File-only checks (--fast) keep it quick.
 */
import {chmodSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import type {Report} from '../../src/checks/types.js'
import {gbrain} from '../helpers/cli.js'
import {brainPaths, LOCALE_ENV, parseReport, plantSpoolEntry, removeHomes, STALE_SPOOL_AGE_MS, tempDir} from '../helpers/doctor-kit.js'

afterAll(removeHomes)

const ARGS = ['doctor', '--fast', '--only', 'dead_letter,batch_retry_health']

function brainHome(): {env: Record<string, string>; paths: ReturnType<typeof brainPaths>; file: string} {
  const home = tempDir('gbrain-history-')
  const paths = brainPaths(home)
  mkdirSync(paths.gbrain, {mode: 0o700})
  return {env: {...LOCALE_ENV, GBRAIN_HOME: home}, paths, file: path.join(paths.gbrain, 'doctor-history.jsonl')}
}

const lines = (file: string): {ts: string; score: number | null; status: string; checks: Record<string, string>}[] =>
  readFileSync(file, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as never)

describe('doctor history', () => {
  it('ten runs leave ten lines of exactly ts, score, status and checks', async () => {
    const b = brainHome()
    for (let i = 0; i < 10; i++) expect((await gbrain([...ARGS, '-q'], b.env)).code).toBe(0)
    const got = lines(b.file)
    expect(got).toHaveLength(10)
    for (const l of got) {
      expect(Object.keys(l)).toEqual(['ts', 'score', 'status', 'checks'])
      expect(l).toMatchObject({score: 100, status: 'healthy', checks: {dead_letter: 'ok', batch_retry_health: 'ok'}})
    }
  }, 120_000)

  it('--json compares each run with the one before as the spool fills and empties', async () => {
    const b = brainHome()
    const first = parseReport(await gbrain([...ARGS, '--json'], b.env))
    expect(first).toMatchObject({health_score: 100, previous_score: null, delta: null, changed: []})

    await plantSpoolEntry(b.paths.spool, undefined, 2, STALE_SPOOL_AGE_MS) // unreplayed for 25 h: fails
    const bad = await gbrain([...ARGS, '--json'], b.env)
    expect(bad.code).toBe(1)
    expect(parseReport(bad)).toMatchObject({
      health_score: 80,
      previous_score: 100,
      delta: -20,
      changed: [{check: 'dead_letter', from: 'ok', to: 'fail'}],
    })

    rmSync(b.paths.spool, {recursive: true, force: true})
    const back = parseReport(await gbrain([...ARGS, '--json'], b.env))
    expect(back).toMatchObject({
      health_score: 100,
      previous_score: 80,
      delta: 20,
      changed: [{check: 'dead_letter', from: 'fail', to: 'ok'}],
    })
    expect(lines(b.file).map((l) => l.score)).toEqual([100, 80, 100])
  }, 60_000)

  it('--no-history neither reads nor writes the history', async () => {
    const b = brainHome()
    const r = await gbrain([...ARGS, '--json', '--no-history'], b.env)
    expect(r.code).toBe(0)
    expect(parseReport(r)).toMatchObject({previous_score: null, delta: null, changed: []})
    expect(existsSync(b.file)).toBe(false)
  }, 30_000)

  it('no brain home yet: no history, nothing created', async () => {
    const home = tempDir('gbrain-history-')
    const r = await gbrain([...ARGS, '-q'], {...LOCALE_ENV, GBRAIN_HOME: home})
    expect(r.code).toBe(0)
    expect(existsSync(path.join(home, '.gbrain'))).toBe(false)
  }, 30_000)

  it('a symlinked or read-only history costs only the history: same report, same exit code, one -v line', async () => {
    const b = brainHome()
    const plain = await gbrain([...ARGS, '--json', '--no-history'], b.env)
    const target = path.join(b.paths.gbrain, 'elsewhere')
    writeFileSync(target, 'precious\n')
    symlinkSync(target, b.file)
    const linked = await gbrain([...ARGS, '--json', '-v'], b.env)
    expect(linked.code).toBe(plain.code)
    expect(strip(parseReport(linked))).toEqual(strip(parseReport(plain)))
    expect(linked.stderr).toMatch(/^gbrain doctor: history not kept: cannot read .*doctor-history\.jsonl \(ELOOP\)$/m)
    expect(readFileSync(target, 'utf8')).toBe('precious\n')

    const ro = brainHome()
    writeFileSync(ro.file, '')
    chmodSync(ro.file, 0o400)
    chmodSync(ro.paths.gbrain, 0o500)
    const denied = await gbrain([...ARGS, '-v'], ro.env)
    chmodSync(ro.paths.gbrain, 0o700)
    expect(denied.code).toBe(0)
    if (process.getuid?.() !== 0) expect(denied.stderr).toMatch(/history not kept: cannot append to .*EACCES/)
  }, 60_000)

  it('--trend --last 5 shows the last five runs without running a check; bad --last is a usage error', async () => {
    const b = brainHome()
    const none = await gbrain(['doctor', '--trend'], b.env)
    expect(none).toMatchObject({code: 0, stdout: 'No doctor history yet: each gbrain doctor run adds a line (unless --no-history).\n'})
    const scores = [100, 80, 100, 80, 100, 80]
    const text = scores
      .map((score, i) =>
        JSON.stringify({
          ts: `2026-11-28T0${i}:00:00.000Z`,
          score,
          status: score === 100 ? 'healthy' : 'unhealthy',
          checks: {batch_retry_health: 'ok', dead_letter: score === 100 ? 'ok' : 'fail'},
        }),
      )
      .join('\n')
    writeFileSync(b.file, `${text}\nnot json\n`)
    const t = await gbrain(['doctor', '--trend', '--last', '5'], b.env)
    expect(t.code).toBe(0)
    expect(t.stdout).toBe(
      [
        'Last 5 doctor runs, 2026-11-28T01:00:00.000Z → 2026-11-28T05:00:00.000Z',
        '',
        'score  ▁█▁█▁  80 (-20), 100 (+20), 80 (-20), 100 (+20), 80 (-20)',
        '',
        'batch_retry_health  ✓✓✓✓✓',
        'dead_letter         ✗✓✗✓✗  flapping: 5 changes in the last 10 runs',
        '',
        'Changed since the run before: dead_letter ok → fail',
        '(1 unreadable history line skipped)',
        '',
      ].join('\n'),
    )
    const j = await gbrain(['doctor', '--trend', '--last', '5', '--json'], b.env)
    expect(JSON.parse(j.stdout)).toMatchObject({
      runs: [{score: 80}, {}, {}, {}, {score: 80, delta: -20}],
      changed: [{check: 'dead_letter'}],
    })
    expect(readFileSync(b.file, 'utf8')).toBe(`${text}\nnot json\n`) // a view: nothing appended
    for (const bad of ['0', '101', 'ten', '-1']) {
      const r = await gbrain(['doctor', '--trend', '--last', bad], b.env)
      expect(r.code).toBe(64)
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1)
    }
  }, 60_000)
})

/** What a run reports, without what differs from run to run anyway (times, time windows). */
function strip(r: Report): object {
  const {status, health_score, previous_score, delta, changed, summary, coverage, top_issues} = r
  const checks = r.checks.map((c) => ({name: c.name, status: c.status, message: c.message}))
  return {status, health_score, previous_score, delta, changed, summary, coverage, top_issues, checks}
}
