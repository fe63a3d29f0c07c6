import path from 'node:path'
import {Args} from '@oclif/core'
import {BaseCommand} from '../cli/base-command.js'
import {NO_TARGET_FLAGS} from '../cli/no-target-flags.js'
import {completionCommands, completionScript, COMPLETION_SHELLS, type CompletionShell} from '../cli/completion.js'
import {UsageError} from '../cli/errors.js'
import {oneLine} from '../render/text.js'

export default class Autocomplete extends BaseCommand<typeof Autocomplete> {
  static override summary = 'Print the shell completion script for bash or zsh'
  static override description =
    'It completes commands, topics, flags and the values a flag accepts (doctor --format), and leaves paths to the shell. Load it in this shell with source <(gbrain autocomplete bash); the comment at the top of the script says how to load it in every new shell. Without SHELL, the shell is taken from $SHELL.'
  static override examples = [
    'source <(<%= config.bin %> autocomplete bash)',
    '<%= config.bin %> autocomplete bash > ~/.local/share/bash-completion/completions/gbrain',
    'source <(<%= config.bin %> autocomplete zsh)',
  ]
  static override args = {shell: Args.string({description: 'bash or zsh (default: from $SHELL)', options: [...COMPLETION_SHELLS]})}
  static override enableJsonFlag = false
  static override baseFlags = NO_TARGET_FLAGS

  async run(): Promise<void> {
    const shell = (this.args.shell as CompletionShell | undefined) ?? shellFrom(process.env.SHELL)
    // The script is made from the commands' own names and flags only (checked words), nothing typed or read.
    process.stdout.write(completionScript(shell, completionCommands(this.config.commands)))
  }
}

function shellFrom(login: string | undefined): CompletionShell {
  const name = path.basename(login ?? '')
  const shell = COMPLETION_SHELLS.find((s) => s === name)
  if (shell) return shell
  throw new UsageError(
    `which shell? SHELL is ${login ? JSON.stringify(oneLine(login)) : 'not set'}, and completion is for bash or zsh`,
    'name it: gbrain autocomplete bash (or zsh)',
  )
}
