/**
 * Small shared pieces for the fault-matrix integration tests (faults-proxy / faults-pgbouncer):
 * audit-row counting, bounded settling of promises, and a count of this host's open TCP client
 * sockets towards a port (to prove that frozen sockets were really destroyed, independently of
 * the proxy's own bookkeeping).
 */
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {readWindow} from '../../src/engine/audit/index.js'
import type {BatchWriter, Engine, Executor} from '../../src/engine/types.js'
import {emptyReport, noteLanded, rowsWriter, TABLE, type RunReport, type WorkRow} from './workload.js'

/** Rows of one audit feature written in the last hour under `<home>/audit`. */
export async function auditRows(home: string, feature: string): Promise<Record<string, unknown>[]> {
  const r = await readWindow({dir: path.join(home, 'audit'), feature, windowMs: 3600_000, now: Date.now() + 1000})
  return r.rows
}

export interface RetryCounts {
  /** `batch-retry` rows with outcome `success` (one per retry). */
  retries: number
  recovered: number
  exhausted: number
  codes: string[]
}

export async function retryCounts(home: string): Promise<RetryCounts> {
  const rows = await auditRows(home, 'batch-retry')
  const by = (o: string): Record<string, unknown>[] => rows.filter((r) => r.outcome === o)
  return {
    retries: by('success').length,
    recovered: by('recovered').length,
    exhausted: by('exhausted').length,
    codes: [...new Set(by('success').map((r) => textOf(r.error_code ?? r.error_message_summary ?? '?')))],
  }
}

/** The batch INSERT of the workload writer (matches the proxy's view of the SQL text). */
export const isWorkloadInsert = (sql: string): boolean => sql.trimStart().toLowerCase().startsWith(`insert into ${TABLE} `)

export type Settled<T> = {ok: true; value: T; ms: number} | {ok: false; error: unknown; ms: number}

/** Settle `p` into a value or an error, with how long it took (never rejects). */
export async function timed<T>(p: Promise<T>): Promise<Settled<T>> {
  const t0 = performance.now()
  try {
    const value = await p
    return {ok: true, value, ms: performance.now() - t0}
  } catch (error) {
    return {ok: false, error, ms: performance.now() - t0}
  }
}

/**
 * Wait for every promise to settle, but no longer than `ms`. Resolves with the settled results;
 * rejects naming how many were still pending (a hang is the failure being tested for).
 */
export async function allSettledWithin<T>(promises: Promise<T>[], ms: number, what: string): Promise<PromiseSettledResult<T>[]> {
  let pending = promises.length
  const tracked = promises.map((p) =>
    p.finally(() => {
      pending -= 1
    }),
  )
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: ${pending} of ${promises.length} promises still pending after ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([Promise.allSettled(tracked), timeout])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * TCP sockets on this host not yet closed by their local owner (ESTABLISHED or CLOSE_WAIT) whose
 * remote end is 127.0.0.1:`port`, read from /proc/net/tcp. With a proxy on `port`, these are the client sockets of whoever
 * connects to the proxy (the proxy's own accepted sockets have `port` as their *local* port).
 */
export function openClientSocketsTo(port: number): number {
  let text: string
  try {
    text = readFileSync('/proc/net/tcp', 'utf8')
  } catch {
    return -1
  }
  const want = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`
  let n = 0
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/)
    if (f.length < 4) continue
    const [, , rem, st] = f
    // 01 ESTABLISHED, 08 CLOSE_WAIT: the local side still holds the socket open.
    if (rem === want && (st === '01' || st === '08')) n += 1
  }
  return n
}

/**
 * The workload writer, except that the batches `slow` selects take `seconds` on the server: the
 * first key is computed as `$1 || (select '' from pg_sleep(s))`, so the batch stays one atomic,
 * idempotent statement with unchanged keys. The SQL carries the comment `/* slow-batch *\/` so a
 * test can see it in pg_stat_activity (the marker "this batch is in flight on the server").
 */
export function slowRowsWriter(slow: (rows: readonly WorkRow[]) => boolean, seconds: number, table = TABLE): BatchWriter<WorkRow> {
  const plain = rowsWriter(table)
  return {
    target: plain.target,
    async write(db: Executor, rows: readonly WorkRow[]): Promise<number> {
      if (!slow(rows)) return plain.write(db, rows)
      const params: unknown[] = []
      const values = rows.map((r, i) => {
        params.push(r.key, r.batch, r.payload)
        const key = i === 0 ? `($1 || (select '' from pg_sleep(${Number(seconds)})))` : `$${i * 3 + 1}`
        return `(${key}, $${i * 3 + 2}, $${i * 3 + 3})`
      })
      const res = await db.query(
        `/* slow-batch */ insert into ${table} (key, batch, payload) values ${values.join(',')} on conflict (key) do nothing`,
        params,
      )
      return res.count
    },
  }
}

/** Like runWorkload (sequential), with any writer. */
export async function runBatchesWith(
  engine: Engine,
  batches: WorkRow[][],
  writer: BatchWriter<WorkRow>,
  options: {site?: string; onLanded?: (n: number) => void | Promise<void>} = {},
): Promise<RunReport> {
  const report: RunReport = emptyReport()
  for (const [index, rows] of batches.entries()) {
    report.sent += rows.length
    const t0 = performance.now()
    try {
      const outcome = await engine.batch(options.site ?? 'test.workload', rows, writer)
      noteLanded(report, index, rows.length, outcome)
      report.landedAt.push(performance.now())
      await options.onLanded?.(report.landedBatches)
    } catch (error) {
      if ((error as {code?: string}).code === 'BATCH_SPOOLED') report.spooledBatches += 1
      else report.failedBatches.push({batch: index, error})
    } finally {
      report.maxLatencyMs = Math.max(report.maxLatencyMs, performance.now() - t0)
    }
  }
  return report
}

/** A row field as text: strings as they are, anything else as JSON (never `[object Object]`). */
function textOf(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v)
}
