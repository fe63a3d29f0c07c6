/**
 * The shared ladder of `cycle_freshness` and `sync_freshness`: per source, how old a timestamp
 * is, judged against warn/fail hours (strict greater-than, as gbrain does). Pure.
 */
import type {SourceRow} from '../brain/sources.js'
import type {SourcesFacts} from './facts/database.js'
import type {Counted} from './check.js'
import type {CheckOutcome, CheckStatus} from './types.js'
import {plural} from './wording.js'

export type FreshnessState = 'fresh' | 'stale' | 'never' | 'unparseable' | 'future'

export interface FreshnessRow {
  id: string
  name: string
  state: FreshnessState
  status: CheckStatus
  value: string | null
  age_hours: number | null
}

export interface FreshnessInput {
  id: string
  name: string
  /** The raw stored value: ISO string, null/undefined (never), or anything else (unparseable). */
  value: unknown
}

export interface FreshnessPolicy {
  warnHours: number
  failHours: number
  /** Status of a source that was never cycled/synced (gbrain: cycle → warn, sync → fail). */
  never: 'warn' | 'fail'
  /** Tolerated clock skew before a timestamp counts as in the future. */
  skewMs?: number
  noun: string
  fix: (id: string) => string
}

const RANK: Record<CheckStatus, number> = {ok: 0, skipped: 0, warn: 1, unknown: 2, fail: 3}

export function classifyFreshness(input: FreshnessInput, now: number, policy: FreshnessPolicy): FreshnessRow {
  const base = {id: input.id, name: input.name}
  const v = input.value
  if (v === null || v === undefined || v === '') return {...base, state: 'never', status: policy.never, value: null, age_hours: null}
  const t = typeof v === 'string' && /^\d{4}-\d{2}-\d{2}/.test(v) ? Date.parse(v) : NaN
  if (!Number.isFinite(t))
    return {
      ...base,
      state: 'unparseable',
      status: 'warn',
      value: String(typeof v === 'string' ? v : JSON.stringify(v)).slice(0, 80),
      age_hours: null,
    }
  const ageMs = now - t
  const age_hours = Math.round((ageMs / 3_600_000) * 100) / 100
  if (ageMs < -(policy.skewMs ?? 60_000)) return {...base, state: 'future', status: 'warn', value: v as string, age_hours}
  const status: CheckStatus = age_hours > policy.failHours ? 'fail' : age_hours > policy.warnHours ? 'warn' : 'ok'
  return {...base, state: status === 'ok' ? 'fresh' : 'stale', status, value: v as string, age_hours}
}

export function judgeFreshness(inputs: readonly FreshnessInput[], now: number, policy: FreshnessPolicy): CheckOutcome {
  const rows = inputs.map((i) => classifyFreshness(i, now, policy))
  const threshold = {warn: policy.warnHours, fail: policy.failHours}
  if (rows.length === 0) {
    return {status: 'ok', message: `no sources to ${policy.noun}`, details: {sources: []}, threshold, observed_unit: 'hours'}
  }
  const worst = rows.reduce<CheckStatus>((w, r) => (RANK[r.status] > RANK[w] ? r.status : w), 'ok')
  const bad = rows.filter((r) => r.status !== 'ok')
  const oldest = Math.max(...rows.map((r) => r.age_hours ?? 0))
  const describe = (r: FreshnessRow): string => {
    switch (r.state) {
      case 'never':
        return `${r.id} never ${policy.noun === 'cycle' ? 'cycled' : 'synced'}`
      case 'unparseable':
        return `${r.id} has an unreadable timestamp (${r.value})`
      case 'future':
        return `${r.id} is stamped ${Math.abs(r.age_hours ?? 0).toFixed(1)} h in the future (clock skew?)`
      default:
        return `${r.id} ${r.age_hours!.toFixed(1)} h ago`
    }
  }
  const message =
    bad.length === 0
      ? `${plural(rows.length, 'source')} ${policy.noun === 'cycle' ? 'cycled' : 'synced'} within ${policy.warnHours} h (oldest ${oldest.toFixed(1)} h)`
      : `${bad.length} of ${plural(rows.length, 'source')} ${bad.length === 1 ? 'needs' : 'need'} attention: ${bad.map(describe).join('; ')}`
  return {
    status: worst,
    message,
    details: {sources: rows},
    observed_value: oldest,
    observed_unit: 'hours',
    threshold,
    ...(bad.length > 0 ? {fix: {text: `run the ${policy.noun} for the sources named`, commands: bad.map((r) => policy.fix(r.id))}} : {}),
  }
}

/**
 * `sources.config` as gbrain may hold it: an object, a double-encoded JSON string, or garbage.
 * Returns the `last_full_cycle_at` value (undefined when absent), or `{invalid}` for a config
 * that is not an object.
 */
export function lastFullCycleAt(config: unknown): unknown {
  let c = config
  if (typeof c === 'string') {
    try {
      c = JSON.parse(c)
    } catch {
      return {invalid_config: true}
    }
  }
  if (c === null || c === undefined) return undefined
  if (typeof c !== 'object' || Array.isArray(c)) return {invalid_config: true}
  return (c as Record<string, unknown>).last_full_cycle_at
}

/**
 * A database with no gbrain tables yet (`sources` missing, SQLSTATE 42P01) is a failure with the
 * fix, not "could not be evaluated": the brain was never initialised (or init was cut short).
 */
export const NO_TABLES: CheckOutcome = {
  status: 'fail',
  message: 'this database has no gbrain tables yet (no "sources" table): nothing to check',
  details: {sources: [], cause: 'no_tables'},
  fix: {text: 'create the tables', commands: ['gbrain init']},
}

/** Judge the sources read, or {@link NO_TABLES} when there is no sources table. */
export function judgeSources(sources: SourcesFacts, judge: (rows: readonly SourceRow[]) => CheckOutcome): CheckOutcome {
  return sources.tables ? judge(sources.rows) : NO_TABLES
}

/** The sources both freshness checks track: with a local path, not archived (only `only` when given). */
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
    return {
      status: 'fail',
      message: `no source with id ${JSON.stringify(only)} (--source): nothing was checked`,
      details: {sources: [], source: only, cause: 'unknown_source'},
      fix: {text: 'Pass the id of an existing source.', commands: ['gbrain sources list']},
    }
  }
  if (cycledSources([found]).length === 0) {
    return {
      status: 'warn',
      message: `source ${JSON.stringify(only)} is ${found.archived ? 'archived' : 'without a local path'}: its freshness is not tracked`,
      details: {sources: [], source: only},
    }
  }
  return undefined
}

/** What the freshness checks count for a baseline: the sources that are not fresh. */
export const STALE_SOURCES: Counted = {
  noun: ['stale source', 'stale sources'],
  of: (o) => {
    const rows = (o.details as {sources?: unknown} | undefined)?.sources
    return Array.isArray(rows) ? rows.filter((r) => (r as {status?: unknown} | null)?.status !== 'ok').length : undefined
  },
}
