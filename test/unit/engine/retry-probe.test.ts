/**
 * withRetry with a readiness probe (engine.md "Readiness probe"), in virtual time: the probe runs
 * only while a backoff after a connection-level failure is slept, ends it at the first ready
 * answer, and changes neither the attempts nor the policy's worst-case total wait.
 */
import {describe, expect, it} from 'vitest'
import {worstCaseSleepMs} from '../../../src/engine/backoff.js'
import type {Classified} from '../../../src/engine/classify.js'
import {RetryExhaustedError, withRetry, type RetryOptions} from '../../../src/engine/retry.js'
import type {ReadinessProbe} from '../../../src/engine/probe-sleep.js'
import {AbortedError} from '../../../src/shared/errors.js'
import {FakeClock} from '../../helpers/fake-clock.js'

/** ECONNRESET: connection-level; LOCK (a lock timeout): retryable on the same connection. */
function classify(e: unknown): Classified {
  const code = (e as {code?: string}).code
  const connectionLevel = code === 'ECONNRESET'
  const retryable = connectionLevel || code === 'LOCK'
  return {retryable, kind: connectionLevel ? 'reset' : 'unknown', code, hint: 'h', inDoubt: false, connectionLevel, message: String(code)}
}
const err = (code: string): Error => Object.assign(new Error(code), {code})

const POLICY = {maxRetries: 3, baseMs: 1000, maxMs: 10_000, jitter: 'none'} as const
const INTERVAL = 100

/** A server that is down until `upAt` (virtual ms from the start; Infinity: stays down). */
function world(upAt: number, opts: {probeSays?: (t: number) => boolean; failure?: string} = {}) {
  const clock = new FakeClock()
  const t0 = clock.now()
  const at = (): number => clock.now() - t0
  const probes: number[] = []
  const attempts: number[] = []
  const probe: ReadinessProbe = async () => {
    probes.push(at())
    return (opts.probeSays ?? ((t) => t >= upAt))(at())
  }
  const fn = async (): Promise<string> => {
    attempts.push(at())
    if (at() < upAt) throw err(opts.failure ?? 'ECONNRESET')
    return 'landed'
  }
  const options: RetryOptions = {...POLICY, clock, classify, probe, probeIntervalMs: INTERVAL, reconnect: async () => {}}
  return {clock, at, probes, attempts, probe, fn, options}
}

describe('withRetry with a readiness probe', () => {
  it('ends the backoff at the first ready probe: the call lands within one probe interval of ready', async () => {
    // Attempt 1 fails at 0, the first retry reconnects at once (fails), the second sleeps 2000 ms.
    const w = world(450)
    expect(await withRetry(w.fn, w.options)).toBe('landed')
    expect(w.attempts).toEqual([0, 0, 500])
    expect(w.at() - 450).toBeLessThanOrEqual(INTERVAL)
    expect(w.probes).toEqual([100, 200, 300, 400, 500])
  })

  it('without a probe the same outage waits the whole backoff', async () => {
    const w = world(450)
    expect(await withRetry(w.fn, {...w.options, probe: undefined})).toBe('landed')
    expect(w.attempts).toEqual([0, 0, 2000])
  })

  it('a server that stays down: same attempts, same total wait as the policy, ≤ 1000/interval probes a second', async () => {
    const w = world(Infinity)
    const error = await withRetry(w.fn, w.options).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RetryExhaustedError)
    expect(w.attempts.length).toBe(POLICY.maxRetries + 1)
    expect(w.at()).toBe(worstCaseSleepMs(POLICY, POLICY.maxRetries))
    for (let i = 0; i < w.probes.length; i++) {
      const inOneSecond = w.probes.filter((t) => t >= w.probes[i]! && t < w.probes[i]! + 1000).length
      expect(inOneSecond).toBeLessThanOrEqual(1000 / INTERVAL)
    }
    expect(w.probes.length).toBeGreaterThan(0)
  })

  it('a probe that says ready while the server is down (a pooler answering) costs no attempt and no wait', async () => {
    const w = world(Infinity, {probeSays: () => true})
    const error = await withRetry(w.fn, w.options).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RetryExhaustedError)
    // Woken once at 100; that attempt failed, so probing stopped and the skipped 1900 ms were
    // added to the next sleep (4000 ms): the total stays the policy's.
    expect(w.probes).toEqual([100])
    expect(w.attempts).toEqual([0, 0, 100, 6000])
    expect(w.at()).toBe(worstCaseSleepMs(POLICY, POLICY.maxRetries))
  })

  it('the deadline still holds: owed time never pushes a sleep past it', async () => {
    const w = world(Infinity, {probeSays: () => true})
    const error = await withRetry(w.fn, {...w.options, deadlineMs: 5000}).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RetryExhaustedError)
    expect(w.at()).toBeLessThan(5000)
  })

  it('no probe for a failure that is not connection-level (a lock timeout)', async () => {
    const w = world(450, {failure: 'LOCK'})
    expect(await withRetry(w.fn, w.options)).toBe('landed')
    expect(w.probes).toEqual([])
    expect(w.attempts).toEqual([0, 0, 2000])
  })

  it('no probe on the first retry (it reconnects at once)', async () => {
    const w = world(Infinity)
    let calls = 0
    const once = async (): Promise<string> => {
      calls += 1
      if (calls === 1) throw err('ECONNRESET')
      return 'landed'
    }
    expect(await withRetry(once, w.options)).toBe('landed')
    expect(calls).toBe(2)
    expect(w.probes).toEqual([])
  })

  it('an abort during the backoff stops the probing and rejects with AbortedError', async () => {
    const w = world(Infinity)
    const controller = new AbortController()
    const signals: AbortSignal[] = []
    const probe: ReadinessProbe = async (signal) => {
      signals.push(signal)
      return w.probe(signal)
    }
    w.clock.setTimeout(() => controller.abort('SIGTERM'), 350)
    const error = await withRetry(w.fn, {...w.options, probe, signal: controller.signal}).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AbortedError)
    expect(w.probes).toEqual([100, 200, 300])
    expect(signals.every((s) => s.aborted)).toBe(true)
    w.clock.advance(5000)
    expect(w.probes).toEqual([100, 200, 300])
  })
})
