/**
 * `disk_space` (storage): the filesystems that hold the audit trail, the dead-letter spool and
 * the run directory — where a failed batch's rows and the record of its failure go. On a full
 * disk both writes fail and the audit trail cannot show the loss (issue 10, class 5). For each
 * distinct filesystem: fail when less than {@link FAIL_FREE_BYTES} is free to this user or the
 * directory (or its nearest existing parent) is not writable (by this user when it owns it, else
 * by its owner: a monitoring account may read a brain it does not write); warn below {@link WARN_FREE_BYTES}
 * or {@link WARN_FREE_PCT} % free. A pure judge over facts-disk.ts (statfs, access: nothing written).
 */
import {shellQuote} from '../shared/shell-quote.js'
import {defineCheck} from './check.js'
import type {DiskFacts} from './facts/disk.js'
import type {CheckOutcome} from './types.js'
import {fixed} from './listing.js'

/** Below this a spool entry of one large batch may not fit: fail. */
export const FAIL_FREE_BYTES = 16 * 1024 * 1024
/** Warn below this much free space… */
export const WARN_FREE_BYTES = 256 * 1024 * 1024
/** …or below this share of the filesystem. */
export const WARN_FREE_PCT = 5

const size = (b: number): string =>
  b >= 1024 ** 3 ? `${(b / 1024 ** 3).toFixed(1)} GB` : b >= 1024 ** 2 ? `${(b / 1024 ** 2).toFixed(1)} MB` : `${Math.round(b / 1024)} KB`

export function judgeDiskSpace(facts: DiskFacts): CheckOutcome {
  const fails: string[] = []
  const warns: string[] = []
  const commands: string[] = []
  for (const f of facts.filesystems) {
    const pct = f.total_bytes > 0 ? (100 * f.free_bytes) / f.total_bytes : 100
    const where = `${f.roles.join(', ')} (${f.path})`
    if (!f.writable) fails.push(`${where} is not writable by its owner`)
    if (f.free_bytes < FAIL_FREE_BYTES) fails.push(`${where}: ${size(f.free_bytes)} free`)
    else if (f.free_bytes < WARN_FREE_BYTES || pct < WARN_FREE_PCT) warns.push(`${where}: ${size(f.free_bytes)} free (${pct.toFixed(1)} %)`)
    if (!f.writable || f.free_bytes < WARN_FREE_BYTES || pct < WARN_FREE_PCT) commands.push(`df -h ${shellQuote(f.path)}`)
  }
  for (const e of facts.errors) warns.push(`${e.role} (${e.path}) could not be measured: ${e.error}`)
  const status: CheckOutcome['status'] = fails.length > 0 ? 'fail' : warns.length > 0 ? 'warn' : 'ok'
  const minFree = Math.min(...facts.filesystems.map((f) => f.free_bytes), Number.POSITIVE_INFINITY)
  const details = {
    filesystems: facts.filesystems,
    errors: facts.errors,
    fail_below_bytes: FAIL_FREE_BYTES,
    warn_below_bytes: WARN_FREE_BYTES,
    warn_below_pct: WARN_FREE_PCT,
  }
  if (status === 'ok') {
    return {
      status,
      message: `Free space for the audit trail, spool and run files: ${facts.filesystems.map((f) => `${f.roles.join(', ')} ${size(f.free_bytes)}`).join('; ')}.`,
      details,
      observed_value: Number.isFinite(minFree) ? minFree : 0,
      observed_unit: 'bytes',
    }
  }
  return {
    status,
    message: `${[...fails, ...warns].join('; ')}. On a full disk a failed batch can be neither spooled nor recorded in the audit trail.`,
    details,
    ...(Number.isFinite(minFree) ? {observed_value: minFree, observed_unit: 'bytes'} : {}),
    threshold: {warn: WARN_FREE_BYTES, fail: FAIL_FREE_BYTES},
    fix: {
      text: 'Free space on these filesystems (or move the audit trail with GBRAIN_AUDIT_DIR), and make the directories writable by the user gbrain runs as; pruning old audit files helps too.',
      commands: [...commands, 'gbrain repair --prune-audit --older-than 30d'],
    },
  }
}

const MIB = 1024 * 1024

export const diskSpaceCheck = defineCheck({
  name: 'disk_space',
  category: 'storage',
  gatedOnConnection: false,
  needs: ['disk'],
  judge: (f) => judgeDiskSpace(f.disk),
  explain: {
    looksAt:
      'Free space, and write access, on the filesystems that hold the audit trail, the dead-letter spool and the run directory. A directory that is not writable fails.',
    thresholds: () => [
      fixed(FAIL_FREE_BYTES / MIB, {level: 'fail', comparison: '<', unit: 'MB', measure: 'free'}),
      fixed(WARN_FREE_BYTES / MIB, {level: 'warn', comparison: '<', unit: 'MB', measure: 'free'}),
      fixed(WARN_FREE_PCT, {level: 'warn', comparison: '<', unit: '%', measure: 'of the filesystem free'}),
    ],
  },
})
