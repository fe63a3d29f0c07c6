/**
 * `gbrain cycle` for a person: one line per source (status, files, rows new/sent, what was
 * skipped or dropped) and the one summary line a watch logs each pass. Pure; the command prints
 * them through its log, which makes them terminal-safe.
 */
import type {CycleProgress, CycleReport, SourceCycleReport} from '../brain/cycle.js'
import {plural} from '../shared/plural.js'

/** The passes as a progress line names them. */
export const CYCLE_PASS: Record<CycleProgress['phase'], string> = {pages: 'pass 1/2 (pages)', entries: 'pass 2/2 (entries and links)'}

/** `notes: complete — 12 files; pages 12/12, timeline 3/3, links 4/4 new/sent; …`. */
function cycleSourceLine(s: SourceCycleReport): string {
  const r = s.rows
  const skipped = s.skipped_files.binary + s.skipped_files.huge + s.skipped_files.unreadable
  return (
    `${s.id}: ${s.status}${s.stamped ? '' : ' (not stamped)'} — ${s.files} files` +
    (skipped
      ? `, ${skipped} skipped (binary ${s.skipped_files.binary}, huge ${s.skipped_files.huge}, unreadable ${s.skipped_files.unreadable})`
      : '') +
    `; pages ${r.pages.inserted}/${r.pages.sent}, timeline ${r.timeline.inserted}/${r.timeline.sent}, links ${r.links.inserted}/${r.links.sent} new/sent` +
    (s.invalid_dates ? `; ${plural(s.invalid_dates, 'invalid date')}` : '') +
    (s.unterminated_links ? `; ${s.unterminated_links} unterminated [[` : '') +
    (s.duplicates ? `; ${plural(s.duplicates, 'duplicate')} dropped` : '') +
    (s.dangling_links ? `; ${s.dangling_links} links to missing notes` : '') +
    (s.reason ? `; ${s.reason}` : '')
  )
}

/** `cycle complete: 2 sources, 40 files, 120 rows sent, 118 new, 0 retries, 0 spooled, 1.2s`. */
export function cycleSummaryLine(report: CycleReport): string {
  const t = report.totals
  return `cycle ${report.status}: ${report.sources.length} source${report.sources.length === 1 ? '' : 's'}, ${t.files} files, ${t.rows_sent} rows sent, ${t.rows_inserted} new, ${t.retries} retries, ${t.spooled_rows} spooled, ${(report.duration_ms / 1000).toFixed(1)}s`
}

/** The whole human report of one cycle: a line per source, then the summary line. */
export function renderCycle(report: CycleReport): string[] {
  return [...report.sources.map(cycleSourceLine), cycleSummaryLine(report)]
}
