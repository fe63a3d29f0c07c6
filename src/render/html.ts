/**
 * `gbrain doctor --format html`: the report as one self-contained page (no script, no network,
 * no external font: a Content-Security-Policy says so to the browser): the summary, each check
 * with its message and fix, and, from the picture data the command gathers for this format
 * (`needs: 'picture'`), the score over the history, the status strip per check and the audit
 * trail's hourly bars (html-charts.ts). Light and dark follow `prefers-color-scheme`; print gets
 * black on white. Pure: every data string goes through htmlText.
 */
import type {Report} from '../checks/types.js'
import type {Picture, RenderOptions} from './formats.js'
import {auditBars, scoreChart, statusStrip} from './html-charts.js'
import {htmlText} from './html-text.js'
import {activeAck, countsText, rankedChecks} from './summary.js'
import {displayDatabase, formatDuration} from './text.js'

const STYLE = `
:root{color-scheme:light dark;--bg:#fff;--fg:#1b1f24;--muted:#5a6370;--line:#d0d7de;--card:#f6f8fa;
--ok:#1a7f37;--warn:#b58a00;--fail:#cf222e;--unknown:#8250df;--skipped:#8c959f;--none:transparent;
--c0:#0969da;--c1:#bc4c00;--c2:#1a7f37;--c3:#8250df;--c4:#bf3989;--c5:#4d7a8a;--c6:#6e7781}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--line:#30363d;--card:#161b22;
--ok:#3fb950;--warn:#d29922;--fail:#f85149;--unknown:#a371f7;--skipped:#6e7681;
--c0:#4493f8;--c1:#f0883e;--c2:#3fb950;--c3:#a371f7;--c4:#db61a2;--c5:#76a5b5;--c6:#8b949e}}
body{background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:980px;padding:16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:24px 0 8px;border-bottom:1px solid var(--line)}
.muted,.axis{color:var(--muted);fill:var(--muted);font-size:11px}.label{fill:var(--fg);font-size:12px}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid var(--line);padding:4px 6px;text-align:left;vertical-align:top}
code,pre{font:12px/1.4 ui-monospace,monospace;background:var(--card);white-space:pre-wrap;overflow-wrap:anywhere}
pre{margin:4px 0;padding:4px 6px}td{overflow-wrap:anywhere}td.name code{white-space:nowrap;background:none}
.badge{display:inline-block;white-space:nowrap;padding:0 6px;border-radius:4px;font-weight:600;color:#fff}
.b-ok,.b-healthy{background:var(--ok)}.b-warn,.b-warnings{background:var(--warn)}.b-fail,.b-unhealthy{background:var(--fail)}
.b-unknown{background:var(--unknown)}.b-skipped{background:var(--skipped)}
.chart{max-width:100%;height:auto;display:block}.grid{stroke:var(--line)}
.score-line{stroke:var(--c0);stroke-width:2}.point{fill:var(--c0)}.point.unscored{fill:var(--bg);stroke:var(--muted)}
.s-ok{fill:var(--ok)}.s-warn{fill:var(--warn)}.s-fail{fill:var(--fail)}.s-unknown{fill:var(--unknown)}.s-skipped{fill:var(--skipped)}
.s-none{fill:none;stroke:var(--line)}
.c0{fill:var(--c0);background:var(--c0)}.c1{fill:var(--c1);background:var(--c1)}.c2{fill:var(--c2);background:var(--c2)}
.c3{fill:var(--c3);background:var(--c3)}.c4{fill:var(--c4);background:var(--c4)}.c5{fill:var(--c5);background:var(--c5)}
.c6{fill:var(--c6);background:var(--c6)}.rc-failed{fill:var(--fail)}.rc-ok{fill:var(--ok)}.dc{fill:var(--warn)}
.swatch{display:inline-block;width:10px;height:10px;margin-right:4px}
@media print{:root{--bg:#fff;--fg:#000;--muted:#444;--line:#bbb;--card:#fff}body{max-width:none;padding:0}
section{break-inside:avoid}.badge{color:#000;border:1px solid #000;background:none}}
`

const badge = (status: string): string => `<span class="badge b-${htmlText(status)}">${htmlText(status)}</span>`

function summary(report: Report): string {
  const score = report.health_score === null ? 'not scored' : `${report.health_score}/100`
  const prev =
    report.previous_score === undefined || report.previous_score === null
      ? ''
      : ` (previous run ${report.previous_score}${report.delta === null || report.delta === undefined ? '' : `, ${report.delta > 0 ? '+' : ''}${report.delta}`})`
  const coverage =
    report.coverage.database === 'not_reached' ? `<p>Database not checked: ${htmlText(report.coverage.reason ?? 'not reached')}</p>` : ''
  const t = report.target
  const acks = report.checks.filter((c) => activeAck(c)).length
  return [
    `<section id="summary" data-status="${htmlText(report.status)}">`,
    `<h1>gbrain doctor ${badge(report.status)}</h1>`,
    `<p>Health score <strong data-score="${report.health_score ?? ''}">${score}</strong>${htmlText(prev)} &middot; ${htmlText(countsText(report.summary))}${acks > 0 ? ` (${acks} acknowledged)` : ''}</p>`,
    coverage,
    `<p class="muted">${htmlText(t.engine)} ${htmlText(displayDatabase(t.database))} (from ${htmlText(t.sources.database)}) &middot; audit ${htmlText(t.audit_dir)} &middot; ${htmlText(report.generated_at)} &middot; ${htmlText(formatDuration(report.duration_ms))} &middot; ${htmlText(report.tool.name)} ${htmlText(report.tool.version)}</p>`,
    '</section>',
  ].join('\n')
}

function checks(report: Report): string {
  const rows = rankedChecks(report).map(({check: c}) => {
    const fix = c.fix
      ? `<div>${htmlText(c.fix.text)}</div>${c.fix.commands.map((cmd) => `<pre><code>${htmlText(cmd)}</code></pre>`).join('')}`
      : ''
    // An acknowledged warn or fail reports ok: its badge says so (`ack`, `ack-fail`), as the table's `✓ ack` does.
    const ack = activeAck(c)
    const label = ack ? `<span class="badge b-ok">${ack.was === 'fail' ? 'ack-fail' : 'ack'}</span>` : badge(c.status)
    const acked = ack ? ` data-acknowledged="${htmlText(ack.was)}"` : ''
    return `<tr data-check="${htmlText(c.name)}" data-status="${htmlText(c.status)}"${acked}><td>${label}</td><td class="name"><code>${htmlText(c.name, 80)}</code></td><td>${htmlText(c.message)}</td><td>${fix}</td></tr>`
  })
  return `<section id="checks"><h2>Checks</h2><table><thead><tr><th>status</th><th>check</th><th>message</th><th>fix</th></tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table></section>`
}

function history(picture: Picture | undefined): string {
  if (picture === undefined || picture.trend.runs.length === 0) {
    const why = picture?.history_note ?? 'no doctor history yet: each gbrain doctor run adds a line (unless --no-history)'
    return `<section id="history"><h2>History</h2><p class="muted" data-empty="history">${htmlText(why)}</p></section>`
  }
  const t = picture.trend
  const skipped = t.skipped > 0 ? ` (${t.skipped} unreadable line${t.skipped === 1 ? '' : 's'} skipped)` : ''
  return [
    `<section id="history" data-runs="${t.runs.length}"><h2>Score over the last ${t.runs.length} run${t.runs.length === 1 ? '' : 's'}</h2>`,
    `<p class="muted">From the doctor's history, oldest left${htmlText(skipped)}.</p>`,
    scoreChart(t),
    '<h2>Status per check, per run</h2>',
    `<p class="muted"><span class="swatch s-ok" style="background:var(--ok)"></span>ok <span class="swatch" style="background:var(--warn)"></span>warn <span class="swatch" style="background:var(--fail)"></span>fail <span class="swatch" style="background:var(--unknown)"></span>unknown <span class="swatch" style="background:var(--skipped)"></span>skipped; an empty cell: the run did not run the check.</p>`,
    statusStrip(t),
    '</section>',
  ].join('\n')
}

function audit(picture: Picture | undefined): string {
  const a = picture?.audit
  if (a === undefined)
    return `<section id="audit"><h2>Audit trail</h2><p class="muted" data-empty="audit">${htmlText(picture?.audit_note ?? 'not read')}</p></section>`
  const legend = a.sites
    .map(
      (s, i) =>
        `<tr data-site="${htmlText(s.site)}"><td><span class="swatch c${i}"></span><code>${htmlText(s.site)}</code></td><td>${sum(s.retries)}</td><td>${sum(s.exhausted)}</td><td>${sum(s.recovered)}</td></tr>`,
    )
    .join('\n')
  const notes = [
    a.skipped_rows > 0 ? `${a.skipped_rows} unreadable row${a.skipped_rows === 1 ? '' : 's'} skipped` : '',
    a.unreadable_files > 0 ? `${a.unreadable_files} audit file${a.unreadable_files === 1 ? '' : 's'} could not be read` : '',
  ].filter((s) => s !== '')
  const sites =
    a.sites.length === 0
      ? '<p class="muted" data-empty="sites">No batch retries in the window.</p>'
      : `<table><thead><tr><th>site</th><th>retries scheduled</th><th>exhausted</th><th>recovered</th></tr></thead><tbody>\n${legend}\n</tbody></table>`
  return [
    `<section id="audit" data-hours="${a.starts.length}"><h2>Audit trail per hour, ${htmlText(a.window.from)} to ${htmlText(a.window.to)}</h2>`,
    `<p class="muted">Batch retries by call site, reconnects and disconnects, one bar an hour (UTC), oldest left${notes.length > 0 ? `; ${htmlText(notes.join(', '))}` : ''}.</p>`,
    auditBars(a),
    sites,
    `<p class="muted">Reconnects: ${sum(a.reconnects)} (${sum(a.reconnects_failed)} failed) &middot; disconnects other than at exit: ${sum(a.disconnects)}</p>`,
    '</section>',
  ].join('\n')
}

const sum = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0)

/** The report as one HTML document (the picture data, when the command gathered it, adds the charts). */
export function renderHtml(report: Report, options: RenderOptions = {}): string {
  const title = `gbrain doctor: ${report.status}${report.health_score === null ? '' : ` (${report.health_score}/100)`}`
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light dark">',
    '<link rel="icon" href="data:,">',
    `<title>${htmlText(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    summary(report),
    checks(report),
    history(options.picture),
    audit(options.picture),
    '</body>',
    '</html>',
    '',
  ].join('\n')
}
