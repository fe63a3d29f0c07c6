/**
 * The HTML report's three inline SVG charts: the score over the history's runs, the status strip
 * per check (one cell a run), and the audit trail's hourly bars (retries, exhausted, recovered by
 * site; reconnects and disconnects). Colours are CSS classes (html.ts's stylesheet sets them for
 * light, dark and print); every element a test counts carries a data attribute (`data-run`,
 * `data-cell`, `data-hour`). Pure: data in, markup out, every data string through htmlText.
 */
import type {AuditHours, SiteHours} from '../checks/facts/audit-hours.js'
import type {Trend} from '../history/trend.js'
import {htmlText} from './html-text.js'

const W = 720
const round = (n: number): string => String(Math.round(n * 10) / 10)
const STATUS_CLASSES = new Set(['ok', 'warn', 'fail', 'unknown', 'skipped'])
const statusClass = (s: string | null): string => (s === null ? 'none' : STATUS_CLASSES.has(s) ? s : 'unknown')

/** The score of each run as points on a line (an unscored run is a hollow point on the axis). */
export function scoreChart(trend: Trend): string {
  const n = trend.runs.length
  const left = 40
  const top = 12
  const plotW = W - left - 16
  const plotH = 120
  const x = (i: number): number => (n === 1 ? left + plotW / 2 : left + (i * plotW) / (n - 1))
  const y = (score: number): number => top + ((100 - score) * plotH) / 100
  const grid = [0, 50, 100]
    .map(
      (g) =>
        `<line class="grid" x1="${left}" x2="${left + plotW}" y1="${y(g)}" y2="${y(g)}"/><text class="axis" x="${left - 6}" y="${y(g) + 4}" text-anchor="end">${g}</text>`,
    )
    .join('')
  const segments: string[] = []
  for (let i = 1; i < n; i++) {
    const a = trend.runs[i - 1]!
    const b = trend.runs[i]!
    if (a.score !== null && b.score !== null)
      segments.push(
        `<line class="score-line" x1="${round(x(i - 1))}" y1="${round(y(a.score))}" x2="${round(x(i))}" y2="${round(y(b.score))}"/>`,
      )
  }
  const points = trend.runs.map((r, i) => {
    const label = `${htmlText(r.ts)}: ${r.score === null ? 'not scored' : `score ${r.score}`}`
    const cls = r.score === null ? 'point unscored' : 'point'
    return `<circle class="${cls}" data-run="${i}" data-score="${r.score ?? ''}" cx="${round(x(i))}" cy="${round(y(r.score ?? 0))}" r="4"><title>${label}</title></circle>`
  })
  const h = top + plotH + 24
  const first = trend.runs[0]
  const last = trend.runs.at(-1)
  const labels =
    first && last
      ? `<text class="axis" x="${left}" y="${h - 6}">${htmlText(first.ts)}</text><text class="axis" x="${left + plotW}" y="${h - 6}" text-anchor="end">${htmlText(last.ts)}</text>`
      : ''
  return svg('score-chart', h, `Health score over the last ${n} runs`, `${grid}${segments.join('')}${points.join('')}${labels}`)
}

/** One row per check, one cell per run (oldest left), coloured by status; a run without the check is an empty cell. */
export function statusStrip(trend: Trend): string {
  const n = Math.max(1, trend.runs.length)
  const left = 170
  const cell = Math.max(3, Math.min(18, (W - left - 8) / n))
  const rowH = 18
  const rows = trend.checks.map((c, r) => {
    const yy = r * rowH
    const cells = c.statuses.map((s, i) => {
      const cls = statusClass(s)
      const title = `${htmlText(c.name)}, ${htmlText(trend.runs[i]?.ts ?? '')}: ${s === null ? 'not run' : htmlText(s)}`
      return `<rect class="cell s-${cls}" data-cell="${i}" data-check="${htmlText(c.name)}" data-status="${cls}" x="${round(left + i * cell)}" y="${yy + 2}" width="${round(Math.max(1, cell - 2))}" height="${rowH - 4}"><title>${title}</title></rect>`
    })
    const name = `<text class="label" x="${left - 8}" y="${yy + rowH - 5}" text-anchor="end">${htmlText(c.name, 40)}</text>`
    return `<g class="strip-row" data-check="${htmlText(c.name)}">${name}${cells.join('')}</g>`
  })
  return svg('status-strip', Math.max(rowH, trend.checks.length * rowH) + 4, 'Status of each check per run', rows.join(''))
}

interface Band {
  series: 'retries' | 'exhausted' | 'recovered' | 'reconnects' | 'disconnects'
  title: string
  /** Per hour, the stacked parts: [class, data attributes, count]. */
  parts: (hour: number) => {cls: string; attrs: string; count: number; label: string}[]
}

/** The hourly bars: one band per series, one bar per hour, stacked by site. */
export function auditBars(hours: AuditHours): string {
  const n = hours.starts.length
  const left = 170
  const slot = (W - left - 8) / Math.max(1, n)
  const bandH = 56
  const gap = 18
  const siteParts =
    (series: 'retries' | 'exhausted' | 'recovered') =>
    (h: number): ReturnType<Band['parts']> =>
      hours.sites.map((s: SiteHours, i) => ({
        cls: `site c${i}`,
        attrs: `data-series="${series}" data-site="${htmlText(s.site)}"`,
        count: s[series][h] ?? 0,
        label: htmlText(s.site),
      }))
  const bands: Band[] = [
    {series: 'retries', title: 'retries scheduled', parts: siteParts('retries')},
    {series: 'exhausted', title: 'batches exhausted', parts: siteParts('exhausted')},
    {series: 'recovered', title: 'batches recovered', parts: siteParts('recovered')},
    {
      series: 'reconnects',
      title: 'reconnects',
      parts: (h) => {
        const failed = hours.reconnects_failed[h] ?? 0
        return [
          {cls: 'rc-failed', attrs: 'data-series="reconnects" data-part="failed"', count: failed, label: 'failed'},
          {
            cls: 'rc-ok',
            attrs: 'data-series="reconnects" data-part="succeeded"',
            count: (hours.reconnects[h] ?? 0) - failed,
            label: 'succeeded',
          },
        ]
      },
    },
    {
      series: 'disconnects',
      title: 'disconnects (not at exit)',
      parts: (h) => [{cls: 'dc', attrs: 'data-series="disconnects"', count: hours.disconnects[h] ?? 0, label: 'disconnects'}],
    },
  ]
  const body = bands.map((band, b) => {
    const top = b * (bandH + gap) + 14
    let max = 0
    for (let h = 0; h < n; h++)
      max = Math.max(
        max,
        band.parts(h).reduce((sum, p) => sum + p.count, 0),
      )
    const bars: string[] = []
    for (let h = 0; h < n; h++) {
      let y = top + bandH
      for (const p of band.parts(h)) {
        if (p.count <= 0) continue
        const height = Math.max(1.5, (p.count * bandH) / max)
        y -= height
        const title = `${htmlText(hours.starts[h] ?? '')} + 1 h, ${p.label}: ${p.count} ${band.title}`
        bars.push(
          `<rect class="bar ${p.cls}" data-hour="${h}" ${p.attrs} data-count="${p.count}" x="${round(left + h * slot + 1)}" y="${round(y)}" width="${round(Math.max(1, slot - 2))}" height="${round(height)}"><title>${title}</title></rect>`,
        )
      }
    }
    const axis = `<line class="grid" x1="${left}" x2="${W - 8}" y1="${top + bandH}" y2="${top + bandH}"/>`
    const label = `<text class="label" x="${left - 8}" y="${top + bandH / 2 + 4}" text-anchor="end">${band.title}</text><text class="axis" x="${left - 8}" y="${top + 8}" text-anchor="end">${max > 0 ? `max ${max}` : 'none'}</text>`
    return `<g class="band" data-band="${band.series}">${axis}${label}${bars.join('')}</g>`
  })
  const height = bands.length * (bandH + gap) + 14
  const ticks: string[] = []
  for (let h = 0; h < n; h += 6)
    ticks.push(`<text class="axis" x="${round(left + h * slot)}" y="${height}">${htmlText((hours.starts[h] ?? '').slice(11, 16))}</text>`)
  return svg('audit-bars', height + 6, 'Audit trail per hour', `${body.join('')}${ticks.join('')}`)
}

function svg(id: string, height: number, title: string, body: string): string {
  return `<svg id="${id}" class="chart" role="img" viewBox="0 0 ${W} ${round(height)}" width="${W}" height="${round(height)}" xmlns="http://www.w3.org/2000/svg"><title>${title}</title>${body}</svg>`
}
