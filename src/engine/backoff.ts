/**
 * Backoff as a value: a policy plus an rng yields the next delay on each call.
 *
 * Delay d_n for the n-th retry (n = 1, 2, …):
 *   none          min(cap, base · 2^(n-1))
 *   full          uniform[0, min(cap, base · 2^(n-1))]
 *   decorrelated  d_1 = base; d_n = uniform[base, min(cap, 3 · d_(n-1))]
 *
 * The retry loop does not sleep d_1: the first retry reconnects at once (a fresh pool answers in
 * ~30 ms when the server is up). From the second retry on it sleeps d_n before reconnecting.
 */
import type {Rng} from '../shared/clock.js'

export type Jitter = 'none' | 'full' | 'decorrelated'

export interface BackoffPolicy {
  baseMs: number
  maxMs: number
  jitter: Jitter
}

export interface Backoff {
  /** The delay for the next retry, in whole milliseconds. */
  next(): number
}

export function createBackoff(policy: BackoffPolicy, rng: Rng = Math.random): Backoff {
  const {baseMs: base, maxMs: cap, jitter} = policy
  let n = 0
  let previous = base
  return {
    next(): number {
      n += 1
      const exponential = Math.min(cap, base * 2 ** (n - 1))
      switch (jitter) {
        case 'none':
          return Math.round(exponential)
        case 'full':
          return Math.floor(rng() * (exponential + 1))
        case 'decorrelated': {
          if (n === 1) {
            previous = Math.min(cap, base)
            return previous
          }
          const upper = Math.max(base, Math.min(cap, 3 * previous))
          const lower = Math.min(base, upper)
          previous = Math.floor(lower + rng() * (upper - lower + 1))
          previous = Math.min(previous, upper)
          return previous
        }
      }
    },
  }
}

/**
 * The longest total time the retry loop can sleep for `maxRetries` retries (d_1 is not slept).
 * Used by the doctor's `retry_config` check.
 */
export function worstCaseSleepMs(policy: BackoffPolicy, maxRetries: number): number {
  const maxRng: Rng = () => 0.999999999
  const b = createBackoff(policy, maxRng)
  let total = 0
  for (let retry = 1; retry <= maxRetries; retry++) {
    const d = b.next()
    if (retry >= 2) total += d
  }
  return total
}
