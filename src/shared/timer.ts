/**
 * The one way this code arms a timer. Node's setTimeout/setInterval take at most 2^31 − 1 ms
 * (~24.8 days); anything longer fires after 1 ms with a TimeoutOverflowWarning — a 30-day
 * `cycle --watch --interval` became a hot loop. Here a longer timeout is chained in steps, an
 * interval is clamped into range, and negative or NaN delays mean "as soon as possible".
 */

/** The longest delay Node's timers accept. */
export const MAX_TIMER_MS = 2 ** 31 - 1

export interface SafeTimer {
  /** Cancel it (idempotent). */
  clear(): void
  /** Let the process exit while it is pending (as Node's `unref`). */
  unref(): SafeTimer
}

function clampDelay(ms: number): number {
  return Number.isFinite(ms) && ms > 0 ? Math.min(Math.floor(ms), MAX_TIMER_MS) : 0
}

/** Run `fn` once after `ms`, however long; a delay past Node's limit is waited out in steps. */
export function safeTimeout(fn: () => void, ms: number): SafeTimer {
  let remaining = Number.isFinite(ms) && ms > 0 ? ms : 0
  let handle: NodeJS.Timeout
  let unrefd = false
  const arm = (): void => {
    const step = clampDelay(remaining)
    remaining -= step
    handle = setTimeout(() => (remaining > 0 ? arm() : fn()), step)
    if (unrefd) handle.unref()
  }
  arm()
  const timer: SafeTimer = {
    clear: () => clearTimeout(handle),
    unref: () => {
      unrefd = true
      handle.unref()
      return timer
    },
  }
  return timer
}

/** Run `fn` every `ms` (clamped to 1 ms … Node's limit). */
export function safeInterval(fn: () => void, ms: number): SafeTimer {
  const handle = setInterval(fn, Math.max(1, clampDelay(ms)))
  const timer: SafeTimer = {
    clear: () => clearInterval(handle),
    unref: () => {
      handle.unref()
      return timer
    },
  }
  return timer
}
