/**
 * The doctor's batch_retry_health aggregation over the last 24 h, in a fresh process:
 * `node doctor-window.js <dist-dir> <audit-dir> <nowMs> current|projection`.
 *
 * - `current`: the app's own `gatherBatchRetry` (dist/checks/facts-files.js): every in-window
 *   line is JSON.parsed and checked with `isBatchRetryRow`.
 * - `projection`: a what-if prototype of a faster reader path (not in src/): a line in exactly
 *   the shape our writer produces for a `success` / `recovered` row — `{"ts":"<canonical>",
 *   "site":"…","batch_size":N,"attempt":N,"outcome":"success|recovered","delay_ms":N,
 *   "error_message_summary":"…"[,"error_code":"…"]}` with strings free of `\` and control
 *   bytes — is judged from its bytes (such a line is well-formed by construction, so the guard
 *   would pass); every other line (exhausted rows, gbrain's key order, escapes, anything odd)
 *   goes through the app's own LineJudge → JSON.parse → isBatchRetryRow path, unchanged. Same
 *   file selection and head-skipping seek as the reader (the app's seekStart).
 *
 * Prints the aggregate (so the two can be checked equal) and the scan time.
 */
import path from 'node:path'
import {pathToFileURL} from 'node:url'
import {scanLines} from './scan-loop.js'

type FactsModule = typeof import('../../src/checks/facts-files.js')
type IsoModule = typeof import('../../src/engine/audit/iso-week.js')
type ScanModule = typeof import('../../src/engine/audit/line-scan.js')
type GuardModule = typeof import('../../src/engine/audit/guards.js')

const [dist, dir, nowArg, mode] = process.argv.slice(2)
if (!dist || !dir || !nowArg || (mode !== 'current' && mode !== 'projection')) {
  process.stderr.write('usage: doctor-window.js <dist-dir> <audit-dir> <nowMs> current|projection\n')
  process.exit(64)
}
const load = async <T>(rel: string): Promise<T> => (await import(pathToFileURL(path.join(dist, rel)).href)) as T
const now = Number(nowArg)
const DAY_MS = 86_400_000

interface Agg {
  scheduled: number
  recovered: number
  exhausted: number
  malformed: number
  sites: Record<string, [number, number, number]>
}

async function current(facts: FactsModule): Promise<Agg> {
  const r = await facts.gatherBatchRetry(dir!, now)
  const sites: Agg['sites'] = {}
  for (const [k, v] of Object.entries(r.by_site)) sites[k] = [v.retries_scheduled, v.recovered, v.exhausted]
  return {scheduled: r.retries_scheduled, recovered: r.recovered, exhausted: r.exhausted_total, malformed: r.malformed_rows, sites}
}

// ------------------------------------------------------------------ projection prototype

const lit = (s: string): Buffer => Buffer.from(s, 'latin1')
const HEAD = lit('{"ts":"')
const K_SITE = lit('","site":"')
const K_SIZE = lit(',"batch_size":')
const K_ATTEMPT = lit(',"attempt":')
const K_OUTCOME = lit(',"outcome":"')
const V_SUCCESS = lit('success')
const V_RECOVERED = lit('recovered')
const K_DELAY = lit('","delay_ms":')
const K_SUMMARY = lit(',"error_message_summary":"')
const K_CODE = lit('","error_code":"')

function at(buf: Buffer, i: number, e: number, word: Buffer): boolean {
  if (i + word.length > e) return false
  for (let k = 0; k < word.length; k++) if (buf[i + k] !== word[k]) return false
  return true
}

/** End of a plain JSON string body starting at i (no escapes, no control bytes), or -1. */
function plainString(buf: Buffer, i: number, e: number): number {
  for (; i < e; i++) {
    const c = buf[i]!
    if (c === 0x22) return i
    if (c === 0x5c || c < 0x20) return -1
  }
  return -1
}

/** End of a JSON non-negative integer at i (0 or [1-9][0-9]{0,14}), or -1. */
function plainInt(buf: Buffer, i: number, e: number): number {
  const start = i
  if (i >= e || buf[i]! < 0x30 || buf[i]! > 0x39) return -1
  if (buf[i] === 0x30) return i + 1 < e && buf[i + 1]! >= 0x30 && buf[i + 1]! <= 0x39 ? -1 : i + 1
  while (i < e && buf[i]! >= 0x30 && buf[i]! <= 0x39) i++
  return i - start > 15 ? -1 : i
}

/** success/recovered row in our writer's exact shape → [site, 0|1] (0 = success), else null. */
function fastRow(buf: Buffer, s: number, e: number): [string, number] | null {
  let i = s + HEAD.length + 24
  if (!at(buf, i, e, K_SITE)) return null
  const siteStart = i + K_SITE.length
  const siteEnd = plainString(buf, siteStart, e)
  if (siteEnd < 0) return null
  i = siteEnd
  if (buf[i] !== 0x22) return null
  i += 1
  if (!at(buf, i, e, K_SIZE)) return null
  i = plainInt(buf, i + K_SIZE.length, e)
  if (i < 0 || !at(buf, i, e, K_ATTEMPT)) return null
  const attemptStart = i + K_ATTEMPT.length
  i = plainInt(buf, attemptStart, e)
  if (i < 0 || (i - attemptStart === 1 && buf[attemptStart] === 0x30)) return null // attempt ≥ 1
  if (!at(buf, i, e, K_OUTCOME)) return null
  i += K_OUTCOME.length
  let outcome: number
  if (at(buf, i, e, V_SUCCESS)) {
    outcome = 0
    i += V_SUCCESS.length
  } else if (at(buf, i, e, V_RECOVERED)) {
    outcome = 1
    i += V_RECOVERED.length
  } else return null
  if (!at(buf, i, e, K_DELAY)) return null
  i = plainInt(buf, i + K_DELAY.length, e)
  if (i < 0 || !at(buf, i, e, K_SUMMARY)) return null
  i = plainString(buf, i + K_SUMMARY.length, e)
  if (i < 0) return null
  if (i === e - 2 && buf[e - 1] === 0x7d) return [buf.toString('latin1', siteStart, siteEnd), outcome]
  if (!at(buf, i, e, K_CODE)) return null
  i = plainString(buf, i + K_CODE.length, e)
  if (i !== e - 2 || buf[e - 1] !== 0x7d) return null
  return [buf.toString('latin1', siteStart, siteEnd), outcome]
}

function canonicalTs(buf: Buffer, a: number): boolean {
  // YYYY-MM-DDTHH:MM:SS.sssZ with fields in range (the reader's own rule).
  const d = (k: number): boolean => buf[a + k]! >= 0x30 && buf[a + k]! <= 0x39
  for (const k of [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22]) if (!d(k)) return false
  if (buf[a + 4] !== 0x2d || buf[a + 7] !== 0x2d || buf[a + 10] !== 0x54 || buf[a + 13] !== 0x3a || buf[a + 16] !== 0x3a || buf[a + 19] !== 0x2e || buf[a + 23] !== 0x5a) return false
  const two = (k: number): number => (buf[a + k]! - 0x30) * 10 + (buf[a + k + 1]! - 0x30)
  const month = two(5)
  const day = two(8)
  return month >= 1 && month <= 12 && day >= 1 && day <= 31 && two(11) <= 23 && two(14) <= 59 && two(17) <= 59
}

function cmp24(buf: Buffer, a: number, bound: Buffer): number {
  for (let k = 0; k < 24; k++) {
    const d = buf[a + k]! - bound[k]!
    if (d !== 0) return d
  }
  return 0
}

async function projection(iso: IsoModule, scan: ScanModule, guards: GuardModule): Promise<Agg> {
  const from = now - DAY_MS
  const fromIso = Buffer.from(new Date(from).toISOString(), 'latin1')
  const toIso = Buffer.from(new Date(now).toISOString(), 'latin1')
  const agg: Agg = {scheduled: 0, recovered: 0, exhausted: 0, malformed: 0, sites: {}}
  const site = (name: string): [number, number, number] => (agg.sites[name] ??= [0, 0, 0])
  // The slow path: the app's own judge and the doctor's own per-row logic (counts only).
  const judge = new scan.LineJudge(from, now, (row) => {
    if (!guards.isBatchRetryRow(row)) agg.malformed += 1
    const name = typeof row.site === 'string' ? row.site : '(unknown)'
    if (row.outcome === 'success') {
      agg.scheduled += 1
      site(name)[0] += 1
    } else if (row.outcome === 'recovered') {
      agg.recovered += 1
      site(name)[1] += 1
    } else if (row.outcome === 'exhausted') {
      agg.exhausted += 1
      site(name)[2] += 1
    }
  })
  const line = (buf: Buffer, s: number, e: number, utf8: boolean): void => {
    if (utf8 && e - s > HEAD.length + 26 && at(buf, s, e, HEAD) && buf[s + HEAD.length + 24] === 0x22 && canonicalTs(buf, s + HEAD.length)) {
      const a = s + HEAD.length
      if (cmp24(buf, a, fromIso) < 0 || cmp24(buf, a, toIso) > 0) return
      const fast = fastRow(buf, s, e)
      if (fast) {
        const c = site(fast[0])
        if (fast[1] === 0) {
          agg.scheduled += 1
          c[0] += 1
        } else {
          agg.recovered += 1
          c[1] += 1
        }
        return
      }
    }
    judge.line(buf, s, e, utf8)
  }
  await scanLines({dir: dir!, feature: 'batch-retry', from, now, iso, scan, onLine: line})
  return agg
}

// Modules are loaded before the clock starts: scan_ms is the scan alone.
const facts = mode === 'current' ? await load<FactsModule>('checks/facts-files.js') : undefined
const iso = await load<IsoModule>('engine/audit/iso-week.js')
const scan = await load<ScanModule>('engine/audit/line-scan.js')
const guards = await load<GuardModule>('engine/audit/guards.js')
const t0 = performance.now()
const agg = facts ? await current(facts) : await projection(iso, scan, guards)
const scanMs = performance.now() - t0
process.stdout.write(`${JSON.stringify({...agg, scan_ms: scanMs, max_rss_kb: process.resourceUsage().maxRSS})}\n`)
