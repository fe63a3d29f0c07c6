/** Durations as operators write them: `500ms`, `5s`, `2m`, `24h`, `30d` (integers only). */
import {UsageError} from './errors.js'

const UNITS: Record<string, number> = {ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000}

/** Where a duration flag is allowed to be: its documented range (docs/cli.md) and an example. */
export interface DurationRange {
  min: number
  max: number
  example: string
}

/** Every duration flag's range, in one place (exit 64 outside it). */
export const DURATION_RANGES = {
  doctorTimeout: {min: 100, max: 600_000, example: '5s'},
  doctorDeadline: {min: 1000, max: 3_600_000, example: '30s'},
  cycleInterval: {min: 100, max: 30 * 86_400_000, example: '5m'},
  repairTimeout: {min: 1000, max: 86_400_000, example: '60s'},
  retention: {min: 86_400_000, max: 3650 * 86_400_000, example: '30d'},
  healInterval: {min: 0, max: 30 * 86_400_000, example: '6h'},
  acknowledgement: {min: 3_600_000, max: 365 * 86_400_000, example: '30d'},
} as const satisfies Record<string, DurationRange>

export function parseDuration(text: string, what = 'duration', range?: DurationRange): number {
  const within = range ? ` from ${formatDuration(range.min)} to ${formatDuration(range.max)}` : ''
  const m = /^\s*(\d{1,9})\s*(ms|s|m|h|d)\s*$/.exec(text)
  if (!m)
    throw new UsageError(
      `${what} ${JSON.stringify(text)} is not a duration`,
      `write it like ${range ? `${range.example} (a duration${within})` : '500ms, 5s, 2m, 24h or 30d'}`,
    )
  const ms = Number(m[1]) * UNITS[m[2]!]!
  if (!Number.isSafeInteger(ms)) throw new UsageError(`${what} ${JSON.stringify(text)} is too large`, 'use a smaller value')
  if (range && (ms < range.min || ms > range.max)) {
    throw new UsageError(`${what} ${text.trim()} is out of range: it must be${within}`, `for example ${what} ${range.example}`)
  }
  return ms
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`
  // Whole units print as they are written (10m, 24h, 30d), so ranges read like the flags.
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`
  }
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)}m`
  if (ms < 86_400_000) return `${(ms / 3_600_000).toFixed(1)}h`
  return `${(ms / 86_400_000).toFixed(1)}d`
}
