import {Flags} from '@oclif/core'
import {Chalk} from 'chalk'
import {BaseCommand} from '../../cli/base-command.js'
import {listSources, type SourceRow} from '../../brain/sources.js'
import {fitColumns, renderGrid} from '../../render/grid.js'
import {decideColor, decideUnicode, decideWidth} from '../../render/terminal.js'
import {capText, formatAgo, oneLine, workflowSafe} from '../../render/text.js'
import {displayWidth, wrap} from '../../render/wrap.js'

/** The source gbrain makes in every brain for pages with no source of their own; it has no local path. */
export const INTERNAL_SOURCE_ID = 'default'

/** Whether a person's listing leaves the source out without `--all`: gbrain's internal `default`, unless it was given a local path. */
export function isHiddenSource(s: SourceRow): boolean {
  return s.id === INTERNAL_SOURCE_ID && (s.local_path === null || s.local_path === '')
}

/** The stored `last_full_cycle_at` as text: `never` when there is none. */
export function lastCycle(s: SourceRow): string {
  const c = s.config
  const v = c && typeof c === 'object' && !Array.isArray(c) ? (c as Record<string, unknown>).last_full_cycle_at : undefined
  return typeof v === 'string' ? v : v === undefined || v === null ? 'never' : JSON.stringify(v)
}

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
    [s.id, s.name, s.local_path ?? '-', cycleAge(s, options.now), ...(archived ? [s.archived ? 'yes' : 'no'] : [])].map((v) => capText(oneLine(v, !unicode), undefined, unicode)),
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
      const fields: [string, string][] = [['name', name], ['path', dir], ['last full cycle', age], ...(gone === undefined ? [] : [['archived', gone] as [string, string]])]
      return [...wrap(id, width).map((l) => bold(l)), ...fields.flatMap(([k, v]) => wrap(`${k}: ${v}`, Math.max(1, width - 2)).map((l) => `  ${l}`))]
    })
    .join('\n')
}

export default class SourcesList extends BaseCommand<typeof SourcesList> {
  static override summary = 'List the brain’s sources'
  static override description = `Ages are measured from now; --json has the stored times. gbrain's internal "default" source (no local path) is left out unless --all is given; --json always lists every source.`
  static override examples = ['<%= config.bin %> sources list', '<%= config.bin %> sources list --all', '<%= config.bin %> sources list --json']
  static override flags = {
    all: Flags.boolean({description: 'also list gbrain’s internal "default" source'}),
  }

  async run(): Promise<{sources: SourceRow[]}> {
    const engine = await this.engine(this.target())
    // No tables: the error line says `gbrain init` (describeError), like every command's.
    const sources: SourceRow[] = await listSources(engine)
    if (this.jsonEnabled()) return {sources}
    const shown = this.flags.all ? sources : sources.filter((s) => !isHiddenSource(s))
    const hidden = sources.length - shown.length
    const isTTY = Boolean(process.stdout.isTTY)
    const width = decideWidth({isTTY, columns: process.stdout.columns, env: process.env})
    const unicode = decideUnicode(process.env)
    const out: string[] = []
    if (shown.length === 0) out.push(...wrap('No sources yet: gbrain sources add ID --path DIR', width))
    else out.push(sourcesGrid(shown, {unicode, color: decideColor({flag: undefined, env: process.env, isTTY}), width, now: Date.now()}))
    if (hidden > 0) out.push(...wrap(`(gbrain's internal "${INTERNAL_SOURCE_ID}" source is not listed; --all lists it)`, width))
    // Every value in it went through the sanitiser (oneLine); written directly so the header's bold survives.
    process.stdout.write(workflowSafe(`${out.join('\n')}\n`))
    return {sources}
  }
}
