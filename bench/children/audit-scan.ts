/**
 * One audit read in a fresh process, through the app's built reader (dist/engine/audit):
 * `node audit-scan.js <audit-module-url> <dir> <windowMs> <nowMs> <seek:1|0> [prefilter]`.
 * Keeps the `exhausted` batch-retry rows of the window (readWindow with a filter, the question
 * `jq 'select(.outcome=="exhausted")'` answers) the way the doctor reads the trail: our own
 * success/recovered lines are recognised from their bytes (fastRetryRow), everything else is
 * parsed. Prints counts, bytes read and peak RSS.
 *
 * `prefilter` (a what-if, not in src/): the same question through the app's LineJudge, but a
 * line that looks like a whole JSON object (`{…}`), has no `\` escape and does not contain the
 * bytes `exhausted` is skipped before JSON.parse — it cannot be an exhausted row.
 */
import {scanLines} from './scan-loop.js'

type AuditModule = typeof import('../../src/engine/audit/index.js')
type ScanModule = typeof import('../../src/engine/audit/line-scan.js')

const [url, dir, windowArg, nowArg, seekArg, modeArg] = process.argv.slice(2)
if (!url || !dir || !windowArg || !nowArg) {
  process.stderr.write('usage: audit-scan.js <audit-module-url> <dir> <windowMs> <nowMs> [seek:1|0] [prefilter]\n')
  process.exit(64)
}
const audit = (await import(url)) as AuditModule
if (modeArg === 'prefilter') {
  const scan = (await import(new URL('./line-scan.js', url).href)) as ScanModule
  const token = Buffer.from('exhausted', 'latin1')
  const now = Number(nowArg)
  const from = now - Number(windowArg)
  let exhausted = 0
  const judge = new scan.LineJudge(from, now, (row) => {
    if (row.outcome === 'exhausted') exhausted += 1
  })
  const t0 = performance.now()
  const stats = await scanLines({
    dir,
    feature: 'batch-retry',
    from,
    now,
    iso: audit,
    scan,
    onLine: (buf, s, e, utf8) => {
      if (buf[s] === 0x7b && buf[e - 1] === 0x7d) {
        const line = buf.subarray(s, e)
        if (line.indexOf(0x5c) < 0 && line.indexOf(token) < 0) return
      }
      judge.line(buf, s, e, utf8)
    },
  })
  process.stdout.write(
    `${JSON.stringify({exhausted, bytes_read: stats.bytes_read, files_scanned: 1, corrupt_lines: judge.corrupt, bad_ts_rows: judge.badTs, unreadable: 0, scan_ms: performance.now() - t0, max_rss_kb: process.resourceUsage().maxRSS})}\n`,
  )
  process.exit(0)
}
const t0 = performance.now()
const r = await audit.readWindow({
  dir,
  feature: 'batch-retry',
  windowMs: Number(windowArg),
  now: Number(nowArg),
  seek: seekArg !== '0',
  filter: (row) => row.outcome === 'exhausted',
  // As the doctor reads it (gatherBatchRetry): our own success/recovered lines are recognised
  // from their bytes and are not exhausted rows; everything else is parsed.
  fastLine: (buf, s, e) => audit.fastRetryRow(buf, s, e) !== null,
})
const scanMs = performance.now() - t0
process.stdout.write(
  `${JSON.stringify({
    exhausted: r.rows.length,
    bytes_read: r.bytes_read,
    files_scanned: r.files_scanned.length,
    corrupt_lines: r.corrupt_lines,
    bad_ts_rows: r.bad_ts_rows,
    unreadable: r.unreadable_files.length,
    scan_ms: scanMs,
    max_rss_kb: process.resourceUsage().maxRSS,
  })}\n`,
)
