/**
 * Human output: a table of the checks that need attention (every check with `verbose`), the
 * ranked top issues with their fixes, and one summary line — always, and alone with `quiet`.
 *
 * Colour and Unicode are options, decided once by the command (`decideColor`, `decideUnicode`)
 * and injected here; the renderer never looks at the terminal or the environment.
 */
import {Chalk, type ChalkInstance} from 'chalk'
import type {CheckResult, CheckStatus, Fix, Report, ReportStatus} from '../checks/types.js'
import {renderGrid} from './grid.js'
import {capText, clean, displayDatabase, displayWidth, formatDuration, orderedChecks, SHOWN_CHARS, shownText, statusLabel, summaryLine, terminalSafe, toAscii, workflowSafe, wrap} from './text.js'

export interface TableOptions {
  /** ANSI colours (16-colour palette). Decide with {@link decideColor}. */
  color: boolean
  /** Unicode glyphs and box drawing; false → ASCII only. Decide with {@link decideUnicode}. */
  unicode: boolean
  /** Every check, ok and skipped included, with its duration. */
  verbose: boolean
  /** Only the summary line (wins over `verbose` and `debug`). */
  quiet: boolean
  /** Also the (redacted) stack of every crashed check. */
  debug: boolean
  /** Terminal width in columns. */
  width: number
}

export const DEFAULT_TABLE_OPTIONS: TableOptions = {color: false, unicode: true, verbose: false, quiet: false, debug: false, width: 100}

export {decideColor, decideUnicode, type Env} from './terminal.js'

const STATUS_COLOR: Record<CheckStatus, 'red' | 'magenta' | 'yellow' | 'green' | 'gray'> = {
  fail: 'red', unknown: 'magenta', warn: 'yellow', ok: 'green', skipped: 'gray',
}
const REPORT_COLOR: Record<ReportStatus, 'red' | 'magenta' | 'yellow' | 'green'> = {
  unhealthy: 'red', unknown: 'magenta', warnings: 'yellow', healthy: 'green',
}

/** Width of the status column: `? unknown` / `- skipped` plus padding. */
const STATUS_COL = 11
/** A check-name column wider than this wraps the name. */
const MAX_CHECK_COL = 32
/** The message column never gets narrower than this, even on a tiny terminal. */
const MIN_MESSAGE_COL = 24

interface Ctx {
  c: ChalkInstance
  o: TableOptions
  /** Data text as printed: terminal-safe, ASCII-folded when not Unicode, redacted. */
  t: (value: unknown) => string
  /** Same, one line. */
  t1: (value: unknown) => string
  /** ASCII folding alone (when not Unicode), for the renderer's own text. */
  fold: (text: string) => string
}

/** Render the report for a human. Ends with a newline. */
export function renderTable(report: Report, options: Partial<TableOptions> = {}): string {
  const o: TableOptions = {...DEFAULT_TABLE_OPTIONS, ...options}
  const ctx = context(o)
  const {c, fold} = ctx
  const status = c[REPORT_COLOR[report.status]].bold(report.status)
  const summary = status + fold(summaryLine(report, o.unicode).slice(report.status.length))
  if (o.quiet) return `${summary}\n`

  const sections: string[] = []
  if (o.verbose) sections.push(targetLines(report, ctx))
  // A skipped check that carries a fix (no brain yet → `gbrain init`) is actionable: shown too.
  const actionable = (ch: CheckResult): boolean => (ch.status !== 'ok' && ch.status !== 'skipped') || (ch.status === 'skipped' && ch.fix !== undefined)
  const rows = orderedChecks(report.checks).filter((ch) => o.verbose || actionable(ch))
  if (rows.length > 0) sections.push(checksTable(rows, ctx))
  if (report.top_issues.length > 0) sections.push(topIssuesList(report, ctx))
  const notChecked = report.checks.filter((ch) => ch.status === 'skipped' && ch.fix !== undefined)
  if (notChecked.length > 0) sections.push(notCheckedList(notChecked, ctx))
  if (o.debug) {
    const stacks = debugSections(report, ctx)
    if (stacks !== '') sections.push(stacks)
  }
  sections.push(summary)
  return workflowSafe(`${sections.join('\n\n')}\n`)
}

/**
 * How data text is printed: terminal-safe, ASCII-folded when not Unicode, redacted, and cut to
 * {@link SHOWN_CHARS} so that rendering costs the same for a 200,000-character value as for a
 * 2,000-character one.
 */
function context(o: TableOptions): Ctx {
  const fold = (s: string): string => (o.unicode ? s : toAscii(s))
  return {
    c: new Chalk({level: o.color ? 1 : 0}),
    o,
    fold,
    t: (v) => shownText(v, {ascii: !o.unicode}),
    t1: (v) => shownText(v, {ascii: !o.unicode, oneLine: true}),
  }
}

/**
 * Only the stacks of crashed checks (redacted), for a command that sends `--debug` output to
 * stderr rather than into the report. Empty string when no check crashed.
 */
export function renderDebugStacks(report: Report, options: Partial<TableOptions> = {}): string {
  const text = debugSections(report, context({...DEFAULT_TABLE_OPTIONS, ...options}))
  return text === '' ? '' : workflowSafe(`${text}\n`)
}

function targetLines(report: Report, {c, o, t1, fold}: Ctx): string {
  const tg = report.target
  const database = capText(displayDatabase(fold(workflowSafe(terminalSafe(String(tg.database).slice(0, 4 * SHOWN_CHARS))))).replace(/\s+/g, ' '), SHOWN_CHARS, o.unicode)
  const entries: [string, string][] = [
    ['target:', `${t1(tg.engine)} ${database} (${t1(tg.sources.database)})`],
    ['audit: ', `${t1(tg.audit_dir)} (${t1(tg.sources.audit_dir)})`],
  ]
  return entries
    .flatMap(([label, value]) => {
      const [first = '', ...rest] = wrap(value, Math.max(MIN_MESSAGE_COL, Math.floor(o.width) - label.length - 1))
      return [`${c.bold(label.trim())}${label.slice(label.trim().length)} ${first}`, ...rest.map((l) => `${' '.repeat(label.length + 1)}${l}`)]
    })
    .join('\n')
}

function checksTable(rows: CheckResult[], {c, o, t, t1}: Ctx): string {
  const names = rows.map((r) => t1(r.name))
  const checkCol = Math.min(MAX_CHECK_COL, Math.max('check'.length, ...names.map(displayWidth)) + 2)
  const times = rows.map((r) => formatDuration(r.duration_ms))
  const timeCol = o.verbose ? Math.max('time'.length, ...times.map((s) => s.length)) + 2 : 0
  const columns = o.verbose ? 4 : 3
  const messageCol = Math.max(MIN_MESSAGE_COL, Math.floor(o.width) - STATUS_COL - checkCol - timeCol - (columns + 1))
  const head = ['status', 'check', ...(o.verbose ? ['time'] : []), 'message'].map((h) => [c.bold(h)])
  const body = rows.map((r, i) => [
    [c[STATUS_COLOR[r.status]](statusLabel(r.status, o.unicode))],
    wrap(names[i] ?? '', checkCol - 2),
    ...(o.verbose ? [[times[i] ?? '']] : []),
    wrap(t(r.message), messageCol - 2),
  ])
  return renderGrid(head, body, {
    widths: [STATUS_COL, checkCol, ...(o.verbose ? [timeCol] : []), messageCol],
    align: ['left', 'left', ...(o.verbose ? (['right'] as const) : []), 'left'],
    unicode: o.unicode,
  })
}

/**
 * A command is printed only as it must be pasted: one line, nothing a terminal would interpret
 * or this terminal cannot show, not absurdly long. Otherwise it is described, not mangled.
 */
function pasteReady(cmd: string, unicode: boolean): boolean {
  return cmd.length <= SHOWN_CHARS && !/[^\S ]/.test(cmd) && terminalSafe(cmd) === cmd && (unicode || toAscii(cmd) === cmd) && clean(cmd) === cmd
}

function withheld(cmd: string): string {
  return `a command of ${cmd.length} characters that this terminal cannot show as typed: --format json has it exactly`
}

/** "  1. ✗ " — listed checks are never ok, so every glyph is one column wide. */
const ITEM_INDENT = ' '.repeat(7)

/** One listed check: marker, glyph, bold name (and root causes), message, fix and commands, wrapped. */
function listItem(marker: string, item: {check: string; status: CheckStatus; message: string; fix?: Fix; downstream_of?: string[]}, {c, o, t, t1}: Ctx): string[] {
  const body = Math.max(MIN_MESSAGE_COL, Math.floor(o.width) - ITEM_INDENT.length)
  const glyph = c[STATUS_COLOR[item.status]](statusLabel(item.status, o.unicode).split(' ')[0] ?? '')
  const downstream = (item.downstream_of ?? []).map(t1).filter((s) => s !== '')
  const head = `${t1(item.check)}${downstream.length > 0 ? ` (downstream of ${downstream.join(', ')})` : ''}:`
  const [first = '', ...rest] = wrap(`${head} ${t(item.message)}`, body)
  // The head is bold; wrapping happened on the plain text.
  const firstStyled = first.startsWith(head) ? c.bold(head) + first.slice(head.length) : first
  const lines = [`${marker.padStart(4)} ${glyph} ${firstStyled}`, ...rest.map((l) => `${ITEM_INDENT}${l}`)]
  if (item.fix) {
    const [f0 = '', ...fr] = wrap(t(item.fix.text), body - 'fix: '.length)
    lines.push(`${ITEM_INDENT}${c.bold('fix:')} ${f0}`)
    for (const l of fr) lines.push(`${ITEM_INDENT}     ${l}`)
    for (const cmd of item.fix.commands) lines.push(`${ITEM_INDENT}  ${pasteReady(cmd, o.unicode) ? c.cyan(`$ ${clean(cmd)}`) : `(${t1(withheld(cmd))})`}`)
  }
  return lines
}

function topIssuesList(report: Report, ctx: Ctx): string {
  return [ctx.c.bold('Top issues'), ...report.top_issues.flatMap((issue) => listItem(`${issue.rank}.`, issue, ctx))].join('\n')
}

/** Skipped checks that say how to make them apply (e.g. create the brain). */
function notCheckedList(checks: CheckResult[], ctx: Ctx): string {
  return [ctx.c.bold('Not checked'), ...checks.flatMap((ch) => listItem('', {...ch, check: ch.name}, ctx))].join('\n')
}

function debugSections(report: Report, {c, t1, t}: Ctx): string {
  const out: string[] = []
  for (const ch of report.checks) {
    if (ch.debug_stack === undefined || ch.debug_stack === '') continue
    const stack = t(ch.debug_stack)
      .split('\n')
      .map((l) => `  ${l}`.trimEnd())
      .join('\n')
    out.push(`${c.bold(`debug: stack of ${t1(ch.name)}`)}\n${stack}`)
  }
  return out.join('\n\n')
}
