/**
 * Human output: a table of the checks that need attention (every check with `verbose`), the
 * ranked top issues with their fixes, and one summary line — always, and alone with `quiet`.
 * Each problem is said once: its message in the table, its fix and commands under "Top issues"
 * (and "Not checked"), which name the check without repeating the message.
 *
 * Every line fits `width` (paste-ready commands and `--debug` stacks excepted: they are printed
 * as they must be copied). Columns narrow in a fixed order — the message down to a comfortable
 * width, then the check names (wrapped after `_`), then the message again, down to the width of
 * an ISO timestamp; `-v` then moves the time under the status; below that the checks are listed
 * one under the other instead of in a grid.
 *
 * Colour and Unicode are options, decided once by the command (`decideColor`, `decideUnicode`)
 * and injected here; the renderer never looks at the terminal or the environment.
 */
import {Chalk, type ChalkInstance} from 'chalk'
import type {CheckResult, CheckStatus, Fix, Report, ReportStatus} from '../checks/types.js'
import {fitColumns, renderGrid, type Shrink} from './grid.js'
import {activeAck, checkLabel, orderedChecks, statusLabel, summaryLine} from './summary.js'
import {capText, clean, displayDatabase, formatDuration, SHOWN_CHARS, shownText, terminalSafe, toAscii, workflowSafe} from './text.js'
import {displayWidth, wrap} from './wrap.js'

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
  fail: 'red',
  unknown: 'magenta',
  warn: 'yellow',
  ok: 'green',
  skipped: 'gray',
}
const REPORT_COLOR: Record<ReportStatus, 'red' | 'magenta' | 'yellow' | 'green'> = {
  unhealthy: 'red',
  unknown: 'magenta',
  warnings: 'yellow',
  healthy: 'green',
}

/** A check-name column wider than this wraps the name. */
const MAX_CHECK_COL = 32
/** Text outside the grid (target lines, list items) never gets narrower than this. */
const MIN_MESSAGE_COL = 24
/** The message column narrows to this (padding included) before the check names wrap. */
const COMFORT_MESSAGE_COL = 34
/** …and never below this: an ISO timestamp with milliseconds (24 columns) fits on one line. */
const MIN_GRID_MESSAGE_COL = 26

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
  const summary = summaryText(report, ctx)
  if (o.quiet) return `${summary}\n`

  const sections: string[] = []
  if (o.verbose) sections.push(targetLines(report, ctx))
  // A skipped check that carries a fix (no brain yet → `gbrain init`) is actionable: shown too.
  const actionable = (ch: CheckResult): boolean =>
    (ch.status !== 'ok' && ch.status !== 'skipped') || (ch.status === 'skipped' && ch.fix !== undefined) || activeAck(ch) !== undefined
  const rows = orderedChecks(report).filter((ch) => o.verbose || actionable(ch))
  if (rows.length > 0) sections.push(checksTable(rows, ctx))
  // The lists say what to do; what was seen is already in the table, for every check it shows.
  const inTable = new Set(rows.map((r) => r.name))
  if (report.top_issues.length > 0) sections.push(topIssuesList(report, inTable, ctx))
  const notChecked = report.checks.filter((ch) => ch.status === 'skipped' && ch.fix !== undefined)
  if (notChecked.length > 0) sections.push(notCheckedList(notChecked, inTable, ctx))
  if (o.debug) {
    const stacks = debugSections(report, ctx)
    if (stacks !== '') sections.push(stacks)
  }
  sections.push(summary)
  return workflowSafe(`${sections.join('\n\n')}\n`)
}

/** The summary line, wrapped at word boundaries when the terminal is narrower; the status word styled. */
function summaryText(report: Report, {c, o, fold}: Ctx): string {
  const [first = '', ...rest] = wrap(fold(summaryLine(report, o.unicode)), Math.max(MIN_MESSAGE_COL, Math.floor(o.width)))
  const status = first.startsWith(report.status)
    ? c[REPORT_COLOR[report.status]].bold(report.status) + first.slice(report.status.length)
    : first
  return [status, ...rest].join('\n')
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
  const database = capText(
    displayDatabase(fold(workflowSafe(terminalSafe(String(tg.database).slice(0, 4 * SHOWN_CHARS))))).replace(/\s+/g, ' '),
    SHOWN_CHARS,
    o.unicode,
  )
  const entries: [string, string][] = [
    ['target:', `${t1(tg.engine)} ${database} (${t1(tg.sources.database)})`],
    ['audit: ', `${t1(tg.audit_dir)} (${t1(tg.sources.audit_dir)})`],
  ]
  return entries
    .flatMap(([label, value]) => {
      const [first = '', ...rest] = wrap(value, Math.max(MIN_MESSAGE_COL, Math.floor(o.width) - label.length - 1))
      return [
        `${c.bold(label.trim())}${label.slice(label.trim().length)} ${first}`,
        ...rest.map((l) => `${' '.repeat(label.length + 1)}${l}`),
      ]
    })
    .join('\n')
}

/** The longest piece of a check name between underscores (where a narrow column wraps it). */
function longestSegment(name: string): number {
  return Math.max(0, ...name.split(/(?<=_)/).map(displayWidth))
}

function checksTable(rows: CheckResult[], ctx: Ctx): string {
  const {c, o, t, t1} = ctx
  const names = rows.map((r) => t1(r.name))
  const labels = rows.map((r) => checkLabel(r, o.unicode))
  const messages = rows.map((r) => t(r.message))
  const times = rows.map((r) => formatDuration(r.duration_ms))
  const statusCol = Math.max('status'.length, ...labels.map(displayWidth)) + 2
  const checkCol = Math.min(MAX_CHECK_COL, Math.max('check'.length, ...names.map(displayWidth)) + 2)
  const checkFloor = Math.min(checkCol, Math.min(12, Math.max(6, ...names.map(longestSegment))) + 2)
  const timeCol = Math.max('time'.length, ...times.map((s) => s.length)) + 2
  const messageCol = Math.max('message'.length, ...messages.flatMap((m) => m.split('\n').map(displayWidth))) + 2
  const width = Math.floor(o.width)
  const styledLabel = (i: number): string => c[STATUS_COLOR[rows[i]?.status ?? 'ok']](labels[i] ?? '')

  // -v: time in its own column while the message keeps a comfortable width, else under the status.
  const separateTime = o.verbose
    ? fitColumns(
        [statusCol, checkCol, timeCol, messageCol],
        [
          {column: 3, floor: COMFORT_MESSAGE_COL},
          {column: 1, floor: checkFloor},
        ],
        width,
      )
    : null
  if (separateTime) {
    const [sw = 0, cw = 0, tw = 0, mw = 0] = separateTime
    return renderGrid(
      ['status', 'check', 'time', 'message'].map((h) => [c.bold(h)]),
      rows.map((_, i) => [[styledLabel(i)], wrap(names[i] ?? '', cw - 2), [times[i] ?? ''], wrap(messages[i] ?? '', mw - 2)]),
      {widths: [sw, cw, tw, mw], align: ['left', 'left', 'right', 'left'], unicode: o.unicode},
    )
  }
  const steps: Shrink[] = [
    {column: 2, floor: COMFORT_MESSAGE_COL},
    {column: 1, floor: checkFloor},
    {column: 2, floor: MIN_GRID_MESSAGE_COL},
  ]
  const folded = fitColumns([o.verbose ? Math.max(statusCol, timeCol) : statusCol, checkCol, messageCol], steps, width)
  if (folded) {
    const [sw = 0, cw = 0, mw = 0] = folded
    return renderGrid(
      ['status', 'check', 'message'].map((h) => [c.bold(h)]),
      rows.map((_, i) => [
        [styledLabel(i), ...(o.verbose ? [times[i] ?? ''] : [])],
        wrap(names[i] ?? '', cw - 2),
        wrap(messages[i] ?? '', mw - 2),
      ]),
      {widths: [sw, cw, mw], unicode: o.unicode},
    )
  }
  // Too narrow for a grid: each check on its own line, its message indented below.
  return rows
    .flatMap((_, i) => {
      const plainLabel = labels[i] ?? ''
      const [head = '', ...more] = wrap(`${plainLabel} ${names[i] ?? ''}${o.verbose ? ` ${times[i] ?? ''}` : ''}`, width)
      const styledHead = head.startsWith(plainLabel) ? styledLabel(i) + head.slice(plainLabel.length) : head
      return [styledHead, ...more, ...wrap(messages[i] ?? '', Math.max(1, width - 2)).map((l) => `  ${l}`)]
    })
    .join('\n')
}

/**
 * A command is printed only as it must be pasted: one line, nothing a terminal would interpret
 * or this terminal cannot show, not absurdly long. Otherwise it is described, not mangled.
 */
function pasteReady(cmd: string, unicode: boolean): boolean {
  return (
    cmd.length <= SHOWN_CHARS && !/[^\S ]/.test(cmd) && terminalSafe(cmd) === cmd && (unicode || toAscii(cmd) === cmd) && clean(cmd) === cmd
  )
}

function withheld(cmd: string): string {
  return `a command of ${cmd.length} characters that this terminal cannot show as typed: --format json has it exactly`
}

/** "  1. ✗ " — listed checks are never ok, so every glyph is one column wide. */
const ITEM_INDENT = ' '.repeat(7)

/**
 * One listed check: marker, glyph, bold name (and root causes), then its fix and commands,
 * wrapped. The message is left out when the table above shows it (`shown`): said once.
 */
function listItem(
  marker: string,
  item: {check: string; status: CheckStatus; message: string; fix?: Fix; downstream_of?: string[]},
  shown: boolean,
  {c, o, t, t1}: Ctx,
): string[] {
  const body = Math.max(MIN_MESSAGE_COL, Math.floor(o.width) - ITEM_INDENT.length)
  const glyph = c[STATUS_COLOR[item.status]](statusLabel(item.status, o.unicode).split(' ')[0] ?? '')
  const downstream = (item.downstream_of ?? []).map(t1).filter((s) => s !== '')
  const head = `${t1(item.check)}${downstream.length > 0 ? ` (downstream of ${downstream.join(', ')})` : ''}`
  const dash = o.unicode ? '—' : '-'
  const what = shown ? '' : `: ${t(item.message)}`
  const todo = item.fix ? `${dash} fix: ${t(item.fix.text)}` : `${dash} no fix suggested`
  const [first = '', ...rest] = wrap(`${head}${what} ${todo}`, body)
  // The head is bold; wrapping happened on the plain text.
  const firstStyled = first.startsWith(head) ? c.bold(head) + first.slice(head.length) : first
  const lines = [`${marker.padStart(4)} ${glyph} ${firstStyled}`, ...rest.map((l) => `${ITEM_INDENT}${l}`)]
  for (const cmd of item.fix?.commands ?? [])
    lines.push(`${ITEM_INDENT}  ${pasteReady(cmd, o.unicode) ? c.cyan(`$ ${clean(cmd)}`) : `(${t1(withheld(cmd))})`}`)
  return lines
}

function topIssuesList(report: Report, inTable: ReadonlySet<string>, ctx: Ctx): string {
  return [
    ctx.c.bold('Top issues'),
    ...report.top_issues.flatMap((issue) => listItem(`${issue.rank}.`, issue, inTable.has(issue.check), ctx)),
  ].join('\n')
}

/** Skipped checks that say how to make them apply (e.g. create the brain). */
function notCheckedList(checks: CheckResult[], inTable: ReadonlySet<string>, ctx: Ctx): string {
  return [ctx.c.bold('Not checked'), ...checks.flatMap((ch) => listItem('', {...ch, check: ch.name}, inTable.has(ch.name), ctx))].join('\n')
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
