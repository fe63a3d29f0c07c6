/**
 * Issue 12, item 6, as the built binary: `gbrain doctor`, `doctor -v` and `sources list` read at
 * 60, 80 and 200 columns (asked for with COLUMNS: the output is a pipe), honour NO_COLOR and
 * LANG=C, show ages instead of ISO times, leave gbrain's internal `default` source out, and say
 * each problem once.
 *
 * One brain made by gbrain's own PGlite (with its `default` source) for the file: a source cycled
 * 3 h ago, one with a long name and path cycled 50 h ago (fail), and 20 exhausted batches in the
 * audit trail (fail) — commands only read it.
 */
import {mkdirSync, mkdtempSync, readdirSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {describeChecks} from '../../src/checks/catalogue.js'
import {displayWidth} from '../../src/render/wrap.js'
import {gbrain, type CliResult} from '../helpers/cli.js'
import {homeFrom, LOCALE_ENV, plantExhausted, removeHomes, tableRows, tempDir} from '../helpers/doctor-kit.js'
import {makeGbrainBrain} from '../helpers/gbrain-sim.js'

const LONG_NAME = 'Meeting minutes of the weekly engineering review'
let root: string
let env: Record<string, string>
let longPath: string

beforeAll(async () => {
  root = tempDir('gbrain-layout-')
  const notes = path.join(root, 'notes')
  longPath = path.join(root, 'shared-drive', 'engineering', 'meeting-minutes-of-the-weekly-review')
  mkdirSync(notes)
  mkdirSync(longPath, {recursive: true})
  const template = path.join(root, 'template.pglite')
  await makeGbrainBrain(template, {
    sources: [
      {id: 'notes', name: 'Notes', local_path: notes, cycled_hours_ago: 3.2, synced_hours_ago: 3.2},
      {id: 'meeting-minutes', name: LONG_NAME, local_path: longPath, cycled_hours_ago: 50, synced_hours_ago: 50},
    ],
  })
  const {home, paths} = homeFrom(root, {dataDir: template})
  await plantExhausted(paths.audit, 20, {site: 'cycle.links'})
  env = {...LOCALE_ENV, GBRAIN_HOME: home}
}, 120_000)

afterAll(removeHomes)

/** Lines that must fit: all but paste-ready commands (`$ …`, printed as they must be copied). */
function expectFits(r: CliResult, width: number): void {
  for (const line of r.stdout.split('\n'))
    if (!line.trimStart().startsWith('$ ')) expect(displayWidth(line), `${width}: ${line}`).toBeLessThanOrEqual(width)
}

/** The section that starts with the line `title`, up to the next blank line. */
function section(out: string, title: string): string {
  const start = out.indexOf(`\n${title}\n`)
  return start < 0 ? '' : (out.slice(start + 1).split('\n\n')[0] ?? '')
}

describe('gbrain doctor at 60, 80 and 200 columns', () => {
  it.each([60, 80, 200])(
    'COLUMNS=%i: doctor and doctor -v fit, wrap at spaces, lose nothing and say each problem once',
    async (width) => {
      const json = JSON.parse((await gbrain(['doctor', '--json'], env)).stdout) as {
        checks: {name: string; status: string; message: string}[]
        top_issues: {check: string}[]
      }
      const failing = json.checks.filter((c) => c.status === 'fail').map((c) => c.name)
      expect(failing).toEqual(['batch_retry_health', 'cycle_freshness'])
      for (const args of [['doctor'], ['doctor', '-v']]) {
        const r = await gbrain(args, {...env, COLUMNS: String(width)})
        expect(r.code, r.stderr).toBe(1)
        expect(r.stderr).toBe('')
        expectFits(r, width)
        // The grid is there (at 60 the names wrap after `_`, so compare the first piece).
        const rows = r.stdout.split('\n').filter((l) => /^│ [✗!?✓-] /.test(l)).length
        expect(rows).toBeGreaterThanOrEqual(3)
        for (const c of json.checks.filter((x) => args.length > 1 || (x.status !== 'ok' && x.status !== 'skipped'))) {
          // Every word of the message is there (a word wider than the narrowest column, 24, may be
          // split); words with digits are left out: timings and ages differ from the --json run.
          for (const word of c.message.split(/\s+/).filter((w) => w.length <= 24 && !/\d/.test(w)))
            expect(r.stdout, `${c.name}: ${word}`).toContain(word)
        }
        // Said once: the message in the table; Top issues names the check and its fix.
        const top = section(r.stdout, 'Top issues')
        expect(top).toMatch(/1\. ✗ /)
        for (const issue of json.top_issues) expect(top.replace(/\s+/g, ''), issue.check).toContain(issue.check.replace(/\s+/g, ''))
        const batch = json.checks.find((c) => c.name === 'batch_retry_health')!
        const distinctive = batch.message.split(/\s+/).slice(0, 4).join(' ')
        expect(top.replace(/\s+/g, ' ')).not.toContain(distinctive)
        expect(top).toContain('$ gbrain cycle --source meeting-minutes')
        expect(r.stdout).not.toMatch(/fix: run:/)
        // The summary line wraps at word boundaries too.
        const tail = r.stdout.trimEnd().split('\n\n').at(-1) ?? ''
        expect(tail.replace(/\n/g, ' ')).toMatch(
          /^unhealthy: \d+ fail, (\d+ warn, )?\d+ ok(, \d+ skipped)? — health \d+\/100 \(\d+(\.\d)? m?s\)$/,
        )
      }
    },
    120_000,
  )

  it('without a terminal or COLUMNS: 100 columns; a tiny or malformed COLUMNS is clamped or ignored', async () => {
    const dflt = await gbrain(['doctor', '-v'], env)
    expectFits(dflt, 100)
    expect(Math.max(...dflt.stdout.split('\n').map(displayWidth))).toBeGreaterThan(80)
    const bad = await gbrain(['doctor', '-v'], {...env, COLUMNS: 'wide'})
    // Ignored: laid out at the default 100 columns like the run without COLUMNS (not line for line:
    // durations differ between runs and can wrap a message differently).
    expectFits(bad, 100)
    expect(Math.max(...bad.stdout.split('\n').map(displayWidth))).toBeGreaterThan(80)
    const tiny = await gbrain(['doctor', '-v'], {...env, COLUMNS: '12'})
    expectFits(tiny, 40)
    // At 40 columns the checks are listed one under the other, not in a grid.
    expect(tiny.stdout).not.toContain('│')
    expect(tiny.stdout).toMatch(/^✗ fail batch_retry_health \d/m)
  }, 120_000)

  it('NO_COLOR and LANG=C: ASCII, no escape codes; FORCE_COLOR colours a pipe', async () => {
    const ascii = await gbrain(['doctor', '-v'], {...env, LANG: 'C', COLUMNS: '80'})
    expect(ascii.stdout).toMatch(/^[\x20-\x7e\n]*$/)
    expect(ascii.stdout).toContain('| X fail')
    expectFits(ascii, 80)
    const colour = await gbrain(['doctor'], {...env, NO_COLOR: '', FORCE_COLOR: '1'})
    expect(colour.stdout).toContain('\u001b[')
  }, 120_000)
})

describe('gbrain sources list', () => {
  it.each([60, 80, 200])(
    'COLUMNS=%i: fits, shows ages, leaves out the internal default source',
    async (width) => {
      const r = await gbrain(['sources', 'list'], {...env, COLUMNS: String(width)})
      expect(r.code, r.stderr).toBe(0)
      expectFits(r, width)
      expect(tableRows(r.stdout)).toEqual([])
      expect(r.stdout).toMatch(/│ ?3 h ago/)
      expect(r.stdout).toMatch(/│ ?2 d ago/)
      expect(r.stdout).not.toMatch(/\d{4}-\d{2}-\d{2}T/)
      const ids = r.stdout.split('\n').map((l) => l.split('│')[1]?.trim() ?? '')
      expect(ids).toEqual(expect.arrayContaining(['notes']))
      expect(ids).not.toContain('default')
      expect(r.stdout.replace(/\s+/g, ' ')).toContain(`(gbrain's internal "default" source is not listed; --all lists it)`)
      // Nothing lost: the long name and path, read down their columns.
      const column = (i: number): string =>
        r.stdout
          .split('\n')
          .map((l) => l.split('│')[i] ?? '')
          .join('')
          .replace(/\s+/g, '')
      expect(column(2)).toContain(LONG_NAME.replace(/\s+/g, ''))
      expect(column(3)).toContain(longPath)
    },
    60_000,
  )

  it('--all lists the default source; --json lists every source with the stored ISO times', async () => {
    const all = await gbrain(['sources', 'list', '--all'], {...env, COLUMNS: '80'})
    expect(all.code).toBe(0)
    expect(all.stdout).toMatch(/^│ default +│ default +│ - +│ never +│$/m)
    expect(all.stdout).not.toContain('not listed')
    const json = JSON.parse((await gbrain(['sources', 'list', '--json'], env)).stdout) as {
      sources: {id: string; config: {last_full_cycle_at?: string}}[]
    }
    expect(json.sources.map((s) => s.id)).toEqual(['default', 'meeting-minutes', 'notes'])
    expect(json.sources.find((s) => s.id === 'notes')?.config.last_full_cycle_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
  }, 60_000)

  it('LANG=C and NO_COLOR: ASCII borders, no escape codes; FORCE_COLOR: a bold header on a pipe', async () => {
    const ascii = await gbrain(['sources', 'list'], {...env, LANG: 'C', COLUMNS: '80'})
    expect(ascii.code).toBe(0)
    expect(ascii.stdout).toMatch(/^[\x20-\x7e\n]*$/)
    expect(ascii.stdout).toMatch(/^\+-+\+/)
    expect(ascii.stdout).toMatch(/^\| notes +\| Notes +\|/m)
    const colour = await gbrain(['sources', 'list'], {...env, NO_COLOR: '', FORCE_COLOR: '1'})
    expect(colour.stdout).toContain('\u001b[1mid\u001b[22m')
  }, 60_000)

  it('a home without a brain: one line whose fix ends with the command (gbrain init), nothing created', async () => {
    const empty = mkdtempSync(path.join(root, 'empty-'))
    const r = await gbrain(['sources', 'list'], {...LOCALE_ENV, GBRAIN_HOME: empty})
    expect(r.code).toBe(64)
    // Node's own warning about NO_COLOR beside the test runner's FORCE_COLOR is not ours.
    const ours = r.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('(node:') && !l.startsWith('(Use `node'))
    expect(ours).toHaveLength(1)
    expect(ours[0]).toMatch(
      /^gbrain: no embedded brain at .*brain\.pglite yet \(fix: create the embedded brain \(or configure a Postgres URL\): gbrain init\)$/,
    )
    expect(readdirSync(empty)).toEqual([])
  }, 60_000)
})

describe('the catalogue the doctor lists is the one it runs', () => {
  it('doctor --json reports exactly the checks doctor --list --json explains', async () => {
    const report = JSON.parse((await gbrain(['doctor', '--json'], env)).stdout) as {checks: {name: string; category: string}[]}
    const listed = describeChecks({flag: '--timeout', default: '5s', ms: 5000})
    expect(report.checks.map((c) => [c.name, c.category])).toEqual(listed.map((c) => [c.name, c.category]))
  }, 60_000)
})
