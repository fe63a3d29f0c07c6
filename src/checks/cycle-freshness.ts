/**
 * `cycle_freshness` (freshness), gbrain-compatible: every non-archived source with a
 * `local_path`, by `sources.config->>'last_full_cycle_at'`; warn > 6 h, fail > 24 h.
 */
import {flagArgs, shellCommand} from '../engine/shell-quote.js'
import type {SourceRow} from '../brain/sources.js'
import type {CheckDef} from './check.js'
import type {DbCheckFacts, DbThresholds} from './db-facts-type.js'
import {judgeFreshness, judgeSources, lastFullCycleAt} from './freshness.js'
import type {CheckOutcome} from './types.js'

export function cycledSources(sources: readonly SourceRow[], only?: string): SourceRow[] {
  return sources.filter((s) => s.local_path !== null && s.local_path !== '' && !s.archived && (only === undefined || s.id === only))
}

/**
 * `--source ID` that names no source is a failure, not "no sources to cycle" (a typo must not
 * read as healthy); one that is archived or has no local path is a warning: nothing is tracked.
 */
export function sourceFilterProblem(sources: readonly SourceRow[], only: string | undefined): CheckOutcome | undefined {
  if (only === undefined) return undefined
  const found = sources.find((s) => s.id === only)
  if (!found) {
    return {status: 'fail', message: `no source with id ${JSON.stringify(only)} (--source): nothing was checked`, details: {sources: [], source: only, cause: 'unknown_source'}, fix: {text: 'Pass the id of an existing source.', commands: ['gbrain sources list']}}
  }
  if (cycledSources([found]).length === 0) {
    return {status: 'warn', message: `source ${JSON.stringify(only)} is ${found.archived ? 'archived' : 'without a local path'}: its freshness is not tracked`, details: {sources: [], source: only}}
  }
  return undefined
}

export function judgeCycleFreshness(sources: readonly SourceRow[], now: number, t: DbThresholds, only?: string): CheckOutcome {
  const filtered = sourceFilterProblem(sources, only)
  if (filtered) return filtered
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
    return judgeSources(() => facts.db.sources(options.signal), (rows) => judgeCycleFreshness(rows, facts.now, facts.dbThresholds, options.source))
  },
}
