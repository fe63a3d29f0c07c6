import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {THRESHOLD_DEFAULTS, readLadder, readThreshold, validateThresholds} from '../../../src/checks/thresholds.js'
import {ConfigError} from '../../../src/shared/errors.js'

function configError(f: () => unknown): ConfigError {
  try {
    f()
  } catch (e) {
    if (e instanceof ConfigError) return e
    throw e
  }
  throw new Error('expected a ConfigError')
}

describe('readThreshold', () => {
  it('unset or blank → the default; a valid value → env:NAME', () => {
    expect(readThreshold({}, 'X', 5)).toEqual({value: 5, source: 'default'})
    expect(readThreshold({X: '  '}, 'X', 5)).toEqual({value: 5, source: 'default'})
    expect(readThreshold({X: '7'}, 'X', 5, {integer: true})).toEqual({value: 7, source: 'env:X'})
    expect(readThreshold({X: ' 1.5 '}, 'X', 6, {gt: 0})).toEqual({value: 1.5, source: 'env:X'})
  })

  it.each([
    ['abc', {}],
    ['-1', {}],
    ['1e3', {}],
    ['0x10', {}],
    ['Infinity', {}],
    ['NaN', {}],
    ['5 0', {}],
    ['+5', {}],
    ['.5', {}],
    ['2.5', {integer: true}],
    ['5.0', {integer: true}],
    ['0', {integer: true, min: 1}],
    ['0', {gt: 0}],
    ['101', {max: 100}],
  ])('rejects %j (%j) with the paste-ready fix export NAME=<default>', (raw, rule) => {
    const e = configError(() => readThreshold({GBRAIN_T: raw}, 'GBRAIN_T', 5, rule))
    expect(e.fix).toBe('export GBRAIN_T=5')
    expect(e.message).toContain('GBRAIN_T must be')
    expect(e.message).toContain(JSON.stringify(raw))
  })

  it('property: every non-negative integer string round-trips; anything with a non-digit is rejected', () => {
    fc.assert(
      fc.property(fc.integer({min: 0, max: 999_999_999}), (n) => {
        expect(readThreshold({T: String(n)}, 'T', 1, {integer: true}).value).toBe(n)
      }),
    )
    fc.assert(
      fc.property(
        fc.string().filter((s) => s.trim() !== '' && !/^\d+$/.test(s.trim())),
        (s) => {
          expect(() => readThreshold({T: s}, 'T', 1, {integer: true})).toThrow(ConfigError)
        },
      ),
    )
  })
})

describe('readLadder', () => {
  it('accepts warn ≤ fail (equal is allowed)', () => {
    expect(readLadder({W: '10', F: '10'}, 'W', 5, 'F', 20)).toEqual({
      warn: {value: 10, source: 'env:W'},
      fail: {value: 10, source: 'env:F'},
    })
  })

  it('rejects warn > fail, fixing the value that was not overridden', () => {
    const raisedWarn = configError(() => readLadder({W: '30'}, 'W', 6, 'F', 24))
    expect(raisedWarn.message).toBe('W (30) must be ≤ F (24)')
    expect(raisedWarn.fix).toBe('export F=30')
    const loweredFail = configError(() => readLadder({F: '4'}, 'W', 6, 'F', 24))
    expect(loweredFail.fix).toBe('export W=4')
    const both = configError(() => readLadder({W: '9', F: '8'}, 'W', 6, 'F', 24))
    expect(both.fix).toBe('export W=8')
  })
})

describe('validateThresholds', () => {
  it('defaults for every variable named in checks.md', () => {
    const t = validateThresholds({})
    expect(t).toEqual({
      batchRetry: {warnSite: 3, warnTotal: 5, failTotal: 20},
      cycleFreshness: {warnHours: 6, failHours: 24},
      syncFreshness: {warnHours: 24, failHours: 72},
      connectionSlots: {warnPct: 80, failPct: 95},
      idleTransactions: {warnMinutes: 5},
      deadLetter: {failHours: 24},
      sources: Object.fromEntries(Object.keys(THRESHOLD_DEFAULTS).map((k) => [k, 'default'])),
    })
  })

  it('overrides, with their sources', () => {
    const t = validateThresholds({
      GBRAIN_CYCLE_FRESHNESS_WARN_HOURS: '12',
      GBRAIN_CONN_SLOTS_FAIL_PCT: '99.5',
      GBRAIN_IDLE_TX_WARN_MINUTES: '0.5',
    })
    expect(t.cycleFreshness).toEqual({warnHours: 12, failHours: 24})
    expect(t.connectionSlots).toEqual({warnPct: 80, failPct: 99.5})
    expect(t.idleTransactions.warnMinutes).toBe(0.5)
    expect(t.sources.GBRAIN_CYCLE_FRESHNESS_WARN_HOURS).toBe('env:GBRAIN_CYCLE_FRESHNESS_WARN_HOURS')
    expect(t.sources.GBRAIN_CYCLE_FRESHNESS_FAIL_HOURS).toBe('default')
  })

  it.each(Object.entries(THRESHOLD_DEFAULTS))('an invalid %s is a usage error with export NAME=%d', (name, def) => {
    const e = configError(() => validateThresholds({[name]: 'soon'}))
    expect(e.code).toBe('CONFIG_INVALID')
    expect(e.fix).toBe(`export ${name}=${def}`)
  })

  it.each([
    ['GBRAIN_BATCH_RETRY_WARN_TOTAL', '25', 'export GBRAIN_BATCH_RETRY_FAIL_TOTAL=25'],
    ['GBRAIN_CYCLE_FRESHNESS_WARN_HOURS', '30', 'export GBRAIN_CYCLE_FRESHNESS_FAIL_HOURS=30'],
    ['GBRAIN_SYNC_FRESHNESS_FAIL_HOURS', '12', 'export GBRAIN_SYNC_FRESHNESS_WARN_HOURS=12'],
    ['GBRAIN_CONN_SLOTS_WARN_PCT', '97', 'export GBRAIN_CONN_SLOTS_FAIL_PCT=97'],
  ])('warn > fail is rejected (%s=%s)', (name, value, fix) => {
    expect(configError(() => validateThresholds({[name]: value})).fix).toBe(fix)
  })

  it('several problems are reported at once, with one export line', () => {
    const e = configError(() => validateThresholds({GBRAIN_BATCH_RETRY_WARN_SITE: '-3', GBRAIN_IDLE_TX_WARN_MINUTES: 'x'}))
    expect(e.message).toBe(
      'GBRAIN_BATCH_RETRY_WARN_SITE must be an integer ≥ 1, got "-3"; GBRAIN_IDLE_TX_WARN_MINUTES must be a number > 0, got "x"',
    )
    expect(e.fix).toBe('export GBRAIN_BATCH_RETRY_WARN_SITE=3 GBRAIN_IDLE_TX_WARN_MINUTES=5')
  })

  it('GBRAIN_BULK_* settings are not thresholds: an invalid one does not stop the doctor', () => {
    expect(() => validateThresholds({GBRAIN_BULK_MAX_RETRIES: '-1', GBRAIN_BULK_RETRY_BASE_MS: 'x'})).not.toThrow()
  })
})
