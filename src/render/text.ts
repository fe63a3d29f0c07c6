/**
 * Helpers shared by the renderers: redaction of every string that came from check data, removal
 * of terminal control sequences, ASCII folding, display width and wrapping, durations, the
 * status vocabulary as glyphs, the severity order of rows, and the one summary line.
 * Pure: nothing here reads the environment, the clock or the terminal.
 */
import {topIssues} from '../checks/report.js'
import type {CheckResult, CheckStatus, Report} from '../checks/types.js'
import {redactForDisplay as redactFull, redactUrl} from '../engine/redact.js'
import {terminalSafe, workflowSafe} from '../engine/safe-text.js'

export {terminalSafe, workflowSafe, type OutputKind} from '../engine/safe-text.js'

/**
 * Any value from check data as redacted text. Renderers call this on every string they did not
 * write themselves (defence in depth: checks redact already).
 */
export function clean(value: unknown): string {
  if (value === undefined || value === null) return ''
  return redactFull(typeof value === 'string' ? value : String(value))
}

/**
 * The target database as shown: a URL keeps its scheme, host name, port and database with the
 * credentials masked (`redactUrl`, idempotent on an already-masked URL — free-text redaction
 * would blank the whole URL), and the rest still goes through free-text redaction (an IPv4 host,
 * a stray `password=`); a data directory is free text.
 */
export function displayDatabase(value: string): string {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([\s\S]*)$/.exec(value.trim())
  if (!m) return clean(value)
  const masked = redactUrl(value.trim())
  const scheme = m[1] ?? ''
  return masked.startsWith(scheme) ? scheme + clean(masked.slice(scheme.length)) : clean(masked)
}

/**
 * Data text for a terminal: escape sequences and control characters out, no workflow command
 * (`##[` anywhere, `::` after a newline: see {@link workflowSafe}), folded to ASCII when
 * asked, then redacted — in that order, because removing or folding characters after redaction
 * could assemble a credential pattern redaction never saw (`pass\u001b[0mword=…`, fullwidth
 * `ｐａｓｓｗｏｒｄ=…`).
 */
export function terminalText(value: unknown, ascii = false): string {
  const safe = workflowSafe(terminalSafe(value === undefined || value === null ? '' : String(value)))
  return clean(ascii ? toAscii(safe) : safe)
}

/** {@link terminalText} on one line (whitespace runs collapsed, trimmed). */
export function oneLine(value: unknown, ascii = false): string {
  return terminalText(value, ascii).replace(/\s+/g, ' ').trim()
}

const ASCII_MAP: Record<string, string> = {
  '\u2014': '-', '\u2013': '-', '\u2012': '-', '\u2015': '-', '\u2212': '-', '\u2010': '-', '\u2011': '-',
  '\u2018': "'", '\u2019': "'", '\u201a': "'", '\u2032': "'",
  '\u201c': '"', '\u201d': '"', '\u201e': '"', '\u2033': '"', '\u00ab': '"', '\u00bb': '"',
  '\u2026': '...', '\u2192': '->', '\u2190': '<-', '\u21d2': '=>', '\u2265': '>=', '\u2264': '<=', '\u2260': '!=',
  '\u00d7': 'x', '\u00b7': '*', '\u2022': '*', '\u00a0': ' ', '\u202f': ' ', '\u2009': ' ', '\u00b5': 'u',
  '\u2713': 'v', '\u2714': 'v', '\u2717': 'x', '\u2718': 'x', '\u00b0': 'deg', '\u00a7': 'S', '\ufffd': '?',
}

/**
 * Fold text to printable ASCII for a terminal that is not UTF-8: common punctuation mapped
 * (`—` → `-`, `→` → `->`, `…` → `...`), accents dropped (`é` → `e`), anything else `?`.
 */
export function toAscii(text: string): string {
  let out = ''
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0
    if (code < 0x80) {
      out += ch
      continue
    }
    const mapped = ASCII_MAP[ch]
    if (mapped !== undefined) {
      out += mapped
      continue
    }
    const folded = ch.normalize('NFKD').replace(/\p{M}/gu, '')
    out += folded !== '' && /^[\x20-\x7e]+$/.test(folded) ? folded : '?'
  }
  return out
}

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

/** `412 ms` under a second, `1.3 s` from one second; `?` when not a duration. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?'
  if (ms < 1000) return `${Math.round(ms)} ms`
  return `${(ms / 1000).toFixed(1)} s`
}

/**
 * How long ago something happened, in whole units for a column of ages: `<1 min ago`,
 * `12 min ago`, `3 h ago` (under two days), `9 d ago`; a time more than a minute ahead of `now`
 * (a skewed clock) is `in 3 h`. `?` when not a duration.
 */
export function formatAgo(ms: number): string {
  if (!Number.isFinite(ms)) return '?'
  const ahead = ms < -60_000
  const abs = Math.abs(ms)
  const span = abs < 60_000 ? '<1 min' : abs < 3_600_000 ? `${Math.floor(abs / 60_000)} min` : abs < 172_800_000 ? `${Math.floor(abs / 3_600_000)} h` : `${Math.floor(abs / 86_400_000)} d`
  return ahead ? `in ${span}` : `${span} ago`
}

/** Glyphs that carry a status's meaning without colour. */
export const GLYPHS: Record<'unicode' | 'ascii', Record<CheckStatus, string>> = {
  unicode: {ok: '✓', warn: '!', fail: '✗', unknown: '?', skipped: '-'},
  ascii: {ok: 'OK', warn: '!', fail: 'X', unknown: '?', skipped: '-'},
}

/** `✓ ok`, `✗ fail`, … (`OK ok`, `X fail` in ASCII). */
export function statusLabel(status: CheckStatus, unicode: boolean): string {
  return `${GLYPHS[unicode ? 'unicode' : 'ascii'][status]} ${status}`
}

/** Order of the counts in summary lines: most severe first. */
export const COUNT_ORDER: readonly CheckStatus[] = ['fail', 'unknown', 'warn', 'ok', 'skipped']

/** `2 fail, 1 warn, 6 ok, 2 skipped` (zero counts left out; `no checks` when there are none). */
export function countsText(summary: Record<CheckStatus, number>, statuses: readonly CheckStatus[] = COUNT_ORDER): string {
  const parts = statuses.filter((s) => summary[s] > 0).map((s) => `${summary[s]} ${s}`)
  return parts.length > 0 ? parts.join(', ') : 'no checks'
}

/**
 * The one summary line every human format ends with:
 * `unhealthy: 2 fail, 1 warn, 6 ok, 2 skipped — health 55/100 (412 ms)`; when the database asked
 * about was not reached it says so first, and a score that would count the unchecked as healthy
 * is not given: `unknown: database not checked (no brain yet at …) — 7 ok, 6 skipped — health not
 * scored (21 ms)`.
 */
export function summaryLine(report: Report, unicode: boolean): string {
  const dash = unicode ? '—' : '-'
  const c = report.coverage
  const notChecked = c.database === 'not_reached' ? `database not checked (${c.reason ?? 'not reached'}) ${dash} ` : ''
  const score = report.health_score === null ? 'health not scored' : `health ${report.health_score}/100`
  return `${report.status}: ${notChecked}${countsText(report.summary)} ${dash} ${score} (${formatDuration(report.duration_ms)})`
}

/**
 * Every check in display order: the non-ok ones ranked as `topIssues` ranks them (fail, unknown,
 * warn; root causes before their symptoms; then catalogue order), then ok, then skipped, each in
 * catalogue order.
 */
export function orderedChecks(checks: readonly CheckResult[]): CheckResult[] {
  const byName = new Map<string, CheckResult[]>()
  for (const c of checks) byName.set(c.name, [...(byName.get(c.name) ?? []), c])
  const out: CheckResult[] = []
  for (const issue of topIssues(checks)) {
    const c = byName.get(issue.check)?.shift()
    if (c) out.push(c)
  }
  const placed = new Set(out)
  for (const status of ['fail', 'unknown', 'warn', 'ok', 'skipped'] as const) {
    for (const c of checks) if (c.status === status && !placed.has(c)) out.push(c)
  }
  return out
}

/**
 * A command's own plain output (no colour of its own) made safe whole: escape sequences and
 * control characters out, credentials redacted, no workflow command. Newlines are kept.
 */
export function humanText(text: string): string {
  return workflowSafe(terminalText(text))
}

/** The most characters of one data value a human format shows; the machine formats carry it whole. */
export const SHOWN_CHARS = 2000

/** Raw characters read from a value before it is sanitised: the sanitiser may shrink text (escape sequences), never grow it past this. */
const RAW_READ = 4 * SHOWN_CHARS

/**
 * One data value as a human format shows it: {@link terminalText} (or {@link oneLine}) cut to
 * {@link SHOWN_CHARS}, at a cost bounded whatever the value's length — only the first
 * {@link RAW_READ} characters are ever looked at. When the value is longer, the word the cut
 * went through is dropped before redaction, so a credential cut in half is never half shown.
 */
export function shownText(value: unknown, options: {ascii?: boolean; oneLine?: boolean} = {}): string {
  const raw = value === undefined || value === null ? '' : String(value)
  const cut = raw.length > RAW_READ
  let text = terminalSafe(cut ? raw.slice(0, RAW_READ) : raw)
  if (cut) text = text.replace(/\S+$/, '')
  text = workflowSafe(text)
  if (options.ascii) text = toAscii(text)
  if (options.oneLine) text = text.replace(/\s+/g, ' ').trim()
  text = clean(text)
  return capText(text, SHOWN_CHARS, !options.ascii, cut ? raw.length : text.length)
}

/**
 * Data text cut to `max` characters for a human format, saying how much of the `total` (the
 * value's length before any cut) was left out. Cut on a code point.
 */
export function capText(text: string, max = SHOWN_CHARS, unicode = true, total = text.length): string {
  if (text.length <= max && total <= text.length) return text
  let end = Math.min(max, text.length)
  const code = text.charCodeAt(end - 1)
  if (end < text.length && code >= 0xd800 && code <= 0xdbff) end -= 1
  return `${text.slice(0, end)}${unicode ? '…' : '...'} (${total - end} more characters; --format json shows all)`
}
