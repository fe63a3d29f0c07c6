/**
 * `sync_freshness` (freshness), gbrain-compatible: the same shape over `sources.last_sync_at`;
 * warn > 24 h, fail > 72 h; never synced → fail; in the future → warn.
 */
import {flagArgs, shellCommand} from '../shared/shell-quote.js'
import type {SourceRow} from '../brain/sources.js'
import {defineCheck} from './check.js'
import {cycledSources, judgeFreshness, judgeSources, sourceFilterProblem, STALE_SOURCES} from './freshness.js'
import type {Thresholds} from './thresholds.js'
import type {CheckOutcome} from './types.js'
import {ladder} from './listing.js'

export function judgeSyncFreshness(sources: readonly SourceRow[], now: number, t: Thresholds, only?: string): CheckOutcome {
  const filtered = sourceFilterProblem(sources, only)
  if (filtered) return filtered
  const inputs = cycledSources(sources, only).map((s) => ({id: s.id, name: s.name, value: s.last_sync_at}))
  return judgeFreshness(inputs, now, {
    ...t.syncFreshness,
    never: 'fail',
    noun: 'sync',
    fix: (id) => shellCommand('gbrain', 'cycle', ...flagArgs('--source', id)),
  })
}

export const syncFreshnessCheck = defineCheck({
  name: 'sync_freshness',
  category: 'freshness',
  gatedOnConnection: true,
  downstreamOf: ['connection'],
  needs: ['sources'],
  judge: (f, ctx) => judgeSources(f.sources, (rows) => judgeSyncFreshness(rows, ctx.now, ctx.thresholds, ctx.source)),
  counts: STALE_SOURCES,
  explain: {
    looksAt:
      'When the same sources were last synced (sources.last_sync_at). A source never synced fails; a sync time in the future is a warning.',
    thresholds: () =>
      ladder('GBRAIN_SYNC_FRESHNESS_WARN_HOURS', 'GBRAIN_SYNC_FRESHNESS_FAIL_HOURS', {
        comparison: '>',
        unit: 'h',
        measure: 'since the last sync',
      }),
  },
})
