/**
 * `gbrain sources list` for a person: ages instead of raw ISO times, gbrain's internal `default`
 * source left out, ASCII without a UTF-8 locale, and a grid that fits 40 to 200 columns.
 */
import {describe, expect, it} from 'vitest'
import {isHiddenSource, type SourceRow} from '../../../src/brain/sources.js'
import {cycleAge, sourcesGrid} from '../../../src/render/sources.js'
import {displayWidth} from '../../../src/render/wrap.js'

const NOW = Date.parse('2026-03-14T12:00:00.000Z')
const ago = (ms: number): string => new Date(NOW - ms).toISOString()
const H = 3_600_000

function source(id: string, extra: Partial<SourceRow> = {}): SourceRow {
  return {id, name: id, local_path: `/srv/vaults/${id}`, last_sync_at: null, config: {}, archived: false, created_at: null, ...extra}
}

const SOURCES: SourceRow[] = [
  source('notes', {name: 'Notes', config: {last_full_cycle_at: ago(3 * H + 5 * 60_000)}}),
  source('meeting-minutes', {
    name: 'Meeting minutes of the weekly engineering review',
    local_path: '/home/ops/documents/shared-drive/meeting-minutes/2026',
    config: {last_full_cycle_at: ago(50 * H)},
  }),
  source('fresh', {config: {last_full_cycle_at: ago(12 * 60_000)}}),
  source('new'),
  source('odd', {config: {last_full_cycle_at: 42}}),
]

describe('cycleAge', () => {
  it('shows ages, "never", and a stored value that is not a time as it is', () => {
    expect(SOURCES.map((s) => cycleAge(s, NOW))).toEqual(['3 h ago', '2 d ago', '12 min ago', 'never', '42'])
    expect(cycleAge(source('x', {config: {last_full_cycle_at: 'yesterday'}}), NOW)).toBe('yesterday')
    expect(cycleAge(source('x', {config: {last_full_cycle_at: ago(-5 * H)}}), NOW)).toBe('in 5 h')
    expect(cycleAge(source('x', {config: 'not an object'}), NOW)).toBe('never')
  })
})

describe('isHiddenSource', () => {
  it('hides gbrain’s internal default source, unless it was given a local path', () => {
    expect(isHiddenSource(source('default', {local_path: null, config: {federated: true}}))).toBe(true)
    expect(isHiddenSource(source('default', {local_path: ''}))).toBe(true)
    expect(isHiddenSource(source('default'))).toBe(false)
    expect(isHiddenSource(source('notes', {local_path: null}))).toBe(false)
  })
})

describe('sourcesGrid', () => {
  it.each([40, 60, 80, 200])('at %i columns every line fits and every value is there', (width) => {
    for (const unicode of [true, false]) {
      const out = sourcesGrid(SOURCES, {unicode, color: false, width, now: NOW})
      for (const line of out.split('\n')) expect(displayWidth(line), line).toBeLessThanOrEqual(width)
      // Read each column run together (a narrow column wraps a value over several lines).
      const joined = [1, 2, 3, 4]
        .map((i) =>
          out
            .split('\n')
            .map((l) => l.split(/[│|]/)[i] ?? '')
            .join(''),
        )
        .join('')
        .replace(/\s+/g, '')
      const grid = /^[┌+]/.test(out)
      for (const s of SOURCES) {
        if (!grid) {
          expect(out).toContain(`${s.id}\n  name: `)
          continue
        }
        expect(joined).toContain(s.id)
        expect(joined).toContain(s.name.replace(/\s+/g, ''))
        expect(joined).toContain((s.local_path ?? '').replace(/\s+/g, ''))
      }
      for (const age of ['3 h ago', '2 d ago', '12 min ago', 'never']) expect(out).toContain(age)
      // Ages, never the stored ISO time.
      expect(out).not.toMatch(/\d{4}-\d{2}-\d{2}T/)
      if (!unicode) expect(out).toMatch(/^[\x20-\x7e\n]*$/)
    }
  })

  it('is a grid down to where its columns can go, then one source under the other', () => {
    const grid = sourcesGrid(SOURCES, {unicode: true, color: false, width: 80, now: NOW})
    expect(grid.split('\n')[1]).toMatch(/^│ id +│ name +│ path +│ last full cycle │$/)
    expect(grid).toMatch(/│ notes +│ Notes +│ \/srv\/vaults\/notes +│ 3 h ago +│/)
    const stacked = sourcesGrid(SOURCES, {unicode: true, color: false, width: 40, now: NOW})
    expect(stacked).not.toMatch(/[┌│]/)
    expect(stacked).toContain('notes\n  name: Notes\n  path: /srv/vaults/notes\n  last full cycle: 3 h ago')
  })

  it('shows the archived column only when a listed source is archived', () => {
    expect(sourcesGrid(SOURCES, {unicode: true, color: false, width: 120, now: NOW})).not.toContain('archived')
    const withArchived = sourcesGrid([...SOURCES, source('old', {archived: true})], {unicode: true, color: false, width: 120, now: NOW})
    expect(withArchived.split('\n')[1]).toMatch(/│ archived │$/)
    expect(withArchived).toMatch(/│ old +│ old +│ \/srv\/vaults\/old +│ never +│ yes +│/)
  })

  it('prints hostile values as one safe line, and bolds the header only when colour is on', () => {
    const evil = source('ok\n::stop-commands::tok\u001b[2J', {name: 'x\u0007y'})
    const out = sourcesGrid([evil], {unicode: true, color: false, width: 80, now: NOW})
    expect(out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/)
    expect(out.split('\n').some((l) => /^\s*::/.test(l))).toBe(false)
    expect(sourcesGrid(SOURCES, {unicode: true, color: true, width: 80, now: NOW})).toContain('\u001b[1mid')
  })
})
