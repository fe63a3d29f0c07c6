/**
 * The batch path of an engine (engine.md "Batch writes"): one idempotent write under retry +
 * reconnect, a `batch-retry` audit row per retry and a `recovered` row when it lands after
 * retries; when retries are exhausted the rows go to the dead-letter spool **before** the error
 * is returned, and the `exhausted` row says whether they did. Rows are lost only when the spool
 * write fails too, and then loudly (the loss ledger, BatchFailedError `BATCH_LOST`).
 */
import type {AuditWriter, BatchRetryOutcome, BatchRetryRow} from './audit/index.js'
import {BatchFailedError} from './batch-error.js'
import {classify} from './classify.js'
import type {Clock} from '../shared/clock.js'
import {AbortedError} from '../shared/errors.js'
import {RetryExhaustedError, type RetryOptions} from './retry.js'
import {newDeadLetterId, type DeadLetterSpool} from './spool/dead-letter.js'
import {ledgerFile, noteLoss} from './spool/loss-ledger.js'
import type {BatchOutcome, BatchWriter, EngineEvent, EngineStats, Executor} from './types.js'

/** What the retry loop tells a caller besides the result. */
export interface RetryHooks {
  onRetry?: RetryOptions['onRetry']
  onAttempt?: (attempt: number) => void
}

/** The engine as the batch path sees it. */
export interface BatchHost {
  clock: Clock
  audit: AuditWriter | null
  spool: DeadLetterSpool | null
  counters: EngineStats
  retrying<T>(
    label: string,
    fn: (db: Executor) => Promise<T>,
    signal: AbortSignal | undefined,
    maxRetries: number,
    hooks: RetryHooks | undefined,
  ): Promise<T>
  tell(event: EngineEvent): void
}

export async function writeBatch<R>(
  host: BatchHost,
  site: string,
  rows: readonly R[],
  writer: BatchWriter<R>,
  signal: AbortSignal | undefined,
  maxRetries: number,
): Promise<BatchOutcome> {
  let attempts = 0
  let retried = false
  /** One `batch-retry` row of this batch (audit-formats.md: fields in this order). */
  const auditRow = (
    attempt: number,
    outcome: BatchRetryOutcome,
    delayMs: number,
    summary: string,
    code?: string,
    spool?: Pick<BatchRetryRow, 'spooled' | 'dead_letter_id'>,
  ): Promise<void> | undefined =>
    host.audit?.append('batch-retry', {
      ts: new Date(host.clock.now()).toISOString(),
      site,
      batch_size: rows.length,
      attempt,
      outcome,
      delay_ms: delayMs,
      error_message_summary: summary,
      ...(code ? {error_code: code} : {}),
      ...spool,
    })
  try {
    const inserted = await host.retrying(`batch ${site}`, (db) => writer.write(db, rows), signal, maxRetries, {
      onAttempt: (a) => {
        attempts = a
      },
      onRetry: async (ev) => {
        retried = true
        attempts = ev.attempt
        await auditRow(ev.attempt, 'success', ev.delayMs, ev.classified.message, ev.classified.code)
      },
    })
    if (retried) {
      await auditRow(attempts, 'recovered', 0, 'landed after retry')
    }
    return {inserted, attempts}
  } catch (e) {
    if (e instanceof AbortedError) throw e
    const exhausted = e instanceof RetryExhaustedError
    const cause = exhausted ? e.lastError : e
    const classified = exhausted ? e.classified : classify(e)
    const totalAttempts = exhausted ? e.attempts : Math.max(attempts, 1)
    let deadLetterId: string | undefined
    let spoolError: unknown
    if (host.spool) {
      const id = newDeadLetterId(site, new Date(host.clock.now()))
      try {
        await host.spool.write({
          version: 1,
          id,
          site,
          target: writer.target,
          created_at: new Date(host.clock.now()).toISOString(),
          attempts: totalAttempts,
          error: {kind: classified.kind, ...(classified.code ? {code: classified.code} : {}), message: classified.message},
          row_count: rows.length,
          rows: [...rows],
        })
        deadLetterId = id
        host.counters.spooled_batches += 1
        host.counters.spooled_rows += rows.length
        host.tell({
          type: 'spooled',
          site,
          rows: rows.length,
          spooledRows: host.counters.spooled_rows,
          kind: classified.kind,
          connectionLevel: classified.connectionLevel,
        })
      } catch (se) {
        spoolError = se
        // The durable trace of the loss that survives a full disk (the audit row below may not).
        const at = new Date(host.clock.now()).toISOString()
        const noted = await noteLoss(host.spool.dir, {
          pid: process.pid,
          site,
          rows: rows.length,
          at,
          error: `${classified.message}; spool: ${se instanceof Error ? se.message : String(se)}`,
        })
        if (noted)
          spoolError = new Error(`${se instanceof Error ? se.message : String(se)} (the loss is recorded in ${ledgerFile(host.spool.dir)})`)
      }
    } else {
      spoolError = new Error('no dead-letter spool configured')
    }
    await auditRow(totalAttempts, 'exhausted', 0, classified.message, classified.code, {
      spooled: deadLetterId !== undefined,
      ...(deadLetterId ? {dead_letter_id: deadLetterId} : {}),
    })
    throw new BatchFailedError({site, rows: rows.length, attempts: totalAttempts, deadLetterId, classified, cause, spoolError})
  }
}
