/**
 * A source's maintenance cycle: read its markdown, write pages, then timeline entries and links,
 * in retried idempotent batches through the engine, then stamp `last_full_cycle_at`. Two passes
 * over the files keep memory bounded by one batch (links need every page to exist first).
 * A cycle whose batches went to the dead-letter spool is partial and is not stamped.
 */
import type {Engine} from '../engine/index.js'
import {setImmediate as nextTurn} from 'node:timers/promises'
import {AbortedError} from '../shared/errors.js'
import {summarizeError} from '../shared/redact.js'
import type {SourceRow} from './sources.js'
import {stampCycle} from './sources.js'
import {Batcher, Outage, WriteLane, type BatcherContext} from './batcher.js'
import {listMarkdownFiles, readNote, DEFAULT_MAX_FILE_BYTES} from './vault.js'
import {linksWriter, pagesWriter, timelineWriter, MAX_BATCH_ROWS, type LinkRow, type PageRow, type TimelineRow} from './writers.js'

export interface RowCounts {
  sent: number
  inserted: number
}

export interface SourceCycleReport {
  id: string
  path: string | null
  status: 'complete' | 'partial' | 'skipped' | 'failed'
  stamped: boolean
  files: number
  skipped_files: {binary: number; huge: number; unreadable: number}
  invalid_dates: number
  unterminated_links: number
  duplicates: number
  /** Wikilinks whose target is not a note of this source (not stored). */
  dangling_links: number
  rows: {pages: RowCounts; timeline: RowCounts; links: RowCounts}
  spooled_batches: number
  spooled_rows: number
  reason?: string
}

/** Where a source's cycle stands: told at the start of each pass (done 0) and after each file. */
export interface CycleProgress {
  source: string
  phase: 'pages' | 'entries'
  done: number
  total: number
  /** Rows this source has sent so far (counted when their batch is written or spooled). */
  rows: number
}

export interface CycleOptions {
  batchSize?: number
  maxFileBytes?: number
  now?: () => Date
  signal?: AbortSignal
  onProgress?: (p: CycleProgress) => void
  /** A source's cycle ended (not told when the cycle is aborted). */
  onSourceDone?: (report: SourceCycleReport) => void
}

export const DEFAULT_BATCH_SIZE = 500

function emptyReport(source: SourceRow): SourceCycleReport {
  return {
    id: source.id,
    path: source.local_path,
    status: 'complete',
    stamped: false,
    files: 0,
    skipped_files: {binary: 0, huge: 0, unreadable: 0},
    invalid_dates: 0,
    unterminated_links: 0,
    duplicates: 0,
    dangling_links: 0,
    rows: {pages: {sent: 0, inserted: 0}, timeline: {sent: 0, inserted: 0}, links: {sent: 0, inserted: 0}},
    spooled_batches: 0,
    spooled_rows: 0,
  }
}

/**
 * Cycle one source. Never throws except on abort: a failure (rows lost, the stamp failing after
 * its retries) is reported with the counts reached so far.
 */
async function cycleSource(
  engine: Engine,
  source: SourceRow,
  options: CycleOptions = {},
  outage = new Outage(),
): Promise<SourceCycleReport> {
  const report = emptyReport(source)
  try {
    return await cycleInto(engine, source, options, report, outage)
  } catch (e) {
    if (e instanceof AbortedError) throw e
    report.status = 'failed'
    report.reason = summarizeError(e)
    return report
  }
}

async function cycleInto(
  engine: Engine,
  source: SourceRow,
  options: CycleOptions,
  report: SourceCycleReport,
  outage: Outage,
): Promise<SourceCycleReport> {
  if (!source.local_path) {
    report.status = 'skipped'
    report.reason = 'no local_path'
    return report
  }
  if (source.archived) {
    report.status = 'skipped'
    report.reason = 'archived'
    return report
  }
  const size = Math.max(1, Math.min(options.batchSize ?? DEFAULT_BATCH_SIZE, MAX_BATCH_ROWS))
  const maxBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES
  const {signal} = options
  const root = source.local_path
  let files: string[]
  try {
    const listing = await listMarkdownFiles(root)
    files = listing.files
    // An unreadable subdirectory is one unreadable entry: skipped and counted, as files are.
    report.skipped_files.unreadable += listing.unreadableDirs.length
  } catch (e) {
    report.status = 'failed'
    report.reason = `cannot read ${root}: ${summarizeError(e)}`
    return report
  }
  report.files = files.length

  const lane = new WriteLane()
  try {
    await writePasses(source.id, root, files, maxBytes, {engine, report, signal, outage, lane, size}, options.onProgress)
  } finally {
    // An abort or a failure leaves the statement in flight to finish (it is atomic) before the
    // cycle ends and the engine is released.
    await lane.settled()
  }

  if (report.spooled_batches > 0) {
    report.status = 'partial'
    report.reason = `${report.spooled_rows} rows in ${report.spooled_batches} batches went to the dead-letter spool (fix: gbrain repair --replay)`
    return report
  }
  await stampCycle(engine, source.id, (options.now ?? (() => new Date()))(), signal)
  report.stamped = true
  return report
}

/** Notes read between two turns of the event loop. */
const NOTES_PER_TURN = 16

/**
 * Before each note: stop if the cycle was aborted, and every {@link NOTES_PER_TURN} notes let the
 * event loop turn. Notes are read synchronously and the embedded engine runs its statements in
 * this thread, so without this a cycle on PGlite would never reach the poll phase: no SIGINT or
 * SIGTERM handler, no timer, until the cycle ended (test/cli/progress.test.ts, Ctrl-C mid-cycle).
 */
async function breathe(index: number, signal: AbortSignal | undefined): Promise<void> {
  if (index % NOTES_PER_TURN === 0) await nextTurn()
  if (signal?.aborted) throw new AbortedError(signal.reason)
}

/**
 * The two passes over a source's notes: pages, then timeline entries and links (links are stored
 * only between notes of the source, so every slug must be known first). Files are read again in
 * the second pass rather than kept: memory stays bounded by the batches, not the vault.
 */
async function writePasses(
  sourceId: string,
  root: string,
  files: readonly string[],
  maxBytes: number,
  ctx: BatcherContext,
  onProgress: CycleOptions['onProgress'],
): Promise<void> {
  const {report, signal} = ctx
  const rows = (): number => report.rows.pages.sent + report.rows.timeline.sent + report.rows.links.sent
  const slugs = new Set<string>()
  const pages = new Batcher<PageRow>(ctx, 'cycle.pages', pagesWriter, report.rows.pages)
  onProgress?.({source: sourceId, phase: 'pages', done: 0, total: files.length, rows: rows()})
  for (const [i, file] of files.entries()) {
    await breathe(i, signal)
    const out = readNote(root, file, maxBytes)
    if (out.kind === 'skipped') {
      report.skipped_files[out.reason] += 1
    } else {
      slugs.add(out.slug)
      await pages.add({source_id: sourceId, slug: out.slug, title: out.note.title, content_hash: out.hash})
    }
    onProgress?.({source: sourceId, phase: 'pages', done: i + 1, total: files.length, rows: rows()})
  }
  await pages.flush()

  // Pass 2: its first statement waits for the last pages batch (one statement at a time).
  const timeline = new Batcher<TimelineRow>(ctx, 'cycle.timeline', timelineWriter, report.rows.timeline)
  const links = new Batcher<LinkRow>(ctx, 'cycle.links', linksWriter, report.rows.links)
  onProgress?.({source: sourceId, phase: 'entries', done: 0, total: files.length, rows: rows()})
  for (const [i, file] of files.entries()) {
    await breathe(i, signal)
    const out = readNote(root, file, maxBytes)
    if (out.kind === 'note') {
      report.invalid_dates += out.note.invalidDates
      report.unterminated_links += out.note.unterminatedLinks
      report.duplicates += out.note.duplicates
      for (const t of out.note.timeline) await timeline.add({source_id: sourceId, slug: out.slug, date: t.date, summary: t.summary})
      for (const to of out.note.links) {
        if (slugs.has(to)) await links.add({source_id: sourceId, from_slug: out.slug, to_slug: to})
        else report.dangling_links += 1
      }
    }
    onProgress?.({source: sourceId, phase: 'entries', done: i + 1, total: files.length, rows: rows()})
  }
  await timeline.flush()
  await links.flush()
  await ctx.lane.idle()
}

export interface CycleReport {
  sources: SourceCycleReport[]
  totals: {files: number; rows_sent: number; rows_inserted: number; spooled_rows: number; skipped_files: number; retries: number}
  status: 'complete' | 'partial' | 'failed'
  duration_ms: number
}

export async function runCycle(engine: Engine, sources: readonly SourceRow[], options: CycleOptions = {}): Promise<CycleReport> {
  const started = Date.now()
  const retriesBefore = engine.stats().retries
  const reports: SourceCycleReport[] = []
  const outage = new Outage()
  for (const source of sources) {
    const report = await cycleSource(engine, source, options, outage)
    reports.push(report)
    options.onSourceDone?.(report)
  }
  const totals = {
    files: 0,
    rows_sent: 0,
    rows_inserted: 0,
    spooled_rows: 0,
    skipped_files: 0,
    retries: engine.stats().retries - retriesBefore,
  }
  for (const r of reports) {
    totals.files += r.files
    for (const c of Object.values(r.rows)) {
      totals.rows_sent += c.sent
      totals.rows_inserted += c.inserted
    }
    totals.spooled_rows += r.spooled_rows
    totals.skipped_files += r.skipped_files.binary + r.skipped_files.huge + r.skipped_files.unreadable
  }
  const status = reports.some((r) => r.status === 'failed')
    ? 'failed'
    : reports.some((r) => r.status === 'partial')
      ? 'partial'
      : 'complete'
  return {sources: reports, totals, status, duration_ms: Date.now() - started}
}
