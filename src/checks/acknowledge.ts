/**
 * Acknowledgements applied to a run's results, purely: a check whose finding was acknowledged
 * (`gbrain doctor --acknowledge`) reports ok while the acknowledgement holds — its count at or
 * below the baseline for a check that counts (exhausted batches, spool entries, stale sources…),
 * its status no worse than the one acknowledged otherwise — and alerts again, saying why, when it
 * expired, when the count grew beyond the baseline, or when a warn acknowledged became a fail.
 * `unknown`, `ok` and `skipped` are never touched: what was not evaluated is never acknowledged.
 */
import {expired} from '../baselines/acknowledge.js'
import type {Baseline, Baselines} from '../baselines/entry.js'
import type {Counted} from './check.js'
import type {Acknowledgement, CheckResult} from './types.js'
import {plural} from './wording.js'

const day = (iso: string): string => iso.slice(0, 10)
const SEVERITY = {warn: 1, fail: 2} as const

/** The count a check's result shows for its baseline, or null when it counts nothing. */
export function countOf(result: CheckResult, counted: Counted | undefined): number | null {
  if (!counted) return null
  const n = counted.of ? counted.of(result) : result.observed_value
  return n !== undefined && Number.isFinite(n) ? n : null
}

function judge(c: CheckResult & {status: 'warn' | 'fail'}, b: Baseline, counted: Counted | undefined, now: number): Acknowledgement {
  const observed = countOf(c, counted)
  const base = {
    was: c.status,
    status: b.status,
    count: b.count,
    observed,
    acknowledged_at: b.acknowledged_at,
    expires_at: b.expires_at,
    reason: b.reason,
  }
  if (expired(b, now)) return {state: 'expired', ...base}
  if (SEVERITY[c.status] > SEVERITY[b.status]) return {state: 'worse', ...base}
  if (b.count !== null && observed !== null && observed > b.count) return {state: 'exceeded', ...base}
  return {state: 'active', ...base}
}

function message(c: CheckResult, a: Acknowledgement, counted: Counted | undefined): string {
  const why = a.reason === '' ? '' : `: ${a.reason}`
  switch (a.state) {
    case 'expired':
      return `The acknowledgement of ${day(a.acknowledged_at)} expired ${day(a.expires_at)}. ${c.message}`
    case 'worse':
      return `Worse than acknowledged (a ${a.was} where a ${a.status} was acknowledged ${day(a.acknowledged_at)}). ${c.message}`
    case 'exceeded':
      return `${a.observed! - a.count!} new beyond the baseline of ${a.count} (acknowledged ${day(a.acknowledged_at)}). ${c.message}`
    case 'active': {
      const until = `until ${day(a.expires_at)}`
      if (counted && a.count !== null && a.observed !== null)
        return `${plural(a.observed, counted.noun[0], counted.noun[1])} known, acknowledged ${day(a.acknowledged_at)}${why} (${until}; was ${a.was}). ${c.message}`
      return `Acknowledged ${a.status} ${day(a.acknowledged_at)}${why} (${until}; was ${a.was}). ${c.message}`
    }
  }
}

/**
 * The results with the acknowledgements applied: each check with an entry and a warn or fail
 * carries `acknowledged`; an active one reports ok. `countsOf` names what each check counts.
 */
export function applyBaselines(
  checks: readonly CheckResult[],
  baselines: Baselines,
  countsOf: (name: string) => Counted | undefined,
  now: number,
): CheckResult[] {
  return checks.map((c) => {
    const b = Object.hasOwn(baselines, c.name) ? baselines[c.name] : undefined
    if (!b || (c.status !== 'warn' && c.status !== 'fail')) return c
    const counted = countsOf(c.name)
    const a = judge(c as CheckResult & {status: 'warn' | 'fail'}, b, counted, now)
    return {...c, ...(a.state === 'active' ? {status: 'ok' as const} : {}), message: message(c, a, counted), acknowledged: a}
  })
}
