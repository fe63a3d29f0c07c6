import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {DURATION_RANGES, formatDuration, parseDuration} from '../../../src/cli/duration.js'
import {UsageError} from '../../../src/cli/errors.js'

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['5s', 5000],
    ['2m', 120_000],
    ['24h', 86_400_000],
    ['30d', 2_592_000_000],
  ])('%s = %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms))

  it.each(['', '5', '1.5s', '-1s', '5 minutes', 's', '10x', '1e3ms'])('rejects %j with the accepted forms', (text) => {
    expect(() => parseDuration(text)).toThrow(UsageError)
    try {
      parseDuration(text)
    } catch (e) {
      expect((e as UsageError).fix).toContain('500ms')
    }
  })

  it('round-trips every integer and unit (property)', () => {
    const units = {ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000}
    fc.assert(
      fc.property(fc.integer({min: 0, max: 99_999}), fc.constantFrom(...(Object.keys(units) as (keyof typeof units)[])), (n, u) => {
        expect(parseDuration(`${n}${u}`)).toBe(n * units[u])
      }),
    )
  })

  it('never throws anything but a UsageError (property)', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        try {
          parseDuration(s)
        } catch (e) {
          expect(e).toBeInstanceOf(UsageError)
        }
      }),
    )
  })
})

describe('every duration flag has a documented range (exit 64 outside it)', () => {
  const usage = (f: () => unknown): UsageError => {
    try {
      f()
    } catch (e) {
      if (e instanceof UsageError) return e
      throw e
    }
    throw new Error('accepted')
  }
  it.each([
    ['--timeout', '30d', DURATION_RANGES.doctorTimeout],
    ['--timeout', '0s', DURATION_RANGES.doctorTimeout],
    ['--deadline', '0s', DURATION_RANGES.doctorDeadline],
    ['--deadline', '30d', DURATION_RANGES.doctorDeadline],
    ['--interval', '0s', DURATION_RANGES.cycleInterval],
    ['--interval', '1ms', DURATION_RANGES.cycleInterval],
    ['--interval', '31d', DURATION_RANGES.cycleInterval],
    ['--timeout', '0s', DURATION_RANGES.repairTimeout],
    ['--older-than', '1h', DURATION_RANGES.retention],
  ] as const)('%s %s is refused, naming the range', (flag, text, range) => {
    const e = usage(() => parseDuration(text, flag, range))
    expect(e.message).toMatch(/out of range: it must be from \S+ to \S+/)
    expect(e.fix).toBe(`for example ${flag} ${range.example}`)
  })

  it('the ends of each range, as the message prints them, are accepted', () => {
    for (const r of Object.values(DURATION_RANGES)) {
      expect(parseDuration(formatDuration(r.min), 'x', r)).toBe(r.min)
      expect(parseDuration(formatDuration(r.max), 'x', r)).toBe(r.max)
      expect(parseDuration(r.example, 'x', r)).toBeGreaterThanOrEqual(r.min)
    }
    expect(parseDuration('30d', '--interval', DURATION_RANGES.cycleInterval)).toBe(30 * 86_400_000)
  })

  it('a malformed value gets a hint with the flag’s own example and range (never 30d for a 10 m flag)', () => {
    const e = usage(() => parseDuration('soon', '--timeout', DURATION_RANGES.doctorTimeout))
    expect(e.fix).toBe('write it like 5s (a duration from 100ms to 10m)')
  })
})
