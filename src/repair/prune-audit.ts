/**
 * `--prune-audit --older-than D`: delete audit files of every feature whose whole ISO week lies
 * before now − D, judged by the week in the file name (not mtime: copies and restores change it).
 */
import {promises as fs} from 'node:fs'
import {listAuditFiles, weekEndsBefore} from '../engine/index.js'
import type {ActionResult, RepairContext} from './types.js'
import {plural} from '../shared/plural.js'

export async function pruneAudit(auditDir: string, olderThanMs: number, now: number, ctx: RepairContext): Promise<ActionResult> {
  const cutoff = now - olderThanMs
  const files = (await listAuditFiles(auditDir)).filter((f) => f.isFile && weekEndsBefore(f.isoYear, f.week, cutoff))
  const bytes = files.reduce((n, f) => n + f.size, 0)
  const data = {files: files.map((f) => f.name), bytes, cutoff: new Date(cutoff).toISOString()}
  if (files.length === 0)
    return {name: 'prune-audit', status: 'skipped', detail: `no audit file older than ${new Date(cutoff).toISOString().slice(0, 10)}`, data}
  const what = `${plural(files.length, 'audit file')} (${bytes} bytes) whose week ended before ${new Date(cutoff).toISOString().slice(0, 10)}`
  if (ctx.dryRun) return {name: 'prune-audit', status: 'would_apply', detail: `would delete ${what}`, data}
  const failed: string[] = []
  for (const f of files) {
    await fs.rm(f.path, {force: true}).catch(() => failed.push(f.name))
  }
  if (failed.length > 0)
    return {name: 'prune-audit', status: 'failed', detail: `could not delete ${failed.join(', ')}`, data: {...data, failed}}
  return {name: 'prune-audit', status: 'applied', detail: `deleted ${what}`, data}
}
