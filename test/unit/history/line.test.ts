/**
 * The history line's shape (exactly four keys) and its parser's distrust: a line read back is
 * hostile input, and anything that is not our shape is skipped rather than believed.
 */
import {describe, expect, it} from 'vitest'
import {historyLine, MAX_LINE_BYTES, parseLine, serializeLine} from '../../../src/history/line.js'
import {compareRuns} from '../../../src/history/compare.js'

const report = {
  generated_at: '2026-11-28T00:00:00.000Z',
  health_score: 75,
  status: 'warnings' as const,
  checks: [
    {name: 'connection', status: 'ok' as const},
    {name: 'dead_letter', status: 'warn' as const},
  ],
}

describe('history line', () => {
  it('is one JSON object with exactly ts, score, status and checks, and a newline', () => {
    const text = serializeLine(historyLine(report as never))
    expect(text).toBe(
      '{"ts":"2026-11-28T00:00:00.000Z","score":75,"status":"warnings","checks":{"connection":"ok","dead_letter":"warn"}}\n',
    )
    expect(parseLine(text.trimEnd())).toEqual(historyLine(report as never))
  })

  it.each([
    ['not JSON', 'hello'],
    ['truncated', '{"ts":"2026-11-28T00:00:00.000Z","score":75,"sta'],
    ['an array', '[1,2]'],
    ['a bad date', '{"ts":"yesterday","score":1,"status":"healthy","checks":{}}'],
    ['a date Date.parse takes but that is not ISO UTC', '{"ts":"Nov 28 2026 (\\u001b[2J)","score":1,"status":"healthy","checks":{}}'],
    ['a score out of range', '{"ts":"2026-11-28T00:00:00Z","score":101,"status":"healthy","checks":{}}'],
    ['a string score', '{"ts":"2026-11-28T00:00:00Z","score":"90","status":"healthy","checks":{}}'],
    ['control chars in status', '{"ts":"2026-11-28T00:00:00Z","score":90,"status":"ok\\u001b[31m","checks":{}}'],
    ['no checks', '{"ts":"2026-11-28T00:00:00Z","score":90,"status":"healthy"}'],
    ['too long', `{"ts":"2026-11-28T00:00:00Z","score":90,"status":"healthy","checks":{"a":"${'x'.repeat(MAX_LINE_BYTES)}"}}`],
  ])('skips %s', (_what, text) => {
    expect(parseLine(text)).toBeUndefined()
  })

  it('drops check entries that are not a plain name and status, keeps the rest', () => {
    const line = parseLine(
      '{"ts":"2026-11-28T00:00:00Z","score":null,"status":"unknown","checks":{"ok_one":"ok","Bad Name":"ok","x":"\\u0007"}}',
    )
    expect(line).toEqual({ts: '2026-11-28T00:00:00Z', score: null, status: 'unknown', checks: {ok_one: 'ok'}})
  })
})

describe('compareRuns', () => {
  const line = (score: number | null, checks: Record<string, string>) => ({ts: '2026-11-28T00:00:00Z', score, status: 'x', checks})

  it('has nothing to compare on a first run', () => {
    expect(compareRuns(line(100, {a: 'ok'}), undefined)).toEqual({previous_score: null, delta: null, changed: []})
  })

  it('gives the delta and the checks whose status changed, in this run’s order', () => {
    const c = compareRuns(line(60, {b: 'fail', a: 'ok', c: 'warn'}), line(100, {a: 'ok', b: 'ok', c: 'ok'}))
    expect(c).toEqual({
      previous_score: 100,
      delta: -40,
      changed: [
        {check: 'b', from: 'ok', to: 'fail'},
        {check: 'c', from: 'ok', to: 'warn'},
      ],
    })
  })

  it('has a null delta when either run was not scored, and ignores checks only one run ran', () => {
    expect(compareRuns(line(null, {a: 'unknown', only_now: 'ok'}), line(90, {a: 'ok', only_then: 'fail'}))).toEqual({
      previous_score: 90,
      delta: null,
      changed: [{check: 'a', from: 'ok', to: 'unknown'}],
    })
    expect(compareRuns(line(90, {}), line(null, {})).delta).toBeNull()
  })
})
