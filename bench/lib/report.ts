/**
 * Result model and rendering: one row per (measurement, baseline) comparison, the physical
 * floors beside them, a Markdown table on stdout and bench/results/*.json.
 */

export interface Row {
  bench: string
  /** What was measured, e.g. `gbrain doctor --json`. */
  measure: string
  /** Median, formatted with its unit. */
  value: string
  baseline: string
  baselineValue: string
  /** measure / baseline (medians); null when the comparison is not a ratio. */
  ratio: number | null
  target: string
  /** true / false; null = report only (no target). */
  met: boolean | null
}

export interface BenchResult {
  name: string
  /** Input sizes, stated with every result. */
  input: string
  rows: Row[]
  /** Raw figures (samples, summaries, counts) for the JSON file. */
  data: Record<string, unknown>
  /** Notes printed under the table (e.g. what was found about imports). */
  notes: string[]
  /** Physical floors measured along the way (printed in their own table). */
  floors?: Floor[]
  error?: string
  durationMs: number
}

export interface Floor {
  name: string
  value: string
  detail: string
}

export function ms(x: number): string {
  if (!Number.isFinite(x)) return 'n/a'
  if (x >= 10_000) return `${(x / 1000).toFixed(1)} s`
  if (x >= 100) return `${Math.round(x)} ms`
  if (x >= 1) return `${x.toFixed(1)} ms`
  return `${x.toFixed(3)} ms`
}

export function ratioText(r: number | null): string {
  if (r === null || !Number.isFinite(r)) return '—'
  return r >= 10 ? `${r.toFixed(1)}×` : `${r.toFixed(2)}×`
}

function metText(m: boolean | null, quick: boolean): string {
  if (m === null) return 'report'
  const word = m ? 'yes' : '**no**'
  return quick ? `${word} (quick)` : word
}

const esc = (s: string): string => s.replace(/\|/g, '\\|')

export function markdownTable(results: readonly BenchResult[], quick: boolean): string {
  const lines = ['| bench | measured | median | baseline | baseline median | ratio | target | met |', '|---|---|---|---|---|---|---|---|']
  for (const r of results) {
    if (r.error) {
      lines.push(`| ${r.name} | ERROR: ${esc(r.error.split('\n')[0]!.slice(0, 160))} | | | | | | |`)
      continue
    }
    for (const row of r.rows) {
      lines.push(
        `| ${row.bench} | ${esc(row.measure)} | ${esc(row.value)} | ${esc(row.baseline)} | ${esc(row.baselineValue)} | ${ratioText(row.ratio)} | ${esc(row.target)} | ${metText(row.met, quick)} |`,
      )
    }
  }
  return lines.join('\n')
}

export function floorsTable(floors: readonly Floor[]): string {
  const lines = ['| physical floor | median | detail |', '|---|---|---|']
  for (const f of floors) lines.push(`| ${esc(f.name)} | ${esc(f.value)} | ${esc(f.detail)} |`)
  return lines.join('\n')
}

export function inputsList(results: readonly BenchResult[]): string {
  return results.map((r) => `- **${r.name}**: ${r.input}`).join('\n')
}
