import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {parseDuration} from '../../src/cli/duration.js'
import {UsageError} from '../../src/cli/errors.js'

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
