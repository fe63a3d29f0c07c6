/**
 * Timers cannot overflow (issue 10, class 2): Node fires a setTimeout of more than 2^31 − 1 ms
 * after 1 ms, so a 30-day `cycle --watch --interval` was a hot loop. Every timer goes through
 * shared/timer.ts; these tests fail on a plain setTimeout.
 */
import {afterEach, describe, expect, it, vi} from 'vitest'
import {sleep, systemClock} from '../../../src/shared/clock.js'
import {MAX_TIMER_MS, safeInterval, safeTimeout} from '../../../src/shared/timer.js'

const DAY = 86_400_000
// Virtual time throughout: vitest's fake timers fire a plain setTimeout past 2^31 − 1 ms after
// 1 ms, exactly as Node does, so each "does not fire early" test fails on a plain timer.

afterEach(() => {
  vi.useRealTimers()
})

describe('safeTimeout', () => {
  it('a 30-day timeout does not fire early (a plain setTimeout fires after 1 ms)', () => {
    vi.useFakeTimers()
    const plain = vi.fn()
    setTimeout(plain, 30 * DAY) // the control: what the code did before
    const fn = vi.fn()
    const t = safeTimeout(fn, 30 * DAY)
    vi.advanceTimersByTime(1000)
    expect(plain).toHaveBeenCalledTimes(1)
    expect(fn).not.toHaveBeenCalled()
    t.clear()
  })

  it('a 30-day timeout fires once, at 30 days (virtual time)', () => {
    vi.useFakeTimers()
    const fn = vi.fn()
    safeTimeout(fn, 30 * DAY)
    vi.advanceTimersByTime(30 * DAY - 1)
    expect(fn).not.toHaveBeenCalled()
    vi.advanceTimersByTime(1)
    expect(fn).toHaveBeenCalledTimes(1)
    vi.advanceTimersByTime(60 * DAY)
    expect(fn).toHaveBeenCalledTimes(1)
  })

  it('clear() cancels a chained timeout in any of its steps', () => {
    vi.useFakeTimers()
    const fn = vi.fn()
    const t = safeTimeout(fn, MAX_TIMER_MS * 2 + 5)
    vi.advanceTimersByTime(MAX_TIMER_MS + 10) // into the second step
    t.clear()
    vi.advanceTimersByTime(MAX_TIMER_MS * 3)
    expect(fn).not.toHaveBeenCalled()
  })

  it('a negative or NaN delay runs as soon as possible', () => {
    vi.useFakeTimers()
    const a = vi.fn()
    const b = vi.fn()
    safeTimeout(a, -5)
    safeTimeout(b, Number.NaN)
    vi.advanceTimersByTime(0)
    expect(a).toHaveBeenCalledTimes(1)
    expect(b).toHaveBeenCalledTimes(1)
  })
})

describe('safeInterval', () => {
  it('an interval past the limit is clamped to it, not to 1 ms', () => {
    vi.useFakeTimers()
    const fn = vi.fn()
    const t = safeInterval(fn, 40 * DAY)
    vi.advanceTimersByTime(1000)
    expect(fn).not.toHaveBeenCalled()
    vi.advanceTimersByTime(MAX_TIMER_MS)
    expect(fn).toHaveBeenCalledTimes(1)
    t.clear()
  })
})

describe('the engine clock (what cycle --watch sleeps on)', () => {
  it('sleep(systemClock, 30 d) does not return early, and an abort still ends it at once', async () => {
    vi.useFakeTimers()
    const stop = new AbortController()
    let done = false
    const p = sleep(systemClock, 30 * DAY, stop.signal).then(
      () => (done = true),
      () => 'aborted',
    )
    await vi.advanceTimersByTimeAsync(1000)
    expect(done).toBe(false)
    stop.abort('SIGTERM')
    expect(await p).toBe('aborted')
  })
})
