/**
 * `heals` on a history line (doctor --auto-heal): written only when there are some, read back
 * strictly (hostile or oversized → dropped, the rest of the line kept), kept by compaction, and
 * the last applied heal per action found in a bounded tail.
 */
import {appendFileSync, mkdtempSync, rmSync, statSync, truncateSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {keepNewest} from '../../../src/history/compact.js'
import {historyPath} from '../../../src/history/file.js'
import {HEAL_LOOKBACK_RUNS, lastApplied, readLastHeals} from '../../../src/history/heals.js'
import {MAX_HEALS, parseLine, serializeLine, type HistoryLine} from '../../../src/history/line.js'
import {recordRun} from '../../../src/history/record.js'

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, {recursive: true, force: true})
})
function home(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'gbrain-heals-'))
  dirs.push(d)
  return d
}

const T0 = Date.parse('2026-11-28T00:00:00Z')
const line = (ms: number, heals?: Record<string, string>): HistoryLine => ({
  ts: new Date(ms).toISOString(),
  score: 95,
  status: 'warnings',
  checks: {dead_letter: 'ok'},
  ...(heals ? {heals} : {}),
})
const base = '{"ts":"2026-11-28T00:00:00.000Z","score":95,"status":"warnings","checks":{"dead_letter":"ok"}'

describe('heals on a history line', () => {
  it('is written after checks only when there are heals, and read back as written', () => {
    expect(serializeLine(line(T0))).toBe(`${base}}\n`)
    expect(serializeLine(line(T0, {}))).toBe(`${base}}\n`)
    const text = serializeLine(line(T0, {replay: 'applied', 'prune-audit': 'failed'}))
    expect(text).toBe(`${base},"heals":{"replay":"applied","prune-audit":"failed"}}\n`)
    expect(parseLine(text.trimEnd())).toEqual(line(T0, {replay: 'applied', 'prune-audit': 'failed'}))
  })

  it.each([
    ['a string', '"replay"', undefined],
    ['an array', '["replay"]', undefined],
    ['null', 'null', undefined],
    ['an empty object', '{}', undefined],
    ['a non-string status', '{"replay":1}', undefined],
    ['control chars in a status', '{"replay":"applied\\u001b[31m"}', undefined],
    ['a shell-ish action name', '{"replay; rm -rf /":"applied"}', undefined],
    ['a newline in a name', '{"re\\nplay":"applied"}', undefined],
    ['an upper-case name', '{"REPLAY":"applied"}', undefined],
    ['one bad entry next to a good one', '{"replay":"applied","x$(id)":"applied"}', {replay: 'applied'}],
    [
      `more than ${MAX_HEALS} entries`,
      JSON.stringify(Object.fromEntries(Array.from({length: MAX_HEALS + 1}, (_, i) => [`a${'b'.repeat(i)}`, 'applied']))),
      undefined,
    ],
    ['a huge status', `{"replay":"${'a'.repeat(5000)}"}`, undefined],
  ])('drops %s, keeps the rest of the line', (_what, heals, kept) => {
    const parsed = parseLine(`${base},"heals":${heals}}`)
    expect(parsed).toEqual(line(T0, kept))
  })

  it('is kept by compaction (and a hostile one dropped, with its line kept)', () => {
    const text = [
      serializeLine(line(T0, {replay: 'applied'})),
      `${base.replace('00:00:00', '00:01:00')},"heals":{"x y":"applied"}}\n`,
      serializeLine(line(T0 + 120_000)),
    ].join('')
    expect(keepNewest(text, T0 + 180_000)).toEqual([line(T0, {replay: 'applied'}), line(T0 + 60_000), line(T0 + 120_000)])
  })

  it('recordRun writes the heals on this run’s line', async () => {
    const h = home()
    const report = {generated_at: new Date(T0).toISOString(), health_score: 95, status: 'warnings' as const, checks: []}
    await recordRun({home: h, report, nowMs: T0, heals: {replay: 'applied'}})
    await recordRun({home: h, report, nowMs: T0})
    expect((await readLastHeals(historyPath(h))).last).toEqual({replay: new Date(T0).toISOString()})
  })
})

describe('the last applied heal per action', () => {
  it('is the newest line that applied it; a failed or skipped heal does not count', () => {
    const lines = [
      line(T0, {replay: 'applied', 'prune-audit': 'applied'}),
      line(T0 + 1000, {replay: 'failed'}),
      line(T0 + 2000, {'prune-audit': 'applied'}),
      line(T0 + 3000, {replay: 'skipped', unlock: 'would_apply'}),
      line(T0 + 4000),
    ]
    expect(lastApplied(lines)).toEqual({replay: new Date(T0).toISOString(), 'prune-audit': new Date(T0 + 2000).toISOString()})
  })

  it(`reads only the last ${HEAL_LOOKBACK_RUNS} runs: a heal further back is forgotten, and the read does not grow with the file`, async () => {
    const h = home()
    const file = historyPath(h)
    // A 1 GiB sparse head (no newline: one hostile piece), then a heal, then HEAL_LOOKBACK_RUNS plain runs.
    appendFileSync(file, '')
    truncateSync(file, 2 ** 30)
    appendFileSync(file, `\n${serializeLine(line(T0, {replay: 'applied'}))}`)
    const plain = serializeLine(line(T0 + 1000))
    expect((await readLastHeals(file)).last).toEqual({replay: new Date(T0).toISOString()})
    appendFileSync(file, plain.repeat(HEAL_LOOKBACK_RUNS - 1))
    expect((await readLastHeals(file)).last).toEqual({replay: new Date(T0).toISOString()})
    appendFileSync(file, plain)
    expect((await readLastHeals(file)).last).toEqual({})
    expect(statSync(file).size).toBeGreaterThan(2 ** 30)
  })

  it('an unreadable history says why (then nothing counts as healed recently)', async () => {
    const h = home()
    const file = historyPath(h)
    appendFileSync(file, '')
    rmSync(file)
    const {mkdirSync} = await import('node:fs')
    mkdirSync(file)
    const r = await readLastHeals(file)
    expect(r.last).toEqual({})
    expect(r.reason).toMatch(/not a regular file|EISDIR/)
  })
})
