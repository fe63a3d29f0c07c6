/**
 * The HTML report (`--format html`): self-contained (no script, no fetch of anything), every data
 * string escaped, control characters out, huge values bounded, and the charts' elements there in
 * the numbers the data says (what the browser test counts again in Chromium).
 */
import {describe, expect, it} from 'vitest'
import type {CheckResult} from '../../../src/checks/types.js'
import {renderFormat} from '../../../src/render/formats.js'
import {renderHtml} from '../../../src/render/html.js'
import {escapeHtml, htmlText, MAX_HTML_TEXT} from '../../../src/render/html-text.js'
import {acknowledgedReport, buildReport, healthyReport, pictureFixture, unhealthyReport} from './fixtures.js'

const count = (html: string, re: RegExp): number => html.match(new RegExp(re.source, 'g'))?.length ?? 0
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/

describe('htmlText', () => {
  it('escapes the five characters, drops control characters and escape sequences, and caps the length', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;')
    expect(htmlText('a\u0000b\u001b[31mc\u0007')).toBe('a\uFFFDbc\uFFFD')
    expect(htmlText('x'.repeat(10 * MAX_HTML_TEXT)).length).toBeLessThanOrEqual(MAX_HTML_TEXT)
    expect(htmlText('password=hunter2')).not.toContain('hunter2')
  })
})

describe('renderHtml', () => {
  it('is one self-contained document: a CSP that allows no fetch, no script, no external reference', () => {
    const html = renderHtml(unhealthyReport(), {picture: pictureFixture()})
    expect(html.startsWith('<!doctype html>\n')).toBe(true)
    expect(html.endsWith('</html>\n')).toBe(true)
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`)
    expect(html).not.toMatch(/<script/i)
    // The only URL-bearing attributes: the empty data: icon and the SVG namespace (not fetched).
    expect(html.match(/\b(?:src|href)="[^"]*"/g)).toEqual(['href="data:,"'])
    expect(html.match(/https?:\/\/[^"\s<]+/g)?.every((u) => u === 'http://www.w3.org/2000/svg')).toBe(true)
    expect(html).toContain('@media (prefers-color-scheme:dark)')
    expect(html).toContain('@media print')
  })

  it('draws one point per run, checks × runs status cells, and the hourly bars with their counts', () => {
    const picture = pictureFixture()
    const html = renderHtml(unhealthyReport(), {picture})
    expect(count(html, /<circle [^>]*data-run="/)).toBe(5)
    expect(count(html, /<circle class="point unscored"/)).toBe(1)
    expect(count(html, /<rect class="cell [^>]*data-cell="/)).toBe(4 * 5)
    expect(count(html, /data-cell="1" data-check="pool_health" data-status="none"/)).toBe(1)
    const bar = (attrs: string): string | undefined =>
      new RegExp(`<rect class="bar[^>]*data-hour="23" ${attrs} data-count="(\\d+)"`).exec(html)?.[1]
    expect(bar('data-series="retries" data-site="cycle.links"')).toBe('12')
    expect(bar('data-series="exhausted" data-site="cycle.links"')).toBe('9')
    expect(bar('data-series="reconnects" data-part="failed"')).toBe('2')
    // every bar's count sums to the rows counted
    const total = [...html.matchAll(/<rect class="bar[^>]*data-series="(retries|exhausted|recovered)"[^>]*data-count="(\d+)"/g)].reduce(
      (n, m) => n + Number(m[2]),
      0,
    )
    expect(total).toBe(12 + 9 + 2 * 2)
  })

  it('escapes hostile site names and history text; says so when there is no picture or no history', () => {
    const html = renderHtml(healthyReport(), {picture: pictureFixture()})
    expect(html).toContain('data-site="&lt;b&gt;&quot;site&quot; &amp; &#39;x&#39;&lt;/b&gt;\uFFFD"')
    expect(html).not.toContain('<b>')
    expect(renderHtml(healthyReport())).toContain('data-empty="history"')
    const none = pictureFixture()
    none.trend = {runs: [], checks: [], changed: [], skipped: 0}
    none.history_note = '--no-history: <none>'
    expect(renderHtml(healthyReport(), {picture: none})).toContain('--no-history: &lt;none&gt;')
    const late = {...pictureFixture(), audit: undefined, audit_note: 'not counted: it took longer than --deadline (30s) <x>'}
    const page = renderHtml(healthyReport(), {picture: late})
    expect(page).toContain('<p class="muted" data-empty="audit">not counted: it took longer than --deadline (30s) &lt;x&gt;</p>')
    expect(page).not.toContain('<rect class="bar')
    expect(page).toContain('data-runs="5"') // the history is still drawn
  })

  it('an acknowledged check reports ok with an ack badge, and the summary counts it', () => {
    const html = renderHtml(acknowledgedReport())
    expect(html.match(/<tr [^>]*data-acknowledged="warn"/g)).toHaveLength(1)
    expect(html).toMatch(
      /<tr data-check="cycle_freshness" data-status="ok" data-acknowledged="warn"><td><span class="badge b-ok">ack<\/span>/,
    )
    expect(html).toContain(' (1 acknowledged)</p>')
    expect(renderHtml(unhealthyReport())).not.toContain('acknowledged')
  })

  it('hostile report text: no markup, no control character, bounded size (200,000-character values)', async () => {
    const evil = `<script>alert(1)</script><img src=x onerror=alert(2)>"'&\u0000\u001b[31m\u202e::warning::x\n##[error]y`
    const huge = `${evil}${'A'.repeat(200_000)}`
    const checks = unhealthyReport().checks.map((c): CheckResult => ({
      ...c,
      name: `${c.name}${evil}`,
      message: huge,
      fix: {text: huge, commands: [huge, evil]},
    }))
    const report = buildReport(checks, {
      target: {
        engine: 'postgres',
        database: `postgres://u:pw@h/${evil}`,
        audit_dir: huge,
        sources: {database: evil, audit_dir: 'x', home: 'y'},
      },
    })
    const html = await renderFormat('html', report, {picture: pictureFixture([evil, huge])})
    expect(html).not.toMatch(/<script|<img|onerror=alert\(2\)>/i)
    expect(html).not.toMatch(CONTROL)
    expect(html).not.toContain('\u202e')
    expect(html).not.toMatch(/(^|\n)\s*::/) // workflow-safe: a CI log printing the file runs nothing
    expect(html).not.toContain('##[')
    expect(html.length).toBeLessThan(200_000)
  })
})
