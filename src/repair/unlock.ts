/**
 * `--unlock`: remove the embedded brain's lock when the protocol allows it — a dead holder's
 * lock, or an abandoned lock directory — re-checking liveness and the token immediately before
 * removing (data-dir-lock.ts `reapLock`). A live holder's lock is never touched. Replaces the folk
 * remedy `pkill -9 -f gbrain; rm -rf …/.gbrain-lock`, which steals live locks.
 */
import {lstatSync, promises as fs, readFileSync} from 'node:fs'
import type {ResolvedTarget} from '../config/resolve.js'
import {inspectLock, reapable, reapLock} from '../engine/pglite/data-dir-lock.js'
import {liveness} from '../engine/pglite/holder-process.js'
import {describeLock, holderLabel} from '../engine/pglite/open-errors.js'
import type {ActionResult, RepairContext} from './types.js'
import {existsSync} from 'node:fs'

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
  else if (observed.state === 'held' && observed.holder.process.alive) parts.push(`held by live ${holderLabel(observed)}; a live holder’s lock is never touched`)
  else if (observed.state === 'acquiring') parts.push('another process is taking the lock right now; nothing to remove')
  else if (observed.state === 'unreadable') {
    parts.push(`the lock cannot be read (${observed.error}); nothing removed`)
    status = 'failed'
  } else if (reapable(observed)) {
    const what = observed.state === 'held'
      ? `left by ${holderLabel(observed)}, which is no longer running`
      : observed.state === 'abandoned' && observed.reason === 'unparseable'
        ? 'whose lock file does not parse (abandoned)'
        : 'directory that has no lock file (an acquisition that never finished)'
    if (ctx.dryRun) {
      parts.push(`would remove the lock ${what}`)
      status = 'would_apply'
    } else if (await reapLock(dataDir, observed)) {
      parts.push(`removed the lock ${what}${observed.state === 'abandoned' ? ` (reap recorded in ${dataDir}.lock-reap.json, as gbrain does)` : ''}`)
      status = 'applied'
      data.removed = true
    } else {
      const now = inspectLock(dataDir)
      parts.push(`the lock changed while it was being checked (${describeLock(now).text}); nothing removed`)
      data.removed = false
    }
  }

  // The lock file of earlier versions of this tool, when its holder is dead.
  const legacy = `${dataDir}.lock`
  let pid: unknown
  let text: string | undefined
  try {
    text = lstatSync(legacy).isFile() ? readFileSync(legacy, 'utf8') : undefined
    if (text === undefined) parts.push(`${legacy} is not a regular file; not touched`)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code !== 'ENOENT') parts.push(`${legacy} cannot be read (${code ?? 'error'}); not touched`)
  }
  if (text !== undefined) {
    try {
      pid = (JSON.parse(text) as {pid?: unknown}).pid
    } catch {
      pid = null // half-written by an old version that crashed
    }
  }
  if (text !== undefined) {
    const dead = pid === null || liveness(pid) === 'dead'
    if (!dead) parts.push(`${legacy} (an earlier gbrain-doctor) is held by live pid ${String(pid)}; not touched`)
    else if (ctx.dryRun) {
      parts.push(`would remove ${legacy}, left by an earlier gbrain-doctor`)
      if (status === 'skipped') status = 'would_apply'
    } else {
      await fs.rm(legacy, {force: true})
      parts.push(`removed ${legacy}, left by an earlier gbrain-doctor`)
      if (status === 'skipped') status = 'applied'
    }
  }
  return {name: 'unlock', status, detail: parts.join('; '), data}
}
