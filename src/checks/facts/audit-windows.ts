/**
 * The windowed audit facts: the `batch-retry` rows of the last 24 h and the `pool-recovery` rows
 * of the last hour, aggregated row by row through `scanWindow` (never collected, so memory stays
 * bounded whatever the size of the trail). `batch_retry_health`, `pool_reap_health` and
 * `audit_log` judge them.
 */
import {
  fastRetryRow,
  isBatchRetryRow,
  isPoolRecoveryRow,
  scanWindow,
  type UnreadableFile,
  type WindowStats,
  POOL_RECOVERY_KINDS,
  type AuditRow,
  type PoolRecoveryKind,
} from '../../engine/index.js'
import {redactForStorage as redact} from '../../shared/redact.js'
import {pidAlive} from '../../shared/pid.js'

const HOUR_MS = 3_600_000
/** `batch_retry_health` looks at the last 24 h (gbrain's window). */
export const BATCH_RETRY_WINDOW_HOURS = 24
/** `pool_reap_health` looks at the last hour (gbrain's window). */
export const POOL_RECOVERY_WINDOW_HOURS = 1
/** At most this many exhausted-and-spooled rows are remembered to tell replayed from pending. */
export const MAX_TRACKED_SPOOLED_ROWS = 50_000

export interface AuditWindow {
  from: string
  to: string
  hours: number
}

/** What every windowed audit scan reports besides its aggregates. */
export interface AuditScanFacts {
  /** Lines that are not a JSON object (or not UTF-8, or oversized) in the scanned region. */
  corrupt_lines: number
  /** Rows whose `ts` is not a string with a finite Date.parse. */
  bad_ts_rows: number
  /** Rows inside the window that fail the feature's row guard (still counted where possible). */
  malformed_rows: number
  /** Files that exist but could not be read (ENOENT is just absent). */
  unreadable_files: UnreadableFile[]
  /** Full paths of the week files read, oldest first. */
  files_scanned: string[]
  window: AuditWindow
}

export interface BatchRetrySiteCounts {
  /** `exhausted` rows. */
  exhausted: number
  /** …of which went to the dead-letter spool (`spooled: true`). */
  spooled: number
  /** …of which lost their rows (no `spooled: true`: every gbrain-written row). */
  lost: number
  /** Sum of `batch_size` over the lost ones. */
  rows_lost: number
  /** `success` rows: a retry was scheduled (gbrain's name; not a recovery). */
  retries_scheduled: number
  /** `recovered` rows: the batch landed after ≥ 1 retry. */
  recovered: number
}

export interface SpooledExhaustedRow {
  site: string
  /** Absent when the row says `spooled: true` without an id (cannot be matched to the spool). */
  dead_letter_id?: string
  batch_size: number
}

export interface BatchRetryFacts extends AuditScanFacts {
  exhausted_total: number
  by_site: Record<string, BatchRetrySiteCounts>
  retries_scheduled: number
  recovered: number
  /** Sum of `batch_size` of exhausted rows not caught by the spool. */
  rows_lost: number
  /** Sum of `batch_size` of exhausted rows that went to the spool. */
  rows_spooled: number
  /** The exhausted rows that say `spooled: true` (at most MAX_TRACKED_SPOOLED_ROWS). */
  spooled_exhausted: SpooledExhaustedRow[]
  /** More spooled exhausted rows existed than were remembered. */
  spooled_exhausted_truncated: boolean
  /** `ts` of the latest exhausted row, or null. */
  last_exhausted_at: string | null
}

export interface PoolPidFacts {
  pid: number
  failures: number
  successes: number
  reaps: number
  last_failure_at: string | null
  /** Redacted `error_summary` of the last failure. */
  last_failure_error: string | null
  last_success_at: string | null
  /** A `reconnect_succeeded` of this pid followed its last `reconnect_failed` (or it never failed). */
  recovered: boolean
  /** Whether the pid is running now (a process that exited can no longer be failing). */
  alive?: boolean
}

export interface PoolRecoveryFacts extends AuditScanFacts {
  /** `reap_detected` rows. */
  reaps: number
  /** `reconnect_other` rows (reconnects not triggered by a reap). */
  other_triggers: number
  /** `reconnect_succeeded` rows. */
  recoveries: number
  /** `reconnect_failed` rows. */
  failures: number
  /** Per pid seen in the window, sorted by pid. */
  pids: PoolPidFacts[]
  last_event: {ts: string; kind: PoolRecoveryKind; pid: number} | null
}

const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0
const windowOf = (now: number, hours: number): AuditWindow => ({
  from: new Date(now - hours * HOUR_MS).toISOString(),
  to: new Date(now).toISOString(),
  hours,
})

function scanFacts(stats: WindowStats, malformed: number, window: AuditWindow): AuditScanFacts {
  return {
    corrupt_lines: stats.corrupt_lines,
    bad_ts_rows: stats.bad_ts_rows,
    malformed_rows: malformed,
    unreadable_files: stats.unreadable_files,
    files_scanned: stats.files_scanned,
    window,
  }
}

/**
 * Aggregate `batch-retry` rows of the last 24 h. An `exhausted` row is counted even when other
 * fields are malformed (missing an incident is worse than miscounting it): an unknown site
 * becomes `(unknown)`, an unusable batch_size 0.
 */
export async function gatherBatchRetry(auditDir: string, now: number, signal?: AbortSignal): Promise<BatchRetryFacts> {
  const window = windowOf(now, BATCH_RETRY_WINDOW_HOURS)
  const sites = new Map<string, BatchRetrySiteCounts>()
  const site = (name: string): BatchRetrySiteCounts => {
    let s = sites.get(name)
    if (s === undefined) {
      s = {exhausted: 0, spooled: 0, lost: 0, rows_lost: 0, retries_scheduled: 0, recovered: 0}
      sites.set(name, s)
    }
    return s
  }
  const agg = {exhausted: 0, scheduled: 0, recovered: 0, rowsLost: 0, rowsSpooled: 0, malformed: 0, lastExhaustedMs: -Infinity}
  const spooled: SpooledExhaustedRow[] = []
  let truncated = false

  const onRow = (row: AuditRow, tsMs: number): void => {
    if (!isBatchRetryRow(row)) agg.malformed += 1
    const outcome = row.outcome
    const siteName = typeof row.site === 'string' ? row.site : '(unknown)'
    if (outcome === 'success') {
      agg.scheduled += 1
      site(siteName).retries_scheduled += 1
    } else if (outcome === 'recovered') {
      agg.recovered += 1
      site(siteName).recovered += 1
    } else if (outcome === 'exhausted') {
      const size = isCount(row.batch_size) ? row.batch_size : 0
      const s = site(siteName)
      agg.exhausted += 1
      s.exhausted += 1
      if (tsMs > agg.lastExhaustedMs) agg.lastExhaustedMs = tsMs
      if (row.spooled === true) {
        s.spooled += 1
        agg.rowsSpooled += size
        if (spooled.length < MAX_TRACKED_SPOOLED_ROWS) {
          const id = typeof row.dead_letter_id === 'string' && row.dead_letter_id !== '' ? row.dead_letter_id : undefined
          spooled.push({site: siteName, batch_size: size, ...(id !== undefined ? {dead_letter_id: id} : {})})
        } else truncated = true
      } else {
        s.lost += 1
        s.rows_lost += size
        agg.rowsLost += size
      }
    }
  }
  // Most lines are our own success/recovered rows: count those from their bytes (no JSON.parse).
  const fastLine = (buf: Buffer, s: number, e: number): boolean => {
    const r = fastRetryRow(buf, s, e)
    if (r === null) return false
    if (r.outcome === 'success') {
      agg.scheduled += 1
      site(r.site).retries_scheduled += 1
    } else {
      agg.recovered += 1
      site(r.site).recovered += 1
    }
    return true
  }
  const stats = await scanWindow(
    {dir: auditDir, feature: 'batch-retry', windowMs: BATCH_RETRY_WINDOW_HOURS * HOUR_MS, now, signal, fastLine},
    onRow,
  )
  return {
    ...scanFacts(stats, agg.malformed, window),
    exhausted_total: agg.exhausted,
    by_site: Object.fromEntries([...sites.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    retries_scheduled: agg.scheduled,
    recovered: agg.recovered,
    rows_lost: agg.rowsLost,
    rows_spooled: agg.rowsSpooled,
    spooled_exhausted: spooled,
    spooled_exhausted_truncated: truncated,
    last_exhausted_at: Number.isFinite(agg.lastExhaustedMs) ? new Date(agg.lastExhaustedMs).toISOString() : null,
  }
}

/**
 * Aggregate `pool-recovery` rows of the last hour, per pid: a failure counts as recovered when a
 * `reconnect_succeeded` of the same pid comes after it (by ts; file order breaks ties).
 */
export async function gatherPoolRecovery(auditDir: string, now: number, signal?: AbortSignal): Promise<PoolRecoveryFacts> {
  const window = windowOf(now, POOL_RECOVERY_WINDOW_HOURS)
  interface PidAgg {
    failures: number
    successes: number
    reaps: number
    lastFailure: [number, number] | null
    lastFailureError: string | null
    lastSuccess: [number, number] | null
  }
  const pids = new Map<number, PidAgg>()
  const counts = {reaps: 0, other: 0, ok: 0, failed: 0, malformed: 0}
  let seq = 0
  let last: {key: [number, number]; ts: string; kind: PoolRecoveryKind; pid: number} | null = null
  const later = (a: [number, number], b: [number, number] | null): boolean => b === null || a[0] > b[0] || (a[0] === b[0] && a[1] > b[1])

  const onRow = (row: AuditRow, tsMs: number): void => {
    seq += 1
    if (!isPoolRecoveryRow(row)) {
      counts.malformed += 1
      // Without a known kind and an integer pid the row cannot be attributed.
      if (!(POOL_RECOVERY_KINDS as readonly unknown[]).includes(row.kind) || !isCount(row.pid)) return
    }
    const kind = row.kind as PoolRecoveryKind
    const pid = row.pid as number
    const key: [number, number] = [tsMs, seq]
    let p = pids.get(pid)
    if (p === undefined) {
      p = {failures: 0, successes: 0, reaps: 0, lastFailure: null, lastFailureError: null, lastSuccess: null}
      pids.set(pid, p)
    }
    if (kind === 'reap_detected') {
      counts.reaps += 1
      p.reaps += 1
    } else if (kind === 'reconnect_other') counts.other += 1
    else if (kind === 'reconnect_succeeded') {
      counts.ok += 1
      p.successes += 1
      if (later(key, p.lastSuccess)) p.lastSuccess = key
    } else {
      counts.failed += 1
      p.failures += 1
      if (later(key, p.lastFailure)) {
        p.lastFailure = key
        p.lastFailureError = typeof row.error_summary === 'string' ? redact(row.error_summary) : null
      }
    }
    if (last === null || later(key, last.key)) last = {key, ts: new Date(tsMs).toISOString(), kind, pid}
  }
  const stats = await scanWindow(
    {dir: auditDir, feature: 'pool-recovery', windowMs: POOL_RECOVERY_WINDOW_HOURS * HOUR_MS, now, signal},
    onRow,
  )
  const iso = (k: [number, number] | null): string | null => (k === null ? null : new Date(k[0]).toISOString())
  const lastEvent = last as {ts: string; kind: PoolRecoveryKind; pid: number} | null
  return {
    ...scanFacts(stats, counts.malformed, window),
    reaps: counts.reaps,
    other_triggers: counts.other,
    recoveries: counts.ok,
    failures: counts.failed,
    pids: [...pids.entries()]
      .sort(([a], [b]) => a - b)
      .map(([pid, p]) => ({
        pid,
        failures: p.failures,
        successes: p.successes,
        reaps: p.reaps,
        last_failure_at: iso(p.lastFailure),
        last_failure_error: p.lastFailureError,
        last_success_at: iso(p.lastSuccess),
        recovered: p.lastFailure === null || (p.lastSuccess !== null && later(p.lastSuccess, p.lastFailure)),
        alive: pidAlive(pid),
      })),
    last_event: lastEvent === null ? null : {ts: lastEvent.ts, kind: lastEvent.kind, pid: lastEvent.pid},
  }
}
