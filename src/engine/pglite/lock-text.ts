/**
 * One line of text from a lock file or another process's argv, safe to show: control characters
 * (C0, C1, line separators) become spaces, credentials are redacted, the result is bounded.
 */
import {redact} from '../redact.js'

export function lockText(value: unknown): string {
  const s = typeof value === 'string' ? value : value === undefined || value === null ? '' : JSON.stringify(value)
  // eslint-disable-next-line no-control-regex
  return redact(s.slice(0, 4096).replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' '))
}
