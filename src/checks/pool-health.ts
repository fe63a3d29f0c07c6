/**
 * The rules about an engine process's pool, each written once and used by the doctor's checks
 * and by repair alike: since when a pool has been failing, whether a live process's pool counts
 * as failing (engine_processes fails on it), and whether a pool needs a reconnect (what
 * `repair --reconnect` heals and what the repair plan predicts).
 */

/** How long a live process's pool may fail before engine_processes fails. */
export const PROCESS_FAILING_FAIL_MS = 60_000

/** What the rules read of a pool, from a state file's health or a check's process detail. */
export interface PoolView {
  /** The engine state (`connected`, `broken`, `reconnecting`, …), null when unknown. */
  state: string | null
  consecutive_failures: number | null
  /** Whether the pool reports a failing streak (a failing_since). */
  failing: boolean
}

/** A pool `repair --reconnect` heals: broken, reconnecting, or failing calls whatever its state says. */
export function poolNeedsReconnect(p: PoolView): boolean {
  return p.state === 'broken' || p.state === 'reconnecting' || (p.consecutive_failures ?? 0) > 0 || p.failing
}

/**
 * Since when a pool has been failing (ms since the epoch): its `failing_since`, or — for a
 * `broken` pool with consecutive failures but no `failing_since` — its last error's time; null
 * when it is not failing (or the times do not parse).
 */
export function poolFailingSince(h: {
  state: string
  consecutive_failures: number | null
  failing_since: unknown
  last_error_at: unknown
}): number | null {
  const since = parseMs(h.failing_since)
  if (since === null && h.state === 'broken' && (h.consecutive_failures ?? 0) > 0) return parseMs(h.last_error_at)
  return since
}

/** A live process whose pool has been failing for longer than `afterMs`. */
export function isPoolFailing(alive: boolean, failingForMs: number | null, afterMs = PROCESS_FAILING_FAIL_MS): boolean {
  return alive && failingForMs !== null && failingForMs > afterMs
}

export function parseMs(x: unknown): number | null {
  const ms = typeof x === 'string' ? Date.parse(x) : Number.NaN
  return Number.isFinite(ms) ? ms : null
}

/** A process of the pool-recovery trail whose last reconnect failed and that still runs (or may). */
export function reconnectStillFailing(p: {recovered: boolean; alive?: boolean}): boolean {
  return !p.recovered && p.alive !== false
}
