/** A count with its noun: `1 file` / `3 files` (`many` for irregular plurals: `2 batches`). */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`
}
