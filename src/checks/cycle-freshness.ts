/**
 * `cycle_freshness` (freshness), gbrain-compatible: every non-archived source with a
 * `local_path`, by `sources.config->>'last_full_cycle_at'`; warn > 6 h, fail > 24 h.
 */
import {flagArgs, shellCommand} from '../engine/shell-quote.js'
import type {SourceRow} from '../brain/sources.js'
import type {CheckDef} from './check.js'
import type {DbCheckFacts, DbThresholds} from './db-facts-type.js'
import {judgeFreshness, lastFullCycleAt} from './freshness.js'
import type {CheckOutcome} from './types.js'

export function cycledSources(sources: readonly SourceRow[], only?: string): SourceRow[] {
  return sources.filter((s) => s.local_path !== null && s.local_path !== '' && !s.archived && (only === undefined || s.id === only))
}

export function judgeCycleFreshness(sources: readonly SourceRow[], now: number, t: DbThresholds, only?: string): CheckOutcome {
  const inputs = cycledSources(sources, only).map((s) => {
    const v = lastFullCycleAt(s.config)
    return {id: s.id, name: s.name, value: typeof v === 'object' && v !== null ? JSON.stringify(v) : v}
  })
  return judgeFreshness(inputs, now, {warnHours: t.cycleWarnHours, failHours: t.cycleFailHours, never: 'warn', noun: 'cycle', fix: (id) => shellCommand('gbrain', 'cycle', ...flagArgs('--source', id))})
}

export const cycleFreshnessCheck: CheckDef<DbCheckFacts> = {
  name: 'cycle_freshness',
  category: 'freshness',
  database: true,
  downstreamOf: ['connection'],
  async judge(facts, options) {
    return judgeCycleFreshness(await facts.db.sources(options.signal), facts.now, facts.dbThresholds, options.source)
  },
}
