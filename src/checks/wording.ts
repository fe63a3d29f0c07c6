/**
 * Shared wording of the checks: counts with their nouns, permission bits, and the paragraphs
 * several checks say the same way (an unreadable audit file), written once so they cannot drift.
 */
import * as path from 'node:path'
import {shellQuote} from '../engine/shell-quote.js'

export {plural} from '../engine/plural.js'

/** `0644`. */
export function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, '0')}`
}

/** A paste-ready fix for an audit file the reader could not read. */
export function unreadableFileCommand(file: string, error: string): string {
  if (/ENOTDIR/.test(error)) {
    // The audit directory itself is a file: move it aside (the writer recreates the directory).
    const dir = path.dirname(file)
    return `mv ${shellQuote(dir)} ${shellQuote(`${dir}.not-audit`)}`
  }
  return /EISDIR|not a regular file/i.test(error) ? `mv ${shellQuote(file)} ${shellQuote(`${file}.not-audit`)}` : `chmod 600 ${shellQuote(file)}`
}
