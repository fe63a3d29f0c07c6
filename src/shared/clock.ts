/**
 * The one seam for time. The engine, retry loop and runner take a Clock so tests run in
 * virtual time; production uses the system clock.
 */
import {safeTimeout, type SafeTimer} from './timer.js'
import {AbortedError} from './errors.js'

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => safeTimeout(fn, ms),
  clearTimeout: (handle) => (handle as SafeTimer | undefined)?.clear(),
}

/** A source of uniform randomness in [0, 1). */
export type Rng = () => number

/**
 * Sleep `ms` on `clock`. Rejects promptly with AbortedError when `signal` aborts, so a SIGTERM
 * during a 10 s backoff does not wait the backoff out. `ms = 0` still yields one timer tick.
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(new AbortedError(signal.reason))
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clock.clearTimeout(handle)
      reject(new AbortedError(signal?.reason))
    }
    const handle = clock.setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort)
        resolve()
      },
      Math.max(0, ms),
    )
    signal?.addEventListener('abort', onAbort, {once: true})
  })
}

/**
 * Race `promise` against a timer on `clock`. On timeout, `onTimeout()` supplies the rejection.
 * The raced promise gets a no-op catch so a late rejection is never unhandled: postgres.js can
 * settle a query long after we gave up on it, or never.
 */
export function withTimer<T>(clock: Clock, promise: Promise<T>, ms: number, onTimeout: () => Error, signal?: AbortSignal): Promise<T> {
  promise.catch(() => {})
  if (signal?.aborted) return Promise.reject(new AbortedError(signal.reason))
  return new Promise<T>((resolve, reject) => {
    let done = false
    const finish = (): boolean => {
      if (done) return false
      done = true
      clock.clearTimeout(handle)
      signal?.removeEventListener('abort', onAbort)
      return true
    }
    const onAbort = (): void => {
      if (finish()) reject(new AbortedError(signal?.reason))
    }
    const handle = clock.setTimeout(
      () => {
        if (finish()) reject(onTimeout())
      },
      Math.max(0, ms),
    )
    signal?.addEventListener('abort', onAbort, {once: true})
    promise.then(
      (v) => {
        if (finish()) resolve(v)
      },
      (e: unknown) => {
        // The raced promise's own reason, unchanged: wrapping it would hide what the caller threw.
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
        if (finish()) reject(e)
      },
    )
  })
}
