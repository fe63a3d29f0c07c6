/**
 * Text from outside (a database, a file, another process) made safe to print: no terminal
 * control, no CI workflow command. The one sanitiser every printer uses, the engine's own stderr
 * lines included; the renderers add redaction, folding and wrapping on top (render/text.ts).
 * No imports: the lowest layer can use it.
 */

/** CSI (`ESC [ … final`) and OSC (`ESC ] … BEL|ST`) sequences: an injected colour or title change. */
const ANSI_RE = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\|$)|\u009b[0-?]*[ -/]*[@-~]/g
/** C0/C1 controls except tab and newline, DEL, and the bidi overrides/isolates ("Trojan Source"). */
const CONTROL_RE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g

/**
 * Text safe to print on a terminal: escape sequences removed whole, other control characters
 * (and bidi overrides) shown as U+FFFD, tabs as a space, CR/CRLF as a newline.
 */
export function terminalSafe(text: string): string {
  return text.replace(ANSI_RE, '').replace(/\r\n?/g, '\n').replace(/\t/g, ' ').replace(CONTROL_RE, '\uFFFD')
}

/** Output a workflow-command neutraliser writes for: plain text, JSON, or XML. */
export type OutputKind = 'text' | 'json' | 'xml'

/** Where the runner splits lines (StreamReader: CR, LF, CRLF), then trims leading white space. */
const LINE_START_COMMAND = /(^|[\r\n])([^\S\r\n]*)::/g

/**
 * Output that a GitHub Actions runner will not execute. The runner reads every line a step
 * prints, on stdout and stderr, and runs it as a workflow command when, after leading white
 * space, it starts with `::` (`::stop-commands::`, `::error file=…::`), or when it holds `##[`
 * anywhere (the older syntax). Data from a database or a file can put either there, directly
 * or where a wrapped line begins. This pass is the last one before printing; it leaves the
 * text's meaning alone: JSON gets `#\u0023[` (the same string once parsed), XML a character
 * reference, plain text a space (`# #[`, `: :`). The `github` format's own annotations are the
 * one output that does not go through here: their data is escaped inside the command.
 */
export function workflowSafe(text: string, kind: OutputKind = 'text'): string {
  const hash = kind === 'json' ? '#\\u0023[' : kind === 'xml' ? '#&#35;[' : '# #['
  const colon = kind === 'xml' ? '&#58;:' : ': :'
  const out = text.includes('##[') ? text.split('##[').join(hash) : text
  // JSON text never starts a line inside a string (newlines are escaped), so it keeps `::`.
  return kind === 'json' || !out.includes('::') ? out : out.replace(LINE_START_COMMAND, `$1$2${colon}`)
}

/** One line for stderr from the engine: terminal-safe, no workflow command, whitespace collapsed. */
export function safeLine(text: string): string {
  return workflowSafe(terminalSafe(text).replace(/\s+/g, ' ').trim())
}

/**
 * At most `max` characters: cut at a word boundary when one is near the end (never mid-word
 * unless a word is longer than a quarter of `max`), with `…` where text was left out.
 */
export function ellipsize(text: string, max: number): string {
  if (text.length <= max) return text
  const room = Math.max(1, max - 1)
  let end = room
  const space = text.lastIndexOf(' ', room)
  if (space >= room - Math.floor(max / 4) && space > 0) end = space
  else if (end > 0 && text.charCodeAt(end - 1) >= 0xd800 && text.charCodeAt(end - 1) <= 0xdbff) end -= 1
  return `${text.slice(0, end).trimEnd()}…`
}
