import {BaseCommand} from '../cli/base-command.js'
import {NO_TARGET_FLAGS} from '../cli/no-target-flags.js'
import {versionInfo, versionLine, type VersionInfo} from '../cli/version.js'

export default class Version extends BaseCommand<typeof Version> {
  static override summary = 'Print the version of gbrain, its package, the platform and Node.js'
  static override description = 'gbrain --version prints the same line.'
  static override examples = ['<%= config.bin %> version', '<%= config.bin %> version --json']
  static override baseFlags = NO_TARGET_FLAGS

  async run(): Promise<VersionInfo> {
    const v = versionInfo(this.config)
    if (!this.jsonEnabled()) this.log(versionLine(v))
    return v
  }
}
