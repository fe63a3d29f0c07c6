/**
 * The command someone most likely meant when they typed one that does not exist: `docter` →
 * `doctor`, `sources lst` → `sources list`, `doc` → `doctor`. Nothing when no name is close, so a
 * far-off word never gets a misleading guess.
 */

/**
 * Edits between two strings, counting a swap of two neighbouring characters as one edit
 * (`dcotor` is one slip from `doctor`, not two).
 */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [Array.from({length: b.length + 1}, (_, j) => j)]
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let d = Math.min((rows[i - 1]?.[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (rows[i - 1]?.[j - 1] ?? 0) + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, (rows[i - 2]?.[j - 2] ?? 0) + 1)
      row.push(d)
    }
    rows.push(row)
  }
  return rows[a.length]?.[b.length] ?? Math.max(a.length, b.length)
}

/** Longest input looked at: a name is short; anything longer is not a slip of the keyboard. */
const MAX_TYPED = 64

/**
 * The closest of `names` to `typed`: within a third of its length in edits (at least one), or
 * the only name it starts (two characters or more). Ties go to the earlier name.
 */
export function closestName(typed: string, names: readonly string[]): string | undefined {
  const word = typed.trim().toLowerCase()
  if (word === '' || word.length > MAX_TYPED) return undefined
  const starts = names.filter((n) => n.startsWith(word))
  if (word.length >= 2 && starts.length === 1) return starts[0]
  const limit = Math.max(1, Math.floor(word.length / 3))
  let best: {name: string; d: number} | undefined
  for (const name of names) {
    const d = editDistance(word, name)
    if (d <= limit && (best === undefined || d < best.d)) best = {name, d}
  }
  return best?.name
}
