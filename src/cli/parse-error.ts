/**
 * oclif's parse errors (a missing argument, a bad or missing flag) turned into the one line every
 * usage error is: what is wrong, without oclif's headers and pointers to --help.
 */

/**
 * A parse error as one line that says what is wrong. oclif lists a missing argument on the lines
 * after "Missing 1 required arg:"; the line names it instead: `missing argument ID (stable id: …)`.
 */
export function parseErrorLine(e: unknown): string {
  const missing = (e as {args?: {name?: string; description?: string}[]}).args
  if (Array.isArray(missing) && missing.length > 0) {
    return `missing argument${missing.length > 1 ? 's' : ''} ${missing.map((a) => `${(a.name ?? '?').toUpperCase()}${a.description ? ` (${a.description})` : ''}`).join(', ')}`
  }
  // oclif spreads one error over lines ("Parsing --x", then the reason; a header, then the
  // flag): keep every line that says something, joined, without its pointers to --help.
  const lines = (e instanceof Error ? e.message : String(e))
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^See more help with --help$/i.test(l) && !/^The following errors? occurred:?$/i.test(l))
  if (lines.length === 0) return 'bad arguments'
  // "Missing required flag path" names the flag as it is typed: "--path is required".
  const required = /^Missing required flag:?\s*-*([\w-]+)$/i.exec(lines[0] ?? '')
  if (required && lines.length === 1) return `--${required[1]} is required`
  return lines.join(': ').replace(/::/g, ':')
}
