import {stripVTControlCharacters} from 'node:util'
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import type {CheckResult, Report} from '../../../src/checks/types.js'
import {decideColor, decideUnicode, renderDebugStacks, renderTable, summaryLine, type TableOptions} from '../../../src/render/index.js'
import {toAscii} from '../../../src/render/text.js'
import {displayWidth, wrap} from '../../../src/render/wrap.js'
import {FIXTURES, buildReport, unhealthyReport, unknownReport, warningsReport} from './fixtures.js'

const VARIANTS: Partial<TableOptions>[] = [
  {},
  {verbose: true},
  {debug: true},
  {verbose: true, debug: true},
  {width: 60},
  {width: 160, verbose: true},
]
const ALL = Object.entries(FIXTURES).flatMap(([name, build]) => VARIANTS.map((v) => [name, build, v] as const))

const ESC = '\u001b'

describe('decideColor', () => {
  it.each([
    [{flag: true, env: {NO_COLOR: '1'}, isTTY: false}, true, '--color wins over NO_COLOR and a pipe'],
    [{flag: false, env: {FORCE_COLOR: '1'}, isTTY: true}, false, '--no-color wins over FORCE_COLOR and a TTY'],
    [{flag: undefined, env: {NO_COLOR: '1', FORCE_COLOR: '1'}, isTTY: true}, false, 'NO_COLOR wins over FORCE_COLOR'],
    [{flag: undefined, env: {NO_COLOR: ''}, isTTY: true}, true, 'an empty NO_COLOR is ignored'],
    [{flag: undefined, env: {FORCE_COLOR: '1'}, isTTY: false}, true, 'FORCE_COLOR colours a pipe'],
    [{flag: undefined, env: {FORCE_COLOR: '0'}, isTTY: true}, false, 'FORCE_COLOR=0 turns colour off'],
    [{flag: undefined, env: {FORCE_COLOR: ''}, isTTY: false}, false, 'an empty FORCE_COLOR is ignored'],
    [{flag: undefined, env: {}, isTTY: true}, true, 'a TTY gets colour'],
    [{flag: undefined, env: {}, isTTY: false}, false, 'a pipe gets none'],
    [{flag: undefined, env: {TERM: 'dumb'}, isTTY: true}, false, 'a dumb terminal gets none'],
  ] as [Parameters<typeof decideColor>[0], boolean, string][])('%j → %s (%s)', (input, expected) => {
    expect(decideColor(input)).toBe(expected)
  })
})

describe('decideUnicode', () => {
  it.each([
    [{LANG: 'C.UTF-8'}, true],
    [{LANG: 'en_US.utf8'}, true],
    [{LANG: 'de_DE.UTF8'}, true],
    [{LANG: 'C'}, false],
    [{LANG: 'POSIX'}, false],
    [{LANG: 'en_US.ISO-8859-1'}, false],
    [{LC_ALL: 'C', LANG: 'en_US.UTF-8'}, false],
    [{LC_ALL: '', LC_CTYPE: 'en_US.UTF-8', LANG: 'C'}, true],
    [{LC_CTYPE: 'C', LANG: 'en_US.UTF-8'}, false],
    [{}, false],
    [{WT_SESSION: 'abc'}, true],
    [{WT_SESSION: 'abc', LANG: 'C'}, false],
  ])('%j → %s', (env, expected) => {
    expect(decideUnicode(env)).toBe(expected)
  })
})

describe('renderTable: colour is injected, never detected', () => {
  it.each(ALL)('%s %j: colour on and off differ only by ANSI codes', (_name, build, v) => {
    const report = build()
    const plain = renderTable(report, {...v, color: false})
    const colored = renderTable(report, {...v, color: true})
    expect(plain).not.toContain(ESC)
    expect(colored).toContain(ESC)
    expect(stripVTControlCharacters(colored)).toBe(plain)
  })

  it('uses only the 16-colour palette (level 1)', () => {
    const colored = renderTable(unhealthyReport(), {color: true, verbose: true})
    for (const m of colored.matchAll(/\u001b\[([\d;]*)m/g)) expect(Number(m[1])).toBeLessThan(100)
  })
})

describe('renderTable: ASCII mode', () => {
  const exotic = (): Report => {
    const r = warningsReport()
    r.checks[2] = {
      ...(r.checks[2] as CheckResult),
      status: 'fail',
      message: 'Quelle “source” — 数据库 ≥ 5 → ✓ 🚀 naïve… µs ×2',
      fix: {text: 'Réessayez → ok', commands: ['gbrain cycle --source café']},
    }
    return buildReport(r.checks)
  }

  it.each([...ALL, ['exotic', exotic, {verbose: true, debug: true}] as const])('%s %j contains ASCII only', (_name, build, v) => {
    const out = renderTable(build(), {...v, unicode: false, color: false})
    expect(out).toMatch(/^[\x20-\x7e\n]*$/)
  })

  it('keeps the meaning of folded characters', () => {
    const out = renderTable(exotic(), {unicode: false})
    expect(out).toContain('Quelle "source" - ??? >= 5 -> v ? naive... us x2')
    expect(out).toContain('X fail')
  })

  it('does not print a folded command that would run on the wrong argument (café is not cafe)', () => {
    const out = renderTable(exotic(), {unicode: false})
    expect(out).not.toContain('--source cafe')
    expect(out).toContain('(a command of 26 characters that this terminal cannot show as typed: --format json has it exactly)')
    expect(renderTable(exotic(), {unicode: true})).toContain('$ gbrain cycle --source café')
  })

  it('uses ASCII borders and glyphs', () => {
    const out = renderTable(unhealthyReport(), {unicode: false, verbose: true})
    expect(out).toContain('+-----------+')
    for (const label of ['X fail', '! warn', 'OK ok', '- skipped']) expect(out).toContain(`| ${label}`)
  })
})

describe('renderTable: what is shown', () => {
  it.each(Object.entries(FIXTURES))('%s: quiet prints exactly the summary line', (_name, build) => {
    const report = build()
    const expected = `${summaryLine(report, true)}\n`
    expect(renderTable(report, {quiet: true})).toBe(expected)
    expect(renderTable(report, {quiet: true, verbose: true, debug: true})).toBe(expected)
  })

  it.each(ALL)('%s %j: ends with the one summary line (wrapped at word boundaries when the width is narrower)', (_name, build, v) => {
    const report = build()
    const out = renderTable(report, v)
    const summary = wrap(summaryLine(report, true), v.width ?? 100)
    expect(`\n${out}`.endsWith(`\n${summary.join('\n')}\n`)).toBe(true)
    expect(out.split(summary.join('\n'))).toHaveLength(2)
  })

  it('without verbose lists only the checks that need attention', () => {
    const out = renderTable(unhealthyReport())
    for (const name of ['connection', 'batch_retry_health', 'pool_reap_health']) expect(out).toContain(`│ ${name}`)
    for (const name of ['engine_processes', 'dead_letter', 'cycle_freshness']) expect(out).not.toContain(name)
  })

  it('with verbose lists every check, with its time, failures first and skipped last', () => {
    const report = unhealthyReport()
    const out = renderTable(report, {verbose: true})
    const rows = out.split('\n').filter((l) => /^│ [✓!✗?-] /.test(l))
    expect(rows).toHaveLength(report.checks.length)
    expect(rows.map((l) => l.split('│')[1]?.trim())).toEqual([
      '✗ fail',
      '✗ fail',
      '! warn',
      '✓ ok',
      '✓ ok',
      '✓ ok',
      '✓ ok',
      '- skipped',
      '- skipped',
      '- skipped',
      '- skipped',
    ])
    expect(out).toContain('│ 27 ms │')
  })

  it('ranks unknown before warn, as the top issues do', () => {
    const out = renderTable(unknownReport())
    expect(out.indexOf('? unknown')).toBeLessThan(out.indexOf('! warn'))
  })

  it('a healthy report is just its summary line', () => {
    const report = FIXTURES.healthy()
    expect(renderTable(report)).toBe(`${summaryLine(report, true)}\n`)
  })

  it('debug shows the stack of crashed checks only when asked', () => {
    const report = unknownReport()
    expect(renderTable(report)).not.toContain('runner.js')
    const out = renderTable(report, {debug: true})
    expect(out).toContain('debug: stack of pool_reap_health\n  TypeError:')
    expect(out).toContain('      at runCheck (file:///opt/gbrain/dist/checks/runner.js:88:22)')
    expect(renderDebugStacks(report)).toBe(
      "debug: stack of pool_reap_health\n  TypeError: Cannot read properties of undefined (reading 'pid')\n      at judge (file:///opt/gbrain/dist/checks/pool-reap-health.js:42:17)\n      at runCheck (file:///opt/gbrain/dist/checks/runner.js:88:22)\n",
    )
    expect(renderDebugStacks(unhealthyReport())).toBe('')
  })
})

describe('renderTable: layout', () => {
  it('fits the terminal width (commands excepted: they stay paste-ready)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.values(FIXTURES)), fc.integer({min: 70, max: 220}), fc.boolean(), (build, width, verbose) => {
        const out = renderTable(build(), {width, verbose, unicode: true})
        for (const line of out.split('\n')) {
          if (line.trimStart().startsWith('$ ')) continue
          expect(displayWidth(line)).toBeLessThanOrEqual(width)
        }
      }),
      {numRuns: 150},
    )
  })

  it('wraps a long unbroken word instead of truncating it', () => {
    const long = `/very/${'deep/'.repeat(30)}audit-file.jsonl`
    const r = warningsReport()
    r.checks[0] = {...(r.checks[0] as CheckResult), status: 'fail', message: `cannot read ${long}`}
    const out = renderTable(buildReport(r.checks), {width: 80})
    expect(out).not.toContain('…')
    const tableText = out
      .split('\n')
      .filter((l) => /^│ (✗ fail| {6}) │ /.test(l))
      .map((l) => l.split('│')[3]?.trim() ?? '')
      .join('')
    expect(tableText).toContain(long)
  })

  it('removes terminal escape sequences and control characters planted in check data', () => {
    const r = warningsReport()
    r.checks[0] = {
      ...(r.checks[0] as CheckResult),
      status: 'fail',
      message: 'evil \u001b[2J\u001b[31mred\u001b[0m \u001b]0;pwned\u0007 bell\u0007 nul\u0000 \u202eevil',
      fix: {text: 'x\u001b[1A', commands: ['echo \u001b[2K hi']},
    }
    const out = renderTable(buildReport(r.checks), {color: false, verbose: true})
    expect(out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/)
    expect(out).toContain('evil red bell\uFFFD nul\uFFFD \uFFFDevil')
  })

  it('uses the default width of 100', () => {
    const out = renderTable(unhealthyReport())
    expect(Math.max(...out.split('\n').map(displayWidth))).toBe(100)
  })
})

describe('text helpers', () => {
  it('wrap: greedy, splits only words longer than the width, keeps every character', () => {
    expect(wrap('aaa bbb ccc', 7)).toEqual(['aaa bbb', 'ccc'])
    expect(wrap('abcdefghij', 4)).toEqual(['abcd', 'efgh', 'ij'])
    expect(wrap('one\ntwo three', 20)).toEqual(['one', 'two three'])
    fc.assert(
      fc.property(fc.string({maxLength: 200}), fc.integer({min: 1, max: 50}), (text, width) => {
        const lines = wrap(text, width)
        for (const l of lines) expect(displayWidth(l)).toBeLessThanOrEqual(Math.max(width, 2))
        expect(lines.join('').replace(/\s/g, '')).toBe(text.replace(/\s/g, ''))
      }),
    )
  })

  it('displayWidth counts wide and zero-width characters', () => {
    expect(displayWidth('abc')).toBe(3)
    expect(displayWidth('数据')).toBe(4)
    expect(displayWidth('e\u0301')).toBe(1)
  })

  it('toAscii always yields printable ASCII', () => {
    fc.assert(
      fc.property(fc.string({unit: 'binary'}), (s) => {
        expect(toAscii(s.replace(/[\u0000-\u001f\u007f]/g, ''))).toMatch(/^[\x20-\x7e]*$/)
      }),
    )
  })
})
