import {Args} from '@oclif/core'
import {BaseCommand} from '../cli/base-command.js'
import {NO_TARGET_FLAGS} from '../cli/no-target-flags.js'
import GbrainHelp from '../cli/help.js'

export default class HelpCommand extends BaseCommand<typeof HelpCommand> {
  static override summary = 'Show help for gbrain, a topic or a command'
  static override description =
    'The same text as --help (or -h) after the command. Words that name no command are a usage error (exit 64) that names the closest command.'
  static override examples = ['<%= config.bin %> help', '<%= config.bin %> help doctor', '<%= config.bin %> help sources add']
  static override args = {command: Args.string({description: 'the command or topic, as typed (sources add)'})}
  static override strict = false
  static override enableJsonFlag = false
  static override baseFlags = NO_TARGET_FLAGS

  async run(): Promise<void> {
    const help = new GbrainHelp(this.config, this.config.pjson.oclif.helpOptions, (command) => `gbrain help ${command}`)
    await help.showHelp(this.argv)
  }
}
