/**
 * `gbrain doctor --trend` drawn for a terminal: a score sparkline, the scores with their deltas,
 * one status strip per check (one glyph a run, oldest left), the flapping checks and what changed
 * in the newest run. Pure: a Trend in, text out, ASCII when the locale is not UTF-8.
 */
import type {Trend} from '../history/trend.js'

const BARS = {unicode: '▁▂▃▄▅▆▇█', ascii: '_.,:-=+#'}
const GLYPHS: Record<'unicode' | 'ascii', Record<string, string>> = {
  unicode: {ok: '✓', warn: '!', fail: '✗', unknown: '?', skipped: '–'},
  ascii: {ok: 'o', warn: '!', fail: 'x', unknown: '?', skipped: '-'},
}

/** The sparkline spans at least this many points, so one warning (5) shows and a flat run stays flat. */
const MIN_SPAN = 10

/**
 * One bar per score, scaled to the window: the highest score is the top bar, the lowest the
 * bottom one — over at least {@link MIN_SPAN} points, so 100 → 95 (one new warning) is a half
 * bar and 99 ↔ 100 barely moves. An unscored run is `?`.
 */
export function sparkline(scores: readonly (number | null)[], unicode: boolean): string {
  const bars = [...BARS[unicode ? 'unicode' : 'ascii']]
  const known = scores.filter((s): s is number => s !== null)
  const hi = Math.max(...known)
  const lo = Math.min(...known, hi - MIN_SPAN)
  return scores.map((s) => (s === null ? '?' : bars[Math.round(((s - lo) / (hi - lo)) * (bars.length - 1))])).join('')
}

/** One glyph per run; a run that did not run the check is a space. */
export function statusStrip(statuses: readonly (string | null)[], unicode: boolean): string {
  const g = GLYPHS[unicode ? 'unicode' : 'ascii']
  return statuses.map((s) => (s === null ? ' ' : (g[s] ?? '?'))).join('')
}

const signed = (n: number): string => (n > 0 ? `+${n}` : `${n}`)

export function renderTrend(trend: Trend, options: {unicode: boolean}): string {
  const u = options.unicode
  const arrow = u ? '→' : '->'
  const out: string[] = []
  const first = trend.runs[0]
  const last = trend.runs.at(-1)
  if (!first || !last) return 'No doctor history yet: each gbrain doctor run adds a line (unless --no-history).\n'
  out.push(`Last ${trend.runs.length} doctor run${trend.runs.length === 1 ? '' : 's'}, ${first.ts} ${arrow} ${last.ts}`)
  out.push('')
  const scores = trend.runs.map((r) =>
    r.score === null ? 'not scored' : r.delta === null ? `${r.score}` : `${r.score} (${signed(r.delta)})`,
  )
  out.push(
    `score  ${sparkline(
      trend.runs.map((r) => r.score),
      u,
    )}  ${scores.join(', ')}`,
  )
  out.push('')
  const width = Math.max(5, ...trend.checks.map((c) => c.name.length))
  for (const c of trend.checks) {
    const flag = c.flapping ? `  flapping: ${c.changes} changes in the last 10 runs` : ''
    out.push(`${c.name.padEnd(width)}  ${statusStrip(c.statuses, u)}${flag}`.trimEnd())
  }
  out.push('')
  if (trend.changed.length === 0) out.push('Changed since the run before: nothing')
  else out.push(`Changed since the run before: ${trend.changed.map((c) => `${c.check} ${c.from} ${arrow} ${c.to}`).join(', ')}`)
  if (trend.skipped > 0) out.push(`(${trend.skipped} unreadable history line${trend.skipped === 1 ? '' : 's'} skipped)`)
  return `${out.join('\n')}\n`
}
