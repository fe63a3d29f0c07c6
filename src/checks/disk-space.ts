/**
 * `disk_space` (storage): the filesystems that hold the audit trail, the dead-letter spool and
 * the run directory — where a failed batch's rows and the record of its failure go. On a full
 * disk both writes fail and the audit trail cannot show the loss (issue 10, class 5). For each
 * distinct filesystem: fail when less than {@link FAIL_FREE_BYTES} is free to this user or the
 * directory (or its nearest existing parent) is not writable (by this user when it owns it, else
 * by its owner: a monitoring account may read a brain it does not write); warn below {@link WARN_FREE_BYTES}
 * or {@link WARN_FREE_PCT} % free. Read-only: statfs and access(W_OK), nothing is written.
 */
import {constants, promises as fs} from 'node:fs'
import path from 'node:path'
import type {BrainPaths} from '../engine/paths.js'
import {summarizeError} from '../engine/redact.js'
import {shellQuote} from '../engine/shell-quote.js'
import {myUid} from '../engine/trust.js'
import type {CheckDef} from './check.js'
import type {FileCheckFacts} from './facts-files.js'
import type {CheckOutcome} from './types.js'

/** Below this a spool entry of one large batch may not fit: fail. */
export const FAIL_FREE_BYTES = 16 * 1024 * 1024
/** Warn below this much free space… */
export const WARN_FREE_BYTES = 256 * 1024 * 1024
/** …or below this share of the filesystem. */
export const WARN_FREE_PCT = 5

export interface DiskFacts {
  /** One entry per distinct filesystem, with the brain directories it holds. */
  filesystems: Array<{
    /** The directories (audit, spool, run) on this filesystem. */
    roles: string[]
    /** The directory measured: the role's directory, or its nearest existing parent. */
    path: string
    free_bytes: number
    total_bytes: number
    writable: boolean
  }>
  /** Directories that could not be measured, with why. */
  errors: Array<{role: string; path: string; error: string}>
}

async function nearestExisting(dir: string): Promise<{path: string; dev: number; uid: number; mode: number}> {
  let p = path.resolve(dir)
  for (;;) {
    try {
      const st = await fs.stat(p)
      return {path: p, dev: st.dev, uid: st.uid, mode: st.mode}
    } catch (e) {
      const parent = path.dirname(p)
      if (parent === p || (e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
      p = parent
    }
  }
}

export async function gatherDisk(paths: BrainPaths): Promise<DiskFacts> {
  const facts: DiskFacts = {filesystems: [], errors: []}
  const byDev = new Map<number, DiskFacts['filesystems'][number]>()
  for (const [role, dir] of [['audit', paths.auditDir], ['spool', paths.spoolDir], ['run', paths.runDir]] as const) {
    try {
      const at = await nearestExisting(dir)
      const known = byDev.get(at.dev)
      if (known) {
        known.roles.push(role)
        continue
      }
      const s = await fs.statfs(at.path)
      // Writable by whoever writes there: this user for its own directory; for a brain another
      // user owns (a monitoring account running the doctor), its owner.
      const me = myUid()
      const writable = me === undefined || at.uid === me ? await fs.access(at.path, constants.W_OK).then(() => true, () => false) : (at.mode & 0o200) !== 0
      const entry = {roles: [role], path: at.path, free_bytes: s.bavail * s.bsize, total_bytes: s.blocks * s.bsize, writable}
      byDev.set(at.dev, entry)
      facts.filesystems.push(entry)
    } catch (e) {
      facts.errors.push({role, path: dir, error: summarizeError(e)})
    }
  }
  return facts
}

const size = (b: number): string => (b >= 1024 ** 3 ? `${(b / 1024 ** 3).toFixed(1)} GB` : b >= 1024 ** 2 ? `${(b / 1024 ** 2).toFixed(1)} MB` : `${Math.round(b / 1024)} KB`)

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
  const details = {filesystems: facts.filesystems, errors: facts.errors, fail_below_bytes: FAIL_FREE_BYTES, warn_below_bytes: WARN_FREE_BYTES, warn_below_pct: WARN_FREE_PCT}
  if (status === 'ok') {
    return {status, message: `Free space for the audit trail, spool and run files: ${facts.filesystems.map((f) => `${f.roles.join(', ')} ${size(f.free_bytes)}`).join('; ')}.`, details, observed_value: Number.isFinite(minFree) ? minFree : 0, observed_unit: 'bytes'}
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

export const diskSpaceCheck: CheckDef<FileCheckFacts> = {
  name: 'disk_space',
  category: 'storage',
  database: false,
  async judge(facts) {
    return judgeDiskSpace(await facts.disk())
  },
}
