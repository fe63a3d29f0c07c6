import {Args, Flags} from '@oclif/core'
import {promises as fs} from 'node:fs'
import path from 'node:path'
import {BaseCommand} from '../../cli/base-command.js'
import {UsageError} from '../../cli/errors.js'
import {addSource, type SourceRow} from '../../brain/sources.js'
import {classify} from '../../engine/index.js'

export default class SourcesAdd extends BaseCommand<typeof SourcesAdd> {
  static override summary = 'Add a markdown source (or update its path and name)'
  static override examples = ['<%= config.bin %> sources add notes --path ~/notes --name "My notes"']
  static override args = {id: Args.string({description: 'stable id: 1–32 of a-z, 0-9, -', required: true})}
  static override flags = {
    path: Flags.string({description: 'the directory holding the markdown files', required: true}),
    name: Flags.string({description: 'display name (default: the id)'}),
  }

  async run(): Promise<{created: boolean; source: SourceRow}> {
    const dir = path.resolve(this.flags.path)
    const st = await fs.stat(dir).catch(() => undefined)
    if (!st?.isDirectory()) throw new UsageError(`--path ${dir} is not a directory`, 'pass the directory that holds the markdown files')
    const engine = await this.engine(this.target())
    let result
    try {
      result = await addSource(engine, {id: this.args.id, name: this.flags.name, localPath: dir})
    } catch (e) {
      if (classify(e).kind === 'constraint')
        throw new UsageError(
          `another source already uses the name ${JSON.stringify(this.flags.name ?? this.args.id)}`,
          'pick another --name',
        )
      throw e
    }
    if (!this.jsonEnabled()) this.log(`${result.created ? 'Added' : 'Updated'} source ${result.source.id} → ${result.source.local_path}`)
    return result
  }
}
