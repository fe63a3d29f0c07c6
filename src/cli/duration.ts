/** Durations as operators write them: `500ms`, `5s`, `2m`, `24h`, `30d` (integers only). */
import {UsageError} from './errors.js'

const UNITS: Record<string, number> = {ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000}

export function parseDuration(text: string, what = 'duration'): number {
  const m = /^\s*(\d{1,9})\s*(ms|s|m|h|d)\s*$/.exec(text)
  if (!m) throw new UsageError(`${what} ${JSON.stringify(text)} is not a duration`, 'write it like 500ms, 5s, 2m, 24h or 30d')
  const ms = Number(m[1]) * UNITS[m[2]!]!
  if (!Number.isSafeInteger(ms)) throw new UsageError(`${what} ${JSON.stringify(text)} is too large`, 'use a smaller value')
  return ms
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)}m`
  if (ms < 86_400_000) return `${(ms / 3_600_000).toFixed(1)}h`
  return `${(ms / 86_400_000).toFixed(1)}d`
}
