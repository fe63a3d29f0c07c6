/**
 * The file-backed facts of a doctor run: the audit trail, the dead-letter spool, the engine
 * process state files and the permissions of the brain's directories. Gathered once, lazily
 * (each getter does its I/O on first call and every later call shares the same promise), and
 * handed to pure judges ("gather once, judge purely").
 *
 * Memory stays bounded: audit windows are aggregated row by row through `scanWindow`, never
 * collected; spool entries are read one at a time and only their summaries are kept (never rows).
 */
import {memo} from './memo.js'
import {promises as fs} from 'node:fs'
import path from 'node:path'
import {AbortedError} from '../engine/errors.js'
import {fastRetryRow} from '../engine/audit/fast-row.js'
import {isBatchRetryRow, isPoolRecoveryRow} from '../engine/audit/guards.js'
import {formatIsoWeek, weekEndsBefore} from '../engine/audit/iso-week.js'
import {listAuditFiles, scanWindow, type UnreadableFile, type WindowStats} from '../engine/audit/reader.js'
import {POOL_RECOVERY_KINDS, type AuditRow, type PoolRecoveryKind} from '../engine/audit/types.js'
import type {BrainPaths} from '../engine/paths.js'
import {readProcessStates, type ReadProcessState} from '../engine/process-state.js'
import {redactForStorage as redact, summarizeError} from '../engine/redact.js'
import {CorruptSpoolEntryError, DeadLetterSpool} from '../engine/spool/dead-letter.js'
import {pidAlive} from '../engine/spool/lock.js'
import type {Thresholds} from './thresholds.js'
import {myUid} from '../engine/trust.js'
import {readLedger, type LedgerFacts} from '../engine/spool/loss-ledger.js'
import {gatherDisk, type DiskFacts} from './facts-disk.js'

const HOUR_MS = 3_600_000
const DAY_MS = 24 * HOUR_MS
/** `batch_retry_health` looks at the last 24 h (gbrain's window). */
export const BATCH_RETRY_WINDOW_HOURS = 24
/** `pool_reap_health` looks at the last hour (gbrain's window). */
export const POOL_RECOVERY_WINDOW_HOURS = 1
/** `audit_log` retention: files whose whole ISO week lies before now − 30 d are expired. */
export const AUDIT_RETENTION_DAYS = 30
/** At most this many exhausted-and-spooled rows are remembered to tell replayed from pending. */
export const MAX_TRACKED_SPOOLED_ROWS = 50_000

// ------------------------------------------------------------------------------------- types

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

export interface SpoolEntrySummary {
  id: string
  site: string
  target: string
  rows: number
  attempts: number
  created_at: string
  /** now − created_at (or the file's mtime when created_at does not parse), ≥ 0. */
  age_ms: number
  /** Classified kind of the last error (`connection`, `auth`, …); never the rows. */
  error_kind: string
}

export interface SpoolFacts {
  dir: string
  /** Whether the spool directory exists. */
  exists: boolean
  /** Why the directory could not be listed (ENOENT is not an error), or null. */
  list_error: string | null
  /** Readable, valid entries. */
  entries: number
  rows: number
  oldest_age_ms: number | null
  by_site: Record<string, {entries: number; rows: number}>
  items: SpoolEntrySummary[]
  /** Entries that could not be read or validated (never deleted automatically). */
  corrupt: Array<{id: string; file: string; reason: string}>
  /** Every entry id present, valid or corrupt (an exhausted row whose id is absent was replayed). */
  ids: string[]
  /** Permission bits of the directory, or null when absent. */
  dir_mode: number | null
  /** The loss ledger: rows lost when even the spool could not take them (loss-ledger.ts). */
  ledger: LedgerFacts
}

export interface ProcessFacts {
  run_dir: string
  /** Why the run directory could not be listed (ENOENT is not an error), or null. */
  list_error: string | null
  processes: ReadProcessState[]
}

export interface AuditFeatureFacts {
  feature: string
  count: number
  bytes: number
  /** `2026-W02`, or null when the feature has no regular file. */
  oldest_week: string | null
  newest_week: string | null
  /** Files whose whole ISO week lies before the retention cutoff. */
  expired: number
}

export interface ModeProblem {
  path: string
  kind: 'file' | 'dir'
  /** Permission bits, e.g. 0o644. */
  mode: number
  /** The mode it should have: 0o600 for files, 0o700 for directories. */
  expected: number
  /** Set when another user (not root) owns it: then no chmod of ours is enough. */
  owner_uid?: number
  /** The brain's home directory or its config file (the others are audit, spool and run paths). */
  what?: 'home' | 'config'
}

export interface AuditFilesFacts {
  dir: string
  exists: boolean
  /** Why the audit directory could not be listed, or null. */
  list_error: string | null
  retention_days: number
  /** ISO time before which a whole week is expired. */
  cutoff: string
  features: AuditFeatureFacts[]
  total_files: number
  total_bytes: number
  expired_files: Array<{path: string; feature: string; week: string}>
  /** Audit-named entries that are not regular files or could not be stat'ed. */
  not_regular: Array<{path: string; error: string}>
  /** The home writable by others or the config readable by them; directories (audit, spool, run) wider than 0700 and their files wider than 0600. */
  wide_modes: ModeProblem[]
}

export interface FileFacts {
  batchRetry(): Promise<BatchRetryFacts>
  poolRecovery(): Promise<PoolRecoveryFacts>
  spool(): Promise<SpoolFacts>
  processes(): Promise<ProcessFacts>
  auditFiles(): Promise<AuditFilesFacts>
  disk(): Promise<DiskFacts>
}

/** What the file-backed checks judge: the gathered facts plus the run's env, clock and thresholds. */
export type FileCheckFacts = FileFacts & {env: NodeJS.ProcessEnv; now: number; thresholds: Thresholds}

export interface FileFactsOptions {
  paths: BrainPaths
  /** The run's clock reading (ms since the epoch): every window ends here. */
  now: number
  /** Aborts the gathering (AbortedError) between files and chunks. */
  signal?: AbortSignal
}

// ----------------------------------------------------------------------------- small helpers

export {plural} from '../engine/plural.js'

/** `0644`. */
export function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, '0')}`
}

function errnoCode(e: unknown): string | undefined {
  const code = (e as {code?: unknown} | null)?.code
  return typeof code === 'string' ? code : undefined
}

function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError(signal.reason)
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

// ------------------------------------------------------------------------------- gatherers

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
  const stats = await scanWindow({dir: auditDir, feature: 'batch-retry', windowMs: BATCH_RETRY_WINDOW_HOURS * HOUR_MS, now, signal, fastLine}, onRow)
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
  const stats = await scanWindow({dir: auditDir, feature: 'pool-recovery', windowMs: POOL_RECOVERY_WINDOW_HOURS * HOUR_MS, now, signal}, onRow)
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

async function modeOf(p: string): Promise<number | null> {
  try {
    return (await fs.stat(p)).mode & 0o777
  } catch {
    return null
  }
}

/** List and read every spool entry, keeping only summaries (never rows). */
export async function gatherSpool(spoolDir: string, now: number, signal?: AbortSignal): Promise<SpoolFacts> {
  const spool = new DeadLetterSpool(spoolDir)
  const facts: SpoolFacts = {
    dir: spoolDir,
    exists: false,
    list_error: null,
    entries: 0,
    rows: 0,
    oldest_age_ms: null,
    by_site: {},
    items: [],
    corrupt: [],
    ids: [],
    dir_mode: await modeOf(spoolDir),
    ledger: await readLedger(spoolDir),
  }
  let listing: Awaited<ReturnType<DeadLetterSpool['list']>>
  try {
    listing = await spool.list()
  } catch (e) {
    facts.exists = errnoCode(e) !== 'ENOENT'
    facts.list_error = summarizeError(e)
    return facts
  }
  facts.exists = facts.dir_mode !== null
  const bySite = new Map<string, {entries: number; rows: number}>()
  for (const item of listing) {
    checkAbort(signal)
    facts.ids.push(item.id)
    try {
      const entry = await spool.read(item.id)
      const created = Date.parse(entry.created_at)
      const age = Math.max(0, now - (Number.isFinite(created) ? created : item.mtimeMs))
      const rows = entry.rows.length
      facts.entries += 1
      facts.rows += rows
      facts.oldest_age_ms = facts.oldest_age_ms === null ? age : Math.max(facts.oldest_age_ms, age)
      const s = bySite.get(entry.site) ?? {entries: 0, rows: 0}
      s.entries += 1
      s.rows += rows
      bySite.set(entry.site, s)
      facts.items.push({
        id: entry.id,
        site: entry.site,
        target: entry.target,
        rows,
        attempts: typeof entry.attempts === 'number' ? entry.attempts : 0,
        created_at: entry.created_at,
        age_ms: age,
        error_kind: typeof entry.error?.kind === 'string' ? entry.error.kind : 'unknown',
      })
    } catch (e) {
      if (e instanceof AbortedError) throw e
      const reason = e instanceof CorruptSpoolEntryError ? e.message.replace(/^dead-letter entry \S+ is corrupt: /, '') : summarizeError(e)
      facts.corrupt.push({id: item.id, file: item.file, reason})
    }
  }
  facts.by_site = Object.fromEntries([...bySite.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
  return facts
}

export async function gatherProcesses(runDir: string): Promise<ProcessFacts> {
  try {
    return {run_dir: runDir, list_error: null, processes: await readProcessStates(runDir)}
  } catch (e) {
    return {run_dir: runDir, list_error: summarizeError(e), processes: []}
  }
}

/** Dirs wider than 0700 and the files they hold (matching `fileFilter`) wider than 0600. */
async function modeProblems(dir: string, fileFilter: (name: string) => boolean, signal?: AbortSignal): Promise<ModeProblem[]> {
  const out: ModeProblem[] = []
  const dirMode = await modeOf(dir)
  if (dirMode === null) return out
  if ((dirMode & ~0o700) !== 0) out.push({path: dir, kind: 'dir', mode: dirMode, expected: 0o700})
  let names: string[]
  try {
    names = await fs.readdir(dir)
  } catch {
    return out // unlistable: reported by whoever reads it
  }
  for (const name of names.sort()) {
    if (!fileFilter(name)) continue
    checkAbort(signal)
    const full = path.join(dir, name)
    try {
      const st = await fs.lstat(full)
      if (!st.isFile()) continue
      const mode = st.mode & 0o777
      if ((mode & ~0o600) !== 0) out.push({path: full, kind: 'file', mode, expected: 0o600})
    } catch {
      // vanished or unreadable: not a permission finding
    }
  }
  return out
}

/**
 * The home directory and its config file (issue 10, class 9): another user who can write the
 * home can swap `config.json` (and so where every command connects); one who can read the
 * config reads its database URL. Home: a finding when group/other can write it, or another user
 * owns it; the config: when group/other can read or write it, or another user owns it.
 */
async function homeProblems(home: string): Promise<ModeProblem[]> {
  const out: ModeProblem[] = []
  const me = myUid()
  const entries: [string, 'dir' | 'file', number, number][] = [[home, 'dir', 0o022, 0o700], [path.join(home, 'config.json'), 'file', 0o077, 0o600]]
  for (const [p, kind, forbidden, expected] of entries) {
    try {
      const st = await fs.lstat(p)
      if (kind === 'dir' ? !st.isDirectory() : !st.isFile()) continue
      const mode = st.mode & 0o777
      const foreign = me !== undefined && st.uid !== me && st.uid !== 0
      if ((mode & forbidden) !== 0 || foreign) out.push({path: p, kind, mode, expected, what: kind === 'dir' ? 'home' : 'config', ...(foreign ? {owner_uid: st.uid} : {})})
    } catch {
      // missing (no brain yet) or unreadable: not a permission finding
    }
  }
  return out
}

const AUDIT_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]*-\d{4}-W\d{2}\.jsonl$/

export async function gatherAuditFiles(paths: BrainPaths, now: number, signal?: AbortSignal): Promise<AuditFilesFacts> {
  const cutoffMs = now - AUDIT_RETENTION_DAYS * DAY_MS
  const facts: AuditFilesFacts = {
    dir: paths.auditDir,
    exists: false,
    list_error: null,
    retention_days: AUDIT_RETENTION_DAYS,
    cutoff: new Date(cutoffMs).toISOString(),
    features: [],
    total_files: 0,
    total_bytes: 0,
    expired_files: [],
    not_regular: [],
    wide_modes: [],
  }
  try {
    const st = await fs.stat(paths.auditDir)
    facts.exists = true
    if (!st.isDirectory()) facts.list_error = 'not a directory'
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') {
      facts.exists = true
      facts.list_error = summarizeError(e)
    }
  }
  if (facts.exists && facts.list_error === null) {
    try {
      const files = await listAuditFiles(paths.auditDir)
      const byFeature = new Map<string, AuditFeatureFacts>()
      for (const f of files) {
        checkAbort(signal)
        const week = formatIsoWeek(f)
        if (f.error !== undefined || !f.isFile) {
          facts.not_regular.push({path: f.path, error: f.error ?? 'not a regular file'})
          continue
        }
        let feat = byFeature.get(f.feature)
        if (feat === undefined) {
          feat = {feature: f.feature, count: 0, bytes: 0, oldest_week: null, newest_week: null, expired: 0}
          byFeature.set(f.feature, feat)
        }
        feat.count += 1
        feat.bytes += f.size
        // listAuditFiles sorts by feature, then week: the first file is the oldest.
        feat.oldest_week ??= week
        feat.newest_week = week
        facts.total_files += 1
        facts.total_bytes += f.size
        if (weekEndsBefore(f.isoYear, f.week, cutoffMs)) {
          feat.expired += 1
          facts.expired_files.push({path: f.path, feature: f.feature, week})
        }
      }
      facts.features = [...byFeature.values()]
    } catch (e) {
      if (e instanceof AbortedError) throw e
      facts.list_error = summarizeError(e)
    }
  }
  facts.wide_modes = [
    ...(await homeProblems(paths.home)),
    ...(await modeProblems(paths.auditDir, (n) => AUDIT_NAME_RE.test(n), signal)),
    ...(await modeProblems(paths.spoolDir, (n) => n.endsWith('.json') && !n.startsWith('.'), signal)),
    ...(await modeProblems(paths.runDir, (n) => /^engine-\d+\.json$/.test(n), signal)),
  ]
  return facts
}

/** Memoized file facts: each getter gathers at most once, on its first call. */
export function createFileFacts(options: FileFactsOptions): FileFacts {
  const {paths, now, signal} = options
  return {
    batchRetry: memo(() => gatherBatchRetry(paths.auditDir, now, signal)),
    poolRecovery: memo(() => gatherPoolRecovery(paths.auditDir, now, signal)),
    spool: memo(() => gatherSpool(paths.spoolDir, now, signal)),
    processes: memo(() => gatherProcesses(paths.runDir)),
    auditFiles: memo(() => gatherAuditFiles(paths, now, signal)),
    disk: memo(() => gatherDisk(paths)),
  }
}
