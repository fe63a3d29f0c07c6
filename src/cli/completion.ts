/**
 * Shell completion for `gbrain`: a bash script made from the commands' own metadata (names,
 * flags, the values a flag accepts), so it can never list a command or flag that does not exist.
 * zsh runs the same function through its bash compatibility layer (`bashcompinit`). The script
 * asks nothing of the brain: completing is instant and works with the database down.
 */
import {idPrefixes, nextWords} from './command-words.js'

/** A flag as completion needs it. */
export interface CompletionFlag {
  name: string
  char?: string
  /** The flag takes a value (`--format json`); booleans do not. */
  takesValue: boolean
  /** The only values it accepts, when there is such a list. */
  values?: readonly string[]
  /** A boolean with a `--no-` form. */
  negatable?: boolean
}

export interface CompletionCommand {
  /** oclif's id: words joined by `:` (`sources:add`). */
  id: string
  flags: readonly CompletionFlag[]
}

export type CompletionShell = 'bash' | 'zsh'
export const COMPLETION_SHELLS: readonly CompletionShell[] = ['bash', 'zsh']

/** What oclif knows about a command, as far as completion needs it. */
interface LoadableLike {
  id: string
  hidden?: boolean
  flags?: Record<string, {type: string; char?: string; options?: readonly string[]; hidden?: boolean; allowNo?: boolean} | undefined>
}

/** The visible commands and their visible flags, sorted, every one answering to --help. */
export function completionCommands(commands: readonly LoadableLike[]): CompletionCommand[] {
  return commands
    .filter((c) => !c.hidden)
    .map((c) => ({
      id: c.id,
      flags: [
        ...Object.entries(c.flags ?? {})
          .filter(([, f]) => f && !f.hidden)
          .map(([name, f]) => ({
            name,
            char: f?.char,
            takesValue: f?.type === 'option',
            values: f?.options,
            negatable: f?.allowNo === true,
          })),
        {name: 'help', char: 'h', takesValue: false},
      ],
    }))
    .sort((a, b) => a.id.localeCompare(b.id))
}

// Every word the script holds is checked against these, so nothing in it needs quoting.
const WORD = /^[a-z0-9][a-z0-9-]*$/
const VALUE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/

function checked(word: string, pattern: RegExp): string {
  if (!pattern.test(word)) throw new Error(`completion: ${JSON.stringify(word)} cannot go into a shell script unquoted`)
  return word
}

function flagWords(flags: readonly CompletionFlag[]): string[] {
  const words: string[] = []
  for (const f of flags) {
    words.push(`--${checked(f.name, WORD)}`)
    if (f.negatable) words.push(`--no-${f.name}`)
    if (f.char) words.push(`-${checked(f.char, WORD)}`)
  }
  return words
}

/** One `case` arm per key; keys and words are plain (checked) words. */
function caseArms(arms: readonly [string, readonly string[]][], indent: string): string {
  return arms.map(([key, words]) => `${indent}${key}) echo "${words.join(' ')}" ;;`).join('\n')
}

/** The completion function and its `complete` line, for bash (and zsh through bashcompinit). */
function bashBody(commands: readonly CompletionCommand[]): string {
  const commandIds = commands.map((c) => c.id)
  const ids = idPrefixes(commandIds).map((id) =>
    id
      .split(':')
      .map((w) => checked(w, WORD))
      .join(':'),
  )
  const topics = ids.filter((id) => !commandIds.includes(id))
  const childArms: [string, string[]][] = ['', ...topics].map((t) => [t === '' ? '""' : t, nextWords(commandIds, t)])
  const flagArms: [string, string[]][] = commands.map((c) => [c.id, flagWords(c.flags)])
  const valueFlags = commands.flatMap((c) => c.flags.filter((f) => f.takesValue).map((f) => ({id: c.id, f})))
  const valueArms = valueFlags.map(
    ({id, f}) => `    "${id} --${f.name}") echo "${(f.values ?? []).map((v) => checked(v, VALUE)).join(' ')}"; return 0 ;;`,
  )
  return `_gbrain_ids=" ${ids.join(' ')} "

# The words that can follow a topic (or the top level): commands and topics.
_gbrain_children() {
  case "$1" in
${caseArms(childArms, '    ')}
  esac
}

# A command's flags.
_gbrain_flags() {
  case "$1" in
${caseArms(flagArms, '    ')}
  esac
}

# The values a command's flag accepts; fails when the flag takes no value.
_gbrain_values() {
  case "$1 $2" in
${valueArms.join('\n')}
  esac
  return 1
}

_gbrain_complete() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]}
  local id="" help=0 i w values
  # --flag=value: the shell splits it at "=".
  if [[ $cur == "=" ]]; then cur=""; elif [[ $prev == "=" ]]; then prev=\${COMP_WORDS[COMP_CWORD-2]}; fi
  # The command typed so far: the longest run of words that names a command or topic.
  for (( i = 1; i < COMP_CWORD; i++ )); do
    w=\${COMP_WORDS[i]}
    if [[ -z $id && $help == 0 && $w == help ]]; then help=1; continue; fi
    case "$_gbrain_ids" in
      *" \${id:+$id:}$w "*) id=\${id:+$id:}$w ;;
      *) break ;;
    esac
  done
  if [[ $help == 1 ]]; then
    COMPREPLY=( $(compgen -W "$(_gbrain_children "$id")" -- "$cur") )
    return 0
  fi
  if values=$(_gbrain_values "$id" "$prev"); then
    # An empty list: a path or free text, left to the shell's default completion.
    COMPREPLY=( $(compgen -W "$values" -- "$cur") )
    return 0
  fi
  local flags
  flags=$(_gbrain_flags "$id")
  if [[ -n $flags ]]; then
    COMPREPLY=( $(compgen -W "$flags" -- "$cur") )
  else
    COMPREPLY=( $(compgen -W "$(_gbrain_children "$id")" -- "$cur") )
  fi
  return 0
}
complete -o default -F _gbrain_complete gbrain
`
}

/** The completion script for `shell`. */
export function completionScript(shell: CompletionShell, commands: readonly CompletionCommand[]): string {
  if (shell === 'zsh') {
    return `# gbrain completion for zsh (from: gbrain autocomplete zsh)
# This shell:  source <(gbrain autocomplete zsh)
# Every shell: add that line to ~/.zshrc, after compinit.
autoload -U +X bashcompinit && bashcompinit
${bashBody(commands)}`
  }
  return `# gbrain completion for bash (from: gbrain autocomplete bash)
# This shell:  source <(gbrain autocomplete bash)
# Every shell: gbrain autocomplete bash > ~/.local/share/bash-completion/completions/gbrain
${bashBody(commands)}`
}
