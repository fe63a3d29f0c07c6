/**
 * The disk facts `disk_space` judges: for the audit, spool and run directories (or their nearest
 * existing parents), each distinct filesystem's free space and whether it is writable. Read-only:
 * stat, statfs and access(W_OK).
 */
import {constants, promises as fs} from 'node:fs'
import path from 'node:path'
import type {BrainPaths} from '../../engine/index.js'
import {summarizeError} from '../../shared/redact.js'
import {myUid} from '../../shared/trust.js'

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
  const me = myUid()
  const facts: DiskFacts = {filesystems: [], errors: []}
  const byDev = new Map<number, DiskFacts['filesystems'][number]>()
  for (const [role, dir] of [
    ['audit', paths.auditDir],
    ['spool', paths.spoolDir],
    ['run', paths.runDir],
  ] as const) {
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
      const writable =
        me === undefined || at.uid === me
          ? await fs.access(at.path, constants.W_OK).then(
              () => true,
              () => false,
            )
          : (at.mode & 0o200) !== 0
      const entry = {roles: [role], path: at.path, free_bytes: s.bavail * s.bsize, total_bytes: s.blocks * s.bsize, writable}
      byDev.set(at.dev, entry)
      facts.filesystems.push(entry)
    } catch (e) {
      facts.errors.push({role, path: dir, error: summarizeError(e)})
    }
  }
  return facts
}
