/**
 * `gbrain doctor --trend` as data: the last N runs' scores with their deltas, each check's
 * status over those runs, the checks that flap, and what changed since the run before the last.
 * Pure: the rules (flapping especially) are tested on plain lines, and the renderer only draws.
 */
import {compareRuns, type StatusChange} from './compare.js'
import type {HistoryLine} from './line.js'

/** `--last` default and bounds (docs/cli.md). */
export const TREND_LAST = {default: 10, min: 1, max: 100}
/** A check flaps when its status changed at least this many times in the last {@link FLAP_WINDOW} runs. */
export const FLAP_CHANGES = 3
export const FLAP_WINDOW = 10

export interface TrendRun {
  ts: string
  score: number | null
  /** Against the run before it in the history (null for the first line read, or a null score). */
  delta: number | null
}

export interface TrendCheck {
  name: string
  /** One status per shown run, oldest first; null where that run did not run the check. */
  statuses: (string | null)[]
  /** Status changes over the last {@link FLAP_WINDOW} runs (runs that did not run it are passed over). */
  changes: number
  flapping: boolean
}

export interface Trend {
  runs: TrendRun[]
  checks: TrendCheck[]
  /** The newest run against the one before it. */
  changed: StatusChange[]
  /** History lines that could not be read and were skipped. */
  skipped: number
}

/** Status changes in a sequence, ignoring runs that did not run the check. */
export function countChanges(statuses: readonly (string | null)[]): number {
  let last: string | null = null
  let n = 0
  for (const s of statuses) {
    if (s === null) continue
    if (last !== null && s !== last) n += 1
    last = s
  }
  return n
}

/**
 * The trend over the newest `last` of `lines` (oldest first). `lines` may hold more (the flapping
 * window looks at the newest {@link FLAP_WINDOW} even when fewer are shown). Checks are listed in
 * the order they first appear, newest run's order first.
 */
export function buildTrend(lines: readonly HistoryLine[], last: number, skipped = 0): Trend {
  const shown = lines.slice(-last)
  const before = lines.length > shown.length ? lines[lines.length - shown.length - 1] : undefined
  const runs = shown.map((l, i) => {
    const prev = i === 0 ? before : shown[i - 1]
    const delta = prev === undefined || l.score === null || prev.score === null ? null : l.score - prev.score
    return {ts: l.ts, score: l.score, delta}
  })
  const names: string[] = []
  for (const l of [...shown].reverse()) for (const n of Object.keys(l.checks)) if (!names.includes(n)) names.push(n)
  const window = lines.slice(-FLAP_WINDOW)
  const checks = names.map((name) => {
    const changes = countChanges(window.map((l) => l.checks[name] ?? null))
    return {name, statuses: shown.map((l) => l.checks[name] ?? null), changes, flapping: changes >= FLAP_CHANGES}
  })
  const newest = lines.at(-1)
  const changed = newest === undefined ? [] : compareRuns(newest, lines.at(-2)).changed
  return {runs, checks, changed, skipped}
}
