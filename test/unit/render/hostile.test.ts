/**
 * Issue 10, classes 1 and 6: data from the database or a file is printed safely and cheaply.
 * - No output a CI runner reads (every format, stdout or stderr) holds a workflow command made
 *   of data: no line that starts with `::` after white space, no `##[` anywhere — whether the
 *   data carried a newline or the table's wrapping put `::` at a line start. The `github`
 *   format's own annotations are the only `::` lines, one per non-ok check.
 * - No raw ESC, BEL or other control character but the renderer's own colour.
 * - The table's cost is bounded: a 200,000-character value renders a bounded table with every
 *   line the same width (cli-table3 took minutes on 10,000 characters; its time is in the bench).
 */
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import type {CheckResult, Report} from '../../../src/checks/types.js'
import {FORMATS, renderFormat} from '../../../src/render/formats.js'
import {renderGithub} from '../../../src/render/github.js'
import {renderTable} from '../../../src/render/table.js'
import {capText, SHOWN_CHARS, workflowSafe} from '../../../src/render/text.js'
import {displayWidth} from '../../../src/render/wrap.js'
import {buildReport, unhealthyReport} from './fixtures.js'

/** A report with `text` in every field that comes from data (a source id in a message, a fix, a command). */
function hostileReport(text: string): Report {
  const checks = unhealthyReport().checks.map((c): CheckResult => ({
    ...c,
    message: `${c.message} ${text}`,
    details: {...(c.details ?? {}), source: text},
    fix: {text: `fix ${text}`, commands: [`gbrain cycle --source ${text}`]},
    debug_stack: `Error: ${text}\n    at x (${text})`,
  }))
  return buildReport(checks, {
    target: {
      engine: 'pglite',
      database: `/data/${text}`,
      audit_dir: `/audit/${text}`,
      sources: {database: 'default', audit_dir: 'default', home: 'default'},
    },
  })
}

const TABLE_MODES = [
  {},
  {verbose: true, debug: true},
  {unicode: false, color: true, verbose: true},
  {width: 30, verbose: true},
  {width: 1000},
] as const

async function everyOutput(report: Report): Promise<[string, string][]> {
  const out: [string, string][] = []
  for (const f of FORMATS) {
    if (f === 'table') for (const m of TABLE_MODES) out.push([`table ${JSON.stringify(m)}`, await renderFormat('table', report, m)])
    else out.push([f, await renderFormat(f, report)])
  }
  return out
}

/** Lines a GitHub runner would execute: `::` after leading white space (CR, LF, CRLF split lines), or `##[` anywhere. */
function workflowLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/).filter((l) => /^\s*::/.test(l) || l.includes('##['))
}

const INJECTIONS = [
  'x\n::stop-commands::tok',
  'x\r::error file=x::boom',
  'x\n   ::add-mask::y',
  'x ##[error]old syntax',
  `${'w '.repeat(20)}::error file=a::b`, // wrapping can put it at a line start
  '::set-output name=x::y',
  '\u001b]0;title\u0007\u001b[2J\u0007bell',
]

describe('no workflow command and no terminal control from data, in any format', () => {
  it.each(INJECTIONS)('%j', async (text) => {
    for (const [name, out] of await everyOutput(hostileReport(text))) {
      const lines = workflowLines(out)
      if (name === 'github') {
        // Only the renderer's own annotations: one per non-ok check, data escaped inside.
        expect(
          lines.every((l) => /^::(error|warning) title=gbrain doctor%3A /.test(l)),
          name,
        ).toBe(true)
        expect(lines.some((l) => l.includes('##['))).toBe(false)
      } else {
        expect(lines, name).toEqual([])
      }
      expect(/[\u0000-\u0008\u000b-\u001a\u001c-\u001f\u007f]/.test(out), `${name} has a control character`).toBe(false)
      // ESC only as the renderer's own SGR colour.
      expect(out.replace(/\u001b\[[0-9;]*m/g, '').includes('\u001b'), `${name} has a raw ESC`).toBe(false)
    }
  })

  it('for any text, wherever it lands', async () => {
    const piece = fc.oneof(
      fc.constantFrom('::', '##[', '\n', '\r', ' ', '\t', 'error', '\u001b', '\u0007', '\u2028'),
      fc.string({maxLength: 6}),
    )
    const text = fc.array(piece, {maxLength: 14}).map((a) => a.join(''))
    await fc.assert(
      fc.asyncProperty(text, async (t) => {
        for (const [name, out] of await everyOutput(hostileReport(t))) {
          if (name !== 'github') expect(workflowLines(out), name).toEqual([])
          expect(out.replace(/\u001b\[[0-9;]*m/g, '').includes('\u001b'), name).toBe(false)
        }
      }),
      {numRuns: 60},
    )
  })

  it('keeps JSON and XML lossless: the neutralised text parses back to the data', () => {
    const data = {source: 'a ##[error]b'}
    const json = workflowSafe(JSON.stringify(data), 'json')
    expect(json.includes('##[')).toBe(false)
    expect(JSON.parse(json)).toEqual(data)
    expect(workflowSafe('<m>a\n::error::x ##[y</m>', 'xml')).toBe('<m>a\n&#58;:error::x #&#35;[y</m>')
  })

  it('the github annotations escape a newline in data (the data cannot start a line)', () => {
    const out = renderGithub(hostileReport('x\n::stop-commands::tok'))
    expect(out).toContain('x%0A: :stop-commands::tok')
  })
})

describe('the table is bounded whatever the data holds (class 1)', () => {
  it('a 200,000-character value: bounded output, every grid line the same width, the cut said', () => {
    const long = 'x'.repeat(200_000)
    const words = Array.from({length: 20_000}, (_, i) => `w${i}`).join(' ')
    for (const text of [long, words, '数'.repeat(100_000)]) {
      const out = renderTable(hostileReport(text), {verbose: true, width: 100})
      expect(out.length).toBeLessThan(60 * SHOWN_CHARS)
      expect(out).toContain('more characters; --format json shows all)')
      const grid = out.split('\n').filter((l) => /^[│┌├└]/.test(l))
      expect(grid.length).toBeGreaterThan(5)
      expect(new Set(grid.map(displayWidth))).toEqual(new Set([100]))
    }
  })

  it('capText keeps short text, cuts long text on a code point and says how much is left out', () => {
    expect(capText('abc', 5)).toBe('abc')
    expect(capText('abcdef', 3)).toBe('abc… (3 more characters; --format json shows all)')
    expect(capText('ab😀', 3, false)).toBe('ab... (2 more characters; --format json shows all)')
  })

  it('a command too long or not printable as typed is described, never cut or mangled', () => {
    const out = renderTable(hostileReport('y'.repeat(5000)))
    expect(out).toMatch(/\(a command of 5022 characters that this terminal cannot show as typed: --format json has it exactly\)/)
    expect(out).not.toMatch(/\$ gbrain cycle --source y+…/)
  })
})
