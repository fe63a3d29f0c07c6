/**
 * The audit reader: rows of one feature inside a time window, never throwing on bad content.
 *
 * - Opens only the ISO-week files the window touches (≤ 7 days: current and previous week).
 * - Streams each file (see line-scan.ts), never reading a whole file into memory.
 * - Takes the `ts` of a line straight from its bytes when the line starts `{"ts":"…"` (our
 *   writer) or ends `,"ts":"…"}` (gbrain's writer), and skips lines outside the window without
 *   `JSON.parse` or UTF-8 decoding. Anything else is parsed in full.
 * - In a large file (≥ 8 MiB) whose window starts inside the file's week, the head of the file
 *   before the window is skipped by a binary search on `ts`, tolerating `orderSlackMs` (1 h) of
 *   disorder between concurrent appenders. Eight evenly spaced probes over the skipped head must
 *   all be older than the window minus the slack, otherwise the whole file is scanned: grossly
 *   out-of-order files cost a full scan, never a silently missed row at a probed point. Counts
 *   (`corrupt_lines`, `bad_ts_rows`) cover the scanned region, i.e. about the window.
 * - Counts, never throws on: corrupt lines (not JSON, not an object, invalid UTF-8, or longer
 *   than `maxLineBytes`), rows whose `ts` is not a string with a finite `Date.parse`, and
 *   unreadable files (EACCES, EISDIR or any non-regular file, ELOOP, ENOTDIR, EIO, …). ENOENT is
 *   just an absent file.
 */
import * as fs from 'node:fs'
import type {FileHandle} from 'node:fs/promises'
import * as path from 'node:path'
import {AbortedError} from '../../shared/errors.js'
import {summarizeError} from '../../shared/redact.js'
import {isoWeekStart, parseAuditFileName, weeksTouching} from './iso-week.js'
import {LineJudge, checkAbort, scanFile, seekStart, type ScanContext} from './line-scan.js'
import type {AuditRow} from './types.js'

export interface ReadWindowOptions {
  /** The audit directory. */
  dir: string
  /** The feature, e.g. `batch-retry`. */
  feature: string
  /** Window length in ms; rows with `now - windowMs ≤ ts ≤ now` are kept. */
  windowMs: number
  /** End of the window (ms since the epoch). */
  now: number
  /** Aborting rejects with AbortedError between chunks. */
  signal?: AbortSignal
  /** Lines longer than this are counted corrupt and skipped without being buffered. Default 1 MiB. */
  maxLineBytes?: number
  /** Disorder tolerated when skipping the head of a large file. Default 1 h. */
  orderSlackMs?: number
  /** Allow skipping the head of a large file by binary search on `ts`. Default true. */
  seek?: boolean
  /** Injectable open (tests inject EACCES, which root does not get from chmod). */
  open?: (file: string, flags: number) => Promise<FileHandle>
  /**
   * A byte-level fast path for in-window lines (scanWindow only): return true when the line was
   * fully accounted for, false to send it down the ordinary parse path.
   */
  fastLine?: (buf: Buffer, s: number, e: number) => boolean
}

export interface UnreadableFile {
  /** Full path. */
  file: string
  /** Redacted one-line reason, e.g. `EACCES: permission denied, open '…'`. */
  error: string
}

export interface WindowStats {
  /** Lines in the scanned region that are not a JSON object (or not UTF-8, or oversized). */
  corrupt_lines: number
  /** Rows whose `ts` is not a string with a finite Date.parse. */
  bad_ts_rows: number
  /** Files that exist but could not be read (ENOENT is not listed). */
  unreadable_files: UnreadableFile[]
  /** Full paths of the files read to the end, oldest week first. */
  files_scanned: string[]
  /** Bytes read from disk, seek probes included. */
  bytes_read: number
}

export interface WindowResult<Row = AuditRow> extends WindowStats {
  /** Rows with `ts` inside the window, in file order (not sorted). */
  rows: Row[]
}

const DEFAULT_MAX_LINE_BYTES = 1 << 20
const DEFAULT_ORDER_SLACK_MS = 3_600_000
const SEEK_MIN_BYTES = 8 << 20
const FEATURE_RE = /^[A-Za-z0-9][A-Za-z0-9_-]*$/

const defaultOpen = (file: string, flags: number): Promise<FileHandle> => fs.promises.open(file, flags)
// O_NONBLOCK: a FIFO planted where a file should be must not hang the open.
const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0)

function errnoCode(e: unknown): string | undefined {
  const code = (e as {code?: unknown} | null)?.code
  return typeof code === 'string' ? code : undefined
}

/**
 * Visit every row of `feature` with `ts` in [now − windowMs, now], file by file, without keeping
 * them: the streaming form of {@link readWindow} for large windows (memory stays flat).
 * Rejects only for invalid options or an abort (AbortedError).
 */
export async function scanWindow(options: ReadWindowOptions, onRow: (row: AuditRow, tsMs: number) => void): Promise<WindowStats> {
  const {dir, feature, windowMs, now, signal} = options
  if (!Number.isFinite(now)) throw new RangeError(`expected a finite now (ms), got ${now}`)
  if (!Number.isFinite(windowMs) || windowMs < 0) throw new RangeError(`expected windowMs ≥ 0, got ${windowMs}`)
  if (!FEATURE_RE.test(feature)) throw new RangeError(`expected a feature name like batch-retry, got ${JSON.stringify(feature)}`)
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES
  const slack = options.orderSlackMs ?? DEFAULT_ORDER_SLACK_MS
  const open = options.open ?? defaultOpen
  const from = now - windowMs
  const stats: WindowStats = {corrupt_lines: 0, bad_ts_rows: 0, unreadable_files: [], files_scanned: [], bytes_read: 0}
  const judge = new LineJudge(from, now, onRow, options.fastLine)
  const ctx: ScanContext = {judge, maxLineBytes, signal, stats}
  try {
    for (const key of weeksTouching(from, now)) {
      checkAbort(signal)
      const file = path.join(dir, `${feature}-${key}.jsonl`)
      let fh: FileHandle
      try {
        fh = await open(file, OPEN_FLAGS)
      } catch (e) {
        if (errnoCode(e) !== 'ENOENT') stats.unreadable_files.push({file, error: summarizeError(e)})
        continue
      }
      try {
        const st = await fh.stat()
        if (!st.isFile()) {
          const what = st.isDirectory() ? 'EISDIR: a directory' : 'not a regular file'
          stats.unreadable_files.push({file, error: `${what} where the audit file should be`})
          continue
        }
        let start = 0
        const parsed = parseAuditFileName(path.basename(file))
        const weekStart = parsed ? isoWeekStart(parsed.isoYear, parsed.week).getTime() : 0
        if (options.seek !== false && st.size >= SEEK_MIN_BYTES && from - slack > weekStart) {
          start = await seekStart(fh, st.size, from - slack, stats)
        }
        await scanFile(fh, start, st.size, ctx)
        stats.files_scanned.push(file)
      } catch (e) {
        if (e instanceof AbortedError) throw e
        stats.unreadable_files.push({file, error: summarizeError(e)})
      } finally {
        await fh.close().catch(() => {})
      }
    }
  } finally {
    stats.corrupt_lines = judge.corrupt
    stats.bad_ts_rows = judge.badTs
  }
  return stats
}

/**
 * Rows of `feature` with `ts` in [now − windowMs, now] (and passing `filter`, when given), plus
 * what could not be read. Every kept row is held in memory: for a big window, pass `filter` or
 * aggregate with {@link scanWindow} (a 24 h window of a 1 M-row week is ~143 k rows).
 */
export async function readWindow<Row = AuditRow>(
  options: ReadWindowOptions & {filter?: (row: AuditRow, tsMs: number) => boolean},
): Promise<WindowResult<Row>> {
  const rows: Row[] = []
  const filter = options.filter
  const stats = await scanWindow(options, (row, tsMs) => {
    if (filter === undefined || filter(row, tsMs)) rows.push(row as Row)
  })
  return {rows, ...stats}
}

export interface AuditFileInfo {
  name: string
  /** Full path. */
  path: string
  feature: string
  isoYear: number
  week: number
  /** From stat (symlinks followed); 0 when `error` is set. */
  size: number
  mtimeMs: number
  /** Permission bits (`mode & 0o777`). */
  mode: number
  isFile: boolean
  /** Why stat failed (e.g. ELOOP), redacted. */
  error?: string
}

/**
 * Every `<feature>-<year>-W<NN>.jsonl` in `dir`, sorted by feature then week. An absent directory
 * gives []; any other failure to list it rejects with the original error.
 */
export async function listAuditFiles(dir: string): Promise<AuditFileInfo[]> {
  let names: string[]
  try {
    names = await fs.promises.readdir(dir)
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return []
    throw e
  }
  const out: AuditFileInfo[] = []
  for (const name of names) {
    const parsed = parseAuditFileName(name)
    if (!parsed) continue
    const full = path.join(dir, name)
    try {
      const st = await fs.promises.stat(full)
      out.push({name, path: full, ...parsed, size: st.size, mtimeMs: st.mtimeMs, mode: st.mode & 0o777, isFile: st.isFile()})
    } catch (e) {
      out.push({name, path: full, ...parsed, size: 0, mtimeMs: 0, mode: 0, isFile: false, error: summarizeError(e)})
    }
  }
  out.sort((a, b) =>
    a.feature !== b.feature ? (a.feature < b.feature ? -1 : 1) : a.isoYear !== b.isoYear ? a.isoYear - b.isoYear : a.week - b.week,
  )
  return out
}
