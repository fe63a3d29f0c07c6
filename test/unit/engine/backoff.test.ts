import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {createBackoff, worstCaseSleepMs, type Jitter} from '../../../src/engine/backoff.js'

describe('backoff', () => {
  it('none doubles from base and stops at the cap', () => {
    const b = createBackoff({baseMs: 1000, maxMs: 10_000, jitter: 'none'})
    expect([1, 2, 3, 4, 5, 6].map(() => b.next())).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000])
  })

  it('full draws uniformly between 0 and the exponential step', () => {
    const lo = createBackoff({baseMs: 1000, maxMs: 10_000, jitter: 'full'}, () => 0)
    const hi = createBackoff({baseMs: 1000, maxMs: 10_000, jitter: 'full'}, () => 0.9999999)
    expect([lo.next(), lo.next(), lo.next()]).toEqual([0, 0, 0])
    expect([hi.next(), hi.next(), hi.next(), hi.next(), hi.next()]).toEqual([1000, 2000, 4000, 8000, 10_000])
  })

  it('decorrelated starts at base, then stays within [base, min(cap, 3·previous)]', () => {
    const hi = createBackoff({baseMs: 1000, maxMs: 10_000, jitter: 'decorrelated'}, () => 0.9999999)
    expect([hi.next(), hi.next(), hi.next(), hi.next()]).toEqual([1000, 3000, 9000, 10_000])
    const lo = createBackoff({baseMs: 1000, maxMs: 10_000, jitter: 'decorrelated'}, () => 0)
    expect([lo.next(), lo.next(), lo.next()]).toEqual([1000, 1000, 1000])
  })

  it('every jitter stays within its bounds for any policy and rng (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({min: 1, max: 60_000}),
        fc.integer({min: 0, max: 600_000}),
        fc.constantFrom<Jitter>('none', 'full', 'decorrelated'),
        fc.array(fc.double({min: 0, max: 0.9999999, noNaN: true}), {minLength: 1, maxLength: 20}),
        (base, extra, jitter, draws) => {
          const cap = base + extra
          let i = 0
          const b = createBackoff({baseMs: base, maxMs: cap, jitter}, () => draws[i++ % draws.length]!)
          let previous = base
          for (let n = 1; n <= 12; n++) {
            const d = b.next()
            expect(Number.isInteger(d)).toBe(true)
            expect(d).toBeLessThanOrEqual(cap)
            expect(d).toBeGreaterThanOrEqual(jitter === 'full' ? 0 : Math.min(base, cap))
            if (jitter === 'decorrelated' && n > 1) expect(d).toBeLessThanOrEqual(Math.max(base, Math.min(cap, 3 * previous)))
            if (jitter === 'none') expect(d).toBe(Math.min(cap, base * 2 ** (n - 1)))
            previous = d
          }
        },
      ),
    )
  })

  it('worst-case sleep skips the first retry (it reconnects at once)', () => {
    expect(worstCaseSleepMs({baseMs: 1000, maxMs: 10_000, jitter: 'none'}, 3)).toBe(2000 + 4000)
    expect(worstCaseSleepMs({baseMs: 1000, maxMs: 10_000, jitter: 'decorrelated'}, 3)).toBe(3000 + 9000)
    expect(worstCaseSleepMs({baseMs: 1000, maxMs: 10_000, jitter: 'none'}, 1)).toBe(0)
    expect(worstCaseSleepMs({baseMs: 1000, maxMs: 10_000, jitter: 'none'}, 0)).toBe(0)
  })
})
