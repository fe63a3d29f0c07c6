/**
 * Helpers shared by the renderers: redaction of every string that came from check data, removal
 * of terminal control sequences, ASCII folding, durations, and data text cut to what a human
 * format shows (display width and wrapping: wrap.ts; the report as a whole: summary.ts).
 * Pure: nothing here reads the environment, the clock or the terminal.
 */
import {redactForDisplay as redactFull, redactUrl} from '../shared/redact.js'
import {terminalSafe, workflowSafe} from '../shared/safe-text.js'

export {terminalSafe, workflowSafe, type OutputKind} from '../shared/safe-text.js'

/**
 * Any value from check data as text, as `String()` gives it (an object's own `toString` included);
 * nothing for `undefined` and `null`.
 */
export function asText(value: unknown): string {
  if (value === undefined || value === null) return ''
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' || typeof value === 'symbol')
    return String(value)
  // An object or a function: what its own toString says (`[object Object]` when it has none).
  const own: {toString(): string} = value
  return String(own)
}

/**
 * Any value from check data as redacted text. Renderers call this on every string they did not
 * write themselves (defence in depth: checks redact already).
 */
export function clean(value: unknown): string {
  return redactFull(asText(value))
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
  const safe = workflowSafe(terminalSafe(asText(value)))
  return clean(ascii ? toAscii(safe) : safe)
}

/** {@link terminalText} on one line (whitespace runs collapsed, trimmed). */
export function oneLine(value: unknown, ascii = false): string {
  return terminalText(value, ascii).replace(/\s+/g, ' ').trim()
}

const ASCII_MAP: Record<string, string> = {
  '\u2014': '-',
  '\u2013': '-',
  '\u2012': '-',
  '\u2015': '-',
  '\u2212': '-',
  '\u2010': '-',
  '\u2011': '-',
  '\u2018': "'",
  '\u2019': "'",
  '\u201a': "'",
  '\u2032': "'",
  '\u201c': '"',
  '\u201d': '"',
  '\u201e': '"',
  '\u2033': '"',
  '\u00ab': '"',
  '\u00bb': '"',
  '\u2026': '...',
  '\u2192': '->',
  '\u2190': '<-',
  '\u21d2': '=>',
  '\u2265': '>=',
  '\u2264': '<=',
  '\u2260': '!=',
  '\u00d7': 'x',
  '\u00b7': '*',
  '\u2022': '*',
  '\u00a0': ' ',
  '\u202f': ' ',
  '\u2009': ' ',
  '\u00b5': 'u',
  '\u2713': 'v',
  '\u2714': 'v',
  '\u2717': 'x',
  '\u2718': 'x',
  '\u00b0': 'deg',
  '\u00a7': 'S',
  '\ufffd': '?',
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
  const span =
    abs < 60_000
      ? '<1 min'
      : abs < 3_600_000
        ? `${Math.floor(abs / 60_000)} min`
        : abs < 172_800_000
          ? `${Math.floor(abs / 3_600_000)} h`
          : `${Math.floor(abs / 86_400_000)} d`
  return ahead ? `in ${span}` : `${span} ago`
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
  const raw = asText(value)
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
