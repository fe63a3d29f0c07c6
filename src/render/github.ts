/**
 * GitHub Actions: workflow-command annotations for the log and the checks UI, and a Markdown
 * table for the job summary.
 *
 * Levels: `fail` → `::error`, `unknown` and `warn` → `::warning` (an unknown is not proven
 * broken; it must not look like a failure, nor hide like a notice); `::notice` is never used for
 * a check. Most severe first (the order of the top issues). GitHub shows at most 10 error and 10
 * warning annotations per step, so at most 10 of each are printed; an acknowledged finding is a
 * `::notice` (the one use of that level: known and accepted, still visible); when some are left out, one
 * `::warning title=gbrain doctor::N more …` line names them, and to stay visible it takes the
 * tenth warning slot (then at most 9 check warnings are printed). The output always ends with
 * the plain summary line (not a workflow command).
 */
import type {Report} from '../checks/types.js'
import {activeAck, checkLabel, orderedChecks, rankedChecks, summaryLine, type RankedCheck} from './summary.js'
import {terminalText as clean} from './text.js'

/** Annotations of one level GitHub shows per step. */
export const GITHUB_ANNOTATIONS_PER_LEVEL = 10

/** Escape workflow-command data (the message): `%`, CR and LF. */
export function githubData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')
}

/** Escape a workflow-command property value (`title=`): as data, plus `:` and `,`. */
export function githubProperty(text: string): string {
  return githubData(text).replace(/:/g, '%3A').replace(/,/g, '%2C')
}

/** One annotation; "downstream of" names the failed checks the report's top issue names. */
function annotation(level: 'error' | 'warning' | 'notice', {check: c, issue}: RankedCheck): string {
  const downstream = (issue?.downstream_of ?? []).map((s) => clean(s))
  let message = clean(c.message)
  if (downstream.length > 0) message += ` (downstream of ${downstream.join(', ')})`
  if (c.fix) {
    message += ` — fix: ${clean(c.fix.text)}`
    for (const cmd of c.fix.commands) message += `\n$ ${clean(cmd)}`
  }
  return `::${level} title=${githubProperty(`gbrain doctor: ${clean(c.name)}`)}::${githubData(message)}`
}

function plural(n: number, one: string, many: string): string {
  return `${n} more ${n === 1 ? one : many}`
}

/** Annotations, most severe first, capped per level; then the summary line. Ends with a newline. */
export function renderGithub(report: Report): string {
  const ordered = rankedChecks(report)
  const errors = ordered.filter(({check: c}) => c.status === 'fail')
  // A skipped `connection` when the database asked about was not reached (no brain yet) is
  // annotated too: the run could not check what it was asked about.
  const notReached = report.coverage.database === 'not_reached'
  const warnings = ordered.filter(
    ({check: c}) => c.status === 'unknown' || c.status === 'warn' || (notReached && c.name === 'connection' && c.status === 'skipped'),
  )
  const cap = GITHUB_ANNOTATIONS_PER_LEVEL
  const errorsLeft = Math.max(0, errors.length - cap)
  const overflow = errorsLeft > 0 || warnings.length > cap
  const warningsShown = overflow ? Math.min(warnings.length, cap - 1) : warnings.length
  const warningsLeft = warnings.length - warningsShown
  const lines = [
    ...errors.slice(0, cap).map((r) => annotation('error', r)),
    ...warnings.slice(0, warningsShown).map((r) => annotation('warning', r)),
    ...ordered.filter(({check: c}) => activeAck(c)).map((r) => annotation('notice', r)),
  ]
  if (overflow) {
    const parts = [
      ...(errorsLeft > 0 ? [plural(errorsLeft, 'failing check', 'failing checks')] : []),
      ...(warningsLeft > 0 ? [plural(warningsLeft, 'warning', 'warnings')] : []),
    ]
    const names = [...errors.slice(cap), ...warnings.slice(warningsShown)].map((r) => clean(r.check.name))
    const text = `${parts.join(' and ')} not annotated (GitHub shows ${cap} per level): ${names.join(', ')}; see the job summary`
    lines.push(`::warning title=${githubProperty('gbrain doctor')}::${githubData(text)}`)
  }
  lines.push(summaryLine(report, true))
  return `${lines.join('\n')}\n`
}

/** Markdown text for a table cell: HTML-significant and Markdown-active characters escaped. */
export function markdownText(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/[\\`*_[\]<>|~$!#{}]/g, (ch) => `\\${ch}`)
    .replace(/\r\n?|\n/g, '<br>')
}

/** A Markdown code span holding `text` literally (one line; pipes escaped for a table cell). */
export function markdownCode(text: string): string {
  const body = text.replace(/\s+/g, ' ').replace(/\|/g, '\\|')
  const longest = Math.max(0, ...(body.match(/`+/g) ?? []).map((run) => run.length))
  const fence = '`'.repeat(longest + 1)
  const pad = body.startsWith('`') || body.endsWith('`') ? ' ' : ''
  return `${fence}${pad}${body}${pad}${fence}`
}

/**
 * The job summary (for `$GITHUB_STEP_SUMMARY`): a heading, the summary line, and a table of every
 * check (status, check, message, fix) in the order of the human table. Ends with a newline.
 */
export function renderGithubStepSummary(report: Report): string {
  const rows = orderedChecks(report).map((c) => {
    const fix = c.fix ? [markdownText(clean(c.fix.text)), ...c.fix.commands.map((cmd) => markdownCode(clean(cmd)))].join('<br>') : ''
    return `| ${checkLabel(c, true)} | ${markdownCode(clean(c.name))} | ${markdownText(clean(c.message))} | ${fix} |`
  })
  return [
    '## gbrain doctor',
    '',
    markdownText(summaryLine(report, true)),
    '',
    ...(rows.length > 0 ? ['| status | check | message | fix |', '| --- | --- | --- | --- |', ...rows, ''] : []),
  ].join('\n')
}
