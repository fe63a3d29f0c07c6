/**
 * Shared wording of the checks: counts with their nouns, permission bits, and the paragraphs
 * several checks say the same way (an unreadable audit file), written once so they cannot drift.
 */
import * as path from 'node:path'
import {shellQuote} from '../shared/shell-quote.js'

import {plural} from '../shared/plural.js'
import {redactForStorage as redact} from '../shared/redact.js'
import type {RetryPolicyIssue} from '../engine/index.js'

export {plural}

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
  return /EISDIR|not a regular file/i.test(error)
    ? `mv ${shellQuote(file)} ${shellQuote(`${file}.not-audit`)}`
    : `chmod 600 ${shellQuote(file)}`
}

/** `2 audit files unreadable: /a (EACCES), /b (EISDIR)` — how every check names them. */
export function unreadableAuditFiles(files: ReadonlyArray<{file: string; error: string}>): string {
  return `${plural(files.length, 'audit file')} unreadable: ${files.map((u) => `${u.file} (${u.error})`).join(', ')}`
}

/** The fix sentence for unreadable audit files: `the` file one check reads, `each` of the trail. */
export function unreadableAuditFix(which: 'the' | 'each'): string {
  return `Make ${which} audit file readable by its owner (or move a non-file out of the audit directory).`
}

/** Invalid GBRAIN_BULK_* settings as structured details (value and message redacted). */
export function issueDetails(issues: readonly RetryPolicyIssue[]): {variable: string; value: string; message: string; fix: string}[] {
  return issues.map((i) => ({variable: i.variable, value: redact(i.value), message: redact(i.message), fix: i.fix}))
}
