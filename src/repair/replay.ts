/**
 * `--replay`: land the dead-letter spool through the engine's retried path with the brain's
 * writers, one entry at a time, under the spool lock; corrupt entries are reported and kept.
 */
import {BRAIN_WRITERS} from '../brain/writers.js'
import {findOpenFailure, LockedError, DeadLetterSpool, replayDeadLetters, type Engine} from '../engine/index.js'
import {formatCount} from '../shared/counts.js'
import type {ActionResult, RepairContext} from './types.js'
import {plural} from '../shared/plural.js'

export async function planReplay(spoolDir: string): Promise<{entries: number; corrupt: number}> {
  const spool = new DeadLetterSpool(spoolDir)
  let corrupt = 0
  const list = await spool.list()
  for (const item of list) await spool.read(item.id).catch(() => (corrupt += 1))
  return {entries: list.length, corrupt}
}

export async function replay(spoolDir: string, engine: () => Promise<Engine>, ctx: RepairContext): Promise<ActionResult> {
  const spool = new DeadLetterSpool(spoolDir)
  const listing = await spool.list()
  if (listing.length === 0) return {name: 'replay', status: 'skipped', detail: 'the dead-letter spool is empty'}
  if (ctx.dryRun) {
    const plan = await planReplay(spoolDir)
    return {
      name: 'replay',
      status: 'would_apply',
      detail: `would replay ${plural(plan.entries - plan.corrupt, 'dead-letter entry', 'dead-letter entries')}${plan.corrupt ? ` (${plan.corrupt} corrupt, kept)` : ''}`,
      data: {entries: plan.entries, corrupt: plan.corrupt},
    }
  }
  let report
  try {
    // Open the brain once, up front: one clear reason when it cannot be opened, not one per entry.
    const opened = await engine()
    const waited = ctx.wait?.(opened.kind === 'pglite' ? 'the embedded brain to open' : 'the database')
    try {
      await opened.connect()
    } finally {
      waited?.()
    }
    ctx.counts?.({label: 'replay', done: 0, total: listing.length, unit: 'entries', extra: '0 rows'})
    report = await replayDeadLetters({
      spool,
      engine: opened,
      writers: BRAIN_WRITERS,
      signal: ctx.signal,
      onProgress: (p) =>
        ctx.counts?.({label: 'replay', done: p.done, total: p.total, unit: 'entries', extra: `${formatCount(p.rows)} rows`}),
    })
  } catch (e) {
    if (e instanceof LockedError)
      return {
        name: 'replay',
        status: 'failed',
        detail:
          e.pid === -1 ? `${e.message}; nothing was replayed` : `another replay is running (pid ${e.pid}); nothing was replayed twice`,
      }
    // The brain could not be opened (held by another process, wrong major, damaged): the spool is
    // kept as it is, and the reason is this action's, not the whole command's.
    const open = findOpenFailure(e)
    if (open)
      return {
        name: 'replay',
        status: 'failed',
        detail: `nothing replayed: ${open.message} (fix: ${open.fix.text})`,
        data: {open_cause: open.openCause},
      }
    throw e
  }
  const data = {
    entries: report.entries,
    replayed: report.replayed.length,
    rows_sent: report.rows_sent,
    rows_inserted: report.rows_inserted,
    corrupt: report.corrupt,
    failed: report.failed,
    pending: report.pending,
  }
  const landed = `replayed ${report.replayed.length} of ${report.entries} entries (${report.rows_sent} rows, ${report.rows_inserted} new)`
  if (report.failed.length > 0 || report.corrupt.length > 0 || report.pending > 0) {
    const why = [
      report.corrupt.length ? `${report.corrupt.length} corrupt (kept: ${report.corrupt.map((c) => c.id).join(', ')})` : '',
      report.failed.length ? `${report.failed.length} failed (${report.failed[0]!.reason})` : '',
      report.pending ? `${report.pending} not attempted` : '',
    ]
      .filter(Boolean)
      .join('; ')
    return {name: 'replay', status: 'failed', detail: `${landed}; ${why}`, data}
  }
  return {name: 'replay', status: 'applied', detail: landed, data}
}
