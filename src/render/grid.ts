/**
 * A bordered grid of pre-wrapped cells, drawn in one pass: time and memory linear in the text
 * printed. Callers wrap and sanitise their cells; the grid only pads, aligns and draws borders.
 * (It replaces cli-table3, whose width code took time cubic in a cell's length: a 5,000-character
 * source id made `gbrain doctor` take a minute.)
 */
import {displayWidth} from './wrap.js'

export type Align = 'left' | 'right'

/** One cell: its lines, each already at most the column's inner width (styling allowed). */
export type Cell = readonly string[]

export interface GridSpec {
  /** Column widths including one space of padding either side. */
  widths: readonly number[]
  align?: readonly Align[]
  /** Box drawing characters; false → `+`, `-`, `|`. */
  unicode: boolean
  /** Ellipsis for a line that does not fit its column. */
  ellipsis?: string
  /** A rule between body rows too (for rows of several lines each). */
  rowRules?: boolean
}

const UNICODE = {top: ['┌', '┬', '┐'], mid: ['├', '┼', '┤'], bottom: ['└', '┴', '┘'], h: '─', v: '│'} as const
const ASCII = {top: ['+', '+', '+'], mid: ['+', '+', '+'], bottom: ['+', '+', '+'], h: '-', v: '|'} as const

/** SGR colour sequences only: the renderers' own styling (data is sanitised before it gets here). */
const SGR_RE = /\u001b\[[0-9;]*m/g

/** Columns a styled line takes. */
function visibleWidth(line: string): number {
  return displayWidth(line.includes('\u001b') ? line.replace(SGR_RE, '') : line)
}

/** Cut a plain line to `width` columns, ending with the ellipsis when cut. */
export function fitLine(line: string, width: number, ellipsis = '…'): string {
  if (visibleWidth(line) <= width) return line
  const plain = line.replace(SGR_RE, '')
  const room = Math.max(0, width - displayWidth(ellipsis))
  let out = ''
  let w = 0
  for (const ch of plain) {
    const cw = displayWidth(ch)
    if (w + cw > room) break
    out += ch
    w += cw
  }
  return out + (width >= displayWidth(ellipsis) ? ellipsis : '')
}

/** Output columns a grid of these column widths takes: the widths plus one border per column and one more. */
export function gridWidth(widths: readonly number[]): number {
  return widths.reduce((a, b) => a + b, 0) + widths.length + 1
}

/** One step of narrowing a grid: column `column` may lose width down to `floor` (padding included). */
export interface Shrink {
  column: number
  floor: number
}

/**
 * Column widths (padding included) that make a grid at most `total` columns wide: each column's
 * natural width, then, while the grid is too wide, the `steps` in order, each narrowing one
 * column no further than its floor (so the caller says which column yields first, e.g. a message
 * down to a comfortable width, then the check names, then the message again). `null` when the
 * grid cannot fit even after every step: the caller lays the rows out another way.
 */
export function fitColumns(natural: readonly number[], steps: readonly Shrink[], total: number): number[] | null {
  const widths = natural.map((w) => Math.max(3, Math.floor(w)))
  let excess = gridWidth(widths) - Math.floor(total)
  for (const {column, floor} of steps) {
    if (excess <= 0) break
    const w = widths[column] ?? 0
    const cut = Math.min(excess, Math.max(0, w - Math.max(3, floor)))
    widths[column] = w - cut
    excess -= cut
  }
  return excess <= 0 ? widths : null
}

/** The grid as text, no trailing newline: a header row, a rule, then the rows (compact). */
export function renderGrid(head: readonly Cell[], rows: readonly (readonly Cell[])[], spec: GridSpec): string {
  const b = spec.unicode ? UNICODE : ASCII
  const ellipsis = spec.ellipsis ?? (spec.unicode ? '…' : '...')
  const inner = spec.widths.map((w) => Math.max(0, w - 2))
  const rule = ([l, m, r]: readonly [string, string, string]): string => l + inner.map((w) => b.h.repeat(w + 2)).join(m) + r
  const out: string[] = [rule(b.top)]
  const draw = (cells: readonly Cell[]): void => {
    const height = Math.max(1, ...cells.map((c) => c.length))
    for (let i = 0; i < height; i++) {
      const parts = inner.map((w, col) => {
        const line = fitLine(cells[col]?.[i] ?? '', w, ellipsis)
        const pad = ' '.repeat(Math.max(0, w - visibleWidth(line)))
        return spec.align?.[col] === 'right' ? pad + line : line + pad
      })
      out.push(`${b.v} ${parts.join(` ${b.v} `)} ${b.v}`)
    }
  }
  draw(head)
  out.push(rule(b.mid))
  rows.forEach((row, i) => {
    if (i > 0 && spec.rowRules) out.push(rule(b.mid))
    draw(row)
  })
  out.push(rule(b.bottom))
  return out.join('\n')
}
