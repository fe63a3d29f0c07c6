/**
 * A backoff sleep that a readiness probe may end early (engine.md "Readiness probe").
 *
 * While the sleep runs, `probe` is called every `intervalMs` on the engine's clock, never two at
 * once (a probe still running when the next tick comes makes that tick skip), and never in the
 * last `intervalMs` of the sleep (the sleep's own end comes first). So the rate is at most
 * 1000 / `intervalMs` probes per second, whatever the probe does. The first probe answering
 * `true` ends the sleep; a probe that throws or rejects counts as `false`. When the sleep ends
 * (its timer, a ready probe or the caller's abort) the probe's signal aborts, so a probe in
 * flight stops. Resolves `true` when a probe ended the sleep early.
 */
import {AbortedError} from '../shared/errors.js'
import type {Clock} from '../shared/clock.js'

/** Answers whether the server accepts connections again; aborted when the wait ends. */
export type ReadinessProbe = (signal: AbortSignal) => Promise<boolean>

/** Default spacing of readiness probes: at most 10 per second. */
export const DEFAULT_PROBE_INTERVAL_MS = 100

export function sleepUntilReady(
  clock: Clock,
  ms: number,
  signal: AbortSignal | undefined,
  probe: ReadinessProbe,
  intervalMs: number,
): Promise<boolean> {
  if (signal?.aborted) return Promise.reject(new AbortedError(signal.reason))
  const interval = Math.max(1, intervalMs)
  const endAt = clock.now() + Math.max(0, ms)
  return new Promise<boolean>((resolve, reject) => {
    const probing = new AbortController()
    let done = false
    let inFlight = false
    let tick: unknown
    const finish = (): boolean => {
      if (done) return false
      done = true
      clock.clearTimeout(end)
      if (tick !== undefined) clock.clearTimeout(tick)
      signal?.removeEventListener('abort', onAbort)
      probing.abort(new AbortedError('backoff ended'))
      return true
    }
    const onAbort = (): void => {
      if (finish()) reject(new AbortedError(signal?.reason))
    }
    const schedule = (): void => {
      tick = clock.now() + interval < endAt ? clock.setTimeout(fire, interval) : undefined
    }
    const fire = (): void => {
      if (done) return
      schedule()
      if (inFlight) return
      inFlight = true
      void askOnce(probe, probing.signal).then((ready) => {
        inFlight = false
        if (ready && finish()) resolve(true)
      })
    }
    const end = clock.setTimeout(
      () => {
        if (finish()) resolve(false)
      },
      Math.max(0, ms),
    )
    signal?.addEventListener('abort', onAbort, {once: true})
    schedule()
  })
}

/** One probe, never throwing: anything but a plain `true` is "not ready". */
async function askOnce(probe: ReadinessProbe, signal: AbortSignal): Promise<boolean> {
  try {
    return (await probe(signal)) === true
  } catch {
    return false
  }
}
