import {describe, expect, it} from 'vitest'
import {sleepUntilReady, type ReadinessProbe} from '../../../src/engine/probe-sleep.js'
import {AbortedError} from '../../../src/shared/errors.js'
import {FakeClock} from '../../helpers/fake-clock.js'

/** A probe on the fake clock: records when it was asked, answers `answer(n)` after `takesMs`. */
function recorder(clock: FakeClock, answer: (n: number) => boolean | Error, takesMs = 0) {
  const t0 = clock.now()
  const asked: number[] = []
  const signals: AbortSignal[] = []
  let inFlight = 0
  let maxInFlight = 0
  const probe: ReadinessProbe = (signal) => {
    asked.push(clock.now() - t0)
    signals.push(signal)
    inFlight += 1
    maxInFlight = Math.max(maxInFlight, inFlight)
    const n = asked.length
    const settle = (): boolean => {
      inFlight -= 1
      const a = answer(n)
      if (a instanceof Error) throw a
      return a
    }
    if (takesMs === 0) return Promise.resolve().then(settle)
    return new Promise<void>((resolve) => clock.setTimeout(resolve, takesMs)).then(settle)
  }
  return {probe, asked, signals, t0, maxInFlight: () => maxInFlight}
}

describe('sleepUntilReady', () => {
  it('probes every interval, at most 1000/interval per second, and sleeps the whole delay when never ready', async () => {
    const clock = new FakeClock()
    const r = recorder(clock, () => false)
    const early = await sleepUntilReady(clock, 1000, undefined, r.probe, 100)
    expect(early).toBe(false)
    expect(clock.now() - r.t0).toBe(1000)
    // Never in the last interval: the sleep's own end comes first.
    expect(r.asked).toEqual([100, 200, 300, 400, 500, 600, 700, 800, 900])
    for (let i = 1; i < r.asked.length; i++) expect(r.asked[i]! - r.asked[i - 1]!).toBeGreaterThanOrEqual(100)
    expect(r.signals.every((s) => s.aborted)).toBe(true)
  })

  it('ends at the first ready probe and asks no more', async () => {
    const clock = new FakeClock()
    const r = recorder(clock, (n) => n === 3)
    const early = await sleepUntilReady(clock, 3000, undefined, r.probe, 100)
    expect(early).toBe(true)
    expect(clock.now() - r.t0).toBe(300)
    expect(r.asked).toEqual([100, 200, 300])
    expect(clock.pending).toBe(0)
  })

  it('never runs two probes at once: a slow probe makes the next ticks skip', async () => {
    const clock = new FakeClock()
    const r = recorder(clock, () => false, 250)
    await sleepUntilReady(clock, 1000, undefined, r.probe, 100)
    expect(r.maxInFlight()).toBe(1)
    // 100 → answers at 350; ticks at 200 and 300 skip; 400 → 650; 700 → 950 (then aborted at 1000).
    expect(r.asked).toEqual([100, 400, 700])
  })

  it('a probe that throws or rejects counts as not ready', async () => {
    const clock = new FakeClock()
    const r = recorder(clock, (n) => (n < 3 ? new Error('boom') : true))
    expect(await sleepUntilReady(clock, 1000, undefined, r.probe, 100)).toBe(true)
    expect(clock.now() - r.t0).toBe(300)
    const clock2 = new FakeClock()
    const throwing: ReadinessProbe = () => {
      throw new Error('sync boom')
    }
    expect(await sleepUntilReady(clock2, 500, undefined, throwing, 100)).toBe(false)
  })

  it('an abort rejects at once, aborts the probe in flight and stops probing', async () => {
    const clock = new FakeClock()
    const r = recorder(clock, () => false, 80)
    const controller = new AbortController()
    clock.setTimeout(() => controller.abort('stop'), 250)
    await expect(sleepUntilReady(clock, 5000, controller.signal, r.probe, 100)).rejects.toBeInstanceOf(AbortedError)
    expect(clock.now() - r.t0).toBe(250)
    expect(r.asked).toEqual([100, 200])
    expect(r.signals.at(-1)!.aborted).toBe(true)
    const seen = r.asked.length
    clock.advance(2000)
    expect(r.asked.length).toBe(seen)
  })

  it('an already aborted signal rejects without probing', async () => {
    const clock = new FakeClock()
    const r = recorder(clock, () => true)
    await expect(sleepUntilReady(clock, 1000, AbortSignal.abort(), r.probe, 100)).rejects.toBeInstanceOf(AbortedError)
    expect(r.asked).toEqual([])
  })
})
