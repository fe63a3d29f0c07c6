/**
 * What a cycle extracts from one markdown file: its title, timeline entries
 * (`- YYYY-MM-DD: text` lines) and `[[wikilinks]]`. Pure: bad input is counted, never thrown.
 */

export interface TimelineEntry {
  date: string
  summary: string
}

export interface ParsedNote {
  title: string
  timeline: TimelineEntry[]
  links: string[]
  invalidDates: number
  unterminatedLinks: number
  duplicates: number
}

/** Longest summary we store; longer text is cut (the key includes the summary). */
const MAX_SUMMARY_CHARS = 1000

const TIMELINE_LINE = /^\s*[-*]\s+(\d{4})-(\d{2})-(\d{2})\s*:\s*(.+?)\s*$/
const LOOKS_LIKE_DATED = /^\s*[-*]\s+\d{1,4}-\d{1,2}-\d{1,2}\s*:/

/** A slug from a path or link target: lower case, `.md` dropped, runs of spaces/underscores → `-`. */
export function slugify(target: string): string {
  return target
    .trim()
    .replace(/\\/g, '/')
    .replace(/\.md$/i, '')
    .toLowerCase()
    .replace(/[\s_]+/g, '-')
    .replace(/\/+/g, '/')
    .replace(/^\/|\/$/g, '')
}

export function isValidDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false
  const days = new Date(Date.UTC(y, m, 0)).getUTCDate()
  return d <= days && y >= 1
}

export function parseNote(text: string, fallbackTitle: string): ParsedNote {
  const timeline: TimelineEntry[] = []
  const seenEntries = new Set<string>()
  const links: string[] = []
  const seenLinks = new Set<string>()
  let title: string | undefined
  let invalidDates = 0
  let unterminatedLinks = 0
  let duplicates = 0
  let inFence = false

  for (const line of text.split(/\r?\n/)) {
    if (/^\s*(```|~~~)/.test(line)) {
      inFence = !inFence
      continue
    }
    if (inFence) continue
    if (title === undefined) {
      const h = /^#\s+(.+?)\s*#*\s*$/.exec(line)
      if (h?.[1]) title = h[1]
    }
    const t = TIMELINE_LINE.exec(line)
    if (t) {
      const [y, m, d] = [Number(t[1]), Number(t[2]), Number(t[3])]
      if (!isValidDate(y, m, d)) {
        invalidDates += 1
      } else {
        const entry = {date: `${t[1]}-${t[2]}-${t[3]}`, summary: t[4]!.slice(0, MAX_SUMMARY_CHARS)}
        const key = `${entry.date}\u0000${entry.summary}`
        if (seenEntries.has(key)) duplicates += 1
        else {
          seenEntries.add(key)
          timeline.push(entry)
        }
      }
    } else if (LOOKS_LIKE_DATED.test(line)) {
      invalidDates += 1
    }
    // Wikilinks: [[target]], [[target|alias]], [[target#heading]]; an opener without a closer
    // on the same line is unterminated.
    let from = 0
    for (;;) {
      const open = line.indexOf('[[', from)
      if (open < 0) break
      const close = line.indexOf(']]', open + 2)
      const nextOpen = line.indexOf('[[', open + 2)
      if (close < 0 || (nextOpen >= 0 && nextOpen < close)) {
        unterminatedLinks += 1
        from = open + 2
        continue
      }
      const inner = line.slice(open + 2, close)
      from = close + 2
      const target = slugify(inner.split('|')[0]!.split('#')[0]!)
      if (target === '') continue
      if (seenLinks.has(target)) duplicates += 1
      else {
        seenLinks.add(target)
        links.push(target)
      }
    }
  }
  return {title: title ?? fallbackTitle, timeline, links, invalidDates, unterminatedLinks, duplicates}
}

/** Binary content: a NUL byte in the first 8 KiB, or invalid UTF-8. */
export function looksBinary(buf: Buffer): boolean {
  if (buf.subarray(0, 8192).includes(0)) return true
  try {
    new TextDecoder('utf-8', {fatal: true}).decode(buf)
    return false
  } catch {
    return true
  }
}
