/**
 * What the human formats say about a report as a whole: the status vocabulary as glyphs, the
 * counts, the one summary line, and the order of the rows — read from the report (its
 * `top_issues` rank the rows), never recomputed from the checks.
 */
import type {CheckResult, CheckStatus, Report, TopIssue} from '../checks/types.js'
import {formatDuration} from './text.js'

/** Glyphs that carry a status's meaning without colour. */
const GLYPHS: Record<'unicode' | 'ascii', Record<CheckStatus, string>> = {
  unicode: {ok: '✓', warn: '!', fail: '✗', unknown: '?', skipped: '-'},
  ascii: {ok: 'OK', warn: '!', fail: 'X', unknown: '?', skipped: '-'},
}

/** `✓ ok`, `✗ fail`, … (`OK ok`, `X fail` in ASCII). */
export function statusLabel(status: CheckStatus, unicode: boolean): string {
  return `${GLYPHS[unicode ? 'unicode' : 'ascii'][status]} ${status}`
}

/** The acknowledgement a check met and that holds (it reports ok because of it), or undefined. */
export function activeAck(c: Pick<CheckResult, 'acknowledged'>): CheckResult['acknowledged'] {
  return c.acknowledged?.state === 'active' ? c.acknowledged : undefined
}

/** `✓ ack` (a warning acknowledged), `✓ ack-fail` (a failure acknowledged), else {@link statusLabel}. */
export function checkLabel(c: Pick<CheckResult, 'status' | 'acknowledged'>, unicode: boolean): string {
  const ack = activeAck(c)
  if (!ack) return statusLabel(c.status, unicode)
  return `${GLYPHS[unicode ? 'unicode' : 'ascii'].ok} ${ack.was === 'fail' ? 'ack-fail' : 'ack'}`
}

/** Order of the counts in summary lines: most severe first. */
const COUNT_ORDER: readonly CheckStatus[] = ['fail', 'unknown', 'warn', 'ok', 'skipped']

/** `2 fail, 1 warn, 6 ok, 2 skipped` (zero counts left out; `no checks` when there are none). */
export function countsText(summary: Record<CheckStatus, number>, statuses: readonly CheckStatus[] = COUNT_ORDER): string {
  const parts = statuses.filter((s) => summary[s] > 0).map((s) => `${summary[s]} ${s}`)
  return parts.length > 0 ? parts.join(', ') : 'no checks'
}

/**
 * The one summary line every human format ends with:
 * `unhealthy: 2 fail, 1 warn, 6 ok, 2 skipped — health 55/100 (412 ms)`; when the database asked
 * about was not reached it says so first, and a score that would count the unchecked as healthy
 * is not given: `unknown: database not checked (no brain yet at …) — 7 ok, 6 skipped — health not
 * scored (21 ms)`.
 */
export function summaryLine(report: Report, unicode: boolean): string {
  const dash = unicode ? '—' : '-'
  const c = report.coverage
  const notChecked = c.database === 'not_reached' ? `database not checked (${c.reason ?? 'not reached'}) ${dash} ` : ''
  const score = report.health_score === null ? 'health not scored' : `health ${report.health_score}/100`
  const acks = report.checks.filter((c) => activeAck(c)).length
  const acknowledged = acks > 0 ? ` (${acks} acknowledged)` : ''
  return `${report.status}: ${notChecked}${countsText(report.summary)}${acknowledged} ${dash} ${score} (${formatDuration(report.duration_ms)})`
}

/** A check in display order, with the top issue it is when it is one. */
export interface RankedCheck {
  check: CheckResult
  issue?: TopIssue
}

/**
 * Every check in display order: the non-ok ones as the report's `top_issues` rank them (fail,
 * unknown, warn; root causes before their symptoms; then catalogue order), then ok, then
 * skipped, each in catalogue order. The ranking is read from the report, never recomputed.
 */
export function rankedChecks(report: Pick<Report, 'checks' | 'top_issues'>): RankedCheck[] {
  const byName = new Map<string, CheckResult[]>()
  for (const c of report.checks) byName.set(c.name, [...(byName.get(c.name) ?? []), c])
  const out: RankedCheck[] = []
  for (const issue of report.top_issues) {
    const check = byName.get(issue.check)?.shift()
    if (check) out.push({check, issue})
  }
  const placed = new Set(out.map((r) => r.check))
  for (const status of ['fail', 'unknown', 'warn', 'ok', 'skipped'] as const) {
    for (const check of report.checks) if (check.status === status && !placed.has(check)) out.push({check})
  }
  return out
}

/** The checks of {@link rankedChecks}, without their issues. */
export function orderedChecks(report: Pick<Report, 'checks' | 'top_issues'>): CheckResult[] {
  return rankedChecks(report).map((r) => r.check)
}
