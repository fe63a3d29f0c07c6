/**
 * Issue 12, item 9: `doctor --list` explains each check from the catalogue's own constants:
 * category, what it needs, what it looks at, and every threshold with its default and the env
 * variable or flag that changes it — a table that fits the terminal, and the same as JSON.
 */
import {describe, expect, it} from 'vitest'
import {CATALOGUE, CHECK_NAMES, describeChecks} from '../../../src/checks/catalogue.js'
import {thresholdRule, type ListedCheck} from '../../../src/checks/listing.js'
import {FAIL_FREE_BYTES, WARN_FREE_BYTES, WARN_FREE_PCT} from '../../../src/checks/disk-space.js'
import {PROCESS_FAILING_FAIL_MS} from '../../../src/checks/pool-health.js'
import {AUDIT_RETENTION_DAYS} from '../../../src/checks/facts/audit-files.js'
import {BATCH_RETRY_WINDOW_HOURS, POOL_RECOVERY_WINDOW_HOURS} from '../../../src/checks/facts/audit-windows.js'
import {WEDGED_HEARTBEAT_S} from '../../../src/checks/pglite-lock.js'
import {POOL_REAP_WARN} from '../../../src/checks/pool-reap-health.js'
import {RETRY_MIN_WORST_CASE_MS} from '../../../src/checks/retry-config.js'
import {THRESHOLD_DEFAULTS} from '../../../src/checks/thresholds.js'
import {renderCheckList} from '../../../src/render/check-list.js'
import {displayWidth} from '../../../src/render/wrap.js'
import {CATALOGUE_ORDER, DATABASE_CHECKS} from '../../helpers/doctor-kit.js'

const BUDGET = {flag: '--timeout', default: '5s', ms: 5000}
const listed = (): ListedCheck[] => describeChecks(BUDGET)
const byName = (name: string): ListedCheck => {
  const c = listed().find((x) => x.name === name)
  if (!c) throw new Error(`no ${name}`)
  return c
}

describe('describeChecks', () => {
  it('lists every check of the catalogue once, in catalogue order, with its category and what it needs', () => {
    const checks = listed()
    expect(checks.map((c) => c.name)).toEqual([...CHECK_NAMES])
    expect(checks.map((c) => c.name)).toEqual([...CATALOGUE_ORDER])
    for (const [i, c] of checks.entries()) {
      expect(c.category).toBe(CATALOGUE[i]?.category)
      expect(c.downstream_of).toEqual(CATALOGUE[i]?.downstreamOf ?? [])
      expect(c.looks_at.length).toBeGreaterThan(40)
    }
    // The database checks, and connection (it opens the database), need the database; the rest read files.
    expect(checks.filter((c) => c.needs === 'database').map((c) => c.name)).toEqual(['connection', ...DATABASE_CHECKS])
  })

  it('has stable keys, the same for every check and every threshold', () => {
    for (const c of listed()) {
      expect(Object.keys(c)).toEqual(['name', 'category', 'needs', 'looks_at', 'downstream_of', 'thresholds'])
      for (const t of c.thresholds) expect(Object.keys(t)).toEqual(['level', 'comparison', 'default', 'unit', 'measure', 'setting', 'text'])
    }
  })

  it('names every threshold env variable with its actual default', () => {
    const settings = listed().flatMap((c) =>
      c.thresholds.filter((t) => t.setting?.startsWith('GBRAIN_')).map((t) => [t.setting, t.default]),
    )
    expect(Object.fromEntries(settings)).toEqual(THRESHOLD_DEFAULTS)
    expect(settings).toHaveLength(Object.keys(THRESHOLD_DEFAULTS).length)
  })

  it('takes the fixed thresholds from the constants the judges use', () => {
    const rule = (name: string): string[] => byName(name).thresholds.map((t) => `${thresholdRule(t)} [${t.setting ?? 'fixed'}]`)
    expect(rule('connection')).toEqual(['fail > 5 s to connect and answer [--timeout]'])
    expect(rule('pglite_lock')[0]).toBe(
      `warn > ${WEDGED_HEARTBEAT_S} s since the heartbeat of a live holder (an agent session’s serve excepted) [fixed]`,
    )
    expect(rule('pool_reap_health')).toEqual([`warn ≥ ${POOL_REAP_WARN} pool reaps in the window [fixed]`])
    expect(rule('engine_processes')).toEqual([
      `fail > ${PROCESS_FAILING_FAIL_MS / 1000} s that a live process’s pool has been failing [fixed]`,
    ])
    expect(rule('retry_config')).toEqual([`warn < ${RETRY_MIN_WORST_CASE_MS / 1000} s of worst-case total wait over all retries [fixed]`])
    expect(rule('dead_letter')).toEqual([
      'warn ≥ 1 entry waiting in the spool [fixed]',
      'fail ≥ 24 h since the oldest entry was spooled [GBRAIN_DEAD_LETTER_FAIL_HOURS]',
    ])
    expect(byName('disk_space').thresholds.map((t) => t.default)).toEqual([
      FAIL_FREE_BYTES / 2 ** 20,
      WARN_FREE_BYTES / 2 ** 20,
      WARN_FREE_PCT,
    ])
    expect(byName('audit_log').thresholds[0]?.default).toBe(AUDIT_RETENTION_DAYS)
    expect(byName('batch_retry_health').looks_at).toContain(`last ${BATCH_RETRY_WINDOW_HOURS} h`)
    expect(byName('pool_reap_health').looks_at).toContain(`last ${POOL_RECOVERY_WINDOW_HOURS} h`)
  })

  it('follows the budget flag it is given (the command passes its --timeout default)', () => {
    expect(describeChecks({flag: '--timeout', default: '8s', ms: 8000})[0]?.thresholds[0]).toMatchObject({
      default: 8,
      setting: '--timeout',
      text: 'fail > 8 s to connect and answer (default; set by --timeout)',
    })
  })

  it('agrees in number: "1 entry", "3 exhausted batches", "10 pool reaps"', () => {
    const texts = listed().flatMap((c) => c.thresholds.map((t) => t.text))
    expect(texts).toContain('warn ≥ 1 entry waiting in the spool (fixed)')
    expect(texts).toContain(
      `warn ≥ ${THRESHOLD_DEFAULTS.GBRAIN_BATCH_RETRY_WARN_SITE} exhausted batches at one site (default; set by GBRAIN_BATCH_RETRY_WARN_SITE)`,
    )
    for (const t of texts) expect(t).not.toMatch(/\b1 (\w+ )?(batches|reaps|entries)\b/)
  })
})

describe('renderCheckList', () => {
  it.each([40, 60, 80, 120, 200])('at %i columns every line fits and every check, category, need and threshold is there', (width) => {
    for (const unicode of [true, false]) {
      const out = renderCheckList(listed(), {color: false, unicode, width})
      for (const line of out.split('\n')) expect(displayWidth(line), line).toBeLessThanOrEqual(width)
      const flat = out.replace(/[│|┌┐└┘├┤┬┴┼─+-]/g, ' ').replace(/\s+/g, ' ')
      // A narrow column wraps a long name or variable: read each column's text run together.
      const col = (i: number): string =>
        out
          .split('\n')
          .filter((l) => /^[│|]/.test(l))
          .map((l) => l.split(/[│|]/)[i]?.trim() ?? '')
          .join('')
      const text = Array.from({length: 5}, (_, i) => col(i + 1)).join(' ')
      for (const c of listed()) {
        expect(text, c.name).toContain(c.name)
        expect(flat).toContain(c.category)
        for (const t of c.thresholds) {
          expect(flat, t.text).toContain(String(t.default))
          if (t.setting) expect(text, t.setting).toContain(t.setting)
        }
      }
      if (!unicode) expect(out).toMatch(/^[\x20-\x7e\n]*$/)
    }
  })

  it('uses five columns when both texts get 40 columns, else two (the check, then its explanation)', () => {
    const wide = renderCheckList(listed(), {color: false, unicode: true, width: 200})
    expect(wide.split('\n')[1]).toMatch(/^│ check +│ category +│ needs +│ what it looks at +│ thresholds \(defaults\) +│$/)
    expect(wide).toMatch(/│ cycle_freshness +│ freshness +│ database +│/)
    const narrow = renderCheckList(listed(), {color: false, unicode: true, width: 80})
    expect(narrow.split('\n').slice(1, 4)).toEqual([
      expect.stringMatching(/^│ check +│ what it looks at +│$/),
      expect.stringMatching(/^│ category +│ • thresholds \(defaults\) +│$/),
      expect.stringMatching(/^│ needs +│ +│$/),
    ])
    expect(narrow).toMatch(/│ cycle_freshness +│ When each source/)
    expect(narrow).toMatch(/│ freshness +│/)
    expect(narrow).toContain('• warn > 6 h since the last full cycle')
    expect(narrow).toContain('set by GBRAIN_CYCLE_FRESHNESS_WARN_HOURS')
    expect(narrow).toContain('• warn ≥ 10 pool reaps in the window (fixed)')
  })

  it('colours only when asked', () => {
    expect(renderCheckList(listed(), {color: false, unicode: true, width: 80})).not.toContain('\u001b')
    expect(renderCheckList(listed(), {color: true, unicode: true, width: 80})).toContain('\u001b[1m')
  })
})
