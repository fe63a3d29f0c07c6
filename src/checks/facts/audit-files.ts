/**
 * The audit directory as files: per feature count, size and weeks, files past the retention,
 * entries that are not regular files, and permissions wider than the owner on the brain's home,
 * config and the audit, spool and run directories. Stat and list only: no file is read.
 */
import {promises as fs} from 'node:fs'
import path from 'node:path'
import {AbortedError} from '../../shared/errors.js'
import {formatIsoWeek, weekEndsBefore, listAuditFiles, type BrainPaths} from '../../engine/index.js'
import {summarizeError} from '../../shared/redact.js'
import {myUid} from '../../shared/trust.js'
import {checkAbort, errnoCode, modeOf} from './fs.js'

const DAY_MS = 24 * 3_600_000
/** `audit_log` retention: files whose whole ISO week lies before now − 30 d are expired. */
export const AUDIT_RETENTION_DAYS = 30

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
  const entries: [string, 'dir' | 'file', number, number][] = [
    [home, 'dir', 0o022, 0o700],
    [path.join(home, 'config.json'), 'file', 0o077, 0o600],
  ]
  for (const [p, kind, forbidden, expected] of entries) {
    try {
      const st = await fs.lstat(p)
      if (kind === 'dir' ? !st.isDirectory() : !st.isFile()) continue
      const mode = st.mode & 0o777
      const foreign = me !== undefined && st.uid !== me && st.uid !== 0
      if ((mode & forbidden) !== 0 || foreign)
        out.push({path: p, kind, mode, expected, what: kind === 'dir' ? 'home' : 'config', ...(foreign ? {owner_uid: st.uid} : {})})
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
