/**
 * gbrain's help: oclif's formatter with four changes. A command's summary is said once (at the
 * top, not again under DESCRIPTION). An example's command is wrapped between words only (oclif
 * cuts a long path in two, which no shell can run), and an example may be several commands, one
 * a line. Help for words that name nothing is the usage error every unknown command gets (one
 * line, the likely command, exit 64). `COLUMNS` sets the width when `OCLIF_COLUMNS` does not.
 * Descriptions are plain paragraphs: oclif wraps them to the width.
 */
import {type Command, CommandHelp, Help, type Interfaces} from '@oclif/core'
import {displayWidth} from '../render/wrap.js'
import {resolveWords} from './command-words.js'
import {failUnknownCommand, visibleIds, type FixForm} from './unknown-command.js'
import {useVersionLine} from './version.js'

/** The width asked for by `COLUMNS` (40–1000), unless `OCLIF_COLUMNS` (which oclif reads) is set. */
function helpWidth(env: NodeJS.ProcessEnv): number | undefined {
  if (env.OCLIF_COLUMNS) return undefined
  const n = Number.parseInt(env.COLUMNS ?? '', 10)
  return Number.isFinite(n) && n > 0 ? Math.min(Math.max(n, 40), 1000) : undefined
}

/** Shell words: runs of anything but blanks and quotes, or quoted strings, glued together. */
const SHELL_WORD = /(?:[^\s'"]+|'[^']*'|"(?:[^"\\]|\\.)*")+/g

/**
 * One command line within `width` columns, broken only between shell words and continued with
 * ` \` (the next line indented two more): pasted, it is the same command. A line that does not
 * split into words cleanly (an open quote) is left whole.
 */
function wrapCommandLine(line: string, width: number): string {
  const words = line.match(SHELL_WORD) ?? []
  if (words.join('') !== line.replace(/\s+/g, '')) return line
  const lines: string[] = []
  let current = ''
  for (const word of words) {
    const next = current === '' ? word : `${current} ${word}`
    // Room for the two-space indent of a continued line and the trailing ` \`.
    if (current !== '' && displayWidth(next) + 4 > width) {
      lines.push(current)
      current = word
    } else current = next
  }
  lines.push(current)
  return lines.join(' \\\n  ')
}

class GbrainCommandHelp extends CommandHelp {
  /** The description alone: the summary already heads the page. */
  protected override description(): string | undefined {
    const text = this.command.description
    return text ? this.wrap(text) : undefined
  }

  /** Each example: its description wrapped, then its commands, one a line, each `$ `-prefixed. */
  protected override examples(examples: Command.Example[] | string | undefined): string | undefined {
    const list = typeof examples === 'string' ? [examples] : (examples ?? [])
    if (list.length === 0) return undefined
    return list
      .map((e) => {
        const {description, command} = typeof e === 'string' ? {description: undefined, command: e} : e
        // The section indents by 2; under a description, commands go 2 further.
        const indent = description ? 4 : 2
        const commands = this.render(command)
          .split(/\r?\n/)
          .filter((l) => l.trim() !== '')
          .map((l) => wrapCommandLine(`$ ${l.trim()}`, this.opts.maxWidth - indent))
          .join('\n')
        return description ? `${this.wrap(description, 4)}\n\n${this.indent(commands)}` : commands
      })
      .join('\n\n')
  }
}

/** The fix `gbrain docter --help` gets: `gbrain doctor --help`. */
const FLAG_FORM: FixForm = (command) => `gbrain ${command} --help`

export default class GbrainHelp extends Help {
  protected override CommandHelpClass = GbrainCommandHelp

  constructor(
    config: Interfaces.Config,
    opts: Partial<Interfaces.HelpOptions> = {},
    private readonly fixForm: FixForm = FLAG_FORM,
  ) {
    const width = helpWidth(process.env)
    super(config, width === undefined ? opts : {maxWidth: width, ...opts})
    useVersionLine(config)
  }

  /** Help for the command or topic the leading words name (the rest are its arguments). */
  public override async showHelp(argv: string[]): Promise<void> {
    const helpFlags = new Set(['--help', ...(this.config.pjson.oclif.additionalHelpFlags ?? [])])
    const words: string[] = []
    for (const arg of argv) {
      if (arg === '--' || (arg.startsWith('-') && !helpFlags.has(arg))) break
      if (!helpFlags.has(arg)) words.push(arg)
    }
    // `gbrain help doctor --help` is help for doctor.
    if (words[0] === 'help' && words.length > 1) words.shift()
    const at = resolveWords(visibleIds(this.config), words)
    if (at.kind !== 'command' && at.rest.length > 0) failUnknownCommand(this.config, words, argv, this.fixForm)
    // Straight to the page: oclif's own lookup skips the word `help`, so `gbrain help help` would
    // show the root help.
    const command = at.kind === 'command' ? this.config.findCommand(at.id) : undefined
    const topic = at.kind === 'topic' ? this.config.findTopic(at.id) : undefined
    if (command) await this.showCommandHelp(command)
    else if (topic) await this.showTopicHelp(topic)
    else await this.showRootHelp()
  }
}
