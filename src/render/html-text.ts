/**
 * Text for the HTML report: every string from a report, the history or the audit trail goes
 * through {@link htmlText} before it is placed in an element or an attribute. Control characters
 * and escape sequences out (shown as U+FFFD, as on a terminal), redacted, cut to a length a page
 * can hold, then the five characters HTML gives a meaning escaped. Pure.
 */
import {asText, clean, terminalSafe} from './text.js'
import {ellipsize} from '../shared/safe-text.js'

/** Longest text kept from one value (a message, a command, a site name). */
export const MAX_HTML_TEXT = 2000

const ESCAPES: Record<string, string> = {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}

/** Escape `& < > " '` (safe in element content and in a quoted attribute). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c)
}

/** Data text made safe for the page: no control characters, redacted, at most `max` characters, escaped. */
export function htmlText(value: unknown, max = MAX_HTML_TEXT): string {
  return escapeHtml(ellipsize(clean(terminalSafe(asText(value))), max))
}
