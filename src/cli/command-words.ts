/**
 * Command lines as words: which leading words name a command or a topic (`sources add`), and
 * which words may come next. oclif's ids join the words with `:` (`sources:add`).
 */

/** Where a command line's words lead: a command, a topic, or nowhere past the top level. */
export interface ResolvedWords {
  /** The id the leading words name ('' for none). */
  id: string
  kind: 'root' | 'topic' | 'command'
  /** The words after it. */
  rest: string[]
}

/** Every id a run of leading words can name: the commands and the topics above them. */
export function idPrefixes(ids: readonly string[]): string[] {
  const out = new Set<string>()
  for (const id of ids) {
    const words = id.split(':')
    for (let i = 1; i <= words.length; i++) out.add(words.slice(0, i).join(':'))
  }
  return [...out].sort()
}

/** The words that may follow `prefix` ('' for the top level), sorted: `sources` → add, list. */
export function nextWords(ids: readonly string[], prefix: string): string[] {
  const depth = prefix === '' ? 0 : prefix.split(':').length
  const words = ids
    .map((id) => id.split(':'))
    .filter((w) => w.length > depth && w.slice(0, depth).join(':') === prefix)
    .map((w) => w[depth] ?? '')
  return [...new Set(words)].sort()
}

/** The longest run of leading words naming a command or topic; a command ends the run. */
export function resolveWords(ids: readonly string[], words: readonly string[]): ResolvedWords {
  const known = new Set(idPrefixes(ids))
  const commands = new Set(ids)
  let id = ''
  let used = 0
  for (const word of words) {
    if (commands.has(id)) break
    const next = id === '' ? word : `${id}:${word}`
    if (!known.has(next)) break
    id = next
    used++
  }
  return {id, kind: id === '' ? 'root' : commands.has(id) ? 'command' : 'topic', rest: words.slice(used)}
}
