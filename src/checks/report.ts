/**
 * Pure functions over results: the report's status, health score, summary and ranked top
 * issues, and the exit code — computed here and nowhere else.
 */
import type {CheckResult, CheckStatus, Coverage, Report, ReportStatus, TopIssue} from './types.js'

export type FailOn = 'fail' | 'warn' | 'never'

export function summarize(checks: readonly CheckResult[]): Record<CheckStatus, number> {
  const s: Record<CheckStatus, number> = {ok: 0, warn: 0, fail: 0, unknown: 0, skipped: 0}
  for (const c of checks) s[c.status] += 1
  return s
}

/** True when something the run was asked about could not be evaluated. */
function incomplete(summary: Record<CheckStatus, number>, coverage?: Pick<Coverage, 'database'>): boolean {
  return summary.unknown > 0 || coverage?.database === 'not_reached'
}

/**
 * gbrain's score: 100 − 20·fails − 5·warns, floor 0 — over what was checked. `null` (not scored)
 * when a check could not be evaluated or the database asked about was not reached: what was not
 * checked never counts as healthy. Checks left out by choice (--fast, --only, --skip) do not count.
 */
export function healthScore(summary: Record<CheckStatus, number>, coverage?: Pick<Coverage, 'database'>): number | null {
  if (incomplete(summary, coverage)) return null
  return Math.max(0, 100 - 20 * summary.fail - 5 * summary.warn)
}

export function reportStatus(summary: Record<CheckStatus, number>, coverage?: Pick<Coverage, 'database'>): ReportStatus {
  if (summary.fail > 0) return 'unhealthy'
  if (incomplete(summary, coverage)) return 'unknown'
  if (summary.warn > 0) return 'warnings'
  return 'healthy'
}

const SEVERITY: Record<CheckStatus, number> = {fail: 0, unknown: 1, warn: 2, ok: 3, skipped: 4}

/** fail, unknown or warn: what the top issues list and what makes a check an active upstream. */
const needsAttention = (c: Pick<CheckResult, 'status'>): boolean => c.status === 'fail' || c.status === 'warn' || c.status === 'unknown'

/**
 * The checks a result is downstream of that actually failed in this run: a top issue is
 * "downstream of connection" only when `connection` itself failed (not when it was held by
 * another process, unknown, or only warned).
 */
export function activeUpstreams(c: Pick<CheckResult, 'downstream_of'>, checks: readonly Pick<CheckResult, 'name' | 'status'>[]): string[] {
  const bad = new Set(checks.filter((x) => x.status === 'fail').map((x) => x.name))
  return (c.downstream_of ?? []).filter((n) => bad.has(n))
}

/**
 * Failures, then unknowns, then warnings; within a level, root causes before their symptoms
 * (a check downstream of another non-ok check ranks after it), then catalogue order.
 */
export function topIssues(checks: readonly CheckResult[]): TopIssue[] {
  const bad = checks.filter(needsAttention)
  const isSymptom = (c: CheckResult): boolean => activeUpstreams(c, checks).length > 0
  const order = new Map(checks.map((c, i) => [c.name, i]))
  return [...bad]
    .sort(
      (a, b) =>
        SEVERITY[a.status] - SEVERITY[b.status] || Number(isSymptom(a)) - Number(isSymptom(b)) || order.get(a.name)! - order.get(b.name)!,
    )
    .map((c, i) => {
      const upstream = activeUpstreams(c, checks)
      return {
        rank: i + 1,
        check: c.name,
        status: c.status,
        message: c.message,
        ...(c.fix ? {fix: c.fix} : {}),
        ...(upstream.length > 0 ? {downstream_of: upstream} : {}),
      }
    })
}

/**
 * The documented exit codes: 0 healthy, 1 at or above --fail-on, 3 nothing failed but something
 * asked about was not checked (a check unknown, or the database not reached).
 */
export function exitCode(report: Pick<Report, 'summary'> & {coverage?: Pick<Coverage, 'database'>}, failOn: FailOn = 'fail'): number {
  const s = report.summary
  if (failOn === 'never') return 0
  if (s.fail > 0) return 1
  if (failOn === 'warn' && s.warn > 0) return 1
  if (incomplete(s, report.coverage)) return 3
  return 0
}

/** Nagios plugin contract: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. */
export function nagiosCode(report: Pick<Report, 'summary'> & {coverage?: Pick<Coverage, 'database'>}): number {
  const s = report.summary
  if (s.fail > 0) return 2
  if (incomplete(s, report.coverage)) return 3
  if (s.warn > 0) return 1
  return 0
}
