/**
 * `cycle_freshness` (freshness), gbrain-compatible: every non-archived source with a
 * `local_path`, by `sources.config->>'last_full_cycle_at'`; warn > 6 h, fail > 24 h.
 */
import {flagArgs, shellCommand} from '../shared/shell-quote.js'
import type {SourceRow} from '../brain/sources.js'
import {defineCheck} from './check.js'
import {cycledSources, judgeFreshness, judgeSources, lastFullCycleAt, sourceFilterProblem, STALE_SOURCES} from './freshness.js'
import type {Thresholds} from './thresholds.js'
import type {CheckOutcome} from './types.js'
import {ladder} from './listing.js'

export function judgeCycleFreshness(sources: readonly SourceRow[], now: number, t: Thresholds, only?: string): CheckOutcome {
  const filtered = sourceFilterProblem(sources, only)
  if (filtered) return filtered
  const inputs = cycledSources(sources, only).map((s) => {
    const v = lastFullCycleAt(s.config)
    return {id: s.id, name: s.name, value: typeof v === 'object' && v !== null ? JSON.stringify(v) : v}
  })
  return judgeFreshness(inputs, now, {
    ...t.cycleFreshness,
    never: 'warn',
    noun: 'cycle',
    fix: (id) => shellCommand('gbrain', 'cycle', ...flagArgs('--source', id)),
  })
}

export const cycleFreshnessCheck = defineCheck({
  name: 'cycle_freshness',
  category: 'freshness',
  gatedOnConnection: true,
  downstreamOf: ['connection'],
  needs: ['sources'],
  judge: (f, ctx) => judgeSources(f.sources, (rows) => judgeCycleFreshness(rows, ctx.now, ctx.thresholds, ctx.source)),
  counts: STALE_SOURCES,
  explain: {
    looksAt:
      'When each source with a local path (not archived; only the --source one when given) last finished a full cycle (sources.config last_full_cycle_at). A source never cycled is a warning.',
    thresholds: () =>
      ladder('GBRAIN_CYCLE_FRESHNESS_WARN_HOURS', 'GBRAIN_CYCLE_FRESHNESS_FAIL_HOURS', {
        comparison: '>',
        unit: 'h',
        measure: 'since the last full cycle',
      }),
  },
})
