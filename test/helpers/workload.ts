/**
 * A batch workload for fault tests: rows with deterministic keys written through
 * `engine.batch` as one `INSERT … ON CONFLICT (key) DO NOTHING` per batch, plus the accounting
 * every fault test asserts: rows in the table + rows in the spool = rows sent, no key in both, and
 * the rows in the table = the rows the engine said it inserted (its batch outcomes).
 *
 * The table's primary key makes a duplicate row impossible, so "no duplicates" is never asserted
 * as count(*) = count(distinct key) here (that cannot fail). A double write shows instead in what
 * the engine reports: see {@link outcomeProblems} and {@link RunReport.insertedRows}.
 */
import postgres from 'postgres'
import {DeadLetterSpool} from '../../src/engine/spool/dead-letter.js'
import type {BatchOutcome, BatchWriter, Engine, Executor} from '../../src/engine/types.js'

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
      const res = await db.query(
        `insert into ${table} (key, batch, payload) values ${values.join(',')} on conflict (key) do nothing`,
        params,
      )
      return res.count
    },
  }
}

export function makeBatches(batches: number, size: number, prefix = 'k'): WorkRow[][] {
  return Array.from({length: batches}, (_, b) =>
    Array.from({length: size}, (_, i) => ({key: `${prefix}-${b}-${i}`, batch: b, payload: `row ${b}/${i}`})),
  )
}

/** One batch `engine.batch` resolved for, with the outcome it reported. */
export interface LandedBatch {
  batch: number
  rows: number
  inserted: number
  attempts: number
}

export interface RunReport {
  sent: number
  landedBatches: number
  /** The outcome of every landed batch, in landing order. */
  landed: LandedBatch[]
  /** Rows of the batches that landed (whatever their outcome said). */
  landedRows: number
  /** Σ outcome.inserted: the rows the engine says its statements inserted. */
  insertedRows: number
  /**
   * Rows of landed batches whose final attempt found them already present (inserted 0 after a
   * retry): an earlier attempt of the same batch committed but its answer was lost (in doubt).
   */
  absorbedRows: number
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
  const report = emptyReport()
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
        const outcome = await engine.batch(options.site ?? 'test.workload', rows, writer)
        settledAt = performance.now()
        noteLanded(report, index, rows.length, outcome)
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

export function emptyReport(): RunReport {
  return {
    sent: 0,
    landedBatches: 0,
    landed: [],
    landedRows: 0,
    insertedRows: 0,
    absorbedRows: 0,
    spooledBatches: 0,
    failedBatches: [],
    landedAt: [],
    maxLatencyMs: 0,
  }
}

/** Record a landed batch and its outcome in `report`. */
export function noteLanded(report: RunReport, batch: number, rows: number, outcome: BatchOutcome): void {
  report.landedBatches += 1
  report.landed.push({batch, rows, inserted: outcome.inserted, attempts: outcome.attempts})
  report.landedRows += rows
  report.insertedRows += outcome.inserted
  if (outcome.inserted === 0 && outcome.attempts > 1) report.absorbedRows += rows
}

/**
 * Outcomes no correct run can report. The workload's statement is atomic and its keys are unique
 * to its batch, so a landed batch inserted either all its rows, or — only when it was retried —
 * none (an earlier attempt of the same batch committed unseen). A partial count, or rows already
 * present on a batch's first attempt, means something else wrote them: a double write (or a count
 * the engine got wrong). Empty when every outcome is possible.
 */
export function outcomeProblems(report: RunReport): string[] {
  const problems: string[] = []
  for (const b of report.landed) {
    if (b.inserted === b.rows) continue
    if (b.inserted === 0 && b.attempts > 1) continue
    problems.push(`batch ${b.batch}: inserted ${b.inserted} of ${b.rows} rows on attempt ${b.attempts}`)
  }
  return problems
}

export interface Accounting {
  /** count(*) of the table (its primary key makes every row a distinct key). */
  inTable: number
  inSpool: number
  /** Distinct keys over the table and the spool together: below inTable + inSpool, a key is in both. */
  distinctTotal: number
}

/** Count rows in the table (direct admin connection) and in the spool. */
export async function account(url: string, spoolDir: string, table = TABLE): Promise<Accounting> {
  const sql = postgres(url, {max: 1, fetch_types: false, onnotice: () => {}, connection: {application_name: 'admin'}})
  let inTable: number
  const keys = new Set<string>()
  try {
    const rows = await sql.unsafe<{key: string}[]>(`select key from ${table}`)
    inTable = rows.length
    for (const r of rows) keys.add(r.key)
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
  return {inTable, inSpool, distinctTotal: keys.size}
}
