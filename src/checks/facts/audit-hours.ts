/**
 * The audit trail hour by hour over `batch_retry_health`'s window (the last 24 h), for the HTML
 * report's bars: per call site, the batch retries scheduled, the batches exhausted and the ones
 * recovered; per hour, the reconnects (`pool-recovery` outcome rows) and the disconnects other
 * than an ordinary exit (`db-disconnect`). Streamed through `scanWindow` and counted row by row,
 * so memory stays bounded whatever the trail holds: at most {@link MAX_TRACKED_SITES} distinct
 * sites are tracked, later ones count as {@link OTHER_SITE}. Site names are hostile text, kept
 * as they are here (cut to {@link MAX_SITE_CHARS}); the renderer escapes them.
 */
import {scanWindow, type AuditRow} from '../../engine/index.js'
import {AbortedError} from '../../shared/errors.js'
import {summarizeError} from '../../shared/redact.js'
import {BATCH_RETRY_WINDOW_HOURS, type AuditWindow} from './audit-windows.js'

const HOUR_MS = 3_600_000
/** The sites drawn one by one (largest total first); the rest are summed as {@link OTHER_SITE}. */
export const SHOWN_SITES = 6
/** Distinct sites counted apart while scanning; any further site counts as {@link OTHER_SITE}. */
export const MAX_TRACKED_SITES = 1000
/** A site name longer than this is cut (with `…`). */
export const MAX_SITE_CHARS = 80
export const OTHER_SITE = '(other sites)'

export interface SiteHours {
  site: string
  /** One count per hour, oldest first: `success` rows (a retry was scheduled). */
  retries: number[]
  /** `exhausted` rows per hour. */
  exhausted: number[]
  /** `recovered` rows per hour. */
  recovered: number[]
  /** Every row of the site in the window. */
  total: number
}

export interface AuditHours {
  window: AuditWindow
  /** Start of each hour bucket (ISO), oldest first: bucket k is [from + k h, from + (k+1) h). */
  starts: string[]
  /** The largest sites, then {@link OTHER_SITE} when there are more. */
  sites: SiteHours[]
  /** `reconnect_succeeded` + `reconnect_failed` rows per hour. */
  reconnects: number[]
  /** …of which failed. */
  reconnects_failed: number[]
  /** `db-disconnect` rows per hour whose reason is not `exit`. */
  disconnects: number[]
  /** Rows skipped: corrupt lines, unreadable timestamps, rows of an unknown outcome or kind. */
  skipped_rows: number
  /** Audit files that exist but could not be read. */
  unreadable_files: number
}

const zeros = (n: number): number[] => Array.from({length: n}, () => 0)
const cut = (s: string): string => (s.length > MAX_SITE_CHARS ? `${s.slice(0, MAX_SITE_CHARS - 1)}…` : s)

/** Pure: the hour bucket of a time in the window starting at `fromMs`, or -1 outside it (the end itself is the last hour). */
export function hourIndex(tsMs: number, fromMs: number, hours: number): number {
  if (!Number.isFinite(tsMs) || tsMs < fromMs || tsMs > fromMs + hours * HOUR_MS) return -1
  return Math.min(hours - 1, Math.floor((tsMs - fromMs) / HOUR_MS))
}

/** Pure bucketing: feed it rows (with their time), then take the counts. */
export interface HourCounter {
  retryRow: (row: AuditRow, tsMs: number) => void
  recoveryRow: (row: AuditRow, tsMs: number) => void
  disconnectRow: (row: AuditRow, tsMs: number) => void
  result: (extra: {skipped: number; unreadable: number}) => AuditHours
}

export function hourCounter(nowMs: number, hours = BATCH_RETRY_WINDOW_HOURS, shown = SHOWN_SITES): HourCounter {
  const fromMs = nowMs - hours * HOUR_MS
  const sites = new Map<string, SiteHours>()
  const other: SiteHours = {site: OTHER_SITE, retries: zeros(hours), exhausted: zeros(hours), recovered: zeros(hours), total: 0}
  const reconnects = zeros(hours)
  const failed = zeros(hours)
  const disconnects = zeros(hours)
  let skipped = 0
  const siteOf = (name: string): SiteHours => {
    let s = sites.get(name)
    if (s !== undefined) return s
    if (sites.size >= MAX_TRACKED_SITES) return other
    s = {site: name, retries: zeros(hours), exhausted: zeros(hours), recovered: zeros(hours), total: 0}
    sites.set(name, s)
    return s
  }
  return {
    retryRow(row, tsMs) {
      const h = hourIndex(tsMs, fromMs, hours)
      const series =
        row.outcome === 'success'
          ? 'retries'
          : row.outcome === 'exhausted'
            ? 'exhausted'
            : row.outcome === 'recovered'
              ? 'recovered'
              : undefined
      if (h < 0 || series === undefined) return void (skipped += 1)
      const s = siteOf(typeof row.site === 'string' ? cut(row.site) : '(unknown)')
      s[series][h]! += 1
      s.total += 1
    },
    recoveryRow(row, tsMs) {
      const h = hourIndex(tsMs, fromMs, hours)
      if (h < 0) return void (skipped += 1)
      if (row.kind === 'reconnect_succeeded' || row.kind === 'reconnect_failed') reconnects[h]! += 1
      if (row.kind === 'reconnect_failed') failed[h]! += 1
    },
    disconnectRow(row, tsMs) {
      const h = hourIndex(tsMs, fromMs, hours)
      if (h < 0) return void (skipped += 1)
      if (row.reason !== 'exit') disconnects[h]! += 1
    },
    result({skipped: scanSkipped, unreadable}) {
      const ranked = [...sites.values()].sort((a, b) => b.total - a.total || (a.site < b.site ? -1 : a.site > b.site ? 1 : 0))
      for (const s of ranked.slice(shown)) {
        for (let h = 0; h < hours; h++) {
          other.retries[h]! += s.retries[h]!
          other.exhausted[h]! += s.exhausted[h]!
          other.recovered[h]! += s.recovered[h]!
        }
        other.total += s.total
      }
      return {
        window: {from: new Date(fromMs).toISOString(), to: new Date(nowMs).toISOString(), hours},
        starts: Array.from({length: hours}, (_, k) => new Date(fromMs + k * HOUR_MS).toISOString()),
        sites: other.total > 0 ? [...ranked.slice(0, shown), other] : ranked.slice(0, shown),
        reconnects,
        reconnects_failed: failed,
        disconnects,
        skipped_rows: skipped + scanSkipped,
        unreadable_files: unreadable,
      }
    },
  }
}

/** Scan the three features over the window and count them by hour (bounded memory; never throws but on abort). */
export async function gatherAuditHours(auditDir: string, nowMs: number, signal?: AbortSignal): Promise<AuditHours> {
  const counter = hourCounter(nowMs)
  const windowMs = BATCH_RETRY_WINDOW_HOURS * HOUR_MS
  let skipped = 0
  let unreadable = 0
  const feeds: [string, (row: AuditRow, tsMs: number) => void][] = [
    ['batch-retry', counter.retryRow],
    ['pool-recovery', counter.recoveryRow],
    ['db-disconnect', counter.disconnectRow],
  ]
  for (const [feature, onRow] of feeds) {
    const stats = await scanWindow({dir: auditDir, feature, windowMs, now: nowMs, signal}, onRow)
    skipped += stats.corrupt_lines + stats.bad_ts_rows
    unreadable += stats.unreadable_files.length
  }
  return counter.result({skipped, unreadable})
}

/**
 * {@link gatherAuditHours} within its own budget (the run's `--deadline`, named by `deadlineFlag`
 * in the note): the counts, or why there are none, so a trail too big to count leaves the bars
 * out, not the page.
 */
export async function auditHoursWithin(
  auditDir: string,
  nowMs: number,
  budgetMs: number,
  deadlineFlag: string,
): Promise<{audit: AuditHours} | {audit_note: string}> {
  try {
    return {audit: await gatherAuditHours(auditDir, nowMs, AbortSignal.timeout(budgetMs))}
  } catch (e) {
    return {
      audit_note: `not counted: ${e instanceof AbortedError ? `it took longer than --deadline (${deadlineFlag})` : summarizeError(e)}`,
    }
  }
}
