/**
 * `sync_freshness` (freshness), gbrain-compatible: the same shape over `sources.last_sync_at`;
 * warn > 24 h, fail > 72 h; never synced → fail; in the future → warn.
 */
import {flagArgs, shellCommand} from '../engine/shell-quote.js'
import type {SourceRow} from '../brain/sources.js'
import type {CheckDef} from './check.js'
import {cycledSources, sourceFilterProblem} from './cycle-freshness.js'
import type {DbCheckFacts, DbThresholds} from './db-facts-type.js'
import {judgeFreshness, judgeSources} from './freshness.js'
import type {CheckOutcome} from './types.js'

export function judgeSyncFreshness(sources: readonly SourceRow[], now: number, t: DbThresholds, only?: string): CheckOutcome {
  const filtered = sourceFilterProblem(sources, only)
  if (filtered) return filtered
  const inputs = cycledSources(sources, only).map((s) => ({id: s.id, name: s.name, value: s.last_sync_at}))
  return judgeFreshness(inputs, now, {warnHours: t.syncWarnHours, failHours: t.syncFailHours, never: 'fail', noun: 'sync', fix: (id) => shellCommand('gbrain', 'cycle', ...flagArgs('--source', id))})
}

export const syncFreshnessCheck: CheckDef<DbCheckFacts> = {
  name: 'sync_freshness',
  category: 'freshness',
  database: true,
  downstreamOf: ['connection'],
  async judge(facts, options) {
    return judgeSources(() => facts.db.sources(options.signal), (rows) => judgeSyncFreshness(rows, facts.now, facts.dbThresholds, options.source))
  },
}
