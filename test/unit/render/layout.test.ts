/**
 * Issue 12, item 6: human output readable at 60, 80 and 200 columns (and down to the 40-column
 * floor). Every line fits its width (paste-ready commands excepted), text wraps at word
 * boundaries and keeps a number with its unit and an ISO timestamp whole, nothing is lost, and
 * each problem is said once: the message in the table, the fix under "Top issues".
 */
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import type {CheckResult, Report} from '../../../src/checks/types.js'
import {fitColumns, gridWidth} from '../../../src/render/grid.js'
import {renderTable} from '../../../src/render/table.js'
import {decideWidth} from '../../../src/render/terminal.js'
import {formatAgo} from '../../../src/render/text.js'
import {displayWidth, wrap} from '../../../src/render/wrap.js'
import {FIXTURES, buildReport, unhealthyReport, warningsReport} from './fixtures.js'

const WIDTHS = [40, 60, 80, 200] as const
const STAMP = '2025-01-14T09:14:02.000Z'

/** Lines that must fit: all but paste-ready commands (`$ …`), which are printed as they must be copied. */
const fitting = (out: string): string[] => out.split('\n').filter((l) => !l.trimStart().startsWith('$ '))

/** A report with long messages: a fail with an ISO timestamp and `7.5 h`, a warn naming long paths, a check with a long name. */
function longReport(): Report {
  const r = warningsReport()
  const checks = r.checks.map((c): CheckResult => {
    if (c.name === 'pool_reap_health')
      return {
        ...c,
        status: 'fail',
        message: `Reconnect of pid 4242 failed at ${STAMP} and nothing recovered it since; the pool was reaped 12 times in 7.5 h (> 6 h of thrash), which usually means a pooler in transaction mode is closing idle sessions under the engine.`,
        fix: {text: 'Reconnect the live processes, then look at the pooler’s idle timeout.', commands: ['gbrain repair --reconnect']},
      }
    if (c.name === 'idle_transactions')
      return {...c, name: 'idle_transactions_of_every_application_server', status: 'warn', message: 'pid 77 (worker, 12 min)'}
    return c
  })
  return buildReport(checks)
}

const REPORTS: Record<string, () => Report> = {...FIXTURES, long: longReport}

describe('decideWidth', () => {
  it.each([
    [{isTTY: true, columns: 132, env: {COLUMNS: '60'}}, 132, 'a terminal’s own width wins over COLUMNS'],
    [{isTTY: false, columns: undefined, env: {COLUMNS: '60'}}, 60, 'a pipe takes COLUMNS'],
    [{isTTY: false, columns: 132, env: {COLUMNS: ' 72 '}}, 72, 'not a TTY: its columns are not the reader’s, COLUMNS (trimmed) is'],
    [{isTTY: true, columns: undefined, env: {COLUMNS: '90'}}, 90, 'a TTY that reports no width falls back to COLUMNS'],
    [{isTTY: false, columns: undefined, env: {}}, 100, 'nothing says: 100'],
    [{isTTY: false, columns: undefined, env: {COLUMNS: 'wide'}}, 100, 'a malformed COLUMNS is ignored'],
    [{isTTY: false, columns: undefined, env: {COLUMNS: '0'}}, 100, 'zero is ignored'],
    [{isTTY: false, columns: undefined, env: {COLUMNS: '-80'}}, 100, 'a sign is ignored'],
    [{isTTY: false, columns: undefined, env: {COLUMNS: '12'}}, 40, 'clamped to 40'],
    [{isTTY: true, columns: 20, env: {}}, 40, 'a tiny terminal is clamped to 40 too'],
    [{isTTY: false, columns: undefined, env: {COLUMNS: '999999'}}, 1000, 'and to 1000 at most'],
  ] as [Parameters<typeof decideWidth>[0], number, string][])('%j → %i (%s)', (input, expected) => {
    expect(decideWidth(input)).toBe(expected)
  })
})

describe('wrap: word boundaries', () => {
  it('keeps a number with its unit, a comparison with its number and a date with its time, when they fit', () => {
    const text = 'cycled 7.5 h ago (> 6 h); reaped 12 times, 412 ms, 95 % in use since 2025-01-14 09:14:02 today'
    for (let w = 12; w <= 60; w++) {
      const lines = wrap(text, w)
      for (const whole of ['7.5 h', '(> 6 h);', '412 ms,', '95 %', '2025-01-14 09:14:02'].filter((x) => x.length <= w)) {
        expect(
          lines.some((l) => l.includes(whole)),
          `${whole} at ${w}: ${JSON.stringify(lines)}`,
        ).toBe(true)
      }
      expect(lines.join(' ')).toBe(text)
    }
  })

  it('never splits an ISO timestamp when the width holds it, inside a longer word too', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('held', 'by', 'pid', '4242', 'since', 'a', 'heartbeat', 'acquired_at=', '(', 'x'), {maxLength: 12}),
        fc.integer({min: 24, max: 90}),
        fc.boolean(),
        (words, width, glue) => {
          const text = [...words, glue ? `acquired_at=${STAMP},` : STAMP, 'ok'].join(' ')
          const lines = wrap(text, width)
          for (const l of lines) expect(displayWidth(l)).toBeLessThanOrEqual(width)
          expect(
            lines.some((l) => l.includes(STAMP)),
            JSON.stringify(lines),
          ).toBe(true)
        },
      ),
    )
  })

  it('splits a word longer than the line after a path separator, else after other punctuation', () => {
    expect(wrap('/home/ops/.gbrain/audit/batch-retry-2025-W02.jsonl', 32)).toEqual([
      '/home/ops/.gbrain/audit/',
      'batch-retry-2025-W02.jsonl',
    ])
    expect(wrap('idle_transactions', 12)).toEqual(['idle_', 'transactions'])
    expect(wrap('sync_freshness', 12)).toEqual(['sync_', 'freshness'])
    // No separator to break at: cut at the width, nothing lost.
    expect(wrap('abcdefghij', 4)).toEqual(['abcd', 'efgh', 'ij'])
  })
})

describe('formatAgo', () => {
  it.each([
    [30_000, '<1 min ago'],
    [59 * 60_000, '59 min ago'],
    [3 * 3_600_000 + 59 * 60_000, '3 h ago'],
    [47 * 3_600_000, '47 h ago'],
    [2 * 86_400_000 + 5, '2 d ago'],
    [400 * 86_400_000, '400 d ago'],
    [-30_000, '<1 min ago'],
    [-3 * 3_600_000, 'in 3 h'],
    [Number.NaN, '?'],
  ])('%d ms → %s', (ms, expected) => {
    expect(formatAgo(ms)).toBe(expected)
  })
})

describe('fitColumns', () => {
  it('keeps natural widths that fit, and narrows in the order given, never below a floor', () => {
    expect(fitColumns([10, 20, 30], [{column: 2, floor: 10}], 100)).toEqual([10, 20, 30])
    // 10 + 20 + 30 + 4 borders = 64; at 50 the third column gives 14.
    expect(
      fitColumns(
        [10, 20, 30],
        [
          {column: 2, floor: 10},
          {column: 1, floor: 5},
        ],
        50,
      ),
    ).toEqual([10, 20, 16])
    // It reaches its floor, then the second column gives the rest.
    expect(
      fitColumns(
        [10, 20, 30],
        [
          {column: 2, floor: 20},
          {column: 1, floor: 5},
        ],
        40,
      ),
    ).toEqual([10, 6, 20])
    expect(
      fitColumns(
        [10, 20, 30],
        [
          {column: 2, floor: 20},
          {column: 1, floor: 15},
        ],
        40,
      ),
    ).toBeNull()
    fc.assert(
      fc.property(
        fc.array(fc.integer({min: 3, max: 80}), {minLength: 1, maxLength: 6}),
        fc.integer({min: 10, max: 300}),
        (natural, total) => {
          const steps = natural.map((_, column) => ({column, floor: 3}))
          const widths = fitColumns(natural, steps, total)
          if (widths === null) expect(gridWidth(natural.map(() => 3))).toBeGreaterThan(total)
          else expect(gridWidth(widths)).toBeLessThanOrEqual(Math.max(total, gridWidth(natural.map(() => 3))))
        },
      ),
    )
  })
})

describe('renderTable at 40, 60, 80 and 200 columns', () => {
  const cases = Object.entries(REPORTS).flatMap(([name, build]) =>
    WIDTHS.flatMap((width) => [false, true].map((verbose) => [name, build, width, verbose] as const)),
  )

  it.each(cases)('%s at %i columns (verbose %s): every line fits', (_name, build, width, verbose) => {
    for (const unicode of [true, false]) {
      for (const line of fitting(renderTable(build(), {width, verbose, unicode})))
        expect(displayWidth(line), line).toBeLessThanOrEqual(width)
    }
  })

  it.each(cases)('%s at %i columns (verbose %s): every word of every shown message is there', (_name, build, width, verbose) => {
    const report = build()
    const out = renderTable(report, {width, verbose})
    const shown = report.checks.filter((c) => verbose || (c.status !== 'ok' && c.status !== 'skipped') || c.fix !== undefined)
    // A word wider than the narrowest message column (24) may be split; every other word is whole.
    for (const c of shown)
      for (const word of c.message.split(/\s+/).filter((w) => w.length <= 24)) expect(out, `${c.name}: ${word}`).toContain(word)
  })

  it.each(WIDTHS)('at %i columns a long message wraps at spaces, keeps its ISO timestamp and "7.5 h" whole', (width) => {
    for (const verbose of [false, true]) {
      const lines = renderTable(longReport(), {width, verbose}).split('\n')
      expect(lines.some((l) => l.includes(STAMP))).toBe(true)
      expect(lines.some((l) => l.includes('7.5 h'))).toBe(true)
      expect(lines.some((l) => l.includes('(> 6 h'))).toBe(true)
      // Wrapped, not cut: no ellipsis, and at 200 columns the message is on fewer lines than at 60.
      expect(lines.join('\n')).not.toContain('…')
    }
    const height = (w: number): number => renderTable(longReport(), {width: w}).split('\n').length
    expect(height(200)).toBeLessThan(height(60))
  })

  it('a grid down to the width where the message keeps 24 columns, then one check under the other', () => {
    const grid = renderTable(unhealthyReport(), {width: 60, verbose: true})
    expect(grid).toMatch(/^┌/m)
    // -v at 60: the time moves under the status instead of taking its own column.
    expect(grid).not.toContain('│  time │')
    expect(grid).toMatch(/│ ✗ fail +│ connection +│/)
    expect(grid).toMatch(/│ 27 ms +│/)
    expect(renderTable(unhealthyReport(), {width: 80, verbose: true})).toContain('│  time │')
    const stacked = renderTable(unhealthyReport(), {width: 40, verbose: true})
    expect(stacked).not.toMatch(/[┌│]/)
    expect(stacked).toContain('✗ fail connection 27 ms\n  Connection refused by db.internal:5432')
  })

  it('check names wrap after an underscore in a narrow column', () => {
    const out = renderTable(unhealthyReport(), {width: 60, verbose: true})
    expect(out).toMatch(/│ batch_retry_ +│/)
    expect(out).toMatch(/│ [^│]+│ health +│/)
  })

  it('fits any width from 40 to 220 (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.values(REPORTS)),
        fc.integer({min: 40, max: 220}),
        fc.boolean(),
        fc.boolean(),
        (build, width, verbose, unicode) => {
          for (const line of fitting(renderTable(build(), {width, verbose, unicode}))) expect(displayWidth(line)).toBeLessThanOrEqual(width)
        },
      ),
      {numRuns: 200},
    )
  })
})

describe('each problem is said once', () => {
  /** The section of the output that starts with `title` (up to the next blank line). */
  const section = (out: string, title: string): string => {
    const start = out.indexOf(`\n${title}\n`)
    return start < 0 ? '' : (out.slice(start + 1).split('\n\n')[0] ?? '')
  }

  it.each(WIDTHS)('at %i columns: the message in the table, the fix and commands under Top issues', (width) => {
    for (const verbose of [false, true]) {
      const report = unhealthyReport()
      const out = renderTable(report, {width, verbose})
      const top = section(out, 'Top issues')
      expect(top).not.toBe('')
      for (const issue of report.top_issues) {
        expect(top).toContain(issue.check)
        // Words of the message: in the table, not repeated under Top issues.
        for (const word of ['refused', 'exhausted', 'reconnects']) if (issue.message.includes(word)) expect(top, word).not.toContain(word)
        if (issue.fix) {
          expect(top.replace(/\s+/g, ' ')).toContain(`fix: ${issue.fix.text}`)
          for (const cmd of issue.fix.commands) expect(top).toContain(`$ ${cmd}`)
        } else expect(top.replace(/\s+/g, ' ')).toContain(`${issue.check} — no fix suggested`)
      }
      // Words that occur once in the messages occur once in the whole output.
      for (const word of ['accepting', 'sustained', 'reconnects']) expect(out.split(word), word).toHaveLength(2)
      // No "fix: run: …": the command is on its own line.
      expect(out).not.toMatch(/fix: run:/)
    }
  })

  it('Not checked names the check and its fix; the table has the message', () => {
    const out = renderTable(FIXTURES.nobrain(), {width: 80})
    const notChecked = section(out, 'Not checked')
    expect(notChecked).toContain('- connection — fix: Create the embedded brain')
    expect(notChecked).toContain('$ gbrain init')
    expect(out.split('No brain yet at')).toHaveLength(2)
  })

  it('an issue whose check the table does not show keeps its message', () => {
    const r = unhealthyReport()
    const report: Report = {...r, top_issues: [...r.top_issues, {rank: 4, check: 'ghost_check', status: 'warn', message: 'seen only here'}]}
    const top = section(renderTable(report, {width: 100}), 'Top issues')
    expect(top).toContain('4. ! ghost_check: seen only here — no fix suggested')
  })
})
