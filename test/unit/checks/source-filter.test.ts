/** `doctor --source ID`: an id that names no source fails (a typo must not read as healthy); an untracked one warns. */
import {describe, expect, it} from 'vitest'
import {validateThresholds} from '../../../src/checks/thresholds.js'
import type {SourceRow} from '../../../src/brain/sources.js'
import {judgeCycleFreshness} from '../../../src/checks/cycle-freshness.js'
import {judgeSyncFreshness} from '../../../src/checks/sync-freshness.js'

const T = validateThresholds({})
const NOW = Date.parse('2026-11-30T12:00:00Z')
const fresh = new Date(NOW - 3_600_000).toISOString()
const row = (id: string, over: Partial<SourceRow> = {}): SourceRow => ({
  id,
  name: id,
  local_path: `/v/${id}`,
  last_sync_at: fresh,
  config: {last_full_cycle_at: fresh},
  archived: false,
  created_at: null,
  ...over,
})
const SOURCES = [row('notes'), row('old', {archived: true}), row('remote', {local_path: null})]

describe('--source filter', () => {
  it.each([
    ['cycle', judgeCycleFreshness],
    ['sync', judgeSyncFreshness],
  ] as const)('%s: an unknown id fails with the way to list sources', (_n, judge) => {
    const r = judge(SOURCES, NOW, T, 'nosuch')
    expect(r.status).toBe('fail')
    expect(r.message).toBe('no source with id "nosuch" (--source): nothing was checked')
    expect(r.fix?.commands).toEqual(['gbrain sources list'])
  })
  it.each([
    ['cycle', judgeCycleFreshness],
    ['sync', judgeSyncFreshness],
  ] as const)('%s: an archived or path-less source warns that nothing is tracked', (_n, judge) => {
    expect(judge(SOURCES, NOW, T, 'old')).toMatchObject({status: 'warn', message: 'source "old" is archived: its freshness is not tracked'})
    expect(judge(SOURCES, NOW, T, 'remote')).toMatchObject({
      status: 'warn',
      message: 'source "remote" is without a local path: its freshness is not tracked',
    })
  })
  it('a known, tracked source is judged as usual', () => {
    expect(judgeCycleFreshness(SOURCES, NOW, T, 'notes').status).toBe('ok')
    expect(judgeSyncFreshness(SOURCES, NOW, T, 'notes').status).toBe('ok')
  })
})
