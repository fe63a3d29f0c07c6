/**
 * A command line that names no command (`gbrain docter`, `gbrain sources lst`, `gbrain doctor
 * extra`): one usage line with the likely command as the fix, or the JSON error with --json, and
 * exit 64 — never a prompt, so a script or a CI job is never left waiting.
 */
import {Errors, type Interfaces} from '@oclif/core'
import {ellipsize} from '../shared/safe-text.js'
import {oneLine} from '../render/text.js'
import {nextWords, resolveWords} from './command-words.js'
import {errorJson, errorLine, wantsJson} from './error-output.js'
import {EXIT, type DescribedError} from './errors.js'
import {closestName} from './suggest.js'

/** How the fix spells the command it suggests: `gbrain doctor`, `gbrain help doctor`, `gbrain doctor --help`. */
export type FixForm = (command: string) => string

const RUN_FORM: FixForm = (command) => `gbrain ${command}`

/** Typed text as shown inside the message: one sanitised line, short. */
function shown(text: string): string {
  return ellipsize(oneLine(text), 40)
}

const quoted = (text: string): string => JSON.stringify(shown(text))

/** The visible command ids. */
export function visibleIds(config: Interfaces.Config): string[] {
  return config.commands.filter((c) => !c.hidden).map((c) => c.id)
}

/** What is wrong with `words` (which name no command) and the fix. */
function unknownCommand(ids: readonly string[], words: readonly string[], form: FixForm = RUN_FORM): DescribedError {
  const at = resolveWords(ids, words)
  const known = at.id === '' ? [] : at.id.split(':')
  if (at.kind === 'command') {
    return {
      code: 'USAGE',
      message: `unexpected argument ${quoted(at.rest.join(' '))} for gbrain ${known.join(' ')}`,
      hint: `see: gbrain ${known.join(' ')} --help`,
      exit: EXIT.usage,
    }
  }
  const bad = at.rest[0] ?? ''
  if (at.id === '' && bad.startsWith('-')) {
    return {
      code: 'USAGE',
      message: `${quoted(bad)} comes before any command`,
      hint: `put it after the command: gbrain COMMAND ${shown(bad)}; see: gbrain help`,
      exit: EXIT.usage,
    }
  }
  const guess = closestName(bad, nextWords(ids, at.id))
  const see = `see: gbrain help${known.length > 0 ? ` ${known.join(' ')}` : ''}`
  const typed = [...known, bad].join(' ')
  if (guess === undefined)
    return {code: 'USAGE', message: `unknown command ${quoted(typed)}`, hint: `${see} for the commands`, exit: EXIT.usage}
  const meant = [...known, guess].join(' ')
  return {
    code: 'USAGE',
    message: `unknown command ${quoted(typed)} — did you mean "${meant}"?`,
    hint: `${form(meant)}; ${see}`,
    exit: EXIT.usage,
  }
}

/** Say so (stderr line, or JSON on stdout when `argv` has --json) and exit 64. */
export function failUnknownCommand(
  config: Interfaces.Config,
  words: readonly string[],
  argv: readonly string[],
  form: FixForm = RUN_FORM,
): never {
  const d = unknownCommand(visibleIds(config), words, form)
  if (wantsJson([...words, ...argv])) process.stdout.write(`${errorJson(d)}\n`)
  else process.stderr.write(`${errorLine(d)}\n`)
  return Errors.exit(d.exit)
}
