/**
 * audit-scan: the 24 h window from one ISO-week file of 1 M batch-retry rows (~190 MB, spread
 * evenly over the week, the window = the week's last 24 h), read by the project's reader
 * (readWindow through the app's dist/engine/audit) in a fresh process each time, interleaved with:
 * - `jq -c 'select(.outcome=="exhausted")'` over the same file;
 * - `wc -l` over it (the page-cache I/O floor);
 * - the same reader over the whole week (7 d window) and with the seek disabled, to show what
 *   the 24 h window costs relative to its share of the file; `node -e 0` for process start.
 * Peak RSS of every process through GNU time. Targets: ≥ 10× faster than jq; the 24 h window
 * costs ≈ its share of the file; peak RSS ≤ 100 MB.
 */
import {statSync} from 'node:fs'
import path from 'node:path'
import {isoWeekStart} from '../../src/engine/audit/iso-week.js'
import {generateAudit} from '../lib/audit-gen.js'
import type {BenchContext} from '../lib/context.js'
import {GNU_TIME, timed, which} from '../lib/proc.js'
import {ms, type BenchResult, type Row} from '../lib/report.js'
import {interleave, median, round1, type Contender} from '../lib/stats.js'

const DAY_MS = 86_400_000

interface ScanOut {
  exhausted: number
  bytes_read: number
  files_scanned: number
  corrupt_lines: number
  bad_ts_rows: number
  unreadable: number
  scan_ms: number
  max_rss_kb: number
}

const mb = (kb: number | undefined): string => (kb === undefined ? 'n/a' : `${(kb / 1024).toFixed(0)} MB`)

export async function auditScan(ctx: BenchContext): Promise<BenchResult> {
  const t0 = performance.now()
  const rowsWanted = ctx.quick ? 50_000 : 1_000_000
  const dir = ctx.dir('audit-scan')
  const weekStart = isoWeekStart(2026, 40).getTime()
  const now = weekStart + 7 * DAY_MS - 1
  const gen = generateAudit(dir, {fromMs: weekStart, toMs: weekStart + 7 * DAY_MS - 1000, rows: rowsWanted, poolRecovery: false, seed: 7})
  if (gen.files.length !== 1) throw new Error(`audit-scan: expected one week file, got ${gen.files.join(', ')}`)
  const file = gen.files[0]!
  const size = statSync(file).size
  const from24 = now - DAY_MS
  const expected24 = gen.exhaustedTs.filter((t) => t >= from24 && t <= now).length
  const expectedAll = gen.exhaustedTs.length
  const genMs = performance.now() - t0
  const env = ctx.env()
  const url = ctx.distUrl('engine/audit/index.js')
  const script = ctx.child('children/audit-scan.js')

  const outs = new Map<string, ScanOut[]>()
  const rss = new Map<string, number[]>()
  const note = (name: string, kb: number | undefined): void => {
    if (kb !== undefined) rss.set(name, [...(rss.get(name) ?? []), kb])
  }
  const reader = (name: string, windowMs: number, seek: boolean, expected: number, prefilter = false): Contender => ({
    name,
    run: async () => {
      const r = await timed(
        process.execPath,
        [script, url, dir, String(windowMs), String(now), seek ? '1' : '0', ...(prefilter ? ['prefilter'] : [])],
        {env, rss: true, timeoutMs: 300_000},
      )
      if (r.code !== 0) throw new Error(`${name} exited ${r.code}: ${r.stderr.slice(-600)}`)
      const o = JSON.parse(r.stdout) as ScanOut
      if (o.exhausted !== expected) throw new Error(`${name}: ${o.exhausted} exhausted rows, expected ${expected}`)
      if (o.corrupt_lines !== 0 || o.bad_ts_rows !== 0 || o.unreadable !== 0)
        throw new Error(`${name}: corrupt ${o.corrupt_lines}, bad ts ${o.bad_ts_rows}, unreadable ${o.unreadable}`)
      outs.set(name, [...(outs.get(name) ?? []), o])
      note(name, r.maxRssKb ?? o.max_rss_kb)
      return {value: r.ms}
    },
  })
  const r24 = reader('reader, 24 h window', DAY_MS, true, expected24)
  const r7 = reader('reader, 7 d window (whole file)', 7 * DAY_MS, true, expectedAll)
  const rNoSeek = reader('reader, 24 h window, seek off', DAY_MS, false, expected24)
  const jqBin = which(['jq'])
  const wcBin = which(['wc'])!
  const rPre = reader('what-if: reader, 24 h window, byte prefilter', DAY_MS, true, expected24, true)
  const contenders: Contender[] = [r24, r7, rNoSeek, rPre]
  if (jqBin) {
    contenders.push({
      name: 'jq select(exhausted)',
      run: async () => {
        const r = await timed(jqBin, ['-c', 'select(.outcome=="exhausted")', file], {
          env,
          rss: true,
          timeoutMs: 600_000,
          maxStdout: 256 << 20,
        })
        if (r.code !== 0) throw new Error(`jq exited ${r.code}: ${r.stderr.slice(-400)}`)
        const lines = r.stdout.split('\n').filter((l) => l !== '').length
        if (lines !== expectedAll) throw new Error(`jq printed ${lines} rows, expected ${expectedAll}`)
        note('jq select(exhausted)', r.maxRssKb)
        return {value: r.ms}
      },
    })
  }
  contenders.push({
    name: 'wc -l',
    run: async () => {
      const r = await timed(wcBin, ['-l', file], {env, rss: true})
      if (r.code !== 0) throw new Error(`wc exited ${r.code}`)
      note('wc -l', r.maxRssKb)
      return {value: r.ms}
    },
  })
  contenders.push({name: 'node -e 0', run: async () => ({value: (await timed(process.execPath, ['-e', '0'], {env})).ms})})
  // The doctor's own question over the same window (batch_retry_health's aggregation, with the
  // byte-level fast path of src/engine/audit/fast-row.ts), in a fresh process.
  const windowOuts = new Map<string, Array<Record<string, unknown>>>()
  const doctorWindow = (name: string): Contender => ({
    name,
    run: async () => {
      const r = await timed(process.execPath, [ctx.child('children/doctor-window.js'), path.join(ctx.appDir, 'dist'), dir, String(now)], {
        env,
        rss: true,
        timeoutMs: 300_000,
      })
      if (r.code !== 0) throw new Error(`${name} exited ${r.code}: ${r.stderr.slice(-600)}`)
      const o = JSON.parse(r.stdout) as Record<string, unknown>
      if (o.exhausted !== expected24) throw new Error(`${name}: ${String(o.exhausted)} exhausted rows, expected ${expected24}`)
      windowOuts.set(name, [...(windowOuts.get(name) ?? []), o])
      note(name, r.maxRssKb)
      return {value: r.ms}
    },
  })
  const dwCurrent = doctorWindow('doctor 24 h aggregation (gatherBatchRetry)')
  contenders.push(dwCurrent)

  const rounds = ctx.rounds(5, 1)
  const res = await interleave(contenders, {rounds, warmup: ctx.warmup, onRound: (r) => ctx.log(`audit-scan round ${r}/${rounds}`)})
  const med = (n: string): number => res.get(n)!.summary.median
  const rssMed = (n: string): number | undefined => (rss.get(n)?.length ? median(rss.get(n)!) : undefined)
  const bytes24 = median((outs.get(r24.name) ?? []).map((o) => o.bytes_read))
  // The window the reader must cover: 24 h plus its 1 h disorder slack, out of the file's week.
  const share = (DAY_MS + 3_600_000) / (7 * DAY_MS)
  const node0 = med('node -e 0')
  const timeShare = (med(r24.name) - node0) / (med(r7.name) - node0)
  const rows: Row[] = []
  if (jqBin) {
    const ratio = med(r24.name) / med('jq select(exhausted)')
    rows.push({
      bench: 'audit-scan',
      measure: r24.name,
      value: ms(med(r24.name)),
      baseline: 'jq -c \'select(.outcome=="exhausted")\'',
      baselineValue: ms(med('jq select(exhausted)')),
      ratio,
      target: '≤ 0.1× (≥ 10× faster)',
      met: ratio <= 0.1,
    })
  }
  rows.push(
    {
      bench: 'audit-scan',
      measure: `${r24.name}: bytes read / file`,
      value: `${((100 * bytes24) / size).toFixed(1)} %`,
      baseline: 'window share (25 h of 168 h)',
      baselineValue: `${(100 * share).toFixed(1)} %`,
      ratio: bytes24 / size / share,
      target: '≈ share (≤ 1.5×)',
      met: bytes24 / size <= 1.5 * share,
    },
    {
      bench: 'audit-scan',
      measure: `${r24.name}: time − node start`,
      value: ms(med(r24.name) - node0),
      baseline: `${r7.name} − node start`,
      baselineValue: ms(med(r7.name) - node0),
      ratio: timeShare,
      target: `≈ share (≤ 1.5 × ${share.toFixed(2)})`,
      met: timeShare <= 1.5 * share,
    },
    {
      bench: 'audit-scan',
      measure: `${r24.name}: peak RSS`,
      value: mb(rssMed(r24.name)),
      baseline: jqBin ? 'jq peak RSS' : 'wc -l peak RSS',
      baselineValue: mb(rssMed(jqBin ? 'jq select(exhausted)' : 'wc -l')),
      ratio: (rssMed(r24.name) ?? Number.NaN) / (rssMed(jqBin ? 'jq select(exhausted)' : 'wc -l') ?? Number.NaN),
      target: '≤ 100 MB',
      met: rssMed(r24.name) === undefined ? null : rssMed(r24.name)! <= 100 * 1024,
    },
    {
      bench: 'audit-scan',
      measure: r7.name,
      value: ms(med(r7.name)),
      baseline: 'wc -l (I/O floor)',
      baselineValue: ms(med('wc -l')),
      ratio: med(r7.name) / med('wc -l'),
      target: 'report',
      met: null,
    },
    {
      bench: 'audit-scan',
      measure: rNoSeek.name,
      value: ms(med(rNoSeek.name)),
      baseline: r24.name,
      baselineValue: ms(med(r24.name)),
      ratio: med(rNoSeek.name) / med(r24.name),
      target: 'report (what the seek saves)',
      met: null,
    },
  )
  if (jqBin) {
    const ratio = med(rPre.name) / med('jq select(exhausted)')
    rows.push({
      bench: 'audit-scan',
      measure: rPre.name,
      value: ms(med(rPre.name)),
      baseline: 'jq -c \'select(.outcome=="exhausted")\'',
      baselineValue: ms(med('jq select(exhausted)')),
      ratio,
      target: 'what-if (report)',
      met: null,
    })
  }
  const inner = (n: string): number => median((windowOuts.get(n) ?? []).map((o) => Number(o.scan_ms)))
  rows.push({
    bench: 'audit-scan',
    measure: dwCurrent.name,
    value: ms(med(dwCurrent.name)),
    baseline: r24.name,
    baselineValue: ms(med(r24.name)),
    ratio: med(dwCurrent.name) / med(r24.name),
    target: 'report',
    met: null,
  })
  const bandwidth = size / (med('wc -l') / 1000)
  return {
    name: 'audit-scan',
    input: `one week file, ${gen.batchRetryRows.toLocaleString('en')} batch-retry rows, ${(size / 1e6).toFixed(0)} MB (${path.basename(file)}), ${expectedAll.toLocaleString('en')} exhausted of which ${expected24.toLocaleString('en')} in the last 24 h; generated in ${ms(genMs)}; ${rounds} interleaved rounds, page cache warm${GNU_TIME ? '' : '; /usr/bin/time missing: RSS from the reader only'}${jqBin ? '' : '; jq missing: that baseline skipped'}`,
    rows,
    data: {
      rounds,
      fileBytes: size,
      rows: gen.batchRetryRows,
      expected24,
      expectedAll,
      contenders: Object.fromEntries([...res].map(([k, v]) => [k, {...v.summary, samples: v.samples.map(round1)}])),
      readerOutputs: Object.fromEntries([...outs].map(([k, v]) => [k, v])),
      maxRssKb: Object.fromEntries([...rss].map(([k, v]) => [k, v])),
    },
    notes: [
      `audit-scan: peak RSS — ${[...rss.keys()].map((k) => `${k} ${mb(rssMed(k))}`).join(', ')}`,
      `audit-scan: the doctor's 24 h batch-retry aggregation inside its process: ${ms(inner(dwCurrent.name))}`,
      `audit-scan: inside the reader process the 24 h scan itself took ${ms(median((outs.get(r24.name) ?? []).map((o) => o.scan_ms)))} (with the byte prefilter ${ms(median((outs.get(rPre.name) ?? []).map((o) => o.scan_ms)))}) and the whole week ${ms(median((outs.get(r7.name) ?? []).map((o) => o.scan_ms)))}; the rest is Node startup and import`,
    ],
    floors: [
      {
        name: 'page-cache read bandwidth (`wc -l`)',
        value: `${(bandwidth / 1e9).toFixed(2)} GB/s`,
        detail: `${(size / 1e6).toFixed(0)} MB in ${ms(med('wc -l'))} (process included)`,
      },
    ],
    durationMs: performance.now() - t0,
  }
}
