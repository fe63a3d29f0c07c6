/**
 * The trend's rules and drawing: deltas between consecutive runs, a check's strip over the shown
 * runs, the flapping rule (3 changes in the last 10 runs, runs without the check passed over), and
 * the exact text in UTF-8 and ASCII.
 */
import {describe, expect, it} from 'vitest'
import {buildTrend, countChanges} from '../../../src/history/trend.js'
import {renderTrend, sparkline, statusStrip} from '../../../src/render/trend.js'
import type {HistoryLine} from '../../../src/history/line.js'

const run = (i: number, score: number | null, checks: Record<string, string>): HistoryLine => ({
  ts: `2026-11-28T0${i}:00:00.000Z`,
  score,
  status: 'x',
  checks,
})

describe('flapping', () => {
  it('counts status changes, passing over runs without the check', () => {
    expect(countChanges(['ok', 'ok', 'fail', null, 'fail', 'ok'])).toBe(2)
    expect(countChanges([null, 'ok', null])).toBe(0)
    expect(countChanges(['ok', 'warn', 'ok', 'warn'])).toBe(3)
  })

  it('flags a check that changed 3 times in the last 10 runs, even when fewer runs are shown', () => {
    const lines = ['ok', 'fail', 'ok', 'fail', 'fail', 'fail'].map((s, i) => run(i, 100, {dead_letter: s, disk_space: 'ok'}))
    const t = buildTrend(lines, 2)
    expect(t.checks).toEqual([
      {name: 'dead_letter', statuses: ['fail', 'fail'], changes: 3, flapping: true},
      {name: 'disk_space', statuses: ['ok', 'ok'], changes: 0, flapping: false},
    ])
    const two = buildTrend(lines.slice(1), 10)
    expect(two.checks[0]).toMatchObject({changes: 2, flapping: false})
  })

  it('does not count changes older than the last 10 runs', () => {
    const statuses = ['ok', 'fail', 'ok', 'fail', ...Array(10).fill('ok')]
    expect(
      buildTrend(
        statuses.map((s, i) => run(i % 10, 100, {a: s})),
        10,
      ).checks[0],
    ).toMatchObject({changes: 0, flapping: false})
  })
})

describe('buildTrend', () => {
  it('gives each shown run its delta against the run before it in the history', () => {
    const lines = [run(0, 100, {}), run(1, 80, {}), run(2, null, {}), run(3, 95, {})]
    expect(buildTrend(lines, 3).runs.map((r) => [r.score, r.delta])).toEqual([
      [80, -20],
      [null, null],
      [95, null],
    ])
  })

  it('says what changed in the newest run', () => {
    const t = buildTrend([run(0, 100, {a: 'ok', b: 'ok'}), run(1, 80, {a: 'fail', b: 'ok'})], 10)
    expect(t.changed).toEqual([{check: 'a', from: 'ok', to: 'fail'}])
  })
})

describe('rendering', () => {
  it('draws scores as bars, an unscored run as ?', () => {
    expect(sparkline([0, 12, 13, 50, 87, 88, 100, null], true)).toBe('▁▂▂▅▇▇█?')
    expect(sparkline([0, 50, 100, null], false)).toBe('_-#?')
    // Scaled to the window over at least 10 points: one warning is half a bar, a flat run stays flat.
    expect(sparkline([100, 95, 100, 95], true)).toBe('█▅█▅')
    expect(sparkline([80, 80, 80], true)).toBe('███')
    expect(sparkline([100, 99, 100], true)).toBe('█▇█')
    expect(sparkline([null, null], true)).toBe('??')
  })

  it('draws one glyph per run, a space where the check did not run', () => {
    expect(statusStrip(['ok', 'warn', 'fail', 'unknown', 'skipped', null], true)).toBe('✓!✗?– ')
    expect(statusStrip(['ok', 'warn', 'fail', 'unknown', 'skipped', null], false)).toBe('o!x?- ')
  })

  const lines = [
    run(0, 100, {dead_letter: 'ok', disk_space: 'ok'}),
    run(1, 80, {dead_letter: 'fail', disk_space: 'ok'}),
    run(2, 100, {dead_letter: 'ok', disk_space: 'ok'}),
    run(3, 75, {dead_letter: 'fail', disk_space: 'warn'}),
  ]

  it('renders the whole view exactly (UTF-8)', () => {
    expect(renderTrend(buildTrend(lines, 10, 1), {unicode: true})).toBe(
      [
        'Last 4 doctor runs, 2026-11-28T00:00:00.000Z → 2026-11-28T03:00:00.000Z',
        '',
        'score  █▂█▁  100, 80 (-20), 100 (+20), 75 (-25)',
        '',
        'dead_letter  ✓✗✓✗  flapping: 3 changes in the last 10 runs',
        'disk_space   ✓✓✓!',
        '',
        'Changed since the run before: dead_letter ok → fail, disk_space ok → warn',
        '(1 unreadable history line skipped)',
        '',
      ].join('\n'),
    )
  })

  it('renders ASCII when the locale is not UTF-8, and one line when there is no history', () => {
    const text = renderTrend(buildTrend(lines.slice(2), 10), {unicode: false})
    expect(text).toContain('score  #_  100, 75 (-25)')
    expect(text).toContain('dead_letter  ox\n')
    expect(text).toContain('dead_letter ok -> fail')
    expect(renderTrend(buildTrend([], 10), {unicode: true})).toBe(
      'No doctor history yet: each gbrain doctor run adds a line (unless --no-history).\n',
    )
  })
})
