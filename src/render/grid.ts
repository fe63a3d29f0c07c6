/**
 * A bordered grid of pre-wrapped cells, drawn in one pass: time and memory linear in the text
 * printed. Callers wrap and sanitise their cells; the grid only pads, aligns and draws borders.
 * (It replaces cli-table3, whose width code took time cubic in a cell's length: a 5,000-character
 * source id made `gbrain doctor` take a minute.)
 */
import {displayWidth} from './text.js'

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
}

const UNICODE = {top: ['┌', '┬', '┐'], mid: ['├', '┼', '┤'], bottom: ['└', '┴', '┘'], h: '─', v: '│'} as const
const ASCII = {top: ['+', '+', '+'], mid: ['+', '+', '+'], bottom: ['+', '+', '+'], h: '-', v: '|'} as const

/** SGR colour sequences only: the renderers' own styling (data is sanitised before it gets here). */
const SGR_RE = /\u001b\[[0-9;]*m/g

/** Columns a styled line takes. */
export function visibleWidth(line: string): number {
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
  for (const row of rows) draw(row)
  out.push(rule(b.bottom))
  return out.join('\n')
}
