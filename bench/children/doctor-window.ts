/**
 * The doctor's batch_retry_health aggregation over the last 24 h, in a fresh process, through
 * the app's own `gatherBatchRetry` (dist/checks/facts/audit-windows.js, byte fast path included):
 * `node doctor-window.js <dist-dir> <audit-dir> <nowMs>`. Prints the aggregate and the scan time.
 */
import path from 'node:path'
import {pathToFileURL} from 'node:url'

type FactsModule = typeof import('../../src/checks/facts/audit-windows.js')

const [dist, dir, nowArg] = process.argv.slice(2)
if (!dist || !dir || !nowArg) {
  process.stderr.write('usage: doctor-window.js <dist-dir> <audit-dir> <nowMs>\n')
  process.exit(64)
}
const load = async <T>(rel: string): Promise<T> => (await import(pathToFileURL(path.join(dist, rel)).href)) as T
const now = Number(nowArg)

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

// Modules are loaded before the clock starts: scan_ms is the scan alone.
const facts = await load<FactsModule>('checks/facts/audit-windows.js')
const t0 = performance.now()
const agg = await current(facts)
const scanMs = performance.now() - t0
process.stdout.write(`${JSON.stringify({...agg, scan_ms: scanMs, max_rss_kb: process.resourceUsage().maxRSS})}\n`)
