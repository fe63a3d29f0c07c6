/**
 * `gbrain doctor --list` for a person: every check of the catalogue with its category, what it
 * needs, what it looks at and its thresholds. Five columns when the terminal is wide enough for
 * the two texts to read comfortably; otherwise two — the check (name, category, needs, one per
 * line) and its explanation with the thresholds below it. Pure, like the report renderers.
 */
import {Chalk} from 'chalk'
import type {ListedCheck, ListedThreshold} from '../checks/listing.js'
import {fitColumns, renderGrid} from './grid.js'
import {toAscii, workflowSafe} from './text.js'
import {displayWidth, wrap} from './wrap.js'

export interface CheckListOptions {
  color: boolean
  unicode: boolean
  /** Terminal width in columns (see decideWidth). */
  width: number
}

/** Each explanation column of the five-column layout keeps at least this width. */
const MIN_TEXT_COL = 40

const widest = (texts: readonly string[]): number => Math.max(0, ...texts.map(displayWidth))
/** Widest piece between underscores: where a narrow column wraps a check name. */
const widestSegment = (names: readonly string[]): number => widest(names.flatMap((n) => n.split(/(?<=_)/)))

/**
 * A threshold as the table shows it: the rule, then on its own line what sets it (or `(fixed)`
 * after the rule). Read from the catalogue's words (`warn > 6 h … (default; set by X)`, `… (fixed)`).
 */
function thresholdLine(t: ListedThreshold): string {
  if (t.setting === null) return t.text
  const setBy = ` (default; set by ${t.setting})`
  return t.text.endsWith(setBy) ? `${t.text.slice(0, -setBy.length)}\nset by ${t.setting}` : t.text
}

export function renderCheckList(checks: readonly ListedCheck[], options: CheckListOptions): string {
  const c = new Chalk({level: options.color ? 1 : 0})
  const fold = (s: string): string => (options.unicode ? s : toAscii(s))
  const bullet = options.unicode ? '•' : '*'
  const width = Math.floor(options.width)
  const names = checks.map((ch) => fold(ch.name))
  const looks = checks.map((ch) => fold(ch.looks_at))
  const limits = checks.map((ch) => (ch.thresholds.length > 0 ? ch.thresholds.map((t) => fold(thresholdLine(t))) : ['none']))
  const nameCol = widest(['check', ...names]) + 2
  const nameFloor = Math.min(nameCol, Math.min(12, Math.max(6, widestSegment(names))) + 2)
  /** Thresholds as bullet lines, each wrapped with a hanging indent (its setting on a line of its own). */
  const bullets = (lines: readonly string[], w: number): string[] =>
    lines.flatMap((l) => wrap(l, Math.max(1, w - 2)).map((x, i) => `${i === 0 ? bullet : ' '} ${x}`))

  const categoryCol = widest(['category', ...checks.map((ch) => ch.category)]) + 2
  const needsCol = widest(['needs', ...checks.map((ch) => ch.needs)]) + 2
  const looksCol = widest(looks) + 2
  const limitsCol = widest(limits.flat().flatMap((l) => l.split('\n'))) + 4
  const wide = fitColumns(
    [nameCol, categoryCol, needsCol, looksCol, limitsCol],
    [
      {column: 3, floor: 80},
      {column: 4, floor: 60},
      {column: 3, floor: MIN_TEXT_COL},
      {column: 4, floor: MIN_TEXT_COL},
    ],
    width,
  )
  let grid: string
  if (wide) {
    const [nw = 0, cw = 0, dw = 0, lw = 0, tw = 0] = wide
    grid = renderGrid(
      ['check', 'category', 'needs', 'what it looks at', 'thresholds (defaults)'].map((h) => [c.bold(h)]),
      checks.map((ch, i) => [
        [c.bold(names[i] ?? '')],
        [ch.category],
        [ch.needs],
        wrap(looks[i] ?? '', lw - 2),
        bullets(limits[i] ?? [], tw - 2),
      ]),
      {widths: [nw, cw, dw, lw, tw], unicode: options.unicode, rowRules: true},
    )
  } else {
    const textCol = Math.max(widest(looks), widest(limits.flat().flatMap((l) => l.split('\n'))) + 2) + 2
    const [nw = nameFloor, tw = 24] =
      fitColumns(
        [Math.max(nameCol, categoryCol, needsCol), textCol],
        [
          {column: 1, floor: 30},
          {column: 0, floor: nameFloor},
          {column: 1, floor: 20},
        ],
        width,
      ) ?? []
    grid = renderGrid(
      [
        [c.bold('check'), 'category', 'needs'],
        [c.bold('what it looks at'), `${bullet} thresholds (defaults)`],
      ],
      checks.map((ch, i) => [
        [...wrap(names[i] ?? '', nw - 2).map((l) => c.bold(l)), ch.category, ch.needs],
        [...wrap(looks[i] ?? '', tw - 2), ...bullets(limits[i] ?? [], tw - 2)],
      ]),
      {widths: [nw, tw], unicode: options.unicode, rowRules: true},
    )
  }
  const count = `${checks.length} ${checks.length === 1 ? 'check' : 'checks'}. The same as JSON: gbrain doctor --list --json`
  return workflowSafe(`${grid}\n${wrap(count, Math.max(20, width)).join('\n')}\n`)
}
