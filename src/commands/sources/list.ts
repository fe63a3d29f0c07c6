import Table from 'cli-table3'
import {BaseCommand} from '../../cli/base-command.js'
import {UsageError} from '../../cli/errors.js'
import {listSources, type SourceRow} from '../../brain/sources.js'
import {classify} from '../../engine/classify.js'

export function lastCycle(s: SourceRow): string {
  const c = s.config
  const v = c && typeof c === 'object' && !Array.isArray(c) ? (c as Record<string, unknown>).last_full_cycle_at : undefined
  return typeof v === 'string' ? v : v === undefined ? 'never' : JSON.stringify(v)
}

export default class SourcesList extends BaseCommand<typeof SourcesList> {
  static override summary = 'List the brain’s sources'

  async run(): Promise<{sources: SourceRow[]}> {
    const engine = await this.engine(this.target())
    let sources: SourceRow[]
    try {
      sources = await listSources(engine)
    } catch (e) {
      if (classify(e).code === '42P01') throw new UsageError('this brain has no sources table yet', 'run: gbrain init')
      throw e
    }
    if (!this.jsonEnabled()) {
      const table = new Table({head: ['id', 'name', 'path', 'last full cycle', 'archived']})
      for (const s of sources) table.push([s.id, s.name, s.local_path ?? '-', lastCycle(s), s.archived ? 'yes' : 'no'])
      this.log(table.toString())
    }
    return {sources}
  }
}
