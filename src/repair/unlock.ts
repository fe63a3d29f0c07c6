/**
 * `--unlock`: remove the embedded brain's lock when the protocol allows it — a dead holder's
 * lock, or an abandoned lock directory — re-checking liveness and the token immediately before
 * removing (data-dir-lock.ts `reapLock`). A live holder's lock is never touched. Replaces the folk
 * remedy `pkill -9 -f gbrain; rm -rf …/.gbrain-lock`, which steals live locks.
 */
import {existsSync, promises as fs} from 'node:fs'
import type {ResolvedTarget} from '../config/resolve.js'
import {inspectLock, readLegacyLock, reapable, reapLock, describeLock, holderLabel} from '../engine/index.js'
import type {ActionResult, RepairContext} from './types.js'

export async function unlock(target: ResolvedTarget, ctx: RepairContext): Promise<ActionResult> {
  if (target.engine !== 'pglite') return {name: 'unlock', status: 'skipped', detail: 'Postgres has no data-dir lock'}
  const dataDir = target.dataDir
  if (!existsSync(dataDir)) return {name: 'unlock', status: 'skipped', detail: `no embedded brain at ${dataDir}`}
  const parts: string[] = []
  const data: Record<string, unknown> = {}
  let status: ActionResult['status'] = 'skipped'

  const observed = inspectLock(dataDir)
  data.lock_state = observed.state
  if (observed.state === 'held') data.pid = observed.holder.pid
  if (observed.state === 'free') parts.push('the embedded brain is not locked')
  else if (observed.state === 'held' && observed.holder.process.alive)
    parts.push(`held by live ${holderLabel(observed)}; a live holder’s lock is never touched`)
  else if (observed.state === 'acquiring') parts.push('another process is taking the lock right now; nothing to remove')
  else if (observed.state === 'unreadable') {
    parts.push(`the lock cannot be read (${observed.error}); nothing removed`)
    status = 'failed'
  } else if (reapable(observed)) {
    const what =
      observed.state === 'held'
        ? `left by ${holderLabel(observed)}, which is no longer running`
        : observed.state === 'abandoned' && observed.reason === 'unparseable'
          ? 'whose lock file does not parse (abandoned)'
          : 'directory that has no lock file (an acquisition that never finished)'
    if (ctx.dryRun) {
      parts.push(`would remove the lock ${what}`)
      status = 'would_apply'
    } else if (await reapLock(dataDir, observed)) {
      parts.push(
        `removed the lock ${what}${observed.state === 'abandoned' ? ` (reap recorded in ${dataDir}.lock-reap.json, as gbrain does)` : ''}`,
      )
      status = 'applied'
      data.removed = true
    } else {
      const now = inspectLock(dataDir)
      parts.push(`the lock changed while it was being checked (${describeLock(now).text}); nothing removed`)
      data.removed = false
    }
  }

  // The lock file of earlier versions of this tool, when its holder is dead.
  const legacy = readLegacyLock(dataDir)
  if (legacy?.state === 'unreadable') parts.push(`${legacy.file} cannot be read as a lock file (${legacy.error}); not touched`)
  else if (legacy?.alive) parts.push(`${legacy.file} (an earlier gbrain-doctor) is held by live pid ${String(legacy.pid)}; not touched`)
  else if (legacy && ctx.dryRun) {
    parts.push(`would remove ${legacy.file}, left by an earlier gbrain-doctor`)
    if (status === 'skipped') status = 'would_apply'
  } else if (legacy) {
    await fs.rm(legacy.file, {force: true})
    parts.push(`removed ${legacy.file}, left by an earlier gbrain-doctor`)
    if (status === 'skipped') status = 'applied'
  }
  return {name: 'unlock', status, detail: parts.join('; '), data}
}
