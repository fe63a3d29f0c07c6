/**
 * Counts as words, and what a long task reports as it goes: shared by the domain (a replay, a
 * cycle) that counts and the renderers that print it.
 */

/** Where a piece of long work stands. `total` undefined: not known (no ETA). */
export interface ProgressCounts {
  /** What is being done: `notes: pass 1/2 (pages)`, `replay`. */
  label: string
  done: number
  total?: number
  /** What `done` counts: `files`, `entries`. */
  unit: string
  /** Counts after the main one, already words: `1,200 rows`. */
  extra?: string
}

/** `1,639`: grouped by thousands whatever the locale (a log reads the same everywhere). */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '?'
  return Math.round(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',')
}

/** `1,639 entries`, `1 entry`, `1 file`: a count and its unit, singular for one. */
export function countOf(n: number, unit: string): string {
  const one = unit.endsWith('ies') ? `${unit.slice(0, -3)}y` : unit.endsWith('s') ? unit.slice(0, -1) : unit
  return `${formatCount(n)} ${n === 1 ? one : unit}`
}
