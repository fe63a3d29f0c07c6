import {Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {INTERNAL_SOURCE_ID, isHiddenSource, listSources, type SourceRow} from '../../brain/sources.js'
import {sourcesGrid} from '../../render/sources.js'
import {decideColor, decideUnicode, decideWidth} from '../../render/terminal.js'
import {workflowSafe} from '../../render/text.js'
import {wrap} from '../../render/wrap.js'

export default class SourcesList extends BaseCommand<typeof SourcesList> {
  static override summary = 'List the brain’s sources'
  static override description = `Ages are measured from now; --json has the stored times. gbrain's internal "default" source (no local path) is left out unless --all is given; --json always lists every source.`
  static override examples = [
    '<%= config.bin %> sources list',
    '<%= config.bin %> sources list --all',
    '<%= config.bin %> sources list --json',
  ]
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
