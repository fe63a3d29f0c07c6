/**
 * Issue 12, item 9, as the built binary: `gbrain doctor --list` explains every check (category,
 * needs, what it looks at, thresholds with their defaults and the env variable or flag that sets
 * each) as a table that fits the terminal, and as JSON with the same fields. It needs no brain.
 */
import {afterAll, describe, expect, it} from 'vitest'
import {describeChecks} from '../../src/checks/catalogue.js'
import type {ListedCheck} from '../../src/checks/listing.js'
import {THRESHOLD_DEFAULTS} from '../../src/checks/thresholds.js'
import {parseDuration} from '../../src/cli/duration.js'
import Doctor from '../../src/commands/doctor.js'
import {displayWidth} from '../../src/render/wrap.js'
import {gbrain} from '../helpers/cli.js'
import {CATALOGUE_ORDER, DATABASE_CHECKS, LOCALE_ENV, removeHomes, tempDir} from '../helpers/doctor-kit.js'

const home = tempDir('gbrain-list-')
const env = {...LOCALE_ENV, GBRAIN_HOME: home}
afterAll(removeHomes)

/** The columns of a grid's body lines, each read top to bottom and run together (narrow columns wrap). */
function columns(out: string): string[] {
  const rows = out.split('\n').filter((l) => /^[│|]/.test(l))
  const n = (rows[0]?.split(/[│|]/).length ?? 2) - 2
  return Array.from({length: n}, (_, i) => rows.map((l) => l.split(/[│|]/)[i + 1]?.trim() ?? '').join(' '))
}

describe('gbrain doctor --list', () => {
  it('--json: every check of the catalogue, in order, with the fields and defaults the command itself derives', async () => {
    const r = await gbrain(['doctor', '--list', '--json'], env)
    expect(r.code, r.stderr).toBe(0)
    const listed = JSON.parse(r.stdout) as ListedCheck[]
    expect(listed.map((c) => c.name)).toEqual([...CATALOGUE_ORDER])
    const budget = Doctor.flags.timeout.default as string
    expect(listed).toEqual(describeChecks({flag: '--timeout', default: budget, ms: parseDuration(budget)}))
    expect(listed.filter((c) => c.needs === 'database').map((c) => c.name)).toEqual(['connection', ...DATABASE_CHECKS])
    // Every threshold env variable, at its actual default.
    const envDefaults = Object.fromEntries(
      listed.flatMap((c) => c.thresholds.flatMap((t) => (t.setting?.startsWith('GBRAIN_') ? [[t.setting, t.default] as const] : []))),
    )
    expect(envDefaults).toEqual(THRESHOLD_DEFAULTS)
    expect(listed[0]?.thresholds[0]).toMatchObject({setting: '--timeout', default: 5, unit: 's'})
    // --format json is the same document.
    expect((await gbrain(['doctor', '--list', '--format', 'json'], env)).stdout).toBe(r.stdout)
  }, 60_000)

  it.each([60, 80, 200])(
    'COLUMNS=%i: a table that fits, with every check, category, need, default and setting',
    async (width) => {
      const r = await gbrain(['doctor', '--list'], {...env, COLUMNS: String(width)})
      expect(r.code, r.stderr).toBe(0)
      expect(r.stderr).toBe('')
      for (const line of r.stdout.split('\n')) expect(displayWidth(line), line).toBeLessThanOrEqual(width)
      const text = columns(r.stdout).join(' ')
      const squeezed = text.replace(/\s+/g, '')
      for (const c of describeChecks({flag: '--timeout', default: '5s', ms: 5000})) {
        expect(squeezed, c.name).toContain(c.name)
        expect(text).toContain(c.category)
        for (const t of c.thresholds) {
          expect(text, t.text).toMatch(new RegExp(`${t.level} ${t.comparison} ${t.default} `))
          if (t.setting) expect(squeezed, t.setting).toContain(`setby${t.setting}`)
        }
      }
      expect(r.stdout).toMatch(/13 checks\. The same as JSON: gbrain doctor --list --json\n$/)
      if (width === 200)
        expect(r.stdout.split('\n')[1]).toMatch(/│ check +│ category +│ needs +│ what it looks at +│ thresholds \(defaults\) +│/)
      else expect(r.stdout.split('\n')[1]).toMatch(/│ check +│ what it looks at +│/)
    },
    60_000,
  )

  it('LANG=C: ASCII only, no escape codes', async () => {
    const r = await gbrain(['doctor', '--list'], {...env, LANG: 'C', COLUMNS: '80'})
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^[\x20-\x7e\n]*$/)
    expect(r.stdout).toContain('* warn >= 3 exhausted batches at one site')
  }, 60_000)

  it('a format other than table or JSON is a usage error: one line, exit 64', async () => {
    const r = await gbrain(['doctor', '--list', '--format', 'junit'], env)
    expect(r.code).toBe(64)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe('gbrain: --list prints a table or JSON, not --format junit (fix: gbrain doctor --list --json)\n')
  }, 60_000)
})
