/**
 * Text on a terminal: the columns a string takes (an approximation of wcwidth) and word wrap that
 * never breaks what reads as one thing (a number and its unit, a timestamp) and splits a word too
 * long for its line after a separator rather than cutting it. Pure.
 */

function isWide(code: number): boolean {
  return (
    (code >= 0x1100 && code <= 0x115f) ||
    (code >= 0x2e80 && code <= 0xa4cf && code !== 0x303f) ||
    (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) ||
    (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) ||
    (code >= 0x1f300 && code <= 0x1f64f) ||
    (code >= 0x1f900 && code <= 0x1f9ff) ||
    (code >= 0x20000 && code <= 0x3fffd)
  )
}

/** Columns a (control-free, colour-free) string takes on a terminal: an approximation of wcwidth. */
export function displayWidth(text: string): number {
  let w = 0
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0
    if (/\p{M}/u.test(ch) || code === 0x200b || code === 0x200d || (code >= 0xfe00 && code <= 0xfe0f)) continue
    w += isWide(code) ? 2 : 1
  }
  return w
}

/** Characters after which a word too long for its line is best broken: path separators first… */
const STRONG_BREAK = new Set(['/', '\\'])
/** …then the punctuation inside identifiers and lists. */
const WEAK_BREAK = new Set(['_', '-', ',', ';', ':', '.', '=', '&', '?', '|', ')', ']', '}'])

/** An ISO 8601 date or timestamp inside a word: never split when it fits on a line. */
const ISO_RE = /\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?/g

/** For each character of `chars`, the index of the first character of the timestamp it is inside (not first of), else -1. */
function timestampStarts(word: string, chars: readonly string[]): number[] | null {
  const matches = [...word.matchAll(ISO_RE)]
  if (matches.length === 0) return null
  const starts = new Array<number>(chars.length).fill(-1)
  // String offsets → character indices (a character may be two UTF-16 units).
  const charAt = new Map<number, number>()
  let offset = 0
  chars.forEach((ch, i) => {
    charAt.set(offset, i)
    offset += ch.length
  })
  for (const m of matches) {
    const first = charAt.get(m.index) ?? -1
    const last = charAt.get(m.index + m[0].length) ?? chars.length
    for (let i = first + 1; i < last && first >= 0; i++) starts[i] = first
  }
  return starts
}

/**
 * Split a word longer than `width` columns into pieces of at most `width` columns, each ending
 * after a path separator, else after other punctuation, when there is one past the first third
 * of the piece (`/home/ops/.gbrain/audit/` · `batch-retry-2025-W02.jsonl`, `sync_` · `freshness`), else
 * cut at the width — but before, not inside, a timestamp that fits on a line of its own. Linear
 * in the word's length.
 */
function hardSplit(word: string, width: number): string[] {
  const chars = Array.from(word)
  const inStamp = timestampStarts(word, chars)
  const pieces: string[] = []
  let start = 0
  while (start < chars.length) {
    let end = start
    let w = 0
    let strong = -1
    let weak = -1
    while (end < chars.length) {
      const cw = displayWidth(chars[end] ?? '')
      if (w + cw > width && end > start) break
      w += cw
      end += 1
      const ch = chars[end - 1] ?? ''
      if ((inStamp?.[end] ?? -1) >= 0) continue
      if (STRONG_BREAK.has(ch)) strong = end
      else if (WEAK_BREAK.has(ch)) weak = end
    }
    const stampStart = end < chars.length ? (inStamp?.[end] ?? -1) : -1
    const usable = (at: number): boolean => at > start && 3 * (at - start) >= end - start
    if (stampStart > start) end = stampStart
    else if (end < chars.length && usable(strong)) end = strong
    else if (end < chars.length && usable(weak)) end = weak
    pieces.push(chars.slice(start, end).join(''))
    start = end
  }
  return pieces
}

/** A unit after a number: `3 h`, `412 ms`, `95 %`, `1.2 MB` stay on one line. */
const UNIT_RE = /^(?:ms|s|min|h|d|w|B|KB|MB|GB|TB|KiB|MiB|GiB|TiB|%)[)\]},.;:!?]*$/
/** A comparison before a number: `(> 6 h)`, `≥ 5`. */
const OP_RE = /^[([]?(?:[<>≤≥=~]|[<>!=]=)$/
/** A date, then its time: `2025-01-14 09:14:02`. */
const DATE_RE = /^[([]?\d{4}-\d{2}-\d{2}$/
const TIME_RE = /^\d{1,2}:\d{2}/

/** Whether `next` belongs on the same line as the token `prev` it follows. */
function glued(prev: string, next: string): boolean {
  return (/\d$/.test(prev) && UNIT_RE.test(next)) || (OP_RE.test(prev) && /^\d/.test(next)) || (DATE_RE.test(prev) && TIME_RE.test(next))
}

/**
 * The words of a paragraph, grouped where a line break would separate what reads as one thing:
 * a number and its unit, a comparison and its number, a date and its time.
 */
function wordGroups(paragraph: string): string[][] {
  const groups: string[][] = []
  for (const word of paragraph.split(/\s+/)) {
    if (word === '') continue
    const last = groups.at(-1)
    const prev = last?.at(-1)
    if (last !== undefined && prev !== undefined && glued(prev, word)) last.push(word)
    else groups.push([word])
  }
  return groups
}

/**
 * Greedy word wrap to `width` columns. Newlines in the text start new lines; whitespace runs
 * collapse to one space; a line never breaks inside a number and its unit (`3 h`), a comparison
 * and its number, or a date and its time when they fit on one line; a word longer than the width
 * (a URL, a path) is split rather than cut — after a separator where it can be — so nothing is
 * lost. An ISO timestamp is one word: it is only ever split when the width is narrower than it.
 */
export function wrap(text: string, width: number): string[] {
  const w = Math.max(1, Math.floor(width))
  const lines: string[] = []
  for (const paragraph of text.split('\n')) {
    let line = ''
    let lineW = 0
    const put = (piece: string, pw: number): void => {
      if (line === '') {
        line = piece
        lineW = pw
      } else if (lineW + 1 + pw <= w) {
        line += ` ${piece}`
        lineW += 1 + pw
      } else {
        lines.push(line)
        line = piece
        lineW = pw
      }
    }
    for (const group of wordGroups(paragraph)) {
      const joined = group.join(' ')
      const gw = displayWidth(joined)
      if (group.length > 1 && gw <= w) {
        put(joined, gw)
        continue
      }
      for (const word of group) {
        for (const piece of displayWidth(word) > w ? hardSplit(word, w) : [word]) put(piece, displayWidth(piece))
      }
    }
    lines.push(line)
  }
  return lines
}
