import {BaseCommand} from '../../cli/base-command.js'
import {needsInit} from '../../cli/errors.js'
import {listSources, type SourceRow} from '../../brain/sources.js'
import {classify} from '../../engine/classify.js'
import {renderGrid} from '../../render/grid.js'
import {decideUnicode} from '../../render/terminal.js'
import {capText, displayWidth, oneLine, wrap} from '../../render/text.js'

export function lastCycle(s: SourceRow): string {
  const c = s.config
  const v = c && typeof c === 'object' && !Array.isArray(c) ? (c as Record<string, unknown>).last_full_cycle_at : undefined
  return typeof v === 'string' ? v : v === undefined ? 'never' : JSON.stringify(v)
}

/** Widest a column gets before its text wraps (id, name, path, last full cycle, archived). */
const MAX_COL = [34, 34, 60, 34, 10]

/**
 * The sources as a grid for a person: every value from the database one safe line (the doctor's
 * sanitiser: no control characters, no workflow command, at most 2,000 characters), wrapped to
 * its column; rendering time grows with the rows, not with a value's length.
 */
export function sourcesGrid(sources: readonly SourceRow[], unicode: boolean): string {
  const head = ['id', 'name', 'path', 'last full cycle', 'archived']
  const cells = sources.map((s) => [s.id, s.name, s.local_path ?? '-', lastCycle(s), s.archived ? 'yes' : 'no'].map((v) => capText(oneLine(v, !unicode), undefined, unicode)))
  const widths = head.map((h, i) => Math.min(MAX_COL[i] ?? 34, Math.max(h.length, ...cells.map((row) => displayWidth(row[i] ?? ''))) + 2))
  return renderGrid(
    head.map((h) => [h]),
    cells.map((row) => row.map((v, i) => wrap(v, (widths[i] ?? 3) - 2))),
    {widths, unicode},
  )
}

export default class SourcesList extends BaseCommand<typeof SourcesList> {
  static override summary = 'List the brain’s sources'
  static override examples = ['<%= config.bin %> sources list', '<%= config.bin %> sources list --json']

  async run(): Promise<{sources: SourceRow[]}> {
    const engine = await this.engine(this.target())
    let sources: SourceRow[]
    try {
      sources = await listSources(engine)
    } catch (e) {
      if (classify(e).code === '42P01') throw needsInit('this brain has no gbrain tables yet (no sources table)')
      throw e
    }
    if (!this.jsonEnabled()) this.log(sources.length === 0 ? 'No sources yet: gbrain sources add ID --path DIR' : sourcesGrid(sources, decideUnicode(process.env)))
    return {sources}
  }
}
