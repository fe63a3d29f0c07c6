/**
 * Nagios / Icinga plugin output: one status line with perfdata, then one line per check that is
 * not ok or is ok by an acknowledgement (`ACKNOWLEDGED name: …`; the plugin's long output). The state word is read from the report's status, which
 * decides the plugin's exit code too (`nagiosCode`: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).
 *
 * `GBRAIN DOCTOR CRITICAL - 2 fail, 1 warn | 'health_score'=55;;;0;100 'exhausted_24h'=21;5;20;0`
 *
 * Perfdata: `health_score` first, then one `'label'=value[UOM];warn;crit;min[;max]` per check with
 * a finite `observed_value`. The label is `details.perf_label` when the check provides one (and it
 * is not taken), else the check name; it is single-quoted, a quote inside doubled, `=` replaced.
 * UOM: ms, us, s, %, B, KB, MB, GB, TB map to themselves (`bytes` → B); anything else (count,
 * hours, rows) gets none. warn/crit come from `threshold`; when warn > fail the metric is
 * "lower is worse" and they are written as Nagios ranges `N:` (alert below N). min is 0 for a
 * non-negative value; max is 100 for a percentage. Text never contains `|` (it would start
 * perfdata): it becomes `/`.
 */
import type {CheckResult, Report, ReportStatus} from '../checks/types.js'
import {activeAck, countsText, orderedChecks} from './summary.js'
import {asText, clean, oneLine} from './text.js'

export const NAGIOS_STATES = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'] as const

/** The plugin state of each report status: `NAGIOS_STATES[nagiosCode(report)]`, read from the report. */
const STATE: Record<ReportStatus, (typeof NAGIOS_STATES)[number]> = {
  healthy: 'OK',
  warnings: 'WARNING',
  unhealthy: 'CRITICAL',
  unknown: 'UNKNOWN',
}

const UOM: Record<string, string> = {
  ms: 'ms',
  us: 'us',
  s: 's',
  sec: 's',
  seconds: 's',
  '%': '%',
  percent: '%',
  pct: '%',
  b: 'B',
  byte: 'B',
  bytes: 'B',
  kb: 'KB',
  mb: 'MB',
  gb: 'GB',
  tb: 'TB',
}

/** Nagios unit of measurement for an `observed_unit` ('' when Nagios has none). */
export function nagiosUom(unit: string | undefined): string {
  return unit === undefined ? '' : (UOM[unit.trim().toLowerCase()] ?? '')
}

/** A plain decimal (no exponent, at most 6 fraction digits), as perfdata parsers expect. */
export function nagiosNumber(v: number): string {
  if (Number.isInteger(v)) return Math.abs(v) < 1e21 ? String(v) : BigInt(v).toString()
  if (Math.abs(v) >= 1e21) return BigInt(Math.round(v)).toString()
  const s = v.toFixed(6).replace(/0+$/, '').replace(/\.$/, '')
  return s === '-0' ? '0' : s
}

/** Text for the plugin output: one line, no `|` (replaced before redaction, which sees the result). */
function text(value: unknown): string {
  return oneLine(asText(value).replace(/\|/g, '/'))
}

/** A perfdata label, quoted. */
export function nagiosLabel(label: string): string {
  return `'${text(label).replace(/=/g, '_').replace(/'/g, "''")}'`
}

function perfLabel(c: CheckResult, used: Set<string>): string {
  const wanted = c.details?.perf_label
  const candidates = [typeof wanted === 'string' && text(wanted) !== '' ? wanted : undefined, c.name].filter(
    (s): s is string => s !== undefined,
  )
  for (const candidate of candidates) {
    const label = nagiosLabel(candidate)
    if (!used.has(label)) return label
  }
  for (let i = 2; ; i++) {
    const label = nagiosLabel(`${clean(c.name)}_${i}`)
    if (!used.has(label)) return label
  }
}

function perfdata(c: CheckResult, label: string): string {
  const value = c.observed_value as number
  const uom = nagiosUom(c.observed_unit)
  const warn = c.threshold?.warn
  const fail = c.threshold?.fail
  const finite = (n: number | undefined): n is number => n !== undefined && Number.isFinite(n)
  const lowerIsWorse = finite(warn) && finite(fail) && warn > fail
  const range = (n: number | undefined): string => (finite(n) ? `${nagiosNumber(n)}${lowerIsWorse ? ':' : ''}` : '')
  const fields = [`${label}=${nagiosNumber(value)}${uom}`, range(warn), range(fail), value >= 0 ? '0' : '', uom === '%' ? '100' : '']
  return fields.join(';').replace(/;+$/, '')
}

/** The status line plus long output, ending with a newline. */
export function renderNagios(report: Report): string {
  const state = STATE[report.status] ?? 'UNKNOWN'
  const problems = countsText(report.summary, ['fail', 'unknown', 'warn'])
  const counts = problems === 'no checks' ? countsText(report.summary, ['ok', 'skipped']) : problems
  const score =
    report.health_score !== null && Number.isFinite(report.health_score)
      ? [`'health_score'=${nagiosNumber(report.health_score)};;;0;100`]
      : []
  const used = new Set<string>(["'health_score'"])
  const perf = [...score]
  for (const c of report.checks) {
    if (c.observed_value === undefined || !Number.isFinite(c.observed_value)) continue
    const label = perfLabel(c, used)
    used.add(label)
    perf.push(perfdata(c, label))
  }
  const cov = report.coverage
  const notChecked =
    cov.database === 'not_reached' ? `database not checked (${clean(cov.reason ?? 'not reached').replace(/\|/g, '/')}) - ` : ''
  const lines = [`GBRAIN DOCTOR ${state} - ${notChecked}${counts}${perf.length > 0 ? ` | ${perf.join(' ')}` : ''}`]
  for (const c of orderedChecks(report)) {
    if (c.status === 'ok' && !activeAck(c)) continue
    let line = `${activeAck(c) ? 'ACKNOWLEDGED' : c.status.toUpperCase()} ${text(c.name)}: ${text(c.message)}`
    if (c.fix) {
      const commands = c.fix.commands.map(text).filter((s) => s !== '')
      line += ` - fix: ${text(c.fix.text)}${commands.length > 0 ? ` (${commands.join('; ')})` : ''}`
    }
    lines.push(line)
  }
  return `${lines.join('\n')}\n`
}
