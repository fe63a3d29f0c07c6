/**
 * One line of text from a lock file or another process's argv, safe to show: the one sanitiser
 * (no terminal control, no workflow command, one line), credentials redacted, bounded.
 */
import {redactForStorage} from '../../shared/redact.js'
import {safeLine} from '../../shared/safe-text.js'

export function lockText(value: unknown): string {
  const s = typeof value === 'string' ? value : value === undefined || value === null ? '' : JSON.stringify(value)
  return redactForStorage(safeLine(s.slice(0, 4096)))
}
