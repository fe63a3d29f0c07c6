import {describe, expect, it} from 'vitest'
import type {ReadinessProbe} from '../../../src/engine/probe-sleep.js'
import {sharedProbe} from '../../../src/engine/shared-probe.js'
import {FakeClock} from '../../helpers/fake-clock.js'

/** A raw probe answering `ready` after `takesMs` on the clock; records every call and its signal. */
function raw(clock: FakeClock, takesMs: number, ready: () => boolean) {
  const calls: AbortSignal[] = []
  const probe: ReadinessProbe = (signal) => {
    calls.push(signal)
    return new Promise((resolve) => {
      const h = clock.setTimeout(() => resolve(ready()), takesMs)
      signal.addEventListener('abort', () => {
        clock.clearTimeout(h)
        resolve(false)
      })
    })
  }
  return {probe, calls}
}

describe('sharedProbe', () => {
  it('twenty callers at once share one probe; within the interval they get its answer; after it, a new probe', async () => {
    const clock = new FakeClock(Date.parse('2026-12-01T00:00:00Z'), false)
    let up = false
    const r = raw(clock, 20, () => up)
    const shared = sharedProbe(r.probe, clock, 100)
    const first = Array.from({length: 20}, () => shared(new AbortController().signal))
    clock.advance(20)
    expect(await Promise.all(first)).toEqual(Array(20).fill(false))
    expect(r.calls.length).toBe(1)
    up = true
    clock.advance(50) // 70 ms after the probe started: still its answer
    expect(await shared(new AbortController().signal)).toBe(false)
    expect(r.calls.length).toBe(1)
    clock.advance(30) // 100 ms: a new probe
    const next = shared(new AbortController().signal)
    clock.advance(20)
    expect(await next).toBe(true)
    expect(r.calls.length).toBe(2)
  })

  it("one caller's abort ends only its wait; the probe is aborted when the last waiting caller leaves", async () => {
    const clock = new FakeClock(Date.parse('2026-12-01T00:00:00Z'), false)
    const r = raw(clock, 500, () => true)
    const shared = sharedProbe(r.probe, clock, 100)
    const a = new AbortController()
    const b = new AbortController()
    const pa = shared(a.signal)
    const pb = shared(b.signal)
    a.abort()
    expect(await pa).toBe(false)
    expect(r.calls[0]!.aborted).toBe(false)
    b.abort()
    expect(await pb).toBe(false)
    expect(r.calls[0]!.aborted).toBe(true)
    expect(await shared(AbortSignal.abort())).toBe(false)
    expect(r.calls.length).toBe(1)
  })

  it('a raw probe that throws or rejects answers not ready', async () => {
    const clock = new FakeClock(Date.parse('2026-12-01T00:00:00Z'), false)
    const throwing = sharedProbe(
      () => {
        throw new Error('sync')
      },
      clock,
      100,
    )
    expect(await throwing(new AbortController().signal)).toBe(false)
    const rejecting = sharedProbe(() => Promise.reject(new Error('async')), clock, 100)
    expect(await rejecting(new AbortController().signal)).toBe(false)
  })
})
