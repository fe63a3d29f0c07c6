/**
 * `gbrain sources list` for a person: a grid of the sources (id, name, path, the last full cycle
 * as an age) that fits the terminal, or one source under the other when it cannot. Pure: the
 * clock, width, colour and Unicode are options.
 */
import {Chalk} from 'chalk'
import {lastCycle, type SourceRow} from '../brain/sources.js'
import {fitColumns, renderGrid} from './grid.js'
import {capText, formatAgo, oneLine} from './text.js'
import {displayWidth, wrap} from './wrap.js'

/** The last full cycle as an age (`3 h ago`, `never`); a value that is not a time is shown as stored. */
export function cycleAge(s: SourceRow, now: number): string {
  const raw = lastCycle(s)
  if (raw === 'never') return raw
  const at = /^\d{4}-\d{2}-\d{2}T/.test(raw) ? Date.parse(raw) : Number.NaN
  return Number.isNaN(at) ? raw : formatAgo(now - at)
}

export interface SourcesGridOptions {
  unicode: boolean
  color: boolean
  /** Terminal width in columns (see decideWidth). */
  width: number
  /** The clock the ages are measured against. */
  now: number
}

/** Each column narrows, in this order, no further than its floor when the grid is too wide. */
const SHRINK = [
  {column: 2, floor: 24},
  {column: 1, floor: 16},
  {column: 3, floor: 13},
  {column: 0, floor: 14},
  {column: 2, floor: 14},
  {column: 1, floor: 12},
  {column: 0, floor: 10},
  {column: 2, floor: 12},
  {column: 1, floor: 10},
] as const

/**
 * The sources for a person: id, name, path, the last full cycle as an age (the ISO time is in
 * `--json`), and `archived` when one of them is. Every value from the database is one safe line
 * (the doctor's sanitiser: no control characters, no workflow command, at most 2,000
 * characters), wrapped to its column; the grid fits `width`, or — narrower than its columns can
 * go — each source is listed on its own lines. Rendering time grows with the rows, not with a
 * value's length.
 */
export function sourcesGrid(sources: readonly SourceRow[], options: SourcesGridOptions): string {
  const {unicode, width} = options
  const bold = new Chalk({level: options.color ? 1 : 0}).bold
  const archived = sources.some((s) => s.archived)
  const head = ['id', 'name', 'path', 'last full cycle', ...(archived ? ['archived'] : [])]
  const cells = sources.map((s) =>
    [s.id, s.name, s.local_path ?? '-', cycleAge(s, options.now), ...(archived ? [s.archived ? 'yes' : 'no'] : [])].map((v) =>
      capText(oneLine(v, !unicode), undefined, unicode),
    ),
  )
  const natural = head.map((h, i) => Math.max(h.length, ...cells.map((row) => displayWidth(row[i] ?? ''))) + 2)
  const widths = fitColumns(natural, SHRINK, width)
  if (widths) {
    return renderGrid(
      head.map((h, i) => wrap(h, (widths[i] ?? 3) - 2).map((l) => bold(l))),
      cells.map((row) => row.map((v, i) => wrap(v, (widths[i] ?? 3) - 2))),
      {widths, unicode},
    )
  }
  return cells
    .flatMap((row) => {
      const [id = '', name = '', dir = '', age = '', gone] = row
      const fields: [string, string][] = [
        ['name', name],
        ['path', dir],
        ['last full cycle', age],
        ...(gone === undefined ? [] : [['archived', gone] as [string, string]]),
      ]
      return [
        ...wrap(id, width).map((l) => bold(l)),
        ...fields.flatMap(([k, v]) => wrap(`${k}: ${v}`, Math.max(1, width - 2)).map((l) => `  ${l}`)),
      ]
    })
    .join('\n')
}
