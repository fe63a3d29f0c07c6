/**
 * The one way a command we print for pasting quotes its arguments: anything read from disk or
 * the database (a source id, a path, a pid label) may hold spaces, quotes, `;`, `$(…)`, newlines.
 * Single quotes keep every byte literal in a POSIX shell; a `'` inside becomes `'\''`.
 */

/**
 * One argument, quoted unless it is plainly safe. Quoting cannot stop a program from reading a
 * value as an option (`'-rf'` is still `-rf`): see {@link flagArgs} for values after a flag.
 */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`
}

/** A whole command line from argv, each argument quoted as needed. */
export function shellCommand(...argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ')
}

/** `--name value`, or `--name=value` when the value could be read as an option itself. */
export function flagArgs(name: string, value: string): string[] {
  return value.startsWith('-') ? [`${name}=${value}`] : [name, value]
}
