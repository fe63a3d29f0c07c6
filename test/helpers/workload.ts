/**
 * A batch workload for fault tests: rows with deterministic keys written through
 * `engine.batch` as one `INSERT … ON CONFLICT (key) DO NOTHING` per batch, plus the accounting
 * every fault test asserts: rows in the table + rows in the spool = rows sent, no duplicates.
 */
import postgres from 'postgres'
import {DeadLetterSpool} from '../../src/engine/spool/dead-letter.js'
import type {BatchWriter, Engine, Executor} from '../../src/engine/types.js'

export interface WorkRow {
  key: string
  batch: number
  payload: string
}

export const TABLE = 'fault_rows'

/** Creates the table on a direct admin connection (not through the engine under test). */
export async function createTable(url: string, table = TABLE): Promise<void> {
  const sql = postgres(url, {max: 1, fetch_types: false, onnotice: () => {}, connection: {application_name: 'admin'}})
  try {
    await sql.unsafe(`create table if not exists ${table} (key text primary key, batch int not null, payload text not null)`)
    await sql.unsafe(`truncate ${table}`)
  } finally {
    await sql.end({timeout: 1})
  }
}

/** The idempotent writer: one atomic statement, keys fixed before the first attempt. */
export function rowsWriter(table = TABLE): BatchWriter<WorkRow> {
  return {
    target: `test.${table}`,
    async write(db: Executor, rows: readonly WorkRow[]): Promise<number> {
      const params: unknown[] = []
      const values = rows.map((r, i) => {
        params.push(r.key, r.batch, r.payload)
        return `($${i * 3 + 1}, $${i * 3 + 2}, $${i * 3 + 3})`
      })
      const res = await db.query(`insert into ${table} (key, batch, payload) values ${values.join(',')} on conflict (key) do nothing`, params)
      return res.count
    },
  }
}

export function makeBatches(batches: number, size: number, prefix = 'k'): WorkRow[][] {
  return Array.from({length: batches}, (_, b) =>
    Array.from({length: size}, (_, i) => ({key: `${prefix}-${b}-${i}`, batch: b, payload: `row ${b}/${i}`})),
  )
}

export interface RunReport {
  sent: number
  landedBatches: number
  spooledBatches: number
  failedBatches: {batch: number; error: unknown}[]
  /** performance.now() of each landed batch, in landing order. */
  landedAt: number[]
  maxLatencyMs: number
}

/**
 * Write batches sequentially (or `concurrency` at a time). `onLanded(n)` fires after the n-th
 * landed batch — tests inject faults from it (a marker, not a sleep).
 */
export async function runWorkload(
  engine: Engine,
  batches: WorkRow[][],
  options: {site?: string; concurrency?: number; onLanded?: (n: number) => void | Promise<void>; table?: string} = {},
): Promise<RunReport> {
  const writer = rowsWriter(options.table)
  const report: RunReport = {sent: 0, landedBatches: 0, spooledBatches: 0, failedBatches: [], landedAt: [], maxLatencyMs: 0}
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < batches.length) {
      const index = next++
      const rows = batches[index]!
      report.sent += rows.length
      const t0 = performance.now()
      // The batch's latency ends when engine.batch settles: the onLanded hook (fault injection,
      // pacing) is not part of the operation.
      let settledAt: number | undefined
      try {
        await engine.batch(options.site ?? 'test.workload', rows, writer)
        settledAt = performance.now()
        report.landedBatches += 1
        report.landedAt.push(settledAt)
        await options.onLanded?.(report.landedBatches)
      } catch (error) {
        settledAt ??= performance.now()
        if ((error as {code?: string}).code === 'BATCH_SPOOLED') report.spooledBatches += 1
        else report.failedBatches.push({batch: index, error})
      } finally {
        report.maxLatencyMs = Math.max(report.maxLatencyMs, (settledAt ?? performance.now()) - t0)
      }
    }
  }
  await Promise.all(Array.from({length: options.concurrency ?? 1}, worker))
  return report
}

export interface Accounting {
  inTable: number
  distinctInTable: number
  inSpool: number
  distinctTotal: number
}

/** Count rows in the table (direct admin connection) and in the spool. */
export async function account(url: string, spoolDir: string, table = TABLE): Promise<Accounting> {
  const sql = postgres(url, {max: 1, fetch_types: false, onnotice: () => {}, connection: {application_name: 'admin'}})
  let inTable = 0
  let distinctInTable = 0
  const keys = new Set<string>()
  try {
    const rows = await sql.unsafe<{key: string}[]>(`select key from ${table}`)
    inTable = rows.length
    for (const r of rows) keys.add(r.key)
    distinctInTable = keys.size
  } finally {
    await sql.end({timeout: 1})
  }
  const spool = new DeadLetterSpool(spoolDir)
  let inSpool = 0
  for (const item of await spool.list()) {
    const entry = await spool.read(item.id)
    for (const r of entry.rows as WorkRow[]) {
      inSpool += 1
      keys.add(r.key)
    }
  }
  return {inTable, distinctInTable, inSpool, distinctTotal: keys.size}
}
